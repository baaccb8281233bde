package unify

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
	"github.com/baton-pipeline/baton/statusmap"
)

const partitions = 6

// canonicalStream runs a simulator run through the real normalize
// processor and returns its canonical events as unify inputs, in the order
// normalize produced them, each with the raw source events the simulator
// emitted (for the oracle's expectations).
type simRun struct {
	inputs []Input
	raw    []simulator.Event
	stats  simulator.Stats
}

func simulate(t testing.TB, orders int, seed int64) simRun {
	t.Helper()
	maps, err := statusmap.Default()
	if err != nil {
		t.Fatal(err)
	}
	// Return-label scans wait for the WMS check-in (days): hold them long
	// enough that none is dead-lettered.
	norm, err := normalize.New(normalize.Config{Maps: maps, HoldTimeout: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	nst := normalize.NewState()
	canon := schemas.MustLoad("canonical_event")
	var run simRun
	sources := map[schemas.System]*schemas.Schema{}
	var pending []normalize.Input
	feed := func(in normalize.Input) {
		pending = append(pending[:0], in)
		for len(pending) > 0 {
			in := pending[0]
			pending = pending[1:]
			out := norm.Process(nst, in)
			for _, rj := range out.Rejected {
				if rj.Reason != normalize.ReasonMissingID || in.System != schemas.Helpdesk {
					t.Errorf("normalize rejected: %s %v", rj.Reason, rj.Err)
				} // else a ticket without an order reference: not an order event
			}
			for _, l := range out.Links {
				l := l
				pending = append(pending, normalize.Input{Link: &l, Ingested: in.Ingested})
			}
			for _, e := range out.Events {
				// The form the pipeline hands over: the decoded value
				// through Plain (BenchmarkUnify decodes real binary).
				native, err := canon.FromJSON(e.Value)
				if err != nil {
					t.Fatalf("canonical event does not fit: %v", err)
				}
				run.inputs = append(run.inputs, Input{Plain: canon.Plain(native), Ingested: in.Ingested})
			}
		}
	}
	stats, err := simulator.Generate(simulator.DefaultConfig(orders, seed), func(e simulator.Event) error {
		run.raw = append(run.raw, e)
		src := sources[e.System]
		if src == nil {
			src = schemas.MustLoad(e.System.SchemaName())
			sources[e.System] = src
		}
		native, err := src.FromJSON(e.Value)
		if err != nil {
			return err
		}
		feed(normalize.Input{System: e.System, Plain: src.Plain(native), Ingested: e.Arrival})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	run.stats = stats
	return run
}

func partitionOf(orderID string) int {
	h := fnv.New32a()
	h.Write([]byte(orderID))
	return int(h.Sum32() % partitions)
}

// TestSimulatedOrdersEndInTheTruthTheSimulatorPlanned runs 2,000 simulated
// orders through normalize and unify (six partitions) and checks the
// timeline's invariants and each order's final truth against what the
// simulator's raw events say happened.
func TestSimulatedOrdersEndInTheTruthTheSimulatorPlanned(t *testing.T) {
	t.Parallel()
	run := sharedRun(t)
	p := newProcessor(t)
	states := make([]*State, partitions)
	changes := make([][]Change, partitions)
	for i := range states {
		states[i] = NewState()
	}
	type key struct{ order, ship string }
	last := map[key]string{}     // latest non-late to_status per order or shipment
	truth := map[string]string{} // order-level truth
	ids := map[string]bool{}     // transition IDs
	kinds := map[string]int{}    // by kind
	var regressions, duplicates, evicted int
	var outs []Output
	alias := map[key]string{} // a parcel first named by its tracking number, then by its ID
	// Re-deliver every 97th canonical event 40 inputs later (a retry
	// upstream): each must be a duplicate that emits nothing.
	inputs := make([]Input, 0, len(run.inputs)*102/100)
	var redeliver []Input
	for i, in := range run.inputs {
		inputs = append(inputs, in)
		if i%97 == 0 {
			redeliver = append(redeliver, in)
		}
		if i%97 == 40 && len(redeliver) > 0 {
			again := redeliver[0]
			again.Ingested = in.Ingested
			inputs = append(inputs, again)
			redeliver = redeliver[1:]
		}
	}
	injected := len(inputs) - len(run.inputs)
	for i, in := range inputs {
		id := in.Plain["order_id"].(string)
		part := partitionOf(id)
		out := p.Process(states[part], in)
		if out.Rejected != nil {
			t.Fatalf("rejected: %v", out.Rejected)
		}
		if i%5 == 0 { // a sample: the replay test encodes every output of its run
			checkOutput(t, out)
		}
		changes[part] = append(changes[part], out.Changes...)
		regressions += out.Regressions
		evicted += out.Evicted
		if out.Duplicate {
			duplicates++
			if len(out.Transitions) > 0 || out.State != nil {
				t.Errorf("a duplicate emitted %d transitions", len(out.Transitions))
			}
		}
		outs = append(outs, out)
	}
	// The timeline as the tables hold it in the end: late events were
	// corrected, so the latest version of each transition, in event time.
	for _, tr := range finalOutput(outs).Transitions {
		v := tr.Value
		id := tr.Key
		tid := v["transition_id"].(string)
		if ids[tid] {
			t.Fatalf("duplicate transition ID %s: %s", tid, describe(tr))
		}
		ids[tid] = true
		kind := v["kind"].(string)
		kinds[kind]++
		ship, _ := v["shipment_id"].(string)
		tn, _ := v["tracking_number"].(string)
		if ship != "" && tn != "" && ship != tn {
			if prev, ok := last[key{id, tn}]; ok {
				last[key{id, ship}] = prev
				delete(last, key{id, tn})
				alias[key{id, tn}] = ship
			}
		}
		k := key{id, ship}
		from, _ := v["from_status"].(string)
		to := v["to_status"].(string)
		if from != last[k] {
			t.Errorf("%s %s: from %q, but the truth was %q", id, describe(tr), from, last[k])
		}
		if kind == KindLate {
			continue
		}
		last[k] = to
		if ship != "" {
			continue
		}
		truth[id] = to
		f, _ := parseSt(from)
		s, _ := parseSt(to)
		backward := f != 0 && f != sCancelled && s != sCancelled && !s.Problem() && s.Rank() < f.Rank()
		if backward && kind != KindRecovery && kind != KindReopened {
			t.Errorf("%s moved backward as %s: %s", id, kind, describe(tr))
		}
	}

	// What the simulator says happened, from its raw events.
	type fate struct {
		cancelled, returned bool
		shipped             map[string]bool // outbound tracking numbers
		delivered           map[string]bool
	}
	fates := map[string]*fate{}
	get := func(id string) *fate {
		f := fates[id]
		if f == nil {
			f = &fate{shipped: map[string]bool{}, delivered: map[string]bool{}}
			fates[id] = f
		}
		return f
	}
	byTracking := map[string]string{}
	for _, e := range run.raw {
		v := e.Value
		str := func(f string) string { s, _ := v[f].(string); return s }
		switch e.System {
		case schemas.OMS:
			switch str("status") {
			case "CANCELLED":
				get(str("order_id")).cancelled = true
			case "RETURN_AUTHORIZED":
				get(str("order_id")).returned = true
			}
		case schemas.WMS:
			if str("status") == "shipped" {
				get(str("order_id")).shipped[str("tracking_number")] = true
				byTracking[str("tracking_number")] = str("order_id")
			}
		}
	}
	for _, e := range run.raw {
		v := e.Value
		if e.System != schemas.Carrier || !(v["status"] == "delivered" || v["status"] == "Delivered") {
			continue
		}
		if id, ok := byTracking[v["tracking_number"].(string)]; ok {
			get(id).delivered[v["tracking_number"].(string)] = true
		}
	}
	var cancelled, returned, delivered int
	finals := map[string]int{}
	for id, f := range fates {
		got := truth[id]
		finals[got]++
		s, _ := parseSt(got)
		switch {
		case f.cancelled:
			cancelled++
			if got != "CANCELLED" {
				t.Errorf("%s was cancelled; truth %s", id, got)
			}
		case f.returned:
			returned++
			if got != "RETURNED" && got != "REFUNDED" {
				t.Errorf("%s was returned; truth %s", id, got)
			}
		case len(f.shipped) > 0 && len(f.delivered) == len(f.shipped):
			delivered++
			if !s.OnLine() || s.Rank() < sDelivered.Rank() {
				t.Errorf("%s: every parcel delivered; truth %s", id, got)
			}
		}
	}
	c := run.stats.Cases
	if cancelled != c.CancelledOrders || returned != c.ReturnedOrders {
		t.Errorf("cancelled %d, returned %d; the simulator counts %d and %d", cancelled, returned, c.CancelledOrders, c.ReturnedOrders)
	}
	if duplicates != injected || regressions > len(run.inputs)/1000 {
		t.Errorf("duplicates %d of %d re-delivered, regressions %d", duplicates, injected, regressions)
	}
	var names []string
	for k := range finals {
		names = append(names, k)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, k := range names {
		sb.WriteString(k + "=" + strconv.Itoa(finals[k]) + " ")
	}
	t.Logf("%d inputs, %d orders: %d delivered, %d cancelled, %d returned; finals %s", len(run.inputs), len(fates), delivered, cancelled, returned, sb.String())
	t.Logf("transitions by kind %v; regressions %d, duplicates %d, evicted %d, parcels renamed %d", kinds, regressions, duplicates, evicted, len(alias))

	// The changelog rebuilds every partition exactly.
	for i := range states {
		restored := NewState()
		for _, c := range changes[i] {
			if err := restored.Apply(c); err != nil {
				t.Fatal(err)
			}
		}
		assertSameState(t, states[i], restored)
	}
}

// assertSameState fails unless two states hold the same orders (compared
// by their changelog encoding) and watermarks.
func assertSameState(t testing.TB, want, got *State) {
	t.Helper()
	if want.watermark != got.watermark || want.swept != got.swept {
		t.Errorf("watermark %d/%d, restored %d/%d", want.watermark, want.swept, got.watermark, got.swept)
	}
	if len(want.orders) != len(got.orders) {
		t.Fatalf("%d orders, restored %d", len(want.orders), len(got.orders))
	}
	for id, o := range want.orders {
		r := got.orders[id]
		if r == nil {
			t.Fatalf("order %s missing after restore", id)
		}
		if a, b := string(encodeOrder(o)), string(encodeOrder(r)); a != b {
			t.Fatalf("order %s differs after restore:\n%s\n%s", id, a, b)
		}
	}
}
