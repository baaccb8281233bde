package unify

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

var (
	simOnce sync.Once
	simData simRun
)

// sharedRun is one simulated run shared by the tests and benchmarks that
// only read it.
func sharedRun(t testing.TB) simRun {
	simOnce.Do(func() { simData = simulate(t, 2000, 7) })
	return simData
}

func TestDuplicateAfterARetryEmitsNothing(t *testing.T) {
	p, st := newProcessor(t), NewState()
	in := ev("oms", "CONFIRMED", h).withID("pg-1").input("o-1", 0)
	first := p.Process(st, in)
	in.Ingested = in.Ingested.Add(10 * time.Minute)
	again := p.Process(st, in)
	if len(first.Transitions) != 1 || !again.Duplicate || len(again.Transitions) != 0 || again.State != nil {
		t.Fatalf("first %+v\nagain %+v", first, again)
	}
	// The retry changes nothing: not even the watermark, which is event
	// time (the retry's is the original's).
	if len(again.Changes) != 0 {
		t.Errorf("changes of a duplicate: %v", again.Changes)
	}
	// The same event ID from another system is another event.
	other := p.Process(st, ev("notifications", "PLACED", h).withID("pg-1").input("o-1", 1))
	if other.Duplicate {
		t.Error("same event ID of another system taken for a duplicate")
	}
}

func TestInvalidInputIsRejectedAndChangesNothing(t *testing.T) {
	base := func() Input { return ev("oms", "CONFIRMED", h).input("o-1", 0) }
	cases := []struct {
		name string
		edit func(map[string]any)
		says string
	}{
		{"no order ID", func(v map[string]any) { v["order_id"] = "" }, "order_id is missing"},
		{"reserved order ID", func(v map[string]any) { v["order_id"] = WatermarkKey }, "NUL"},
		{"no event ID", func(v map[string]any) { delete(v, "source_event_id") }, "source_event_id is missing"},
		{"unknown system", func(v map[string]any) { v["source_system"] = "erp" }, `unknown source_system "erp"`},
		{"unknown status", func(v map[string]any) { v["canonical_status"] = "TELEPORTED" }, "unknown canonical_status"},
		{"bad time", func(v map[string]any) { v["occurred_at"] = "yesterday" }, `occurred_at: "yesterday" is not an RFC 3339 time`},
		{"missing time", func(v map[string]any) { delete(v, "recorded_at") }, "recorded_at: missing"},
		{"bad optional time", func(v map[string]any) { v["estimated_delivery"] = 12 }, "estimated_delivery: int is not a time"},
		{"no source status", func(v map[string]any) { v["source_status"] = nil }, "source_status is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, st := newProcessor(t), NewState()
			in := base()
			c.edit(in.Plain)
			out := p.Process(st, in)
			if out.Rejected == nil || !errors.Is(out.Rejected, ErrInvalid) || !strings.Contains(out.Rejected.Error(), c.says) {
				t.Fatalf("rejected %v, want %q", out.Rejected, c.says)
			}
			if len(out.Changes)+len(out.Transitions) != 0 || out.State != nil || st.Orders() != 0 || st.watermark != 0 {
				t.Errorf("a rejected input left traces: %+v", out)
			}
		})
	}
	p, st := newProcessor(t), NewState()
	if out := p.Process(st, Input{}); out.Rejected == nil {
		t.Error("an empty input is accepted")
	}
}

