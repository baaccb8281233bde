package statusmap

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/canonical"
)

// shippedCopy writes the embedded maps to a fresh directory.
func shippedCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, s := range systems {
		data, err := fs.ReadFile(shipped(), s.fileName())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.fileName()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// edit rewrites one map file of dir.
func edit(t *testing.T, dir, name string, f func(string) string) {
	t.Helper()
	p := filepath.Join(dir, name)
	data, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(f(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendLines adds lines at the end of a file and returns the line number
// of the first one.
func appendLines(t *testing.T, dir, name string, lines ...string) int {
	t.Helper()
	var first int
	edit(t, dir, name, func(s string) string {
		s = strings.TrimSuffix(s, "\n")
		first = strings.Count(s, "\n") + 2
		return s + "\n" + strings.Join(lines, "\n") + "\n"
	})
	return first
}

func TestShippedMapsAreValid(t *testing.T) {
	if errs := Check(""); errs != nil {
		t.Fatalf("embedded maps: %v", errs)
	}
	if errs := Check(shippedCopy(t)); errs != nil {
		t.Fatalf("a copy of the embedded maps: %v", errs)
	}
}

// problems returns Check's problems as "file:line: msg" with dir stripped.
func problems(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, err := range Check(dir) {
		var p *Problem
		if !errors.As(err, &p) {
			t.Fatalf("Check returned %T %v, want *Problem", err, err)
		}
		out = append(out, strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)))
	}
	return out
}

func wantProblems(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %d:\n got  %s\n want it to contain %s", i, got[i], want[i])
		}
	}
}

func TestCheckReportsUnknownCanonicalNamesWithTheValidOnes(t *testing.T) {
	dir := shippedCopy(t)
	n := appendLines(t, dir, "wms.map", "loaded  SHIPPPED", "staged  shipped")
	got := problems(t, dir)
	wantProblems(t, got,
		"wms.map:"+itoa(n)+`: unknown canonical status "SHIPPPED" (want one of `+canonical.Names()+", or - for no order status)",
		"wms.map:"+itoa(n+1)+`: unknown canonical status "shipped"`)
}

func TestCheckReportsDuplicateKeysWithBothLines(t *testing.T) {
	dir := shippedCopy(t)
	first := lineOf(t, dir, "carrier.map", "easypost    in_transit              weather_delay")
	n := appendLines(t, dir, "carrier.map", "easypost in_transit weather_delay IN_TRANSIT", "easypost in_transit * EXCEPTION")
	wildcard := lineOf(t, dir, "carrier.map", "easypost    in_transit              *")
	hdFirst := lineOf(t, dir, "helpdesk.map", "\"Out for delivery\"")
	m := appendLines(t, dir, "helpdesk.map", `"  OUT FOR  DELIVERY "  DELIVERED`)
	wantProblems(t, problems(t, dir),
		"carrier.map:"+itoa(n)+": duplicate key (easypost in_transit weather_delay): already mapped at "+filepath.Join(dir, "carrier.map")+":"+itoa(first),
		"carrier.map:"+itoa(n+1)+": duplicate key (easypost in_transit *): already mapped at "+filepath.Join(dir, "carrier.map")+":"+itoa(wildcard),
		"helpdesk.map:"+itoa(m)+`: duplicate key ("  OUT FOR  DELIVERY "): already mapped at `+filepath.Join(dir, "helpdesk.map")+":"+itoa(hdFirst))
}

func TestCheckReportsWrongColumnCounts(t *testing.T) {
	dir := shippedCopy(t)
	n := appendLines(t, dir, "carrier.map", "easypost in_transit IN_TRANSIT")
	m := appendLines(t, dir, "helpdesk.map", "Out for pickup  AVAILABLE_FOR_PICKUP")
	wantProblems(t, problems(t, dir),
		"carrier.map:"+itoa(n)+": wrong column count: want 4 (provider status sub_status canonical), got 3",
		"helpdesk.map:"+itoa(m)+": wrong column count: want 2 (order_status_shown canonical), got 4; quote values that contain blanks")
}

