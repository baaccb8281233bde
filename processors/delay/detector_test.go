package delay

import (
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// TestDetection runs one scenario per rule. The order is placed at t0 with
// ship-by t0+24h and deliver-by t0+120h unless the scenario says otherwise.
// Notices read "reason missed=OFF revised=OFF OUTCOME [told@OFF via STATUS]
// [renews=N] [may_cancel] [default] [refund:REASON]" (see
// harness.notices); failed syncs "reason deadline=OFF". The default config:
// NotifySLA 5m, MissingAfter 24h, DefaultShipWindow 30 days.
func TestDetection(t *testing.T) {
	order := placed(day, 5*day)
	tests := []struct {
		name    string
		cfg     Config
		steps   []step
		notices []string
		failed  []string
	}{
		// Ship-by.
		{
			name: "ship-by passes without shipment: notice at the ship-by, failed sync at notify_by, NOT_NOTIFIED a day later",
			steps: []step{order, truth("CONFIRMED", m), due(day), due(day + ms), due(day + 5*m), due(day + 5*m + ms),
				due(2*day + 5*m), due(2*day + 5*m + ms)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOT_NOTIFIED may_cancel"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
		{
			name:  "shipped by the ship-by: no notice",
			steps: []step{order, truth("SHIPPED", 23*h), due(3 * day)},
		},
		{
			name:    "PARTIALLY_SHIPPED at the ship-by has not shipped",
			steps:   []step{order, truth("PARTIALLY_SHIPPED", 20*h), due(day + m), due(3 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOT_NOTIFIED may_cancel"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
		{
			name: "reopened: the OMS announces another parcel after the first shipped",
			steps: []step{order, truth("SHIPPED", 20*h), truth("PARTIALLY_SHIPPED", 21*h), due(day + m),
				delayMsg(day+2*m, 3*day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@24h2m0s may_cancel"},
		},
		{
			name:    "shipped late, learned before the timer fired: the notice still opens, already past notify_by",
			steps:   []step{order, truth("SHIPPED", 25*h), due(3 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOT_NOTIFIED may_cancel"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
		{
			name:    "withdrawn: the shipment by the ship-by reached baton after the timer",
			steps:   []step{order, due(day + m), truth("SHIPPED", 23*h).arrives(day + 2*m), due(3 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- WITHDRAWN may_cancel"},
		},
		{
			name: "revised date: the carrier's estimate when a label exists",
			steps: []step{order, truth("PACKED", 20*h), scan("", 20*h+m, 4*day), due(day + m),
				delayMsg(day+2*m, 2*day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=96h0m0s NOTIFIED told@24h2m0s may_cancel"},
		},
		{
			name:    "told before the ship-by passed: the merchant saw it coming",
			steps:   []step{order, delayMsg(20*h, 2*day), due(day + ms), truth("SHIPPED", 2*day-h), due(3 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@20h0m0s may_cancel"},
		},
		{
			name:    "told at notify_by exactly",
			steps:   []step{order, due(day + ms), delayMsg(day+5*m, 2*day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@24h5m0s may_cancel"},
		},
		{
			name:    "told after notify_by: LATE, after its failed sync",
			steps:   []step{order, due(day + ms), due(day + 10*m), delayMsg(day+20*m, 2*day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- LATE told@24h20m0s may_cancel"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
		{
			name:    "told in time, the message reached baton after the failed sync: NOTIFIED with a failed sync",
			steps:   []step{order, due(day + ms), due(day + 10*m), delayMsg(day+2*m, 2*day).arrives(day + 11*m)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@24h2m0s may_cancel"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
		{
			name: "bounced and failed messages told no one; a revised date not after the promise revises nothing",
			steps: []step{order, delayMsg(20*h, 2*day).delivery("bounced"), delayMsg(21*h, 2*day).delivery("failed"),
				delayMsg(22*h, 23*h), due(day + ms), due(3 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOT_NOTIFIED may_cancel"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
		{
			name:    "no promise: the FTC default ship-by, placement + 30 days",
			steps:   []step{placed(0, 0), truth("CONFIRMED", m), due(30 * day), due(30*day + ms), delayMsg(30*day+m, 0)},
			notices: []string{"ship_by_missed missed=720h0m0s revised=- NOTIFIED told@720h1m0s may_cancel default"},
		},
		{
			name:  "no promise, shipped within 30 days: no notice",
			steps: []step{placed(0, 0), truth("SHIPPED", 29*day), due(40 * day)},
		},
		{
			name: "a later promise wins, the earliest is the original",
			steps: []step{placed(day, 0), promised(h, 2*day, 0), due(day + m), due(2*day + ms),
				delayMsg(2*day+m, 3*day)},
			notices: []string{"ship_by_missed missed=48h0m0s revised=- NOTIFIED told@48h1m0s may_cancel"},
		},
		// Renewed consent.
		{
			name: "the revised date told is missed again: a renewed notice",
			steps: []step{order, due(day + ms), delayMsg(day+m, 3*day), due(3 * day), due(3*day + ms),
				delayMsg(3*day+m, 5*day)},
			notices: []string{
				"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@24h1m0s may_cancel",
				"ship_by_missed missed=72h0m0s revised=- NOTIFIED told@72h1m0s renews=1 may_cancel",
			},
		},
		{
			name: "a re-promise is missed again: a renewed notice",
			steps: []step{order, due(day + ms), delayMsg(day+m, 0), promised(day+2*m, 3*day, 0), due(3*day + ms),
				due(5 * day)},
			notices: []string{
				"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@24h1m0s may_cancel",
				"ship_by_missed missed=72h0m0s revised=- NOT_NOTIFIED renews=1 may_cancel",
			},
			failed: []string{"delay_not_notified deadline=72h5m0s"},
		},
		{
			name: "the first notice's email and SMS do not tell its renewal",
			steps: []step{order, due(day + ms), delayMsg(day+m, 3*day), delayMsg(day+2*m, 3*day), due(3*day + ms),
				due(5 * day)},
			notices: []string{
				"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@24h1m0s may_cancel",
				"ship_by_missed missed=72h0m0s revised=- NOT_NOTIFIED renews=1 may_cancel",
			},
			failed: []string{"delay_not_notified deadline=72h5m0s"},
		},
		{
			name:    "shipped by the revised date: no renewal",
			steps:   []step{order, due(day + ms), delayMsg(day+m, 3*day), truth("SHIPPED", 2*day), due(5 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@24h1m0s may_cancel"},
		},
		// Carrier estimates.
		{
			name: "the estimate slips past the deliver-by",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 4*day), scan("", 2*day, 6*day).recorded(2 * m),
				delayMsg(2*day+3*m, 6*day)},
			notices: []string{"eta_past_promise missed=120h0m0s revised=144h0m0s NOTIFIED told@48h3m0s"},
		},
		{
			name:    "the estimate slips, nobody tells: failed at known_at (recorded_at) + 5m",
			steps:   []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 4*day), scan("", 2*day, 6*day).recorded(2 * m), due(4 * day)},
			notices: []string{"eta_past_promise missed=120h0m0s revised=144h0m0s NOT_NOTIFIED"},
			failed:  []string{"delay_not_notified deadline=48h7m0s"},
		},
		{
			name:  "a first estimate already past the promise is no move",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 6*day), scan("", 2*day, 7*day), due(8 * day)},
		},
		{
			name:  "an estimate that stays within the promise is no delay",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 3*day), scan("", 2*day, 5*day), due(8 * day)},
		},
		{
			name: "the estimate slips past the revised date again: a renewed notice",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 4*day), scan("", 2*day, 6*day),
				delayMsg(2*day+m, 6*day), scan("", 3*day, 8*day), delayMsg(3*day+m, 6*day), delayMsg(3*day+2*m, 8*day)},
			notices: []string{
				"eta_past_promise missed=120h0m0s revised=144h0m0s NOTIFIED told@48h1m0s",
				"eta_past_promise missed=144h0m0s revised=192h0m0s NOTIFIED told@72h2m0s renews=1",
			},
		},
		{
			name: "the order's estimate is its last parcel's; each parcel moves on its own",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 4*day), scan("IN_TRANSIT", 21*h, 3*day).of("1Z2"),
				scan("", 2*day, 5*day+h).of("1Z2"), delayMsg(2*day+m, 0)},
			notices: []string{"eta_past_promise missed=120h0m0s revised=121h0m0s NOTIFIED told@48h1m0s"},
		},
		{
			name:  "an older scan's estimate does not replace a newer one",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 2*day, 4*day), scan("", 30*h, 6*day), due(8 * day)},
		},
		{
			name: "notify_by is never after the promise when the delay was known before it",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 5*day-h), scan("", 5*day-2*m, 6*day),
				due(5*day + ms), due(8 * day)},
			notices: []string{"eta_past_promise missed=120h0m0s revised=144h0m0s NOT_NOTIFIED"},
			failed:  []string{"delay_not_notified deadline=120h0m0s"},
		},
		{
			name:  "no deliver-by promised: estimates miss nothing",
			steps: []step{placed(day, 0), truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 4*day), scan("", 2*day, 9*day), due(10 * day)},
		},
		// Carrier problems.
		{
			name: "exception without an estimate: told by the delivery_failed message",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 4*day), scan("EXCEPTION", 2*day, 0),
				problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", 2*day+m)},
			notices: []string{"exception missed=120h0m0s revised=- NOTIFIED told@48h1m0s via DELIVERY_ATTEMPT_FAILED"},
		},
		{
			name: "exception with an estimate that keeps the promise: no delay",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 3*day), scan("EXCEPTION", 2*day, 5*day-h),
				scan("IN_TRANSIT", 3*day, 0), due(8 * day)},
		},
		{
			name: "exception with an estimate past the promise: one notice, not two",
			steps: []step{order, truth("SHIPPED", 20*h), scan("IN_TRANSIT", 21*h, 4*day), scan("EXCEPTION", 2*day, 7*day),
				delayMsg(2*day+m, 7*day)},
			notices: []string{"exception missed=120h0m0s revised=168h0m0s NOTIFIED told@48h1m0s"},
		},
		{
			name: "a message about an earlier problem does not tell a later one",
			steps: []step{order, truth("SHIPPED", 20*h), problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", 30*h),
				scan("EXCEPTION", 2*day, 0), due(4 * day)},
			notices: []string{"exception missed=120h0m0s revised=- NOT_NOTIFIED"},
			failed:  []string{"delay_not_notified deadline=48h5m0s"},
		},
		{
			name:    "only delay notices tell (Config.OnlyDelayNoticesTell)",
			cfg:     Config{OnlyDelayNoticesTell: true},
			steps:   []step{order, truth("SHIPPED", 20*h), scan("EXCEPTION", 2*day, 0), problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", 2*day+m), due(4 * day)},
			notices: []string{"exception missed=120h0m0s revised=- NOT_NOTIFIED"},
			failed:  []string{"delay_not_notified deadline=48h5m0s"},
		},
		{
			name: "delivery attempt failed; its re-attempt's estimate becomes the date in force; a second failure renews",
			steps: []step{order, truth("SHIPPED", 20*h), scan("OUT_FOR_DELIVERY", 5*day-8*h, 5*day-4*h),
				scan("DELIVERY_ATTEMPT_FAILED", 5*day-2*h, 0), problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", 5*day-2*h+m),
				scan("OUT_FOR_DELIVERY", 6*day-8*h, 6*day-4*h), scan("DELIVERY_ATTEMPT_FAILED", 6*day-2*h, 0), due(8 * day)},
			notices: []string{
				"delivery_attempt_failed missed=120h0m0s revised=- NOTIFIED told@118h1m0s via DELIVERY_ATTEMPT_FAILED",
				"delivery_attempt_failed missed=140h0m0s revised=- NOT_NOTIFIED renews=1",
			},
			failed: []string{"delay_not_notified deadline=142h5m0s"},
		},
		{
			name: "no deliver-by promised: a problem is noticed once",
			steps: []step{placed(day, 0), truth("SHIPPED", 20*h), scan("DELIVERY_ATTEMPT_FAILED", 2*day, 0),
				problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", 2*day+m), scan("OUT_FOR_DELIVERY", 3*day, 3*day+h),
				scan("EXCEPTION", 3*day+2*h, 0)},
			notices: []string{"delivery_attempt_failed missed=- revised=- NOTIFIED told@48h1m0s via DELIVERY_ATTEMPT_FAILED"},
		},
		{
			name: "return to sender after a noticed exception: that notice is flagged, no new one",
			steps: []step{order, truth("SHIPPED", 20*h), scan("EXCEPTION", 2*day, 0),
				problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", 2*day+m), scan("RETURN_TO_SENDER", 3*day, 0)},
			notices: []string{"exception missed=120h0m0s revised=- NOTIFIED told@48h1m0s via DELIVERY_ATTEMPT_FAILED refund:return_to_sender"},
		},
		{
			name: "return to sender alone: flagged for refund; a problem message since shipping tells it",
			steps: []step{order, truth("SHIPPED", 20*h), problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", 30*h),
				scan("RETURN_TO_SENDER", 3*day, 0)},
			notices: []string{"return_to_sender missed=120h0m0s revised=- NOTIFIED told@30h0m0s via DELIVERY_ATTEMPT_FAILED refund:return_to_sender"},
		},
		// Cancellation.
		{
			name:  "cancelled before the ship-by: no notice",
			steps: []step{order, truth("CANCELLED", 20*h), due(3 * day)},
		},
		{
			name:    "cancelled before notify_by, untold: CANCELLED, flagged, no failed sync",
			steps:   []step{order, due(day + ms), truth("CANCELLED", day+2*m), due(3 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- CANCELLED may_cancel refund:cancelled_before_shipping"},
		},
		{
			name:    "cancelled after notify_by, untold: NOT_NOTIFIED, flagged",
			steps:   []step{order, due(day + ms), due(day + 6*m), truth("CANCELLED", day+h), due(3 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOT_NOTIFIED may_cancel refund:cancelled_before_shipping"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
		{
			name:    "cancelled after the customer was told: the closed notice is flagged",
			steps:   []step{order, due(day + ms), delayMsg(day+m, 3*day), truth("CANCELLED", 2*day), due(5 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOTIFIED told@24h1m0s may_cancel refund:cancelled_before_shipping"},
		},
		// Orders baton first sees after a promise lapsed: a Debezium
		// snapshot reads an order's row as it is today (recorded_at the
		// snapshot, occurred_at the row's last change), a backfill starts
		// in the middle of an order, an evicted order is seen again.
		// Whether it shipped by the date, and whether the customer was
		// told, happened before baton could see.
		{
			name:  "first seen after the ship-by lapsed, past shipping (a snapshot of a returned order): not judged",
			steps: []step{truth("RETURN_REQUESTED", 2*day).shipBy(day).recorded(h).arrives(2*day + h), due(10 * day)},
		},
		{
			name:  "first seen after the ship-by lapsed, not shipped: not judged either",
			steps: []step{truth("CONFIRMED", 2*day).shipBy(day).recorded(h).arrives(2*day + h), due(10 * day)},
		},
		{
			name:  "first seen after the FTC default lapsed (a row last changed 40 days before the snapshot): not judged",
			steps: []step{truth("CONFIRMED", 0).recorded(40 * day).arrives(40 * day), due(80 * day)},
		},
		{
			name: "the occurred_at of a first event after the ship-by does not count, its recorded_at does",
			steps: []step{truth("CONFIRMED", 0).shipBy(day).recorded(h).arrives(h), truth("RETURN_REQUESTED", 2*day).arrives(2*day + sec),
				due(10 * day)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOT_NOTIFIED may_cancel"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
		{
			name: "first seen after the ship-by lapsed, a later promise is judged",
			steps: []step{truth("CONFIRMED", 2*day).shipBy(day).recorded(h).arrives(2*day + h), promised(2*day+2*h, 3*day, 0),
				due(3*day + ms), due(5 * day)},
			notices: []string{"ship_by_missed missed=72h0m0s revised=- NOT_NOTIFIED may_cancel"},
			failed:  []string{"delay_not_notified deadline=72h5m0s"},
		},
		// Eviction.
		{
			name:    "evicted with an open notice: its failed sync, then NOT_NOTIFIED",
			steps:   []step{order, due(day + ms), evict(day + 2*m)},
			notices: []string{"ship_by_missed missed=24h0m0s revised=- NOT_NOTIFIED may_cancel"},
			failed:  []string{"delay_not_notified deadline=24h5m0s"},
		},
	}
	for _, tc := range tests {
		for _, roundTrip := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				hs := newHarness(t, tc.cfg)
				hs.roundTrip = roundTrip
				hs.run(tc.steps...)
				sameList(t, "notices", hs.notices(), tc.notices)
				sameList(t, "failed syncs", hs.failed, tc.failed)
			})
		}
	}
}

// TestNoticeRecord checks one record field by field: what the unify stage
// will produce and the sink will store.
func TestNoticeRecord(t *testing.T) {
	hs := newHarness(t, Config{})
	hs.run(placed(day, 5*day), truth("SHIPPED", 20*h),
		scan("IN_TRANSIT", 21*h, 4*day).recorded(m), scan("", 2*day, 6*day).recorded(2*m))
	v := hs.latest[hs.order[0]]
	want := map[string]any{
		"order_id":               "order-1",
		"reason":                 ReasonETAPastPromise,
		"promise":                PromiseDeliverBy,
		"renews":                 nil,
		"original_promise":       msTimeAt(5 * day),
		"promise_is_default":     false,
		"missed_promise":         msTimeAt(5 * day),
		"revised_date":           msTimeAt(6 * day),
		"no_revised_date_reason": nil,
		"shipment_id":            "1Z1",
		"carrier":                "UPS",
		"cause_id":               "carrier/e-4",
		"cause_authority":        "carrier",
		"cause_at":               msTimeAt(2 * day),
		"known_at":               msTimeAt(2*day + 2*m),
		"notify_by":              msTimeAt(2*day + 7*m),
		"detected_at":            msTimeAt(2*day + sec),
		"may_cancel":             false,
		"refund_due":             false,
		"refund_due_reason":      nil,
		"state":                  StateOpen,
		"outcome":                nil,
		"notified":               false,
		"notified_at":            nil,
		"notified_via":           nil,
		"failed_sync_emitted":    false,
		"closed_at":              nil,
		"version":                int64(1),
		"retracted":              false,
		"updated_at":             msTimeAt(2*day + sec),
	}
	for k, w := range want {
		if got := v[k]; got != w {
			t.Errorf("%s = %v, want %v", k, got, w)
		}
	}
	if len(v) != len(want)+1 || len(v["notice_id"].(string)) != 16 {
		t.Errorf("record has %d fields (notice_id %q), want %d", len(v), v["notice_id"], len(want)+1)
	}
	if fields := noticeSchema.Root().Fields; len(fields) != len(v) {
		t.Errorf("the schema has %d fields, the record %d", len(fields), len(v))
	}
	// A ship-by without an estimate says why it has no revised date.
	hs = newHarness(t, Config{})
	hs.run(placed(day, 0), due(day+ms))
	v = hs.latest[hs.order[0]]
	if v["no_revised_date_reason"] != NoCarrierEstimate || v["cause_authority"] != "" || v["shipment_id"] != nil ||
		v["known_at"] != msTimeAt(day) || v["cause_at"] != msTimeAt(day) || v["original_promise"] != msTimeAt(day) {
		t.Errorf("ship-by notice: %v", v)
	}
}

func msTimeAt(d time.Duration) time.Time { return schemas.PlainTime(at(d)) }

func TestNewRejectsNegativeDurations(t *testing.T) {
	for _, cfg := range []Config{{NotifySLA: -1}, {MissingAfter: -1}, {DefaultShipWindow: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