func TestClosedOrdersAreEvictedAfterRetentionWithATombstone(t *testing.T) {
	p, err := New(Config{Retention: 24 * time.Hour, IdleTimeout: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st := NewState()
	var changes []Change
	feed := func(order string, s step, i int) Output {
		out := p.Process(st, s.input(order, i))
		changes = append(changes, out.Changes...)
		return out
	}
	feed("open", placed, 0) // (after the others, 30 hours late: too late)
	for i, s := range then(shipOne, scan("DELIVERED", 30*h)) {
		feed("closed", s, i)
	}
	if st.Orders() != 2 || !st.orders["closed"].isClosedAt() {
		t.Fatalf("orders %d", st.Orders())
	}
	closedAt := st.orders["closed"].closed
	// Within retention and the allowed lateness after it (Retention
	// again): kept, for a late event that may still join it.
	if out := feed("other", ev("storefront", "PLACED", 78*h).arrives(30*h+time.Second+48*h), 1); out.Evicted != 0 {
		t.Fatalf("evicted within retention and the allowed lateness")
	}
	out := feed("other", ev("oms", "CONFIRMED", 79*h).arrives(30*h+time.Second+48*h+time.Millisecond), 2)
	if out.Evicted != 1 || st.orders["closed"] != nil {
		t.Fatalf("evicted %d at watermark %d (closed at %d)", out.Evicted, st.watermark, closedAt)
	}
	var tomb *Change
	for i := range out.Changes {
		if out.Changes[i].Key == "closed" {
			tomb = &out.Changes[i]
		}
	}
	if tomb == nil || tomb.Value != nil || out.Changes[len(out.Changes)-1].Key != WatermarkKey {
		t.Errorf("changes %v: want the order's tombstone, then the watermark", out.Changes)
	}
	// An open order with no event for IdleTimeout and the allowed
	// lateness is expired.
	out = feed("late", ev("oms", "CONFIRMED", 15*24*h), 3)
	if out.Expired != 2 || st.orders["open"] != nil || st.orders["other"] != nil {
		t.Errorf("expired %d; open %v", out.Expired, st.orders["open"])
	}
	restored := NewState()
	for _, c := range changes {
		if err := restored.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	assertSameState(t, st, restored)
}

func (o *order) isClosedAt() bool { return o.closed != 0 }

// encodeAll renders everything an output holds as bytes: the Avro binary of
// each record (so "identical" means what would be produced) and the
// changelog records.
var (
	syncCheckSchema   = schemas.MustLoad("sync_check")
	failedSyncSchema  = schemas.MustLoad("failed_sync")
	delayNoticeSchema = schemas.MustLoad("delay_notice")
	ticketSchema      = schemas.MustLoad("wismo_ticket")
)

func encodeAll(t testing.TB, out Output) []byte {
	var b bytes.Buffer
	write := func(r Record, native map[string]any, err error, codec func([]byte, any) ([]byte, error)) {
		if err != nil {
			t.Fatal(err)
		}
		bin, err := codec(nil, native)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%q=%x\n", r.Key, bin)
	}
	for _, r := range out.Transitions {
		n, err := transitionSchema.FromJSON(r.Value)
		write(r, n, err, transitionSchema.Codec.BinaryFromNative)
	}
	if out.State != nil {
		n, err := stateSchema.FromJSON(out.State.Value)
		write(*out.State, n, err, stateSchema.Codec.BinaryFromNative)
	}
	for _, c := range out.Changes {
		fmt.Fprintf(&b, "%q:%x\n", c.Key, c.Value)
	}
	for _, set := range []struct {
		schema  *schemas.Schema
		records []synccheck.Record
	}{{syncCheckSchema, out.Checks}, {failedSyncSchema, out.Failed}, {delayNoticeSchema, out.Notices}, {ticketSchema, out.Tickets}} {
		for _, r := range set.records {
			bin, err := set.schema.AppendBinary(nil, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %q=%x\n", set.schema.Name, r.Key, bin)
		}
	}
	fmt.Fprintf(&b, "%v %d %d %d %d\n", out.Duplicate, out.Regressions, out.Evicted, out.Expired, len(out.Changes))
	return b.Bytes()
}

// TestReplayIsByteIdenticalAndRestoreContinuesIdentically processes the
// simulated stream into a fresh state twice, and once with a restore from
// the changelog half way, and requires the same bytes out each time, with
// everything on: checks, delay notices, WISMO tickets.
func TestReplayIsByteIdenticalAndRestoreContinuesIdentically(t *testing.T) {
	t.Parallel()
	run := simulate(t, 400, 11)
	p, err := New(Config{SyncChecks: true, Delays: true, Wismo: true})
	if err != nil {
		t.Fatal(err)
	}
	var checks, notices, tickets int
	process := func(restoreAt int) ([]byte, *State) {
		st := NewState()
		var changes []Change
		var all bytes.Buffer
		for i, in := range run.inputs {
			if i == restoreAt {
				st = NewState()
				for _, c := range changes {
					if err := st.Apply(c); err != nil {
						t.Fatal(err)
					}
				}
			}
			out := p.Process(st, in)
			changes = append(changes, out.Changes...)
			all.Write(encodeAll(t, out))
			checks, notices, tickets = checks+len(out.Checks), notices+len(out.Notices), tickets+len(out.Tickets)
		}
		return all.Bytes(), st
	}
	first, st1 := process(-1)
	if checks == 0 || notices == 0 || tickets == 0 {
		t.Fatalf("the run made %d checks, %d delay notices, %d WISMO tickets: it tests too little", checks, notices, tickets)
	}
	second, _ := process(-1)
	restored, st3 := process(len(run.inputs) / 2)
	if !bytes.Equal(first, second) {
		t.Fatal("the same inputs into a fresh state gave different outputs")
	}
	if !bytes.Equal(first, restored) {
		t.Fatal("after a restore from the changelog, processing went on differently")
	}
	assertSameState(t, st1, st3)
}

func TestApplyRefusesWhatItCannotRead(t *testing.T) {
	// A real record to corrupt: two views, a parcel, promises.
	p, st := newProcessor(t), NewState()
	promised := placed
	promised.shipBy = 24 * h
	for i, s := range then(shipOne, scan("IN_TRANSIT", 30*h)) {
		if i == 0 {
			s = promised
		}
		p.Process(st, s.input("o-1", i))
	}
	st.orders["o-1"].hist = nil // its entries are records of their own
	good := encodeOrder(st.orders["o-1"])
	legacy := good[:len(good)-len(appendHistory(nil, st.orders["o-1"]))] // before event time
	for _, old := range [][]byte{good, legacy, legacy[:len(legacy)-1], legacy[:len(legacy)-2]} {
		if err := NewState().Apply(Change{Key: "o-1", Value: old}); err != nil {
			t.Fatalf("a good record (or one written before WISMO attribution or delay detection) is refused: %v", err)
		}
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// The status table's first name, PLACED, renamed.
	unknown := edit(func(b []byte) []byte {
		i := bytes.Index(b, []byte("PLACED"))
		copy(b[i:], "PLACEX")
		return b
	})
	unknownSys := edit(func(b []byte) []byte {
		i := bytes.Index(b, []byte("storefront"))
		copy(b[i:], "xtorefront")
		return b
	})
	for _, c := range []struct {
		key  string
		v    []byte
		says string
	}{
		{"o-1", []byte(`{"v":1,"t":"PLACED","ta":"oms","touched":1,"seen":""}`), "format 1 (JSON), want 2"},
		{"o-1", append([]byte{3}, good[1:]...), "format 3, want 2"},
		{"o-1", []byte{}, "empty record"},
		{"o-1", unknown, `unknown status "PLACEX"`},
		{"o-1", unknownSys, `unknown system "xtorefront"`},
		// The viewer checks, then the delays, then the tickets (one byte
		// each when there are none); a record without delays or tickets
		// (written before delay detection or WISMO attribution) is read
		// as having none.
		{"o-1", legacy[:len(legacy)-3], "checks at byte"},
		{"o-1", append(bytes.Clone(legacy[:len(legacy)-2]), 0xff, legacy[len(legacy)-1]), "delays at byte"},
		{"o-1", append(bytes.Clone(legacy[:len(legacy)-1]), 0xff), "wismo at byte"},
		// Then the event-time section: the history's entries.
		{"o-1", append(bytes.Clone(legacy), 1, 0, 0, 5, 2), "history at byte"},
		{"o-1", good[:len(good)/2], "unify changelog order o-1: "},
		{"o-1", append(bytes.Clone(good), 0), "1 trailing bytes"},
		{"o-1", []byte{2, 0xff, 0xff, 0xff, 0xff, 0x0f}, "status table at byte 1: 4294967295 entries"},
		{"o-1", []byte{2, 0, 0, 1}, "truth at byte 3: status 1 of a table of 0"},
		{WatermarkKey, []byte(`{"v":1,"at":1,"swept":0}`), "format 1 (JSON), want 2"},
		{WatermarkKey, []byte{9, 2, 2}, "format 9, want 2"},
		{WatermarkKey, []byte{2, 2}, "swept at byte 2: truncated"},
		{WatermarkKey, []byte{2, 2, 2, 2}, "progress count at byte 3: 2 origins in 0 bytes"},
		{WatermarkKey, []byte{2, 2, 2, 1, 4, 4}, "1 trailing bytes"},
		{"\x00other", []byte{2}, "unknown key"},
	} {
		err := NewState().Apply(Change{Key: c.key, Value: c.v})
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("applied %q=%x: error %v, want %q", c.key, c.v, err, c.says)
		}
	}
}

// TestChangelogRoundTripsEveryOrderOfTheSimulatedRun checks every order
// record the 2,000-order simulated run writes: it decodes to an order equal
// to the one encoded, which encodes to the same bytes again.
func TestChangelogRoundTripsEveryOrderOfTheSimulatedRun(t *testing.T) {
	run := sharedRun(t)
	p, st, restored := newProcessor(t), NewState(), NewState()
	var records, size int
	for _, in := range run.inputs {
		for _, c := range p.Process(st, in).Changes {
			if id, seq, ok := parseHistKey(c.Key); ok {
				if err := restored.applyHistEntry(id, seq, c.Value); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if c.Value == nil || c.Key == WatermarkKey {
				continue
			}
			o := st.orders[c.Key]
			if o == nil {
				continue // evicted by the same input
			}
			got, err := restored.decodeOrder(c.Key, c.Value)
			if err != nil {
				t.Fatalf("order %s: %v", c.Key, err)
			}
			want := *o
			want.scheduled = 0 // derived on restore (prepare), not stored
			if !reflect.DeepEqual(*got, want) {
				t.Fatalf("order %s decodes to\n%+v\nwant\n%+v", c.Key, *got, want)
			}
			if again := encodeOrder(got); !bytes.Equal(again, c.Value) {
				t.Fatalf("order %s: re-encoded\n%x\nwritten\n%x", c.Key, again, c.Value)
			}
			records++
			size += len(c.Value)
		}
	}
	if records < 10_000 {
		t.Fatalf("only %d order records", records)
	}
	at, swept, _, err := decodeWatermark(encodeWatermark(st))
	if err != nil || at != st.watermark || swept != st.swept {
		t.Errorf("watermark %d/%d round-trips to %d/%d (%v)", st.watermark, st.swept, at, swept, err)
	}
	t.Logf("%d order records, %.0f bytes each on average", records, float64(size)/float64(records))
}

// raceEnabled is set under -race (race_test.go).
var raceEnabled bool

func TestEncodingAllocatesOnlyTheRecord(t *testing.T) {
	run := sharedRun(t)
	p, st := newProcessor(t), NewState()
	for _, in := range run.inputs {
		p.Process(st, in)
	}
	var o *order
	for _, x := range st.orders { // the largest
		if o == nil || len(encodeOrder(x)) > len(encodeOrder(o)) {
			o = x
		}
	}
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = appendOrder(buf[:0], o) }); n != 0 {
		t.Errorf("appendOrder into a large enough buffer: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { encodeOrder(o) }); n != 1 && !raceEnabled {
		t.Errorf("encodeOrder: %v allocations, want 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { encodeWatermark(st) }); n != 1 {
		t.Errorf("encodeWatermark: %v allocations, want 1", n)
	}
	b := encodeOrder(o)
	if got := encodeOrder(o); cap(got) != len(b) || len(got) != len(b) {
		t.Errorf("record of %d bytes has capacity %d", len(got), cap(got))
	}
}

// FuzzDecodeOrder feeds corrupt records to the decoder: it must return an
// error or an order, never panic, and an order it returns must round-trip.
func FuzzDecodeOrder(f *testing.F) {
	run := simulate(f, 200, 5)
	p, st := newProcessor(f), NewState()
	for i, in := range run.inputs {
		for _, c := range p.Process(st, in).Changes {
			if c.Value != nil && i%97 == 0 {
				f.Add(c.Value)
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte(`{"v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewState()
		o, err := s.decodeOrder("o-1", b)
		if err == nil {
			e := encodeOrder(o)
			o2, err := s.decodeOrder("o-1", e)
			if err != nil {
				t.Fatalf("re-encoding %x of %x does not decode: %v", e, b, err)
			}
			if !reflect.DeepEqual(o, o2) || !bytes.Equal(encodeOrder(o2), e) {
				t.Fatalf("%x does not round-trip", b)
			}
		}
		if at, swept, _, err := decodeWatermark(b); err == nil {
			s.watermark, s.swept = at, swept
			if at2, swept2, _, err := decodeWatermark(encodeWatermark(s)); err != nil || at2 != at || swept2 != swept {
				t.Fatalf("watermark %x does not round-trip: %d/%d %v", b, at2, swept2, err)
			}
		}
	})
}

func TestOrderStateShowsViewsShipmentsAndPromises(t *testing.T) {
	p := newProcessor(t)
	promised := placed
	promised.shipBy, promised.deliverBy = 24*h, 96*h
	steps := then(delivered, ev("helpdesk", "IN_TRANSIT", 31*h), ev("oms", "RETURN_REQUESTED", 100*h),
		scanOf("RT", "IN_TRANSIT", 110*h).withETA(140*h))
	steps[0] = promised
	r := runSteps(t, p, steps)
	s := r.lastState()
	if s["promised_ship_by"] != t0.Add(24*h) || s["promised_deliver_by"] != t0.Add(96*h) {
		t.Errorf("promises %v %v", s["promised_ship_by"], s["promised_deliver_by"])
	}
	var systems []string
	for _, v := range s["views"].([]any) {
		systems = append(systems, v.(map[string]any)["system"].(string))
	}
	if strings.Join(systems, ",") != "carrier,helpdesk,oms,storefront,wms" {
		t.Errorf("views %v, want one per system, sorted by name", systems)
	}
	ships := s["shipments"].([]any)
	if len(ships) != 2 {
		t.Fatalf("shipments %v", ships)
	}
	rt, s1 := ships[0].(map[string]any), ships[1].(map[string]any)
	if rt["shipment_id"] != "RT" || rt["is_return"] != true || rt["status"] != "RETURN_IN_TRANSIT" || rt["estimated_delivery"] != t0.Add(140*h) {
		t.Errorf("return parcel %v", rt)
	}
	if s1["shipment_id"] != "S1" || s1["tracking_number"] != "1Z" || s1["status"] != "DELIVERED" || s1["authority"] != "carrier" {
		t.Errorf("outbound parcel %v", s1)
	}
	if s["truth"] != "RETURN_IN_TRANSIT" || s["truth_since"] != t0.Add(110*h) || s["closed"] != false {
		t.Errorf("truth %v since %v closed %v", s["truth"], s["truth_since"], s["closed"])
	}
}

// TestRetentionRunsFromAClosedOrdersLatestEvent: a delivered order that
// hears of a refund 20 hours later, without reopening, stays for Retention
// (and the allowed lateness, Retention again) after the refund, not after
// the delivery: it is not evicted on its own late activity.
func TestRetentionRunsFromAClosedOrdersLatestEvent(t *testing.T) {
	p, err := New(Config{Retention: 24 * time.Hour, IdleTimeout: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st := NewState()
	for i, s := range then(shipOne, scan("DELIVERED", 30*h)) {
		p.Process(st, s.input("o-1", i))
	}
	if !st.orders["o-1"].isClosedAt() {
		t.Fatal("the delivered order is not closed")
	}
	p.Process(st, ev("oms", "REFUNDED", 50*h).input("o-1", 10))
	// Past delivery + 2 × Retention, within refund + 2 × Retention: kept.
	if out := p.Process(st, ev("oms", "CONFIRMED", 80*h).input("other", 0)); out.Evicted != 0 || st.orders["o-1"] == nil {
		t.Fatalf("evicted %d two days after delivery, though refunded 20 hours after it", out.Evicted)
	}
	if out := p.Process(st, ev("oms", "CONFIRMED", 99*h).input("other", 1)); out.Evicted != 1 || st.orders["o-1"] != nil {
		t.Fatalf("evicted %d two days after the refund, want the order", out.Evicted)
	}
}

// orderInput is one input of a test that interleaves orders' events.
type orderInput struct {
	order string
	s     step
	i     int
}

// deliveredAt30h is a processor with checks, delays and a one-day
// retention, and order o-a's events up to its delivery at 30 h, where it
// closes (its life ends at 54 h).
func deliveredAt30h(t *testing.T) (*Processor, []orderInput) {
	t.Helper()
	p, err := New(Config{SyncChecks: true, Delays: true, Retention: 24 * time.Hour, IdleTimeout: 96 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var delivered []orderInput
	for i, s := range then(shipOne, scan("DELIVERED", 30*h)) {
		delivered = append(delivered, orderInput{"o-a", s, i})
	}
	return p, delivered
}

// TestEvictionDependsOnEventTimeNotOnArrival: a delivered order hears of a
// storefront update 40 hours after delivery (past its 24-hour retention),
// and another order of the partition has an event at 45 hours. Whether the
// other order's event arrives first or second depends on how the
// partition's inputs interleave: a live run and its replay differed by two
// sync checks. By event time the order's life had ended when its update
// came: both arrival orders must end with the same records and states,
// those of the update starting the order afresh, and so must the same
// events with the other order's absent.
func TestEvictionDependsOnEventTimeNotOnArrival(t *testing.T) {
	p, delivered := deliveredAt30h(t)
	update := orderInput{"o-a", ev("storefront", "DELIVERED", 70*h), 50}
	other := orderInput{"o-b", ev("oms", "CONFIRMED", 75*h), 0}
	feed := func(inputs []orderInput) (map[outputID]map[string]any, map[string]map[string]any, int) {
		st := NewState()
		var outs []Output
		var changes []Change
		states := map[string]map[string]any{}
		evicted := 0
		for _, x := range inputs {
			out := p.Process(st, x.s.input(x.order, x.i))
			if out.Rejected != nil {
				t.Fatal(out.Rejected)
			}
			outs = append(outs, out)
			changes = append(changes, out.Changes...)
			evicted += out.Evicted
			if out.State != nil {
				states[out.State.Key] = out.State.Value
			}
		}
		// The changelog (an eviction's tombstones, then the fresh
		// order's records) rebuilds the same state.
		restored := NewState()
		for _, c := range changes {
			if err := restored.Apply(c); err != nil {
				t.Fatal(err)
			}
		}
		assertSameState(t, st, restored)
		recs := finalRecords(outs)
		for _, v := range recs {
			delete(v, "processed_at")
		}
		return recs, states, evicted
	}
	updateFirst, updateFirstStates, n1 := feed(append(slices.Clone(delivered), update, other))
	otherFirst, otherFirstStates, n2 := feed(append(slices.Clone(delivered), other, update))
	if n1 != 0 || n2 != 0 {
		// The update ends the order's life and starts it afresh; the state
		// (both lives' history) stays until the clock passes the new
		// life's end plus the allowed lateness.
		t.Errorf("evictions: %d with the update first, %d with the other order first; want none", n1, n2)
	}
	if !reflect.DeepEqual(updateFirst, otherFirst) {
		t.Errorf("the update arriving before the other order's event ends with other records than after it:\n update first: %v\n other first:  %v", updateFirst, otherFirst)
	}
	if !reflect.DeepEqual(updateFirstStates["o-a"], otherFirstStates["o-a"]) {
		t.Errorf("order states differ:\n update first: %v\n other first:  %v", updateFirstStates["o-a"], otherFirstStates["o-a"])
	}
	alone, _, _ := feed(append(slices.Clone(delivered), update))
	for id, v := range alone {
		if !reflect.DeepEqual(otherFirst[id], v) {
			t.Errorf("without the other order, record %v is %v; with it, %v", id, v, otherFirst[id])
		}
	}
}

// An event timed before its order's life ended, arriving after the
// watermark passed that end (another order's later event came first) but
// within the allowed lateness, joins the order as it would have in
// event-time order; dropped at the end of its life, the order would start
// afresh with that event in one arrival order and not in the other. Past
// the allowed lateness the event is too late: rejected, nothing changes.
func TestAnOrderTakesLateEventsUntilTheAllowedLatenessPassed(t *testing.T) {
	p, delivered := deliveredAt30h(t)
	// Delivered (closed) at 30 h: its life ends at 54 h, its state may go
	// once the watermark passes 78 h.
	late := orderInput{"o-a", ev("storefront", "DELIVERED", 50*h), 50}
	feed := func(inputs []orderInput) (recs map[outputID]map[string]any, state map[string]any, rejected []error) {
		st := NewState()
		var outs []Output
		for _, x := range inputs {
			out := p.Process(st, x.s.input(x.order, x.i))
			if out.Rejected != nil {
				rejected = append(rejected, out.Rejected)
				continue
			}
			outs = append(outs, out)
			if out.State != nil && out.State.Key == "o-a" {
				state = out.State.Value
			}
		}
		recs = finalRecords(outs)
		for _, v := range recs {
			delete(v, "processed_at")
		}
		return recs, state, rejected
	}
	withinLateness := orderInput{"o-b", ev("oms", "CONFIRMED", 60*h), 0}
	inOrder, inOrderState, _ := feed(append(slices.Clone(delivered), late, withinLateness))
	afterEnd, afterEndState, rejected := feed(append(slices.Clone(delivered), withinLateness, late))
	if len(rejected) != 0 {
		t.Fatalf("an event 10 h behind the watermark, allowed lateness 24 h: rejected %v", rejected)
	}
	if !reflect.DeepEqual(inOrder, afterEnd) {
		t.Errorf("the late event arriving after the order's life ended ends with other records than in event-time order:\n in order:  %v\n after end: %v", inOrder, afterEnd)
	}
	if !reflect.DeepEqual(inOrderState, afterEndState) {
		t.Errorf("order states differ:\n in order:  %v\n after end: %v", inOrderState, afterEndState)
	}

	pastLateness := orderInput{"o-b", ev("oms", "CONFIRMED", 90*h), 0}
	before, beforeState, _ := feed(append(slices.Clone(delivered), pastLateness))
	after, afterState, rejected := feed(append(slices.Clone(delivered), pastLateness, late))
	if len(rejected) != 1 || !errors.Is(rejected[0], ErrTooLate) {
		t.Fatalf("an event 40 h behind the watermark, allowed lateness 24 h: rejected %v, want ErrTooLate", rejected)
	}
	if !reflect.DeepEqual(before, after) || !reflect.DeepEqual(beforeState, afterState) {
		t.Errorf("a too-late event changed the results:\n without it: %v %v\n with it:    %v %v", before, beforeState, after, afterState)
	}
}

// With every normalize partition announcing its progress (Config.Origins),
// an event's lateness is measured against its own source clock and orders
// are evicted by the least progress: which events are too late and which
// orders are evicted no longer depend on how the partition's inputs
// interleave. In a 2-hour soak a warehouse event delivered 33 days late
// was too late in the paced run and joined its order in the replay; by
// the watermark (Origins 0) the two arrival orders below differ the same
// way.
func TestLatenessAndEvictionFollowTheSourcesNotTheArrivalOrder(t *testing.T) {
	p, err := New(Config{SyncChecks: true, Delays: true, Retention: 24 * time.Hour, IdleTimeout: 96 * time.Hour, Origins: 2})
	if err != nil {
		t.Fatal(err)
	}
	progress := func(origin int32, at time.Duration) func(*State) Output {
		return func(st *State) Output { return p.Progress(st, origin, t0.Add(at)) }
	}
	event := func(x orderInput) func(*State) Output {
		return func(st *State) Output { return p.Process(st, x.s.input(x.order, x.i)) }
	}
	var delivered []func(*State) Output
	for i, s := range then(shipOne, scan("DELIVERED", 30*h)) {
		delivered = append(delivered, event(orderInput{"o-a", s.withClock(s.recorded()), i}))
	}
	// Recorded at 20 h, delivered by its source after its events up to
	// 40 h: 20 h late by its own source, within the 24 h allowed.
	late := event(orderInput{"o-a", ev("storefront", "DELIVERED", 20*h).withClock(40 * h), 50})
	// Another order's event from the other origin, 40 h past the late
	// event's time: by the watermark, the late one is too late after it.
	other := event(orderInput{"o-b", ev("oms", "CONFIRMED", 60*h).withClock(60 * h), 0})
	feed := func(inputs []func(*State) Output) (recs map[outputID]map[string]any, state map[string]any, rejected []error, evicted int) {
		st := NewState()
		var outs []Output
		var changes []Change
		for _, in := range inputs {
			out := in(st)
			if out.Rejected != nil {
				rejected = append(rejected, out.Rejected)
				continue
			}
			outs = append(outs, out)
			changes = append(changes, out.Changes...)
			evicted += out.Evicted
			if out.State != nil && out.State.Key == "o-a" {
				state = out.State.Value
			}
		}
		restored := assertChangelogRestores(t, st, changes)
		if !slices.Equal(restored.progress, st.progress) {
			t.Errorf("progress restored as %v, was %v", restored.progress, st.progress)
		}
		recs = finalRecords(outs)
		for _, v := range recs {
			delete(v, "processed_at")
		}
		return recs, state, rejected, evicted
	}
	lateFirst, lateFirstState, rejected1, _ := feed(append(slices.Clone(delivered), late, other, progress(0, 40*h), progress(1, 60*h)))
	otherFirst, otherFirstState, rejected2, _ := feed(append(slices.Clone(delivered), other, progress(1, 60*h), late, progress(0, 40*h)))
	if len(rejected1)+len(rejected2) != 0 {
		t.Fatalf("rejected: %v with the late event first, %v with the other order's first; want none (20 h late by its source)", rejected1, rejected2)
	}
	if !reflect.DeepEqual(lateFirst, otherFirst) || !reflect.DeepEqual(lateFirstState, otherFirstState) {
		t.Errorf("the arrival order changed the results:\n late first:  %v %v\n other first: %v %v", lateFirst, lateFirstState, otherFirst, otherFirstState)
	}

	// The watermark far ahead evicts nothing while an origin is behind:
	// its events may still belong to the order.
	far := event(orderInput{"o-c", ev("oms", "CONFIRMED", 200*h).withClock(200 * h), 0})
	if _, _, _, n := feed(append(slices.Clone(delivered), far, progress(1, 200*h))); n != 0 {
		t.Errorf("evicted %d with origin 0 silent; want none", n)
	}
	// Once both passed the end of its life (54 h) plus the allowed
	// lateness, the order goes; an event of it read by its source past
	// that is too late, whenever it arrives.
	tooLate := event(orderInput{"o-a", ev("storefront", "DELIVERED", 25*h).withClock(90 * h), 51})
	_, _, rejected, n := feed(append(slices.Clone(delivered), progress(0, 90*h), progress(1, 90*h), tooLate))
	_, _, rejectedEarly, _ := feed(append(slices.Clone(delivered), tooLate))
	if n != 1 || len(rejected) != 1 || !errors.Is(rejected[0], ErrTooLate) || len(rejectedEarly) != 1 || !errors.Is(rejectedEarly[0], ErrTooLate) {
		t.Errorf("past both origins' progress: evicted %d, rejected %v after the eviction and %v before it; want 1 eviction and the event too late both times", n, rejected, rejectedEarly)
	}
}

// A return requested after a delivered order's life ended (past the
// retention) starts the order afresh, whichever of the delivery and the
// request arrives first: a delivery arriving late (a held scan, a crash
// that reordered the canonical topic) is replayed with the order's whole
// history, its lives split where they end, as it would have been applied
// arriving first. Before, the replay made one life of both (the request
// moved on from DELIVERED), and a harness run with a 5-day retention and
// five SIGKILLs differed from the plain run on six orders.
func TestALateEventOfAnEndedLifeIsReplayedInItsOwnLife(t *testing.T) {
	// Lateness by each event's own source clock (Origins): the carrier
	// delivered its scan late, but not late by its own sequence.
	p, err := New(Config{SyncChecks: true, Delays: true, Retention: 24 * time.Hour, IdleTimeout: 96 * time.Hour, Origins: 1})
	if err != nil {
		t.Fatal(err)
	}
	steps := then(shipOne, scan("IN_TRANSIT", 5*h), scan("DELIVERED", 30*h))
	for i := range steps {
		steps[i] = steps[i].withClock(steps[i].recorded())
	}
	returnRequest := ev("oms", "RETURN_REQUESTED", 70*h).withClock(70*h + time.Second) // 40 h after delivery: its life ended at 54 h
	feed := func(order []int) (map[outputID]map[string]any, map[string]any) {
		st := NewState()
		var outs []Output
		var state map[string]any
		var changes []Change
		for _, i := range order {
			s := returnRequest
			if i < len(steps) {
				s = steps[i]
			}
			out := p.Process(st, s.input("o-a", i))
			if out.Rejected != nil {
				t.Fatal(out.Rejected)
			}
			outs = append(outs, out)
			changes = append(changes, out.Changes...)
			if out.State != nil {
				state = out.State.Value
			}
		}
		assertChangelogRestores(t, st, changes)
		recs := finalRecords(outs)
		for _, v := range recs {
			delete(v, "processed_at")
			delete(v, "version")
		}
		return recs, state
	}
	var inOrder, deliveryLast []int
	for i := range steps {
		inOrder = append(inOrder, i)
		if i != len(steps)-1 {
			deliveryLast = append(deliveryLast, i)
		}
	}
	inOrder = append(inOrder, len(steps))
	deliveryLast = append(deliveryLast, len(steps), len(steps)-1)
	want, wantState := feed(inOrder)
	got, gotState := feed(deliveryLast)
	if !reflect.DeepEqual(want, got) || !reflect.DeepEqual(wantState, gotState) {
		t.Errorf("the delivery arriving after the return request ends with other records:\n in order:      %v %v\n delivery last: %v %v", want, wantState, got, gotState)
	}
	for id, v := range got {
		if id.kind == kindTransition && v["to_status"] == "RETURN_REQUESTED" && v["from_status"] != nil {
			t.Errorf("the return request moved on from %v; want a new life (from nothing)", v["from_status"])
		}
	}
}

// assertChangelogRestores applies changes to a new state, fails t unless
// it equals st, and returns it.
func assertChangelogRestores(t *testing.T, st *State, changes []Change) *State {
	t.Helper()
	restored := NewState()
	for _, c := range changes {
		if err := restored.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	assertSameState(t, st, restored)
	return restored
}
