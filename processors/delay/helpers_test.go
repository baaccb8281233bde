package delay

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// noticeSchema and failedSyncSchema are the records' schemas.
var (
	noticeSchema     = schemas.MustLoad("delay_notice")
	failedSyncSchema = schemas.MustLoad("failed_sync")
)

// t0 is the scenarios' origin (the order's placement), Unix ms.
var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).UnixMilli()

const (
	ms  = time.Millisecond
	sec = time.Second
	m   = time.Minute
	h   = time.Hour
	day = 24 * time.Hour
)

func at(d time.Duration) int64 { return t0 + d.Milliseconds() }

// step is one call of a scenario. Offsets are from t0; the watermark w is
// the step's at plus a second unless set.
type step struct {
	call   string // event, due, evict
	ev     Event
	status string // the truth after the event; "" keeps it
	at     time.Duration
	w      time.Duration
}

// arrives sets the step's watermark.
func (s step) arrives(w time.Duration) step { s.w = w; return s }

// placed: the storefront's order, with its promises (0: none).
func placed(shipBy, deliverBy time.Duration) step {
	ev := Event{System: schemas.Storefront, Status: canonical.Placed}
	if shipBy != 0 {
		ev.PromisedShipBy = at(shipBy)
	}
	if deliverBy != 0 {
		ev.PromisedDeliverBy = at(deliverBy)
	}
	return step{call: "event", ev: ev, status: "PLACED"}
}

// promised: the OMS states promises at d.
func promised(d, shipBy, deliverBy time.Duration) step {
	ev := Event{System: schemas.OMS}
	if shipBy != 0 {
		ev.PromisedShipBy = at(shipBy)
	}
	if deliverBy != 0 {
		ev.PromisedDeliverBy = at(deliverBy)
	}
	return step{call: "event", ev: ev, at: d}
}

// truth: the status's authority moves the truth at d.
func truth(status string, d time.Duration) step {
	y := schemas.Carrier
	switch canonical.Status(status) {
	case canonical.Placed:
		y = schemas.Storefront
	case canonical.Confirmed, canonical.OnHold, canonical.Cancelled, canonical.Refunded, canonical.ReturnRequested, canonical.PartiallyShipped:
		y = schemas.OMS
	case canonical.Released, canonical.Picked, canonical.Packed, canonical.Shipped:
		y = schemas.WMS
	}
	return step{call: "event", ev: Event{System: y, Status: canonical.Status(status)}, status: status, at: d}
}

// scan: a carrier scan of parcel 1Z1 at d with an estimate (0: none),
// moving the truth to status ("" keeps it).
func scan(status string, d, eta time.Duration) step {
	ev := Event{System: schemas.Carrier, TrackingNumber: "1Z1", Carrier: "UPS", Status: canonical.Status(status)}
	if eta != 0 {
		ev.EstimatedDelivery = at(eta)
	}
	return step{call: "event", ev: ev, status: status, at: d}
}

// of names the scan's parcel.
func (s step) of(tracking string) step { s.ev.TrackingNumber = tracking; return s }

// recorded sets the event's recorded_at offset from its occurred_at.
func (s step) recorded(lag time.Duration) step { s.ev.RecordedAt = at(s.at + lag); return s }

// shipBy makes the event state a ship-by promise (an OMS row's column).
func (s step) shipBy(d time.Duration) step { s.ev.PromisedShipBy = at(d); return s }

// delayMsg: a delay_notice message sent at d, revised to revised (0: none),
// delivered.
func delayMsg(d, revised time.Duration) step {
	ev := Event{System: schemas.Notifications, MessageType: MessageDelayNotice, DeliveryStatus: "delivered"}
	if revised != 0 {
		ev.RevisedDate = at(revised)
	}
	return step{call: "event", ev: ev, at: d}
}

// delivery sets a message's delivery_status.
func (s step) delivery(status string) step { s.ev.DeliveryStatus = status; return s }

// problemMsg: a notifications message of type typ showing status, sent at d.
func problemMsg(typ, status string, d time.Duration) step {
	return step{call: "event", ev: Event{System: schemas.Notifications, MessageType: typ, Status: canonical.Status(status), DeliveryStatus: "sent"}, at: d}
}

