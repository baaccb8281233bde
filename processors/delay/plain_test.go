package delay

import (
	"errors"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

func TestEventFromPlain(t *testing.T) {
	canon := schemas.MustLoad("canonical_event")
	ts := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	native, err := canon.FromJSON(map[string]any{
		"order_id": "o-1", "shipment_id": nil, "tracking_number": nil, "source_system": "notifications",
		"source_event_id": "n-1", "source_status": "delay_notice", "canonical_status": nil, "linked_by": "event",
		"occurred_at": ts, "recorded_at": ts.Add(time.Minute), "ingested_at": ts.Add(2 * time.Minute),
		"carrier": nil, "estimated_delivery": nil, "promised_ship_by": nil, "promised_deliver_by": nil,
		"ticket_id": nil, "tags": []any{}, "message_type": "delay_notice", "delivery_status": "sent",
		"revised_date": ts.Add(48 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := EventFromPlain(canon.Plain(native))
	if err != nil {
		t.Fatal(err)
	}
	want := Event{System: schemas.Notifications, EventID: "n-1", OccurredAt: ts.UnixMilli(), RecordedAt: ts.Add(time.Minute).UnixMilli(),
		MessageType: MessageDelayNotice, DeliveryStatus: "sent", RevisedDate: ts.Add(48 * time.Hour).UnixMilli()}
	if ev != want {
		t.Errorf("got  %+v\nwant %+v", ev, want)
	}
	for _, bad := range []map[string]any{
		{"source_system": "carrier"},                                         // no occurred_at
		{"occurred_at": "yesterday", "recorded_at": ts.Format(time.RFC3339)}, // not RFC 3339
		{"occurred_at": ts, "recorded_at": ts, "revised_date": 42},           // not a time
	} {
		if _, err := EventFromPlain(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
