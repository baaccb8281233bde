package devstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// orderSchema returns an Avro record schema named Order with the given
// fields (JSON field objects).
func orderSchema(fields ...string) sr.Schema {
	return sr.Schema{Schema: `{"type":"record","name":"Order","namespace":"baton.test","fields":[` + strings.Join(fields, ",") + `]}`}
}

// The fields the cases below combine.
const (
	fOrderID      = `{"name":"order_id","type":"string"}`
	fStatus       = `{"name":"status","type":"string"}`
	fStatusInt    = `{"name":"status","type":"int"}`
	fStatusDef    = `{"name":"status","type":"string","default":"PLACED"}`
	fNoteOptional = `{"name":"note","type":["null","string"],"default":null}`
	fCarrier      = `{"name":"carrier","type":"string"}`
	fCarrierDef   = `{"name":"carrier","type":"string","default":"ups"}`
)

var (
	v1          = orderSchema(fOrderID, fStatus)
	addOptional = orderSchema(fOrderID, fStatus, fNoteOptional)
	addRequired = orderSchema(fOrderID, fStatus, fCarrier)
	typeChange  = orderSchema(fOrderID, fStatusInt)
	dropStatus  = orderSchema(fOrderID)
)

// serveRegistry serves a registry kept in dir on a loopback port through
// ServeRegistry and returns a client for it and a stop function (also run at
// cleanup) that waits until ServeRegistry returned.
func serveRegistry(t *testing.T, dir string) (*sr.Client, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- ServeRegistry(ctx, "127.0.0.1:0", dir, func(a string) { addrs <- a }) }()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		cancel()
		t.Fatalf("ServeRegistry(%q): %v", dir, err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("registry not ready after 10s")
	}
	httpcl := &http.Client{Timeout: 10 * time.Second}
	cl, err := sr.NewClient(sr.URLs("http://"+addr), sr.HTTPClient(httpcl))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// Unused spare connections would hold up a graceful shutdown
		// for the full grace period.
		httpcl.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeRegistry returned %v after cancel", err)
		}
	}
	t.Cleanup(stop)
	return cl, stop
}

// mustRegister registers s under subject and returns its ID.
func mustRegister(t *testing.T, cl *sr.Client, subject string, s sr.Schema) int {
	t.Helper()
	id, err := cl.RegisterSchema(context.Background(), subject, s, -1, -1)
	if err != nil {
		t.Fatalf("register in %q: %v\nschema: %s", subject, err, s.Schema)
	}
	return id
}

// responseError returns err as a registry error response, failing the test
// unless it is one with the given HTTP status and error code.
func responseError(t *testing.T, err error, status, code int) *sr.ResponseError {
	t.Helper()
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("got error %v, want an HTTP %d response", err, status)
	}
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("got HTTP %d error_code %d (%s), want HTTP %d error_code %d", re.StatusCode, re.ErrorCode, re.Message, status, code)
	}
	return re
}

func setCompat(t *testing.T, cl *sr.Client, level sr.CompatibilityLevel, subjects ...string) {
	t.Helper()
	for _, res := range cl.SetCompatibility(context.Background(), sr.SetCompatibility{Level: level}, subjects...) {
		if res.Err != nil {
			t.Fatalf("set compatibility %v on %q: %v", level, res.Subject, res.Err)
		}
	}
}

func versions(t *testing.T, cl *sr.Client, subject string) []int {
	t.Helper()
	vs, err := cl.SubjectVersions(context.Background(), subject)
	if err != nil {
		t.Fatalf("versions of %q: %v", subject, err)
	}
	return vs
}

