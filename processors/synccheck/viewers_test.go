package synccheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

func TestDefaultViewers(t *testing.T) {
	v, err := DefaultViewers()
	if err != nil {
		t.Fatal(err)
	}
	customer := strings.Fields("CONFIRMED CANCELLED PARTIALLY_SHIPPED SHIPPED IN_TRANSIT EXCEPTION RETURN_TO_SENDER " +
		"OUT_FOR_DELIVERY DELIVERY_ATTEMPT_FAILED AVAILABLE_FOR_PICKUP PARTIALLY_DELIVERED DELIVERED " +
		"RETURN_REQUESTED RETURN_IN_TRANSIT RETURNED REFUNDED")
	// The defaults, less what each vocabulary cannot show (see
	// viewers.map and TestDefaultViewersExpectOnlyWhatTheirVocabularyShows).
	want := map[schemas.System][]string{
		sf: slices.DeleteFunc(slices.Clone(customer), func(s string) bool {
			return strings.HasPrefix(s, "RETURN_") || s == "CONFIRMED" || s == "RETURNED"
		}),
		hd:    customer,
		notif: strings.Fields("SHIPPED OUT_FOR_DELIVERY DELIVERED DELIVERY_ATTEMPT_FAILED CANCELLED"),
	}
	if v.MissingAfter() != 24*time.Hour || v.Source() != DefaultViewersFile || len(v.List()) != 3 {
		t.Errorf("missing_after %s, source %s, %d viewers", v.MissingAfter(), v.Source(), len(v.List()))
	}
	for sys, statuses := range want {
		row, ok := v.Viewer(sys)
		if !ok || row.SLA != 5*time.Minute {
			t.Errorf("%s: %v %+v", sys, ok, row)
		}
		for _, in := range canonical.All() {
			if got := v.Expects(sys, in.Status); got != slices.Contains(statuses, string(in.Status)) {
				t.Errorf("%s expects %s: %v", sys, in.Status, got)
			}
		}
	}
	for _, s := range []canonical.Status{"PLACED", "ON_HOLD", "RELEASED", "PICKED", "PACKED"} {
		if v.Expects(sf, s) || v.Expects(hd, s) {
			t.Errorf("%s is warehouse-internal, yet expected", s)
		}
	}
	if v.Expects(schemas.Carrier, "DELIVERED") {
		t.Error("the carrier is not a viewer")
	}
	// String prints a valid file with the same rules.
	again, err := ParseViewers("printed", []byte(v.String()))
	if err != nil {
		t.Fatalf("printed rules do not parse: %v\n%s", err, v.String())
	}
	if again.by != v.by || again.missingAfter != v.missingAfter {
		t.Errorf("printed rules differ:\n%s", v.String())
	}
}

func TestLoadViewersFromAFile(t *testing.T) {
	text := "missing_after 2h  # shorter\nhelpdesk 90s DELIVERED\n"
	path := filepath.Join(t.TempDir(), "my.map")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := LoadViewers(path)
	if err != nil {
		t.Fatal(err)
	}
	if v.Source() != path || v.MissingAfter() != 2*time.Hour || len(v.List()) != 1 {
		t.Fatalf("%s %s %v", v.Source(), v.MissingAfter(), v.List())
	}
	// The rules take effect: only the help desk, only DELIVERED, 90s.
	h := newHarness(t, New(v))
	h.run(shows(sf, "CONFIRMED", 0), shows(hd, "CONFIRMED", 0), truthAt("SHIPPED", m), truthAt("DELIVERED", 2*m),
		shows(hd, "DELIVERED", 2*m+91*sec), due(2*m+90*sec+2*time.Hour+sec))
	sameList(t, "checks", h.checks, []string{"helpdesk DELIVERED truth LATE DELIVERED 1m31s @2m0s"})
	if _, err := LoadViewers(filepath.Join(t.TempDir(), "missing.map")); err == nil {
		t.Error("a missing file loads")
	}
}

func TestViewersFileErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"storefront 5m SHIPPED\nstorefront 5m DELIVERED\n", []string{"f.map:2: duplicate viewer storefront: already configured at f.map:1"}},
		{"\n\ncarrier 5m SHIPPED\n", []string{"f.map:3: unknown viewer \"carrier\""}},
		{"helpdesk 5m SHIPPED SHIPPING\n", []string{"f.map:1: helpdesk: unknown canonical status \"SHIPPING\""}},
		{"helpdesk 5m SHIPPED SHIPPED\n", []string{"f.map:1: helpdesk: duplicate status SHIPPED"}},
		{"helpdesk 0s SHIPPED\n", []string{"f.map:1: helpdesk: SLA: 0s: must be positive"}},
		{"helpdesk -5m SHIPPED\n", []string{"f.map:1: helpdesk: SLA: -5m: must be positive"}},
		{"helpdesk 5 SHIPPED\n", []string{"f.map:1: helpdesk: SLA: not a duration"}},
		{"helpdesk 1.5ms SHIPPED\n", []string{"whole milliseconds"}},
		{"helpdesk 5m\n", []string{"f.map:1: want a viewer, its SLA and at least one status"}},
		{"missing_after\nhelpdesk 5m SHIPPED\n", []string{"f.map:1: missing_after: want one duration"}},
		{"missing_after 1h\nmissing_after 2h\nhelpdesk 5m SHIPPED\n", []string{"f.map:2: duplicate missing_after: already set at f.map:1"}},
		{"missing_after soon\nhelpdesk 5m SHIPPED\n", []string{"f.map:1: missing_after: not a duration"}},
		{"# nothing\nmissing_after 1h\n", []string{"f.map: no viewers"}},
		// Every problem is reported, not only the first.
		{"carrier 5m X\nhelpdesk 5m Y\nnotifications x Z\n", []string{"f.map:1:", "f.map:2:", "f.map:3: notifications: SLA", "f.map:3: notifications: unknown canonical status \"Z\""}},
	}
	for _, tc := range tests {
		_, err := ParseViewers("f.map", []byte(tc.text))
		if err == nil {
			t.Errorf("%q parses", tc.text)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not contain %q", tc.text, err, w)
			}
		}
	}
}

// TestDefaultViewersExpectOnlyWhatTheirVocabularyShows: every status a
// viewer is expected to reflect is reflected by some canonical status the
// viewer's default status map produces; a check the viewer can never pass
// would measure the map, not the sync.
func TestDefaultViewersExpectOnlyWhatTheirVocabularyShows(t *testing.T) {
	maps, err := statusmap.Default()
	if err != nil {
		t.Fatal(err)
	}
	v, err := DefaultViewers()
	if err != nil {
		t.Fatal(err)
	}
	for _, viewer := range v.List() {
		shown := map[canonical.Status]bool{}
		for _, row := range maps.Rows(viewer.System) {
			if c := row.Canonical(); c != "" && c != "-" {
				shown[canonical.Status(c)] = true
			}
		}
		for _, want := range viewer.Statuses {
			reflected := false
			for s := range shown {
				reflected = reflected || Reflects(s, want)
			}
			if !reflected {
				t.Errorf("%s is expected to reflect %s, which none of its mapped statuses %v reflects", viewer.System, want, shown)
			}
		}
	}
}
