package unify

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// step is one canonical event of a scenario, fed in slice order (arrival
// order). at is its event time (occurred_at) after t0; its system records
// it a second later and it arrives (Ingested) a minute later, unless
// arrive is set: then its system recorded it at arrive (a carrier feed
// hours behind its scans), and it arrives then.
type step struct {
	sys, status string // status "" is a null canonical status
	ship, tn    string
	at          time.Duration
	arrive      time.Duration
	id          string // source_event_id; default sys-<index>
	eta         time.Duration
	// shipBy, deliverBy: promised dates, as offsets from t0 (0: none)
	shipBy, deliverBy time.Duration
	// ticket, subject, tags: a help-desk ticket event's
	ticket, subject string
	tags            []string
	// clock: its source clock, after t0 (0: not carried)
	clock time.Duration
}

func ev(sys, status string, at time.Duration) step { return step{sys: sys, status: status, at: at} }

func (s step) parcel(ship, tn string) step  { s.ship, s.tn = ship, tn; return s }
func (s step) withID(id string) step        { s.id = id; return s }
func (s step) arrives(d time.Duration) step { s.arrive = d; return s }
func (s step) withETA(d time.Duration) step { s.eta = d; return s }

// withClock sets the source clock normalize read the event at.
func (s step) withClock(d time.Duration) step { s.clock = d; return s }

const h = time.Hour

func ts(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }

// recorded is the step's recorded_at, after t0.
func (s step) recorded() time.Duration {
	if s.arrive != 0 {
		return s.arrive
	}
	return s.at + time.Second
}

// input renders a step as a canonical event in Plain form.
func (s step) input(order string, i int) Input {
	id := s.id
	if id == "" {
		id = fmt.Sprintf("%s-%d", s.sys, i)
	}
	opt := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	var eta any
	if s.eta != 0 {
		eta = ts(s.eta)
	}
	promise := func(d time.Duration) any {
		if d == 0 {
			return nil
		}
		return ts(d)
	}
	tags := []any{}
	for _, t := range s.tags {
		tags = append(tags, t)
	}
	arrive := s.arrive
	if arrive == 0 {
		arrive = s.at + time.Minute
	}
	var clock any
	if s.clock != 0 {
		clock = ts(s.clock)
	}
	return Input{Ingested: t0.Add(arrive), Plain: map[string]any{
		"source_clock": clock,
		"order_id":     order, "shipment_id": opt(s.ship), "tracking_number": opt(s.tn),
		"source_system": s.sys, "source_event_id": id, "source_status": strings.ToLower(s.status),
		"canonical_status": opt(s.status), "linked_by": "event",
		"occurred_at": ts(s.at), "recorded_at": ts(s.recorded()), "ingested_at": ts(arrive),
		"carrier": nil, "estimated_delivery": eta, "promised_ship_by": promise(s.shipBy), "promised_deliver_by": promise(s.deliverBy),
		"ticket_id": opt(s.ticket), "tags": tags, "message_type": nil, "delivery_status": nil, "revised_date": nil,
		"subject": opt(s.subject),
	}}
}

