package debezium

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

// guideFile is the Debezium guide the ingest docs send users to: the
// example table, its example rows and the fixtures.
const guideFile = "testdata/README.md"

// TestGuideRowsAllMap reads the guide's example table and rows from the
// guide itself and checks that a user who follows it gets no dead letters:
// the table's CHECK list is exactly the statuses the shipped oms.map maps
// (in any case), every example row is allowed by it and, adapted as the
// snapshot event Debezium would send for it, resolves to a status; so does
// every fixture of the table.
func TestGuideRowsAllMap(t *testing.T) {
	guide, err := os.ReadFile(guideFile)
	if err != nil {
		t.Fatal(err)
	}
	allowed := guideStatuses(t, string(guide))
	maps, err := statusmap.Default()
	if err != nil {
		t.Fatal(err)
	}
	if maps.Matching(schemas.OMS) != statusmap.MatchAnyCase {
		t.Errorf("oms.map matches %s, but the guide's table stores lower case and the simulator upper case", maps.Matching(schemas.OMS))
	}
	var mapped []string
	for _, code := range maps.Codes(schemas.OMS) {
		if !strings.HasPrefix(code, "op=") { // ops without a row image, not statuses
			mapped = append(mapped, strings.ToLower(code))
		}
	}
	if !slices.Equal(sorted(allowed), sorted(mapped)) {
		t.Errorf("the guide's table allows %q\nbut oms.map maps %q (folded): make them agree", sorted(allowed), sorted(mapped))
	}

	adapt := func(body []byte) ([]map[string]any, error) {
		return New("", DefaultColumns).Adapt(ingest.Request{Body: body, Trusted: true})
	}
	// check resolves adapted events: each status the table allows, each
	// mapped (a "-" row is mapped: the event carries no order status).
	check := func(name string, events []map[string]any) {
		t.Helper()
		for _, ev := range events {
			for _, f := range []string{"status", "previous_status"} {
				if s, ok := ev[f].(string); ok && !slices.Contains(allowed, s) {
					t.Errorf("%s: %s %q is not allowed by the guide's table (%q)", name, f, s, allowed)
				}
			}
			if res, err := maps.Resolve(schemas.OMS, ev); err != nil {
				t.Errorf("%s: %v", name, err)
			} else {
				t.Logf("%s: %s → %s", name, res.Code, orNone(string(res.Status), res.HasStatus))
			}
		}
	}

	template := ingesttest.Fixture(t, "pg_snapshot_read.json")
	rows := guideRows(t, string(guide))
	var seen []string
	for _, row := range rows {
		var env map[string]any
		if err := json.Unmarshal(template, &env); err != nil {
			t.Fatal(err)
		}
		env["after"] = row
		body, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		name := "example row " + row["order_id"].(string)
		events, err := adapt(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(events) != 1 || events[0]["status"] != row["status"] || events[0]["order_id"] != row["order_id"] {
			t.Errorf("%s: adapted to %v, want one event of its order and status", name, events)
		}
		check(name, events)
		seen = append(seen, row["status"].(string))
	}
	for _, s := range allowed {
		if !slices.Contains(seen, s) {
			t.Errorf("no example row has status %q: the rows should show every status the table allows", s)
		}
	}

	// The fixtures are changes of the same table (those the adapter
	// refuses are TestAdaptRejects' business).
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	adapted := 0
	for _, f := range files {
		events, err := adapt(ingesttest.Fixture(t, filepath.Base(f)))
		if err != nil {
			continue
		}
		check(filepath.Base(f), events)
		adapted++
	}
	if adapted < 5 {
		t.Errorf("only %d fixtures adapt: the fixture check tests little", adapted)
	}
}

// guideStatuses returns the values of the example table's
// CHECK (status IN (...)) list.
func guideStatuses(t *testing.T, guide string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)CREATE TABLE public\.orders \(.*?\bstatus\s+text NOT NULL CHECK \(status IN \((.*?)\)\)`).FindStringSubmatch(guide)
	if m == nil {
		t.Fatalf("%s: no CHECK (status IN (...)) in the example table", guideFile)
	}
	var out []string
	for _, v := range sqlTuple(t, m[1]) {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s: CHECK list holds %v, want strings", guideFile, v)
		}
		out = append(out, s)
	}
	return out
}

// guideRows returns the example INSERT's rows as Debezium row images:
// column → string, or nil for NULL.
func guideRows(t *testing.T, guide string) []map[string]any {
	t.Helper()
	m := regexp.MustCompile(`(?s)INSERT INTO public\.orders \(([^)]*)\) VALUES(.*?);`).FindStringSubmatch(guide)
	if m == nil {
		t.Fatalf("%s: no INSERT INTO public.orders (...) VALUES ...;", guideFile)
	}
	var cols []string
	for _, c := range strings.Split(m[1], ",") {
		cols = append(cols, strings.TrimSpace(c))
	}
	var rows []map[string]any
	for _, tuple := range regexp.MustCompile(`\(([^()]*)\)`).FindAllStringSubmatch(m[2], -1) {
		vals := sqlTuple(t, tuple[1])
		if len(vals) != len(cols) {
			t.Fatalf("%s: row (%s) has %d values for %d columns", guideFile, tuple[1], len(vals), len(cols))
		}
		row := map[string]any{}
		for i, c := range cols {
			row[c] = vals[i]
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: the INSERT has no rows", guideFile)
	}
	return rows
}

// sqlTuple parses a comma-separated list of SQL literals: 'text' (with ”
// for a quote) as a string, NULL as nil. Anything else fails the test: the
// guide's rows should stay that plain.
func sqlTuple(t *testing.T, s string) []any {
	t.Helper()
	var out []any
	for rest := strings.TrimSpace(s); rest != ""; {
		switch {
		case strings.HasPrefix(rest, "'"):
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				if rest[i] == '\'' {
					if i+1 < len(rest) && rest[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					break
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				t.Fatalf("%s: unterminated string in %q", guideFile, s)
			}
			out = append(out, b.String())
			rest = rest[i+1:]
		case strings.HasPrefix(strings.ToUpper(rest), "NULL"):
			out = append(out, nil)
			rest = rest[len("NULL"):]
		default:
			t.Fatalf("%s: unsupported SQL literal at %q", guideFile, rest)
		}
		rest = strings.TrimSpace(rest)
		if rest != "" {
			var ok bool
			if rest, ok = strings.CutPrefix(rest, ","); !ok {
				t.Fatalf("%s: want a comma at %q", guideFile, rest)
			}
			rest = strings.TrimSpace(rest)
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func orNone(status string, has bool) string {
	if !has {
		return "(no order status)"
	}
	return status
}
