package unify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// step is one canonical event of a scenario, fed in slice order (arrival
// order). at is its event time after t0; it arrives (Ingested) at at plus
// a minute unless arrive is set.
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
}

func ev(sys, status string, at time.Duration) step { return step{sys: sys, status: status, at: at} }

func (s step) parcel(ship, tn string) step  { s.ship, s.tn = ship, tn; return s }
func (s step) withID(id string) step        { s.id = id; return s }
func (s step) arrives(d time.Duration) step { s.arrive = d; return s }
func (s step) withETA(d time.Duration) step { s.eta = d; return s }

const h = time.Hour

func ts(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }

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
	return Input{Ingested: t0.Add(arrive), Plain: map[string]any{
		"order_id": order, "shipment_id": opt(s.ship), "tracking_number": opt(s.tn),
		"source_system": s.sys, "source_event_id": id, "source_status": strings.ToLower(s.status),
		"canonical_status": opt(s.status), "linked_by": "event",
		"occurred_at": ts(s.at), "recorded_at": ts(s.at + time.Second), "ingested_at": ts(arrive),
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
	canonicalSchema  = schemas.MustLoad("canonical_event")
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

func runSteps(t testing.TB, p *Processor, steps []step) result {
	t.Helper()
	r := result{st: NewState()}
	for i, s := range steps {
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

// lastState is the latest order_state value emitted.
func (r result) lastState() map[string]any {
	for i := len(r.outs) - 1; i >= 0; i-- {
		if r.outs[i].State != nil {
			return r.outs[i].State.Value
		}
	}
	return nil
}