func TestCheckReportsUnreachableRows(t *testing.T) {
	dir := shippedCopy(t)
	c := appendLines(t, dir, "carrier.map",
		"fedex      in_transit  *              IN_TRANSIT",
		"easypost   InTransit   *              IN_TRANSIT",
		"aftership  in_transit  *              IN_TRANSIT",
		"aftership  InTransit   Exception_013  EXCEPTION",
		"direct     anything    *              EXCEPTION")
	s := appendLines(t, dir, "storefront.map", "fulfilment_event  in_transit  IN_TRANSIT")
	o := appendLines(t, dir, "oms.map", "op=u  CONFIRMED", "op=t  -")
	h := appendLines(t, dir, "helpdesk.map", `"  "  PLACED`)
	wantProblems(t, problems(t, dir),
		"storefront.map:"+itoa(s)+`: unreachable row: status_type "fulfilment_event" is never emitted (known: order, financial_status, fulfillment_status, fulfillment, fulfillment_event, refund)`,
		"oms.map:"+itoa(o)+`: unreachable row: Debezium op "u" carries the row after the change and is looked up by its status column, never as op=u`,
		"carrier.map:"+itoa(c)+`: unreachable row: provider "fedex" is never emitted (known: direct, easypost, aftership)`,
		"carrier.map:"+itoa(c+1)+`: unreachable row: EasyPost status "InTransit" is never emitted`,
		"carrier.map:"+itoa(c+2)+`: unreachable row: AfterShip tag "in_transit" is never emitted`,
		"carrier.map:"+itoa(c+3)+`: unreachable row: AfterShip subtags start with their tag: "Exception_013" never arrives with tag "InTransit"`,
		"helpdesk.map:"+itoa(h)+": unreachable row: an empty order_status_shown")
}

func TestCheckReportsMisplacedWildcardsEmptyValuesAndQuoting(t *testing.T) {
	dir := shippedCopy(t)
	c := appendLines(t, dir, "carrier.map", `easypost  *  delayed  EXCEPTION`, `easypost  in_transit  ""  EXCEPTION`)
	w := appendLines(t, dir, "wms.map", `*  SHIPPED`, `"loaded  SHIPPED`, `load"ed  SHIPPED`, `"load"ed  SHIPPED`)
	wantProblems(t, problems(t, dir),
		"wms.map:"+itoa(w)+`: wildcard "*" not allowed in column status (the wms map has no wildcard)`,
		"wms.map:"+itoa(w+1)+": unterminated quote",
		"wms.map:"+itoa(w+2)+`: '"' inside an unquoted value`,
		"wms.map:"+itoa(w+3)+": a closing quote must end its field",
		"carrier.map:"+itoa(c)+`: wildcard "*" not allowed in column status (only in sub_status)`,
		"carrier.map:"+itoa(c+1)+": empty sub_status")
}

func TestCheckReportsMissingExtraAndHeaderlessFiles(t *testing.T) {
	dir := shippedCopy(t)
	if err := os.Remove(filepath.Join(dir, "notifications.map")); err != nil {
		t.Fatal(err)
	}
	edit(t, dir, "carriers.map", func(string) string { return "" })
	edit(t, dir, "oms.map", func(string) string { return "# only a comment\n\n" })
	edit(t, dir, "wms.map", func(string) string { return "# wrong header\nstatus_type status canonical\nshipped SHIPPED\n" })
	edit(t, dir, "README.md", func(string) string { return "not a map: ignored" })
	wantProblems(t, problems(t, dir),
		`oms.map: no header line: want "status canonical"`,
		`wms.map:2: header: want "status canonical", got "status_type status canonical"`,
		"notifications.map: missing: every system needs a map file ("+fileNames()+")",
		"carriers.map: not a system's map file")
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "notifications.map: missing") {
		t.Errorf("LoadDir: %v", err)
	}
}

func TestCheckReportsAMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	errs := Check(dir)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), dir+": cannot read the status map directory: no such file or directory") {
		t.Errorf("got %v", errs)
	}
}

func TestSplitFields(t *testing.T) {
	for line, want := range map[string][]string{
		"":                                 nil,
		"   # just a comment":              nil,
		"a b\tc":                           {"a", "b", "c"},
		`"Out for delivery"   OUT # note`:  {"Out for delivery", "OUT"},
		`"#1 # in quotes" X`:               {"#1 # in quotes", "X"},
		`"" -`:                             {"", "-"},
		"easypost in_transit * IN_TRANSIT": {"easypost", "in_transit", "*", "IN_TRANSIT"},
	} {
		got, err := splitFields(line)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitFields(%q) = %q, %v; want %q", line, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `a"b`, `"a"b`, "a#b"} {
		if _, err := splitFields(bad); err == nil {
			t.Errorf("splitFields(%q): no error", bad)
		}
	}
}

// lineOf returns the number of the first line of a map file that starts
// with prefix.
func lineOf(t *testing.T, dir, name, prefix string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("%s: no line starts with %q", name, prefix)
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }
