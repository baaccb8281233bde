package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/schemas"
)

func runStatusmapCmd(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = statusmapCmd(args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestStatusmapCheckEmbeddedPrintsOKWithRowCounts(t *testing.T) {
	out, _, err := runStatusmapCmd("check")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "OK the embedded maps: storefront ") || !strings.Contains(out, "carrier ") || !strings.HasSuffix(out, " rows\n") {
		t.Errorf("stdout = %q", out)
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
	out, stderr, err := runStatusmapCmd("check", dir)
	if err != nil || !strings.HasPrefix(out, "OK "+dir) {
		t.Fatalf("check of show's output: %v\n%s%s", err, out, stderr)
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
