package delay

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
)

// randomRun feeds a long random sequence of calls for many orders —
// promises and re-promises (or none), any truth in any order, two parcels'
// estimates moving both ways, delay messages dated, undated, bounced,
// problem messages, events up to ten minutes (one in ten: two days) behind
// the watermark, Due and the odd eviction — and returns every output,
// Avro-encoded, with each call's NextDue and the order's Untold after it,
// in call order. The harness checks every record's invariants, and
// checkUntold Untold's; at the end every order is evicted.
func randomRun(t *testing.T, seed uint64, roundTrip bool) (stream []byte, counts map[string]int) {
	r := rand.New(rand.NewPCG(seed, 11))
	statuses := canonical.All()
	var buf bytes.Buffer
	orders := make([]*harness, 40)
	for i := range orders {
		orders[i] = newHarness(t, Config{})
		orders[i].id = fmt.Sprintf("order-%02d", i)
		orders[i].roundTrip = roundTrip
		orders[i].stream = &buf
	}
	clock := time.Duration(0)
	untoldSeen := 0
	rnd := func(max time.Duration) time.Duration { return time.Duration(r.Int64N(int64(max))) }
	for range 20000 {
		clock += time.Duration(r.IntN(20)) * m
		hs := orders[r.IntN(len(orders))]
		occurred := clock - rnd(10*m)
		if r.IntN(10) == 0 {
			occurred = clock - rnd(2*day) // reached baton late
		}
		var s step
		switch op := r.IntN(100); {
		case op < 5:
			var sb, db time.Duration
			if r.IntN(4) > 0 {
				sb = occurred + rnd(3*day)
			}
			if r.IntN(4) > 0 {
				db = occurred + 2*day + rnd(6*day)
			}
			s = placed(sb, db)
			s.at = occurred
		case op < 8:
			s = promised(occurred, occurred+rnd(4*day), occurred+day+rnd(6*day))
		case op < 30:
			s = truth(string(statuses[r.IntN(len(statuses))].Status), occurred)
		case op < 50:
			status := ""
			if r.IntN(3) == 0 {
				status = string([]canonical.Status{canonical.InTransit, canonical.Exception, canonical.DeliveryAttemptFailed,
					canonical.ReturnToSender, canonical.OutForDelivery}[r.IntN(5)])
			}
			var eta time.Duration
			if r.IntN(3) > 0 {
				eta = occurred + rnd(8*day)
			}
			s = scan(status, occurred, eta).of([]string{"1Z1", "1Z2"}[r.IntN(2)]).recorded(rnd(5 * m))
		case op < 60:
			var revised time.Duration
			if r.IntN(4) > 0 {
				revised = occurred + rnd(8*day)
			}
			s = delayMsg(occurred, revised).delivery([]string{"sent", "delivered", "bounced", "failed", ""}[r.IntN(5)])
		case op < 65:
			s = problemMsg("delivery_failed", "DELIVERY_ATTEMPT_FAILED", occurred)
		case op < 99:
			s = due(0)
		default:
			s = evict(0)
		}
		s.w = clock
		hs.run(s)
		untold := hs.o.Untold()
		checkUntold(t, hs, untold)
		fmt.Fprintf(&buf, "untold=%q\n", summarizeUntolds(untold))
		untoldSeen += len(untold)
	}
	counts = map[string]int{"untold": untoldSeen}
	for _, hs := range orders {
		hs.run(evict(clock + time.Second))
		for _, l := range hs.lives {
			for _, v := range l.latest {
				if v["state"] != StateClosed {
					t.Fatalf("%s: notice %s still open after eviction", hs.id, v["notice_id"])
				}
				counts[v["reason"].(string)]++
				counts[v["outcome"].(string)]++
				if v["renews"] != nil {
					counts["renewal"]++
				}
				if v["refund_due"].(bool) {
					counts[v["refund_due_reason"].(string)]++
				}
				if v["failed_sync_emitted"].(bool) {
					counts["failed"]++
				}
			}
		}
	}
	return buf.Bytes(), counts
}

// TestReplayIsDeterministic runs the same random sequence three times —
// plain, and twice with every order encoded and decoded between calls —
// and wants the same records byte for byte.
func TestReplayIsDeterministic(t *testing.T) {
	plain, counts := randomRun(t, 1, false)
	encoded, _ := randomRun(t, 1, true)
	again, _ := randomRun(t, 1, true)
	if !bytes.Equal(plain, encoded) || !bytes.Equal(encoded, again) {
		t.Fatalf("runs differ: %d, %d and %d bytes", len(plain), len(encoded), len(again))
	}
	// The sequence must exercise every reason and outcome for the
	// comparison to mean something.
	for _, k := range []string{ReasonShipByMissed, ReasonETAPastPromise, ReasonException, ReasonDeliveryAttemptFailed,
		ReasonReturnToSender, Notified, Late, NotNotified, Withdrawn, Cancelled, "renewal", "failed",
		RefundCancelledBeforeShipping, RefundReturnToSender, "untold"} {
		if counts[k] == 0 {
			t.Errorf("the random run produced no %s", k)
		}
	}
	t.Logf("counts: %v (%d bytes of output)", counts, len(plain))
	if other, _ := randomRun(t, 2, false); bytes.Equal(other, plain) {
		t.Error("another seed, the same output: the run is not random")
	}
}
