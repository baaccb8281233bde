package statusmap

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// TestOMSMatchesAnyCaseAndReportsTheEventsSpelling: the shipped oms.map
// declares @case insensitive, so an OMS table storing lower-case (or mixed)
// statuses maps like the simulator's upper-case ones, and the code in
// metrics and dead letters is the event's own.
func TestOMSMatchesAnyCaseAndReportsTheEventsSpelling(t *testing.T) {
	s := mustDefault(t)
	if m := s.Matching(schemas.OMS); m != MatchAnyCase {
		t.Fatalf("Matching(oms) = %v, want %v", m, MatchAnyCase)
	}
	for status, want := range map[string]canonical.Status{
		"confirmed": canonical.Confirmed, "Confirmed": canonical.Confirmed, "CONFIRMED": canonical.Confirmed,
		"return_authorized": canonical.ReturnRequested, "on_hold": canonical.OnHold, "New": canonical.Placed,
	} {
		res, err := s.Resolve(schemas.OMS, map[string]any{"op": "u", "status": status})
		if err != nil || res.Status != want || !res.HasStatus || res.Code != status {
			t.Errorf("%q: got %+v, %v; want %s with code %q", status, res, err, want, status)
		}
	}
	res, err := s.Resolve(schemas.OMS, map[string]any{"op": "u", "status": "partially_refunded"})
	if err != nil || res.HasStatus || res.Code != "partially_refunded" {
		t.Errorf("partially_refunded: got %+v, %v; want no status", res, err)
	}
	// op=<op> rows fold too: Debezium writes ops in lower case, a
	// hand-written row may not.
	if res, err := s.Resolve(schemas.OMS, map[string]any{"op": "d", "status": "cancelled"}); err != nil || res.HasStatus || res.Code != "op=d" {
		t.Errorf("delete: got %+v, %v", res, err)
	}
}

// TestCaseDirectiveIsWhatMakesAMapCaseInsensitive: the same row matches a
// lower-case code only while its map declares @case insensitive; without
// the line the OMS is exact, and a WMS map that declares it matches any
// case.
func TestCaseDirectiveIsWhatMakesAMapCaseInsensitive(t *testing.T) {
	dir := shippedCopy(t)
	edit(t, dir, "oms.map", func(s string) string {
		if !strings.Contains(s, "\n@case insensitive\n") {
			t.Fatal("oms.map has no @case insensitive line")
		}
		return strings.Replace(s, "\n@case insensitive\n", "\n", 1)
	})
	edit(t, dir, "wms.map", func(s string) string { return "@case   insensitive   # our WMS shouts\n" + s })
	s, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(schemas.OMS, map[string]any{"op": "u", "status": "confirmed"}); !errors.Is(err, ErrUnmapped) {
		t.Errorf("oms without @case: confirmed resolved (%v), want unmapped", err)
	}
	if res, err := s.Resolve(schemas.OMS, map[string]any{"op": "u", "status": "CONFIRMED"}); err != nil || res.Status != canonical.Confirmed {
		t.Errorf("oms without @case: CONFIRMED: %+v %v", res, err)
	}
	if res, err := s.Resolve(schemas.WMS, map[string]any{"status": "Return_Received"}); err != nil || res.Status != canonical.Returned || res.Code != "Return_Received" {
		t.Errorf("wms with @case insensitive: %+v %v", res, err)
	}
	if m, d := s.Matching(schemas.OMS), s.Directives(schemas.OMS); m != MatchExact || d != nil {
		t.Errorf("oms: Matching %v, Directives %q; want exact and none", m, d)
	}
	if m, d := s.Matching(schemas.WMS), s.Directives(schemas.WMS); m != MatchAnyCase || !reflect.DeepEqual(d, []string{"@case insensitive"}) {
		t.Errorf("wms: Matching %v, Directives %q", m, d)
	}
	if m := s.Matching(schemas.Helpdesk); m != MatchFolded {
		t.Errorf("helpdesk: Matching %v", m)
	}
}

func TestCheckReportsBadDirectivesAndKeysThatDifferOnlyInCase(t *testing.T) {
	dir := shippedCopy(t)
	edit(t, dir, "carrier.map", func(s string) string { return "@case insensitive\n" + s })
	edit(t, dir, "storefront.map", func(s string) string { return "@case insensitive\n" + s })
	edit(t, dir, "helpdesk.map", func(s string) string { return "@case exact\n" + s })
	edit(t, dir, "notifications.map", func(s string) string {
		return "@case exact\n@case insensitive\n@match any\n@case\n@case loose\n" + s
	})
	first := lineOf(t, dir, "oms.map", "CONFIRMED")
	o := appendLines(t, dir, "oms.map", "confirmed  CONFIRMED", "@case insensitive", "OP=D  -")
	// A wms map with @case exact (the default, said out loud) keeps
	// case-distinct keys apart.
	edit(t, dir, "wms.map", func(s string) string { return "@case exact\n" + s + "SHIPPED  SHIPPED\n" })
	wantProblems(t, problems(t, dir),
		"storefront.map:1: @case insensitive not allowed in the storefront map: Shopify sends its status values in lower case",
		"oms.map:"+itoa(o)+": duplicate key (confirmed): already mapped at "+dir+"/oms.map:"+itoa(first),
		"oms.map:"+itoa(o+1)+": directive @case must come before the header line",
		"oms.map:"+itoa(o+2)+": duplicate key (OP=D): already mapped at",
		"carrier.map:1: @case insensitive not allowed in the carrier map:",
		"helpdesk.map:1: @case exact not allowed in the helpdesk map: its keys are always compared with case and blanks folded",
		"notifications.map:2: @case given twice: already at line 1",
		`notifications.map:3: unknown directive "@match" (known: @case)`,
		`notifications.map:4: @case wants one value, exact or insensitive, got ""`,
		`notifications.map:5: @case wants one value, exact or insensitive, got "loose"`)
}

// TestCodesListWhatEachMapMatches: Codes names each row in the form Resolve
// reports, so an event with a listed code resolves with that code.
func TestCodesListWhatEachMapMatches(t *testing.T) {
	s := mustDefault(t)
	want := []string{"NEW", "ON_HOLD", "CONFIRMED", "ALLOCATED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED",
		"RETURN_AUTHORIZED", "PARTIALLY_REFUNDED", "REFUNDED", "op=d"}
	if got := s.Codes(schemas.OMS); !reflect.DeepEqual(got, want) {
		t.Errorf("Codes(oms) = %q\nwant %q", got, want)
	}
	for _, code := range s.Codes(schemas.WMS) {
		if res, err := s.Resolve(schemas.WMS, map[string]any{"status": code}); err != nil || res.Code != code {
			t.Errorf("wms code %q: %+v, %v", code, res, err)
		}
	}
	carrier := strings.Join(s.Codes(schemas.Carrier), " ")
	for _, c := range []string{"easypost/in_transit/*", "easypost/in_transit/weather_delay", "aftership/Exception/Exception_013", "direct/delivered/*"} {
		if !strings.Contains(" "+carrier+" ", " "+c+" ") {
			t.Errorf("Codes(carrier) lacks %q: %s", c, carrier)
		}
	}
	if hd := s.Codes(schemas.Helpdesk); !strings.Contains("|"+strings.Join(hd, "|")+"|", "|out for delivery|") {
		t.Errorf("Codes(helpdesk) lacks the folded %q: %q", "out for delivery", hd)
	}
	if s.Codes("erp") != nil || s.Directives("erp") != nil || s.Matching("erp") != MatchExact {
		t.Error("an unknown system has codes, directives or a matching")
	}
}