func newProcessor(t testing.TB) *Processor {
	t.Helper()
	p, err := New(Config{SyncChecks: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	transitionSchema = schemas.MustLoad("order_transition")
	stateSchema      = schemas.MustLoad("order_state")
)

// checkOutput fails unless every output value fits its schema and
// encodes.
func checkOutput(t testing.TB, out Output) {
	t.Helper()
	recs := append([]Record(nil), out.Transitions...)
	schemasFor := make([]*schemas.Schema, len(recs))
	for i := range recs {
		schemasFor[i] = transitionSchema
	}
	if out.State != nil {
		recs = append(recs, *out.State)
		schemasFor = append(schemasFor, stateSchema)
	}
	for i, r := range recs {
		native, err := schemasFor[i].FromJSON(r.Value)
		if err != nil {
			t.Fatalf("%s value does not fit: %v\n%v", schemasFor[i].Name, err, r.Value)
		}
		if _, err := schemasFor[i].Codec.BinaryFromNative(nil, native); err != nil {
			t.Fatalf("%s value does not encode: %v", schemasFor[i].Name, err)
		}
	}
}

// describe renders a transition as "<shipment or order> kind FROM>TO
// [skipped]".
func describe(r Record) string {
	v := r.Value
	who := "order"
	if s, ok := v["shipment_id"].(string); ok {
		who = s
	}
	from, _ := v["from_status"].(string)
	if from == "" {
		from = "-"
	}
	s := fmt.Sprintf("%s %s %s>%s", who, v["kind"], from, v["to_status"])
	if sk := v["skipped"].([]any); len(sk) > 0 {
		s += fmt.Sprint(" ", sk)
	}
	return s
}

// scenario runs steps for order "o-1" through a fresh state, checking each
// output against the schemas.
type result struct {
	transitions []string
	regressions int
	duplicates  int
	outs        []Output
	st          *State
}

// runSteps feeds the steps for order "o-1" in arrival order (slice order)
// and again in event-time order into fresh states, requires both runs to
// end with the same records (the latest version of each, retractions
// dropped) and the same order_state, and returns the event-time run: the
// timeline as it reads in the end. duplicates counts the arrival run's.
func runSteps(t testing.TB, p *Processor, steps []step) result {
	t.Helper()
	arrival := feedSteps(t, p, steps, nil)
	order := make([]int, len(steps))
	for i := range order {
		order[i] = i
	}
	key := func(i int) (int64, sys, string) {
		in := steps[i].input("o-1", i)
		ev, _ := parseEvent(in)
		return ev.recorded, ev.system, ev.eventID
	}
	slices.SortStableFunc(order, func(a, b int) int {
		at, ay, aid := key(a)
		bt, by, bid := key(b)
		return compareKey(at, ay, aid, bt, by, bid)
	})
	r := feedSteps(t, p, steps, order)
	if got, want := finalRecords(arrival.outs), finalRecords(r.outs); !reflect.DeepEqual(got, want) {
		t.Errorf("arrival order ends with other records than event-time order:\n got  %v\n want %v", got, want)
	}
	if got, want := arrival.lastState(), r.lastState(); !reflect.DeepEqual(got, want) {
		t.Errorf("arrival order ends with another order_state than event-time order:\n got  %v\n want %v", got, want)
	}
	r.duplicates = arrival.duplicates
	return r
}

// feedSteps feeds steps in the order given (nil: slice order).
func feedSteps(t testing.TB, p *Processor, steps []step, order []int) result {
	t.Helper()
	r := result{st: NewState()}
	for k := range steps {
		i := k
		if order != nil {
			i = order[k]
		}
		s := steps[i]
		out := p.Process(r.st, s.input("o-1", i))
		if out.Rejected != nil {
			t.Fatalf("step %d (%+v) rejected: %v", i, s, out.Rejected)
		}
		checkOutput(t, out)
		for _, tr := range out.Transitions {
			r.transitions = append(r.transitions, describe(tr))
		}
		r.regressions += out.Regressions
		if out.Duplicate {
			r.duplicates++
		}
		r.outs = append(r.outs, out)
	}
	return r
}

// finalRecords is what a table keeping the latest version per ID holds
// after outs: each record's latest value (version left out, as it counts
// corrections), retracted records dropped.
func finalRecords(outs []Output) map[outputID]map[string]any {
	m := map[outputID]map[string]any{}
	for _, out := range outs {
		for id, v := range latest(out) {
			m[id] = v
		}
	}
	for id, v := range m {
		if v["retracted"] == true {
			delete(m, id)
			continue
		}
		v = maps.Clone(v)
		delete(v, "version")
		m[id] = v
	}
	return m
}

// lastState is the latest order_state value emitted.
func (r result) lastState() map[string]any {
	for i := len(r.outs) - 1; i >= 0; i-- {
		if r.outs[i].State != nil {
			return r.outs[i].State.Value
		}
	}
	return nil
}

// finalOutput is what the tables hold after outs: the latest version of
// every record, retractions dropped; the transitions in timeline order (by
// their causing event's place in event time, a shipment's move before the
// order's), the rest by ID.
func finalOutput(outs []Output) Output {
	m := finalRecords(outs)
	ids := slices.SortedFunc(maps.Keys(m), func(a, b outputID) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.id, b.id))
	})
	var o Output
	for _, id := range ids {
		o.add(id.kind, m[id])
	}
	slices.SortStableFunc(o.Transitions, func(a, b Record) int {
		at, bt := a.Value["recorded_at"].(time.Time), b.Value["recorded_at"].(time.Time)
		ay, by := sysByName[a.Value["authority"].(string)], sysByName[b.Value["authority"].(string)]
		orderLevel := func(r Record) int {
			if r.Value["shipment_id"] == nil {
				return 1
			}
			return 0
		}
		return cmp.Or(cmp.Compare(a.Key, b.Key),
			compareKey(at.UnixMilli(), ay, a.Value["source_event_id"].(string), bt.UnixMilli(), by, b.Value["source_event_id"].(string)),
			cmp.Compare(orderLevel(a), orderLevel(b)))
	})
	return o
}
