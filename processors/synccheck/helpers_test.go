package synccheck

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

var (
	syncCheckSchema  = schemas.MustLoad("sync_check")
	failedSyncSchema = schemas.MustLoad("failed_sync")
)

// t0 is the scenarios' origin, Unix ms.
var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).UnixMilli()

const (
	sf    = schemas.Storefront
	hd    = schemas.Helpdesk
	notif = schemas.Notifications
	m     = time.Minute
	sec   = time.Second
)

func at(d time.Duration) int64 { return t0 + d.Milliseconds() }

// step is one call of a scenario. Offsets are from t0. The watermark w is
// the step's at plus a second unless set.
type step struct {
	call   string // truth, view, due, evict
	viewer schemas.System
	status string
	at     time.Duration
	w      time.Duration
}

func truthAt(status string, d time.Duration) step { return step{call: "truth", status: status, at: d} }
func shows(v schemas.System, status string, d time.Duration) step {
	return step{call: "view", viewer: v, status: status, at: d}
}
func due(w time.Duration) step   { return step{call: "due", w: w} }
func evict(w time.Duration) step { return step{call: "evict", w: w} }

// arrives sets the step's watermark.
func (s step) arrives(w time.Duration) step { s.w = w; return s }

// harness runs steps against one order, checking every record against its
// schema and the invariants every output must keep.
type harness struct {
	t       testing.TB
	c       *Checker
	o       Order
	id      string
	truth   Truth
	n       int // truth transitions, for their IDs
	checks  []string
	failed  []string
	closed  map[string]string // check_id → outcome
	failIDs map[string]bool
	// roundTrip encodes and decodes the order between calls.
	roundTrip bool
	// stream, if set, receives every record Avro-encoded, in output order.
	stream *bytes.Buffer
}

func newHarness(t testing.TB, c *Checker) *harness {
	if c == nil {
		c = New(nil)
	}
	return &harness{t: t, c: c, id: "order-1", closed: map[string]string{}, failIDs: map[string]bool{}}
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
		case "truth":
			h.n++
			h.truth = Truth{Status: canonical.Status(s.status), At: at(s.at), Authority: authorityOf(s.status),
				TransitionID: fmt.Sprintf("tr-%d", h.n)}
			if h.truth.Authority == schemas.Carrier {
				h.truth.Carrier = "ups"
			}
			out = h.c.Truth(&h.o, h.id, h.truth, at(w))
		case "view":
			out = h.c.View(&h.o, h.id, Report{Viewer: s.viewer, Status: canonical.Status(s.status), At: at(s.at)}, h.truth, at(w))
		case "due":
			next := h.c.NextDue(&h.o)
			out = h.c.Due(&h.o, h.id, at(w))
			if (next == 0 || at(w) <= next) && (len(out.Checks) > 0 || len(out.Failed) > 0) {
				h.t.Fatalf("Due at %d emitted before NextDue %d", at(w), next)
			}
		case "evict":
			out = h.c.Evict(&h.o, h.id, at(w))
		default:
			h.t.Fatalf("unknown call %q", s.call)
		}
		h.collect(out)
		if out.NextDue != h.c.NextDue(&h.o) {
			h.t.Fatalf("Output.NextDue %d, NextDue() %d", out.NextDue, h.c.NextDue(&h.o))
		}
		if h.roundTrip {
			b := h.o.AppendBinary(nil)
			o, rest, err := DecodeOrder(b)
			if err != nil || len(rest) != 0 {
				h.t.Fatalf("round trip: %v (rest %d)", err, len(rest))
			}
			h.o = o
		}
	}
	return h
}

func authorityOf(status string) schemas.System {
	switch canonical.Status(status) {
	case canonical.Placed:
		return schemas.Storefront
	case canonical.Confirmed, canonical.OnHold, canonical.Cancelled, canonical.ReturnRequested, canonical.Refunded:
		return schemas.OMS
	case canonical.Released, canonical.Picked, canonical.Packed, canonical.Shipped, canonical.Returned,
		canonical.PartiallyShipped, canonical.PartiallyDelivered:
		return schemas.WMS
	}
	return schemas.Carrier
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
			h.t.Fatalf("failed sync %s: key %q, or a second one for the check", id, r.Key)
		}
		if _, ok := h.closed[id]; ok {
			h.t.Fatalf("failed sync %s after its check closed", id)
		}
		h.failIDs[id] = true
		h.failed = append(h.failed, summarizeFailed(r.Value))
	}
	for _, r := range out.Checks {
		native, err := syncCheckSchema.FromJSON(r.Value)
		if err != nil {
			h.t.Fatalf("sync_check does not fit its schema: %v\n%v", err, r.Value)
		}
		h.write(syncCheckSchema, r.Key, native)
		id, outcome := r.Value["check_id"].(string), r.Value["outcome"].(string)
		if r.Key != h.id {
			h.t.Fatalf("check %s keyed %q", id, r.Key)
		}
		if prev, ok := h.closed[id]; ok {
			h.t.Fatalf("check %s closed twice: %s then %s", id, prev, outcome)
		}
		h.closed[id] = outcome
		switch failed := h.failIDs[id]; outcome {
		case Late, Missing, Conflict:
			if !failed {
				h.t.Fatalf("%s check %s without a failed sync", outcome, id)
			}
		case Superseded:
			if failed {
				h.t.Fatalf("superseded check %s has a failed sync", id)
			}
		}
		h.checks = append(h.checks, summarizeCheck(r.Value))
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

// summarizeCheck renders a sync_check value as
// "viewer EXPECTED opened_by OUTCOME [SHOWN latency] @truth_at".
func summarizeCheck(v map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s", v["viewer"], v["expected_status"], v["opened_by"], v["outcome"])
	if s, ok := v["shown_status"].(string); ok {
		fmt.Fprintf(&b, " %s", s)
	}
	if l, ok := v["latency_ms"].(int64); ok {
		fmt.Fprintf(&b, " %s", time.Duration(l)*time.Millisecond)
	}
	fmt.Fprintf(&b, " @%s", time.Duration(v["truth_at"].(time.Time).UnixMilli()-t0)*time.Millisecond)
	return b.String()
}

// summarizeFailed renders a failed_sync value as
// "viewer EXPECTED reason shown=SHOWN".
func summarizeFailed(v map[string]any) string {
	shown := "-"
	if s, ok := v["shown_status"].(string); ok {
		shown = s
	}
	return fmt.Sprintf("%s %s %s shown=%s", v["viewer"], v["expected_status"], v["reason"], shown)
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}
