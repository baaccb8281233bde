package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/ingest/zendesk"
	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/schemas"
)

// TestNativeZendeskEventsReachTheirOrder posts Zendesk's own ticket events,
// as an event-subscribed webhook (no trigger) sends them, through `baton
// ingest` and runs the pipeline over them: ticket.created without custom
// fields, the order-status field's custom_field_changed (before the order
// field is set), the order field's custom_field_changed, a status change.
// Every one must be a canonical event of the order — the order-less ones
// placed through the ticket's link (the order field's event lands in
// another partition than the ticket's own events: help-desk records are
// keyed by order ID, else ticket ID) — and the help desk's view of the
// order must be the order-status field's value. A ticket whose order field
// is never set is held, not dead-lettered missing_id.
func TestNativeZendeskEventsReachTheirOrder(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const secret, orderField, statusField = "zendesk-e2e-secret", "360001234567", "360007654321"
	listen := freeAddr(t)
	_, stderr, _ := startIngest(t, ctx, listen, []string{"--metrics-addr", "", "--zendesk-order-field", orderField, "--zendesk-order-status-field", statusField},
		"BATON_BROKERS="+strings.Join(testenv.Brokers(), ","), "BATON_TOPIC_PREFIX="+s.prefix, "BATON_ZENDESK_SECRET="+secret)
	base := "http://" + listen
	waitReady(t, ctx, base, stderr)

	// The ticket's times: recent, as a live help desk's (normalize refuses
	// events more than an hour after their arrival).
	at0 := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	event := func(id, typ, ticket string, at time.Duration, change map[string]any) []byte {
		stamp := at0.Add(at).Format(time.RFC3339)
		b, err := json.Marshal(map[string]any{"type": "zen:event-type:ticket." + typ, "account_id": 12514403, "id": id, "time": stamp,
			"zendesk_event_version": "2022-11-06", "subject": "zen:ticket:" + ticket,
			"detail": map[string]any{"id": ticket, "status": "OPEN", "subject": "Where is my order?", "created_at": at0.Format(time.RFC3339),
				"updated_at": stamp, "tags": []string{"wismo"}, "via": map[string]any{"channel": "email"}},
			"event": change})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	field := func(id, value string) map[string]any {
		return map[string]any{"custom_field": map[string]any{"id": id, "title": "a field", "type": "text"}, "current": map[string]any{"value": value}, "previous": map[string]any{"value": ""}}
	}
	deliveries := [][]byte{
		event("zd-created", "created", "91001", 0, map[string]any{"current": map[string]any{"status": "OPEN"}}),
		event("zd-status", "custom_field_changed", "91001", time.Minute, field(statusField, "Shipped")),
		event("zd-order", "custom_field_changed", "91001", 2*time.Minute, field(orderField, "ORD-T1")),
		event("zd-solved", "status_changed", "91001", 3*time.Minute, map[string]any{"current": "SOLVED", "previous": "OPEN"}),
		event("zd-lone", "created", "91002", 4*time.Minute, map[string]any{"current": map[string]any{"status": "OPEN"}}),
	}
	for _, body := range deliveries {
		stamp := time.Now().UTC().Format(time.RFC3339)
		h := http.Header{}
		h.Set(zendesk.HeaderTimestamp, stamp)
		h.Set(zendesk.HeaderSignature, zendesk.Sign(secret, stamp, body))
		if code, _, answer := postWebhook(t, base, "zendesk", h, body); code != http.StatusOK || answer != `{"events":1}`+"\n" {
			t.Fatalf("posting %s: %d %s", body, code, answer)
		}
	}
	// The order field's event and the ticket's own events are in different
	// partitions: the link must travel the links topic.
	part := func(key string) int32 {
		n := int(s.topics().Source(schemas.Helpdesk).Partitions)
		return int32(kgo.StickyKeyPartitioner(nil).ForTopic("").Partition(&kgo.Record{Key: []byte(key)}, n))
	}
	if part("ORD-T1") == part("91001") {
		t.Fatalf("ORD-T1 and ticket 91001 hash to one partition: pick keys that do not")
	}
	if _, errOut, err := s.run("run", "--until-caught-up", "--flush-interval", "100ms", "--session-timeout", "6s"); err != nil {
		t.Fatalf("baton run --until-caught-up: %v\n%s", err, errOut)
	}

	rows, err := s.ch.Conn().Query(ctx, "SELECT source_event_id, order_id, ticket_id, linked_by, canonical_status FROM "+s.database+
		".canonical_events FINAL WHERE source_system = 'helpdesk' ORDER BY recorded_at_ms")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, order, ticket, linkedBy, status string
		if err := rows.Scan(&id, &order, &ticket, &linkedBy, &status); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s", id, order, ticket, linkedBy, status))
	}
	want := []string{
		"zd-created ORD-T1 91001 ticket_link ",
		"zd-status ORD-T1 91001 ticket_link SHIPPED",
		"zd-order ORD-T1 91001 event ",
		"zd-solved ORD-T1 91001 ticket_link ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("help-desk canonical events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := s.count("SELECT count() FROM {db}.dead_letters"); n != 0 {
		t.Errorf("%d dead letters, want none:\n%s", n, chHTTP(t, "SELECT stage, reason, error FROM "+s.database+".dead_letters FORMAT TabSeparated"))
	}
	if held := s.heldEvents(); held != 1 {
		t.Errorf("normalize holds %d events, want 1 (ticket 91002's, never linked to an order)", held)
	}
	var views string
	if err := s.ch.Conn().QueryRow(ctx, "SELECT views_json FROM "+s.database+".order_states FINAL WHERE order_id = 'ORD-T1'").Scan(&views); err != nil {
		t.Fatalf("order state of ORD-T1: %v", err)
	}
	var shown []struct{ System, Status string }
	if err := json.Unmarshal([]byte(views), &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown) != 1 || shown[0].System != "helpdesk" || shown[0].Status != "SHIPPED" {
		t.Errorf("views of ORD-T1 %s, want the help desk showing SHIPPED (the order-status field)", views)
	}
}