func TestRegistryEnforcesCompatibility(t *testing.T) {
	ctx := context.Background()
	cl, _ := serveRegistry(t, t.TempDir())
	const subject = "orders-value"

	id1 := mustRegister(t, cl, subject, v1)
	if again := mustRegister(t, cl, subject, v1); again != id1 {
		t.Fatalf("registering v1 again gave id %d, want the existing %d", again, id1)
	}

	for _, tc := range []struct {
		name   string
		schema sr.Schema
		want   bool
	}{
		{"optional field with default", addOptional, true},
		{"required field without default", addRequired, false},
		{"field type string to int", typeChange, false},
	} {
		res, err := cl.CheckCompatibility(ctx, subject, -1, tc.schema)
		if err != nil {
			t.Fatalf("check %s: %v", tc.name, err)
		}
		if res.Is != tc.want || (len(res.Messages) == 0) != tc.want {
			t.Errorf("check %s against latest: got is_compatible=%v messages=%q, want %v", tc.name, res.Is, res.Messages, tc.want)
		}
	}

	id2 := mustRegister(t, cl, subject, addOptional)
	if id2 == id1 {
		t.Fatalf("v2 got v1's id %d", id1)
	}
	if got := versions(t, cl, subject); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("versions after v2: %v, want [1 2]", got)
	}

	for _, bad := range []sr.Schema{addRequired, typeChange} {
		_, err := cl.RegisterSchema(ctx, subject, bad, -1, -1)
		re := responseError(t, err, http.StatusConflict, 409)
		if !strings.Contains(re.Message, "incompatible with an earlier schema") || !strings.Contains(re.Message, `"`+subject+`"`) {
			t.Errorf("409 message %q does not say what is incompatible with which subject", re.Message)
		}
		if _, err := cl.LookupSchema(ctx, subject, bad); err == nil {
			t.Errorf("rejected schema was registered anyway: %s", bad.Schema)
		}
	}
	if got := versions(t, cl, subject); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("versions after rejections: %v, want [1 2]", got)
	}

	// Checking against a named version: v1 lacks the note field, which
	// the new schema needs without a default.
	needsNote := orderSchema(fOrderID, fStatus, `{"name":"note","type":["null","string"]}`)
	if res, err := cl.CheckCompatibility(ctx, subject, 2, needsNote); err != nil || !res.Is {
		t.Errorf("check against version 2: %+v, %v; want compatible", res, err)
	}
	if res, err := cl.CheckCompatibility(ctx, subject, 1, needsNote); err != nil || res.Is {
		t.Errorf("check against version 1: %+v, %v; want incompatible", res, err)
	}
	_, err := cl.CheckCompatibility(ctx, subject, 7, v1)
	responseError(t, err, http.StatusNotFound, sr.ErrVersionNotFound.Code)

	_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: `{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}`}, -1, -1)
	responseError(t, err, http.StatusUnprocessableEntity, sr.ErrInvalidSchema.Code)
	_, err = cl.RegisterSchema(ctx, subject, sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON}, -1, -1)
	responseError(t, err, http.StatusUnprocessableEntity, sr.ErrInvalidSchema.Code)

	setCompat(t, cl, sr.CompatNone, subject)
	if res, err := cl.CheckCompatibility(ctx, subject, -1, typeChange); err != nil || !res.Is {
		t.Errorf("check under NONE: %+v, %v; want compatible", res, err)
	}
	mustRegister(t, cl, subject, typeChange)
	if got := versions(t, cl, subject); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("versions after NONE registration: %v, want [1 2 3]", got)
	}
}