func due(w time.Duration) step   { return step{call: "due", w: w} }
func evict(w time.Duration) step { return step{call: "evict", w: w} }

// harness runs steps against one order, checking every record against its
// schema and the invariants every output must keep.
type harness struct {
	t       testing.TB
	d       *Detector
	o       Order
	id      string
	truth   Truth
	n       int                       // events, for their IDs
	order   []string                  // notice IDs in opening order
	latest  map[string]map[string]any // notice ID → latest version
	failed  []string
	failIDs map[string]bool
	// lives are the notices of the order's earlier lives: an event after
	// an eviction starts the order afresh, and a notice detected again has
	// the same ID.
	lives []life
	// roundTrip encodes and decodes the order between calls.
	roundTrip bool
	// stream, if set, receives every record Avro-encoded, and each call's
	// NextDue, in output order.
	stream *bytes.Buffer
}

func newHarness(t testing.TB, cfg Config) *harness {
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, d: d, id: "order-1", latest: map[string]map[string]any{}, failIDs: map[string]bool{}}
}

func (h *harness) run(steps ...step) *harness {
	h.t.Helper()
	for _, s := range steps {
		w := s.w
		if w == 0 {
			w = s.at + sec
		}
		var out Output
		switch s.call {
		case "event":
			h.n++
			ev := s.ev
			ev.EventID = fmt.Sprintf("e-%d", h.n)
			ev.OccurredAt = at(s.at)
			if ev.RecordedAt == 0 {
				ev.RecordedAt = ev.OccurredAt
			}
			if s.status != "" && canonical.Status(s.status) != h.truth.Status {
				h.truth = Truth{Status: canonical.Status(s.status), At: ev.OccurredAt, TransitionID: fmt.Sprintf("tr-%d", h.n)}
			}
			out = h.d.Observe(&h.o, h.id, ev, h.truth, at(w))
		case "due":
			next := h.d.NextDue(&h.o)
			out = h.d.Due(&h.o, h.id, at(w))
			if (next == 0 || at(w) <= next) && (len(out.Notices) > 0 || len(out.Failed) > 0) {
				h.t.Fatalf("Due at %d emitted before NextDue %d", at(w), next)
			}
		case "evict":
			out = h.d.Evict(&h.o, h.id, at(w))
			if !h.o.Empty() || out.NextDue != 0 {
				h.t.Fatalf("evicted order not empty")
			}
			defer h.newLife()
		default:
			h.t.Fatalf("unknown call %q", s.call)
		}
		h.collect(out)
		if out.NextDue != h.d.NextDue(&h.o) {
			h.t.Fatalf("Output.NextDue %d, NextDue() %d", out.NextDue, h.d.NextDue(&h.o))
		}
		if h.stream != nil {
			fmt.Fprintf(h.stream, "%s %s next=%d\n", h.id, s.call, out.NextDue)
		}
		if h.roundTrip {
			b := h.o.AppendBinary(nil)
			o, rest, err := DecodeOrder(b)
			if err != nil || len(rest) != 0 {
				h.t.Fatalf("round trip: %v (rest %d)", err, len(rest))
			}
			if !bytes.Equal(o.AppendBinary(nil), b) {
				h.t.Fatalf("round trip changes the encoding")
			}
			h.o = o
		}
	}
	return h
}

// life is the notices of one life of the order.
type life struct {
	order  []string
	latest map[string]map[string]any
}

// newLife archives the notices of an evicted order.
func (h *harness) newLife() {
	h.lives = append(h.lives, life{h.order, h.latest})
	h.latest, h.failIDs, h.order = map[string]map[string]any{}, map[string]bool{}, nil
}

