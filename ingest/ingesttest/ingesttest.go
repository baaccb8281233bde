// Package ingesttest holds the scaffolding the webhook adapters' tests
// (ingest/shopify, ingest/easypost, ...) share: reading fixtures from the
// package's testdata directory, expected times, golden files, the checks
// every Verify and Adapt test makes, and the body of the FuzzAdapt targets.
//
// It is for adapter tests only: it takes a *testing.T (or F) everywhere and
// fails the test rather than returning errors, so production code must not
// import it.
package ingesttest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// Fixture returns the contents of testdata/name, relative to the package
// under test (go test's working directory), failing t if it cannot be read.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Fixtures returns the contents of every file in testdata matching pattern
// (filepath.Match syntax, e.g. "*.json"), in lexical order of their names.
func Fixtures(t testing.TB, pattern string) [][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, 0, len(names))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// Time parses an RFC 3339 time (fractional seconds optional) and returns it
// in UTC, as adapters return times. It panics on a malformed time: the
// argument is a constant of the test.
func Time(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// ScanDigest is the last part of a carrier event ID (see
// ingest.CarrierScan.Event): the first 12 hex digits of the SHA-256 of
// description and location separated by a NUL byte. It is computed here
// independently of the adapters' code, so their tests check the ID scheme
// rather than repeat it.
func ScanDigest(description, location string) string {
	sum := sha256.Sum256([]byte(description + "\x00" + location))
	return hex.EncodeToString(sum[:])[:12]
}

// GoldenFile is the golden file name kept next to a fixture:
// "orders_create.json" → "orders_create.golden.json".
func GoldenFile(fixture string) string {
	return strings.TrimSuffix(fixture, ".json") + ".golden.json"
}

// Golden compares events, in their canonical form (ingest.MarshalEvents),
// with testdata/name, failing t where they differ. With update (the test
// package's -update flag) it first rewrites the file from events; review
// the diff before committing it.
func Golden(t testing.TB, name string, events []map[string]any, update bool) {
	t.Helper()
	got := ingest.MarshalEvents(events)
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once, then review the file)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("events differ from %s:\n got: %s\nwant: %s", path, got, want)
	}
}

// AdaptGolden checks one fixture delivery end to end as the gateway would
// handle it: a.Verify accepts req, a.Adapt turns it into wantEvents events,
// they pass ingest.CheckEvents for sys, and they match the golden file
// testdata/golden (see Golden, which update is passed on to).
func AdaptGolden(t testing.TB, a ingest.Adapter, sys schemas.System, req ingest.Request, wantEvents int, golden string, update bool) {
	t.Helper()
	if err := a.Verify(req); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	events, err := a.Adapt(req)
	if err != nil {
		t.Fatalf("Adapt: %v", err)
	}
	if len(events) != wantEvents {
		t.Errorf("got %d events, want %d", len(events), wantEvents)
	}
	if err := ingest.CheckEvents(sys, events); err != nil {
		t.Fatal(err)
	}
	Golden(t, golden, events, update)
}

// WantEvents fails t unless got has as many events as want, each deeply
// equal (reflect.DeepEqual) to the one at its index in want and each
// fitting sys's schema ((*schemas.Schema).FromJSON).
func WantEvents(t testing.TB, sys schemas.System, got, want []map[string]any) {
	t.Helper()
	sch, err := schemas.Load(sys.SchemaName())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("event %d:\n got %v\nwant %v", i, got[i], want[i])
		}
		if _, err := sch.FromJSON(got[i]); err != nil {
			t.Errorf("event %d does not fit %s: %v", i, sys.SchemaName(), err)
		}
	}
}

// CheckVerifyErr fails t unless err, what an adapter's Verify returned, is
// what the test case expects: nil when wantErr is empty, else an error that
// wraps ingest.ErrSignature and whose message contains wantErr.
func CheckVerifyErr(t testing.TB, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("Verify: want ok, got %v", err)
		}
		return
	}
	if !errors.Is(err, ingest.ErrSignature) || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("Verify: want ErrSignature containing %q, got %v", wantErr, err)
	}
}

// CheckAdaptErr fails t unless err, what an adapter's Adapt returned for a
// payload it must refuse, is an error whose message contains wantErr and
// that wraps ingest.ErrUnsupported exactly when unsupported is set (the
// gateway answers 422 for those, 400 for the others).
func CheckAdaptErr(t testing.TB, err error, wantErr string, unsupported bool) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("Adapt: want error containing %q, got %v", wantErr, err)
	}
	if errors.Is(err, ingest.ErrUnsupported) != unsupported {
		t.Fatalf("Adapt: errors.Is(ErrUnsupported) = %v, want %v (%v)", !unsupported, unsupported, err)
	}
}

// FuzzAdapter is the body of an adapter's FuzzAdapt target: it adds seeds
// to the corpus (the package's testdata/fuzz/<target> entries are added by
// the testing package as always) and fuzzes a.Adapt with req, its Body
// replaced by the fuzzed bytes. Adapt must not panic, and every event it
// returns must pass ingest.CheckEvents for sys: fit the schema, carry the
// record key and a non-empty event_id, as the gateway checks. Errors are
// fine: refusing garbage is Adapt's job. Each input gets a copy of req, but
// they share its Header map, which Adapt only reads.
func FuzzAdapter(f *testing.F, a ingest.Adapter, sys schemas.System, req ingest.Request, seeds ...[]byte) {
	f.Helper()
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := req
		r.Body = body
		events, err := a.Adapt(r)
		if err != nil {
			return
		}
		if err := ingest.CheckEvents(sys, events); err != nil {
			t.Fatalf("%v\nevents: %v\nbody: %q", err, events, body)
		}
	})
}
