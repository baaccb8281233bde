package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/schemas"
)

func runStatusmapCmd(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = statusmapCmd(args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// codeLines returns check's listing of the codes each map expects: system
// → the line's text after the system name.
func codeLines(t *testing.T, out string) map[string]string {
	t.Helper()
	_, listing, ok := strings.Cut(out, "codes each map expects (anything else is dead-lettered unmapped_status):\n")
	if !ok {
		t.Fatalf("no codes listing in:\n%s", out)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(listing, "\n"), "\n") {
		sys, rest, _ := strings.Cut(l, " ")
		lines[sys] = rest
	}
	if len(lines) != len(schemas.Systems) {
		t.Errorf("%d code lines, want one per system:\n%s", len(lines), listing)
	}
	return lines
}

func TestStatusmapCheckEmbeddedPrintsOKWithRowCountsAndTheExpectedCodes(t *testing.T) {
	out, _, err := runStatusmapCmd("check")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, "OK the embedded maps: storefront ") || !strings.Contains(first, "carrier ") || !strings.HasSuffix(first, " rows") {
		t.Errorf("first line = %q", first)
	}
	lines := codeLines(t, out)
	for sys, want := range map[string]string{
		"oms": "(status; any case): NEW, ON_HOLD, CONFIRMED, ALLOCATED, PARTIALLY_SHIPPED, SHIPPED, CANCELLED, RETURN_AUTHORIZED, PARTIALLY_REFUNDED, REFUNDED, op=d",
		"wms": "(status; exact case): released, picked, packed, shipped, return_received",
	} {
		if lines[sys] != want {
			t.Errorf("%s line:\n got %s\nwant %s", sys, lines[sys], want)
		}
	}
	for sys, parts := range map[string][]string{
		"storefront": {"(status_type/status; exact case): ", "order/open, ", "fulfillment_event/in_transit"},
		"carrier":    {"(provider/status/sub_status; exact case): ", "easypost/in_transit/*, ", "aftership/Exception/Exception_013"},
		"helpdesk":   {"(order_status_shown; any case, blanks folded): ", ", out for delivery, "},
	} {
		for _, p := range parts {
			if !strings.Contains(lines[sys], p) {
				t.Errorf("%s line lacks %q: %s", sys, p, lines[sys])
			}
		}
	}
}

// TestStatusmapCheckListsTheCodesOfTheMapsItChecked: the listing is the
// checked directory's, with its rows and its matching.
func TestStatusmapCheckListsTheCodesOfTheMapsItChecked(t *testing.T) {
	dir := t.TempDir()
	for _, sys := range schemas.Systems {
		out, _, err := runStatusmapCmd("show", "--system", string(sys))
		if err != nil {
			t.Fatal(err)
		}
		if sys == schemas.WMS {
			out = "@case insensitive\n" + out + "short_picked  -\n"
		}
		if err := os.WriteFile(filepath.Join(dir, string(sys)+".map"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, err := runStatusmapCmd("check", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if got, want := codeLines(t, out)["wms"], "(status; any case): released, picked, packed, shipped, return_received, short_picked"; got != want {
		t.Errorf("wms line:\n got %s\nwant %s", got, want)
	}
}

// TestStatusmapShowPrintsValidMapFiles: what show prints for a system,
// without its first comment line, is that system's map file: check accepts
// the lot.
func TestStatusmapShowPrintsValidMapFiles(t *testing.T) {
	dir := t.TempDir()
	for _, sys := range schemas.Systems {
		out, _, err := runStatusmapCmd("show", "--system", string(sys))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, string(sys)+".map"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wms, _ := os.ReadFile(filepath.Join(dir, "wms.map"))
	if !strings.Contains(string(wms), "return_received  RETURNED") {
		t.Errorf("wms rows:\n%s", wms)
	}
	// The OMS map's @case directive is printed, so the copy matches as the
	// original does.
	if oms, _ := os.ReadFile(filepath.Join(dir, "oms.map")); !strings.Contains(string(oms), "\n@case insensitive\nstatus") {
		t.Errorf("oms.map as shown lacks its @case directive before the header:\n%s", oms)
	}
	out, stderr, err := runStatusmapCmd("check", dir)
	if err != nil || !strings.HasPrefix(out, "OK "+dir) {
		t.Fatalf("check of show's output: %v\n%s%s", err, out, stderr)
	}
	embedded, _, _ := runStatusmapCmd("check")
	if got, want := codeLines(t, out), codeLines(t, embedded); !reflect.DeepEqual(got, want) {
		t.Errorf("show's copy expects other codes or matches otherwise:\n got %q\nwant %q", got, want)
	}
	all, _, err := runStatusmapCmd("show", "--dir", dir)
	if err != nil || strings.Count(all, "rows, from "+dir) != len(schemas.Systems) {
		t.Errorf("show --dir: %v\n%s", err, all)
	}
}

func TestStatusmapCheckPrintsEveryProblemAndFails(t *testing.T) {
	dir := t.TempDir()
	for _, sys := range schemas.Systems {
		out, _, err := runStatusmapCmd("show", "--system", string(sys))
		if err != nil {
			t.Fatal(err)
		}
		if sys == schemas.WMS {
			out += "loaded  LOADED\nshipped SHIPPED\n"
		}
		if err := os.WriteFile(filepath.Join(dir, string(sys)+".map"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, err := runStatusmapCmd("check", dir)
	if err == nil || errors.Is(err, errUsage) || out != "" {
		t.Fatalf("err = %v, stdout %q: want a failure (exit 1) and no OK", err, out)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `wms.map:8: unknown canonical status "LOADED"`) ||
		!strings.Contains(lines[1], "wms.map:9: duplicate key (shipped): already mapped at") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if !strings.Contains(err.Error(), "2 problem(s)") {
		t.Errorf("err = %v", err)
	}
}

func TestStatusmapUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"lint"},
		{"check", "a", "b"},
		{"check", "--dir"},
		{"show", "--system", "erp"},
		{"show", "extra"},
	} {
		if _, _, err := runStatusmapCmd(args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
	if _, _, err := runStatusmapCmd("show", "--dir", filepath.Join(t.TempDir(), "none")); err == nil || errors.Is(err, errUsage) {
		t.Errorf("show of a missing dir: %v", err)
	}
}