// TestRegistryLevels checks each level's direction and reach: every case
// registers its history under NONE, sets the level, then expects the
// compatibility endpoint and a registration to agree with want.
func TestRegistryLevels(t *testing.T) {
	ctx := context.Background()
	cl, _ := serveRegistry(t, t.TempDir())

	withCarrierDef := orderSchema(fOrderID, fStatus, fCarrierDef)
	withStatusDef := orderSchema(fOrderID, fStatusDef)
	for i, tc := range []struct {
		level     sr.CompatibilityLevel
		history   []sr.Schema
		candidate sr.Schema
		want      bool
	}{
		{sr.CompatBackward, []sr.Schema{v1}, addOptional, true},
		{sr.CompatBackward, []sr.Schema{v1}, addRequired, false},
		{sr.CompatBackward, []sr.Schema{v1}, typeChange, false},
		{sr.CompatBackward, []sr.Schema{v1}, dropStatus, true},
		{sr.CompatForward, []sr.Schema{v1}, addRequired, true},
		{sr.CompatForward, []sr.Schema{v1}, dropStatus, false},
		{sr.CompatFull, []sr.Schema{v1}, addOptional, true},
		{sr.CompatFull, []sr.Schema{v1}, addRequired, false},
		{sr.CompatFull, []sr.Schema{v1}, dropStatus, false},
		// Only the latest version counts unless transitive: carrier
		// has a default in v2, none in v1.
		{sr.CompatBackward, []sr.Schema{v1, withCarrierDef}, addRequired, true},
		{sr.CompatBackwardTransitive, []sr.Schema{v1, withCarrierDef}, addRequired, false},
		{sr.CompatFull, []sr.Schema{v1, withCarrierDef}, addRequired, true},
		{sr.CompatFullTransitive, []sr.Schema{v1, withCarrierDef}, addRequired, false},
		// status has a default in v2 (so v2 readers tolerate its
		// absence), none in v1.
		{sr.CompatForward, []sr.Schema{v1, withStatusDef}, dropStatus, true},
		{sr.CompatForwardTransitive, []sr.Schema{v1, withStatusDef}, dropStatus, false},
		{sr.CompatNone, []sr.Schema{v1}, typeChange, true},
	} {
		subject := fmt.Sprintf("case-%d-%v", i, tc.level)
		t.Run(subject, func(t *testing.T) {
			setCompat(t, cl, sr.CompatNone, subject)
			for _, s := range tc.history {
				mustRegister(t, cl, subject, s)
			}
			setCompat(t, cl, tc.level, subject)

			res, err := cl.CheckCompatibility(ctx, subject, -2, tc.candidate)
			if err != nil {
				t.Fatal(err)
			}
			if res.Is != tc.want {
				t.Errorf("compatibility endpoint: is_compatible=%v messages=%q, want %v", res.Is, res.Messages, tc.want)
			}
			_, err = cl.RegisterSchema(ctx, subject, tc.candidate, -1, -1)
			if tc.want && err != nil {
				t.Errorf("registration refused: %v", err)
			}
			if !tc.want {
				responseError(t, err, http.StatusConflict, 409)
			}
		})
	}
}

// TestRegistryGlobalLevel checks that a subject without its own level
// follows the global one.
func TestRegistryGlobalLevel(t *testing.T) {
	ctx := context.Background()
	cl, _ := serveRegistry(t, t.TempDir())
	mustRegister(t, cl, "s", v1)
	setCompat(t, cl, sr.CompatForward)
	if _, err := cl.RegisterSchema(ctx, "s", dropStatus, -1, -1); err == nil {
		t.Fatal("FORWARD (global) accepted dropping a field old readers need")
	}
	mustRegister(t, cl, "s", addRequired)
}

// snapshot is every subject version the registry serves, and what each ID
// resolves to.
func snapshot(t *testing.T, cl *sr.Client) ([]sr.SubjectSchema, map[int]string) {
	t.Helper()
	ctx := context.Background()
	all, err := cl.AllSchemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int]string{}
	for _, ss := range all {
		s, err := cl.SchemaByID(ctx, ss.ID)
		if err != nil {
			t.Fatalf("schema id %d: %v", ss.ID, err)
		}
		byID[ss.ID] = s.Schema
	}
	return all, byID
}

func TestRegistryPersistsAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cl, stop := serveRegistry(t, dir)

	idA1 := mustRegister(t, cl, "a", v1)
	mustRegister(t, cl, "a", addOptional)
	other := sr.Schema{Schema: `{"type":"record","name":"Ticket","fields":[{"name":"id","type":"long"}]}`}
	setCompat(t, cl, sr.CompatNone, "b")
	mustRegister(t, cl, "b", other)
	if shared := mustRegister(t, cl, "b", v1); shared != idA1 {
		// Like Confluent's: one schema, one ID, in every subject.
		t.Fatalf("v1 in subject b got id %d, want a's %d", shared, idA1)
	}
	mustRegister(t, cl, "c", other)
	if _, err := cl.DeleteSubject(ctx, "c", sr.SoftDelete); err != nil {
		t.Fatal(err)
	}
	setCompat(t, cl, sr.CompatFull, "b")
	setCompat(t, cl, sr.CompatBackwardTransitive)
	wantAll, wantByID := snapshot(t, cl)
	maxID := 0
	for id := range wantByID {
		maxID = max(maxID, id)
	}

	for restart := 1; restart <= 2; restart++ {
		stop()
		cl, stop = serveRegistry(t, dir)
		gotAll, gotByID := snapshot(t, cl)
		if fmt.Sprint(gotAll) != fmt.Sprint(wantAll) {
			t.Fatalf("restart %d: subject versions\ngot  %v\nwant %v", restart, gotAll, wantAll)
		}
		if fmt.Sprint(gotByID) != fmt.Sprint(wantByID) {
			t.Fatalf("restart %d: schemas by id\ngot  %v\nwant %v", restart, gotByID, wantByID)
		}
		subjects, err := cl.Subjects(ctx)
		if err != nil || !slices.Equal(subjects, []string{"a", "b"}) {
			t.Fatalf("restart %d: subjects %v, %v; want [a b] (c deleted)", restart, subjects, err)
		}
		levels := cl.Compatibility(ctx, "", "b", "a")
		if levels[0].Level != sr.CompatBackwardTransitive || levels[1].Level != sr.CompatFull || levels[2].Level != sr.CompatBackwardTransitive {
			t.Fatalf("restart %d: levels global/b/a = %v/%v/%v, want BACKWARD_TRANSITIVE/FULL/BACKWARD_TRANSITIVE",
				restart, levels[0].Level, levels[1].Level, levels[2].Level)
		}
		if id := mustRegister(t, cl, "a", v1); id != idA1 {
			t.Fatalf("restart %d: re-registering v1 gave id %d, want %d", restart, id, idA1)
		}
		// b is FULL: a compatible change is accepted, an
		// incompatible one still refused after the restart.
		if _, err := cl.RegisterSchema(ctx, "b", addRequired, -1, -1); err == nil {
			t.Fatalf("restart %d: FULL level on b lost: incompatible schema accepted", restart)
		}
		next := mustRegister(t, cl, "a", orderSchema(fOrderID, fStatus, fNoteOptional, fmt.Sprintf(`{"name":"extra%d","type":"int","default":0}`, restart)))
		if next != maxID+1 {
			t.Fatalf("restart %d: new schema got id %d, want %d (next after %d, never reused)", restart, next, maxID+1, maxID)
		}
		maxID = next
		wantAll, wantByID = snapshot(t, cl)
	}
}

func TestRegistryLoad(t *testing.T) {
	dir := t.TempDir()
	cl, stop := serveRegistry(t, dir)
	id := mustRegister(t, cl, "a", v1)
	stop()
	path := filepath.Join(dir, registryFile)
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// A torn last line is an append that never completed: dropped.
	if err := os.WriteFile(path, append(slices.Clone(saved), `{"op":"register","subj`...), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(dir)
	if err != nil {
		t.Fatalf("torn last line: %v", err)
	}
	if ss, ok := reg.fake.GetSchema("a", 1); !ok || ss.ID != id {
		t.Fatalf("after torn line: a/1 = %+v, %v; want id %d", ss, ok, id)
	}
	reg.Close()
	if got, _ := os.ReadFile(path); string(got) != string(saved) {
		t.Fatalf("torn line not truncated:\n%s", got)
	}

	// A damaged complete line is corruption: refuse to start rather than
	// serve a registry that lost IDs.
	if err := os.WriteFile(path, append([]byte("not json\n"), saved...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRegistry(dir); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("damaged line: got %v, want an error naming line 1", err)
	}
}
