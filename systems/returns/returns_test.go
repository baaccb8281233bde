package returns_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/generic"
	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
	"github.com/baton-pipeline/baton/systems/returns"
)

// TestAReturnThroughThePipeline is the returns portal's conformance test:
// a return as the portal posts it to the generic webhook (testdata,
// written from the schema) is accepted, encoded and decoded as the
// stages do, mapped to the canonical return statuses, and joined into the
// order: as a feed under the shipped authority rules (its own view moves,
// the truth does not), and as the authority for RETURN_REQUESTED under a
// deployment's rules that name it.
func TestAReturnThroughThePipeline(t *testing.T) {
	sys := schemas.System(returns.System.Name)
	body, err := os.ReadFile("testdata/return.json")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "portal-secret"
	adapter, err := generic.New(sys, secret)
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 11, 24, 15, 0, 5, 0, time.UTC)
	req := ingest.Request{Header: http.Header{generic.SignatureHeader: {generic.Sign(secret, body)}}, Body: body, Received: received}
	if err := adapter.Verify(req); err != nil {
		t.Fatal(err)
	}
	events, err := adapter.Adapt(req)
	if err != nil {
		t.Fatal(err)
	}

	maps, err := statusmap.Default()
	if err != nil {
		t.Fatal(err)
	}
	norm, err := normalize.New(normalize.Config{Maps: maps})
	if err != nil {
		t.Fatal(err)
	}
	source, canonicalSchema := schemas.MustLoad(sys.SchemaName()), schemas.MustLoad("canonical_event")
	nst := normalize.NewState()
	var canonical []unify.Input
	var statuses []any
	for _, ev := range events {
		plain := roundTrip(t, source, ev)
		out := norm.Process(nst, normalize.Input{System: sys, Plain: plain, Ingested: received})
		if len(out.Rejected) > 0 || len(out.Events) != 1 {
			t.Fatalf("%s: rejected %v, %d canonical events", ev["event_id"], out.Rejected, len(out.Events))
		}
		c := roundTrip(t, canonicalSchema, out.Events[0].Value)
		statuses = append(statuses, c["canonical_status"])
		canonical = append(canonical, unify.Input{Plain: c, Ingested: received})
	}
	want := []any{"RETURN_REQUESTED", nil, "RETURN_IN_TRANSIT", "RETURNED", "REFUNDED"}
	if len(statuses) != len(want) {
		t.Fatalf("canonical statuses %v, want %v", statuses, want)
	}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("canonical statuses %v, want %v", statuses, want)
		}
	}

	shipped, err := unify.DefaultAuthority()
	if err != nil {
		t.Fatal(err)
	}
	truth, view := unifyOrder(t, shipped, canonical)
	if truth != nil || view != "REFUNDED" {
		t.Errorf("under the shipped authority rules: truth %v and the portal's view %v, want no truth and the view REFUNDED", truth, view)
	}
	rules, err := os.ReadFile("../../processors/unify/authority.map")
	if err != nil {
		t.Fatal(err)
	}
	named := strings.Replace(string(rules), "RETURN_REQUESTED         oms", "RETURN_REQUESTED         returns", 1)
	if named == string(rules) {
		t.Fatal("the shipped authority file has no RETURN_REQUESTED row for the OMS to replace")
	}
	portal, err := unify.ParseAuthority("authority.map", []byte(named))
	if err != nil {
		t.Fatal(err)
	}
	if truth, _ := unifyOrder(t, portal, canonical[:1]); truth != "RETURN_REQUESTED" {
		t.Errorf("with the portal the authority for RETURN_REQUESTED, its rma_created left the truth %v", truth)
	}
}

// roundTrip encodes v as the stage before writes it and decodes it as the
// stage after reads it.
func roundTrip(t *testing.T, s *schemas.Schema, v map[string]any) map[string]any {
	t.Helper()
	b, err := s.AppendBinary(nil, v)
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	plain, _, err := s.DecodePlain(b)
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	return plain
}

// unifyOrder joins the events into their order under the authority rules
// and returns the order's truth and the portal's view of it, as the last
// order state says.
func unifyOrder(t *testing.T, auth *unify.Authority, events []unify.Input) (truth, portalView any) {
	t.Helper()
	p, err := unify.New(unify.Config{Authority: auth})
	if err != nil {
		t.Fatal(err)
	}
	st := unify.NewState()
	var state map[string]any
	for _, in := range events {
		out := p.Process(st, in)
		if out.Rejected != nil {
			t.Fatal(out.Rejected)
		}
		if out.State != nil {
			state = out.State.Value
		}
	}
	if state == nil {
		t.Fatal("no order state")
	}
	views, _ := state["views"].([]any)
	for _, v := range views {
		if m, _ := v.(map[string]any); m["system"] == returns.System.Name {
			portalView = m["status"]
		}
	}
	return state["truth"], portalView
}