func (h *harness) collect(out Output) {
	h.t.Helper()
	for _, r := range out.Failed {
		native, err := failedSyncSchema.FromJSON(r.Value)
		if err != nil {
			h.t.Fatalf("failed_sync does not fit its schema: %v\n%v", err, r.Value)
		}
		h.write(failedSyncSchema, r.Key, native)
		id := r.Value["check_id"].(string)
		if r.Key != h.id || h.failIDs[id] {
			h.t.Fatalf("failed sync %s: key %q, or a second one for the notice", id, r.Key)
		}
		if n, ok := h.latest[id]; ok && n["state"] == StateClosed {
			h.t.Fatalf("failed sync %s after its notice closed", id)
		}
		h.failIDs[id] = true
		h.failed = append(h.failed, fmt.Sprintf("%s deadline=%s", r.Value["reason"], off(r.Value["deadline"])))
	}
	seen := map[string]bool{}
	for _, r := range out.Notices {
		v := r.Value
		native, err := noticeSchema.FromJSON(v)
		if err != nil {
			h.t.Fatalf("delay_notice does not fit its schema: %v\n%v", err, v)
		}
		h.write(noticeSchema, r.Key, native)
		id := v["notice_id"].(string)
		if r.Key != h.id || seen[id] {
			h.t.Fatalf("notice %s keyed %q, or twice in one output", id, r.Key)
		}
		seen[id] = true
		prev, ok := h.latest[id]
		switch {
		case !ok && v["version"].(int64) != 1:
			h.t.Fatalf("notice %s first emitted at version %v", id, v["version"])
		case ok && v["version"].(int64) != prev["version"].(int64)+1:
			h.t.Fatalf("notice %s: version %v after %v", id, v["version"], prev["version"])
		case ok && prev["state"] == StateClosed && v["state"] != StateClosed:
			h.t.Fatalf("notice %s reopened", id)
		}
		if !ok {
			h.order = append(h.order, id)
		}
		h.latest[id] = v
		if v["state"] == StateClosed {
			switch outcome := v["outcome"].(string); outcome {
			case Late, NotNotified:
				if !h.failIDs[id] {
					h.t.Fatalf("%s notice %s without a failed sync", outcome, id)
				}
			}
		}
		if v["failed_sync_emitted"].(bool) != h.failIDs[id] {
			h.t.Fatalf("notice %s: failed_sync_emitted %v", id, v["failed_sync_emitted"])
		}
	}
}

func (h *harness) write(s *schemas.Schema, key string, native map[string]any) {
	if h.stream == nil {
		return
	}
	b, err := s.Codec.BinaryFromNative(nil, native)
	if err != nil {
		h.t.Fatal(err)
	}
	fmt.Fprintf(h.stream, "%s %s %d:", s.Name, key, len(b))
	h.stream.Write(b)
	h.stream.WriteByte('\n')
}

// notices renders the latest version of every notice, in opening order, as
// "reason missed=OFF revised=OFF OUTCOME [told@OFF via] [renews=N] [may_cancel]
// [default] [refund:REASON]" (offsets from t0; OUTCOME is open while open,
// N the renewed notice's position, 1-based).
func (h *harness) notices() []string {
	var out []string
	for _, l := range append(h.lives, life{h.order, h.latest}) {
		out = append(out, l.render()...)
	}
	return out
}

func (h life) render() []string {
	var out []string
	for _, id := range h.order {
		v := h.latest[id]
		var b strings.Builder
		fmt.Fprintf(&b, "%s missed=%s revised=%s", v["reason"], off(v["missed_promise"]), off(v["revised_date"]))
		if v["state"] == StateOpen {
			b.WriteString(" open")
		} else {
			fmt.Fprintf(&b, " %s", v["outcome"])
		}
		if v["notified"].(bool) {
			fmt.Fprintf(&b, " told@%s", off(v["notified_at"]))
			if via := v["notified_via"]; via != MessageDelayNotice {
				fmt.Fprintf(&b, " via %s", via)
			}
		}
		if r, ok := v["renews"].(string); ok {
			fmt.Fprintf(&b, " renews=%d", slices.Index(h.order, r)+1)
		}
		if v["may_cancel"].(bool) {
			b.WriteString(" may_cancel")
		}
		if v["promise_is_default"].(bool) {
			b.WriteString(" default")
		}
		if v["refund_due"].(bool) {
			fmt.Fprintf(&b, " refund:%s", v["refund_due_reason"])
		}
		out = append(out, b.String())
	}
	return out
}

// off renders a record time as an offset from t0 ("-" for null).
func off(v any) string {
	t, ok := v.(time.Time)
	if !ok {
		return "-"
	}
	return (time.Duration(t.UnixMilli()-t0) * time.Millisecond).String()
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}
