package synccheck

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// randomRun feeds a long random sequence of calls for many orders (any
// status in any order, viewer times up to ten minutes behind the
// watermark, events without a status, reports from a non-viewer) and
// returns every output, Avro-encoded, with each call's NextDue, in call
// order, and the order's lags after each call. The harness checks every
// record's invariants, and every lag's; at the end every order is evicted
// and every failed check must have closed.
func randomRun(t *testing.T, seed uint64, roundTrip bool) (stream []byte, counts map[string]int) {
	r := rand.New(rand.NewPCG(seed, 7))
	statuses := canonical.All()
	viewers := []schemas.System{sf, hd, notif, schemas.Carrier}
	var buf bytes.Buffer
	orders := make([]*harness, 40)
	for i := range orders {
		orders[i] = newHarness(t, nil)
		orders[i].id = fmt.Sprintf("order-%02d", i)
		orders[i].roundTrip = roundTrip
		orders[i].stream = &buf
	}
	counts = map[string]int{}
	clock := time.Duration(0)
	for i := range 20000 {
		clock += time.Duration(r.IntN(120)) * sec
		h := orders[r.IntN(len(orders))]
		var s step
		switch op := r.IntN(100); {
		case op < 30:
			s = truthAt(string(statuses[r.IntN(len(statuses))].Status), clock-time.Duration(r.IntN(600))*sec)
		case op < 75:
			status := ""
			if r.IntN(8) > 0 {
				status = string(statuses[r.IntN(len(statuses))].Status)
			}
			s = shows(viewers[r.IntN(len(viewers))], status, clock-time.Duration(r.IntN(600))*sec)
		case op < 98:
			s = due(0)
		default:
			s = evict(0)
		}
		s.w = clock
		h.run(s)
		lags := h.o.Lags()
		checkLagIDs(t, h, lags)
		fmt.Fprintf(&buf, "%d %s %s next=%d lags=%q\n", i, h.id, s.call, h.c.NextDue(&h.o), summarizeLags(lags))
		for _, l := range lags {
			if l.Until != 0 {
				counts["lag-corrected"]++
			} else {
				counts["lag"]++
			}
		}
	}
	for _, h := range orders {
		h.run(evict(clock + time.Second))
		for id := range h.failIDs {
			if _, ok := h.closed[id]; !ok {
				t.Fatalf("%s: failed check %s never closed", h.id, id)
			}
		}
		for _, outcome := range h.closed {
			counts[outcome]++
		}
		counts["failed"] += len(h.failIDs)
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
	// The sequence must exercise every outcome for the comparison to mean
	// something.
	for _, outcome := range []string{InSync, Late, Missing, Conflict, Superseded, "failed", "lag", "lag-corrected"} {
		if counts[outcome] == 0 {
			t.Errorf("the random run produced no %s", outcome)
		}
	}
	t.Logf("outcomes: %v (%d bytes of output)", counts, len(plain))
	if other, _ := randomRun(t, 2, false); bytes.Equal(other, plain) {
		t.Error("another seed, the same output: the run is not random")
	}
}
