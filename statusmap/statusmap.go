package statusmap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
	registry "github.com/baton-pipeline/baton/systems"
)

// ErrUnmapped is wrapped (through *UnmappedError) by Resolve errors for a
// status code no row maps: the event is dead-lettered and counted, never
// guessed.
var ErrUnmapped = errors.New("unmapped status code")

// ErrInvalid is wrapped by Resolve errors for an event whose key fields are
// missing or of the wrong type: a malformed event, not a mapping gap.
var ErrInvalid = errors.New("invalid status fields")

// UnmappedError names the system and the code that no row maps.
type UnmappedError struct {
	System schemas.System
	Code   string // as in Result.Code
}

func (e *UnmappedError) Error() string {
	return fmt.Sprintf("%s: %v %q", e.System, ErrUnmapped, e.Code)
}

// Unwrap makes errors.Is(err, ErrUnmapped) true.
func (e *UnmappedError) Unwrap() error { return ErrUnmapped }

// Result is what a status map says about one event.
type Result struct {
	// Status is the canonical status; "" when HasStatus is false.
	Status canonical.Status
	// HasStatus is false when the event carries no order status: a
	// help-desk ticket event whose order_status_shown is null or blank,
	// or an event whose row maps to "-" (e.g. a delay notice, an AfterShip
	// Pending checkpoint). Not an error: the event still goes on, with a
	// null canonical status.
	HasStatus bool
	// Code is the source code as looked up, for metrics and dead letters:
	// the key columns joined by "/" (e.g. "fulfillment_event/in_transit",
	// "aftership/Exception/Exception_013", "easypost/in_transit" when the
	// scan has no status_detail, "op=d" for an OMS delete). Help-desk
	// codes are in their folded form ("out for delivery"), and "" when
	// the ticket shows no order status; other codes are as the event
	// spells them, also where the map matches any case ("confirmed" from
	// one OMS, "CONFIRMED" from another). Set on ErrUnmapped errors too.
	Code string
}

// Row is one mapping line of a map file.
type Row struct {
	System schemas.System
	// Key holds the key column values (see Columns), as written in the
	// file; "*" is the wildcard.
	Key []string
	// Status is the canonical status; "" when HasStatus is false (the
	// file says "-": such events carry no order status).
	Status    canonical.Status
	HasStatus bool
	// File and Line locate the row, for error messages and docs.
	File string
	Line int
}

// Canonical is the row's canonical column as written: the status name or
// "-".
func (r Row) Canonical() string {
	if !r.HasStatus {
		return noStatus
	}
	return string(r.Status)
}

// Fields returns the row as a map file line's fields: the key values,
// quoted where the format needs it, then the canonical column.
func (r Row) Fields() []string {
	out := make([]string, 0, len(r.Key)+1)
	for _, k := range r.Key {
		out = append(out, quoteField(k))
	}
	return append(out, r.Canonical())
}

// Columns returns the key column names of a system's map, in file order
// (the header without its final "canonical" column); nil for an unknown
// system.
func Columns(sys schemas.System) []string {
	s, err := systemOf(sys)
	if err != nil {
		return nil
	}
	return slices.Clone(s.columns)
}

// Set holds the status maps of every source system. It is immutable
// after loading and safe for concurrent use.
type Set struct {
	source string
	tables map[schemas.System]*table
}

// shipped are the map files shipped in the repository, one in each
// system's folder (systems/<name>/<name>.map), as one directory, so that
// they load exactly as a --statusmap-dir directory does (fstest.MapFS is the
// standard library's in-memory file system).
func shipped() fs.FS {
	files := fstest.MapFS{}
	for _, def := range registry.All {
		files[def.Name+".map"] = &fstest.MapFile{Data: []byte(def.StatusMap), Mode: 0o444}
	}
	return files
}

// shippedPath is how errors name a shipped map file: its path in the
// repository.
func shippedPath(file string) string {
	return path.Join("systems", strings.TrimSuffix(file, ".map"), file)
}

var defaultSet = sync.OnceValues(func() (*Set, error) { return load(shipped(), shippedPath, "embedded") })

// Default returns the maps shipped in the repository (each system's
// folder, systems/<name>/<name>.map), parsed once. An error means a shipped
// map is broken, which the package tests rule out.
func Default() (*Set, error) { return defaultSet() }

// LoadDir loads the maps from dir instead: one file per system named
// <system>.map (e.g. carrier.map), in the same format. Every system's file
// must be there; the error lists every problem (see Check).
func LoadDir(dir string) (*Set, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		msg := "not a directory"
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, errors.Join(&Problem{File: dir, Msg: "cannot read the status map directory: " + msg})
	}
	return load(os.DirFS(dir), func(file string) string { return filepath.Join(dir, file) }, dir)
}

// Check returns every problem in the map files of dir, nil when they are
// valid; dir "" checks the embedded maps. Problems are *Problem values
// naming file and line: unreadable or missing system files, unknown .map
// files, a wrong header, a wrong column count, bad quoting, an empty
// value, a misplaced wildcard, an unknown canonical status, a duplicate
// key, and unreachable rows (whose key no event of that system can have:
// see the known-keys tables in systems.go and the package doc).
func Check(dir string) []error {
	var err error
	if dir == "" {
		_, err = Default()
	} else {
		_, err = LoadDir(dir)
	}
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// load parses every system's file from fsys; join names a file of it in
// errors, source is what Set.Source reports.
func load(fsys fs.FS, join func(file string) string, source string) (*Set, error) {
	set := &Set{source: source, tables: map[schemas.System]*table{}}
	var problems []error
	for _, sys := range systems {
		file := join(sys.fileName())
		data, err := fs.ReadFile(fsys, sys.fileName())
		if err != nil {
			msg := fmt.Sprintf("cannot read: %v", err)
			if errors.Is(err, fs.ErrNotExist) {
				msg = fmt.Sprintf("missing: every system needs a map file (%s)", fileNames())
			}
			problems = append(problems, &Problem{File: file, Msg: msg})
			continue
		}
		t, ps := parse(sys, file, data)
		problems = append(problems, ps...)
		set.tables[sys.sys] = t
	}
	// A .map file that names no system is most likely a misspelt one,
	// which would otherwise be silently ignored.
	extra, err := fs.Glob(fsys, "*.map")
	if err != nil {
		return nil, err
	}
	for _, f := range extra {
		if _, err := schemas.ParseSystem(strings.TrimSuffix(f, ".map")); err != nil {
			problems = append(problems, &Problem{File: join(f), Msg: fmt.Sprintf("not a system's map file (want %s)", fileNames())})
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return set, nil
}

func fileNames() string {
	names := make([]string, len(systems))
	for i, s := range systems {
		names[i] = s.fileName()
	}
	return strings.Join(names, ", ")
}

// Source says where the maps came from: "embedded" or the directory.
func (s *Set) Source() string { return s.source }

// Rows returns every row of a system's map, in file order (nil for an
// unknown system). The slice is the caller's.
func (s *Set) Rows(sys schemas.System) []Row {
	t := s.tables[sys]
	if t == nil {
		return nil
	}
	out := make([]Row, len(t.rows))
	for i, r := range t.rows {
		r.Key = slices.Clone(r.Key)
		out[i] = r
	}
	return out
}

// Matching says how a system's map compares an event's code with its
// rows.
type Matching int

const (
	// MatchExact: byte for byte (the default; the vendor fixes the case).
	MatchExact Matching = iota
	// MatchAnyCase: whatever the case; the map declares "@case
	// insensitive" because its codes are the integrator's own (the OMS).
	MatchAnyCase
	// MatchFolded: whatever the case, blanks trimmed and runs of blanks
	// as one (the help desk, always: agents type the labels).
	MatchFolded
)

// String is how `baton statusmap check` describes the matching.
func (m Matching) String() string {
	switch m {
	case MatchAnyCase:
		return "any case"
	case MatchFolded:
		return "any case, blanks folded"
	default:
		return "exact case"
	}
}

// Matching returns how sys's map compares codes (MatchExact for an
// unknown system).
func (s *Set) Matching(sys schemas.System) Matching {
	t := s.tables[sys]
	switch {
	case t == nil:
		return MatchExact
	case t.sys.norm != nil:
		return MatchFolded
	case t.foldCase:
		return MatchAnyCase
	default:
		return MatchExact
	}
}

// Directives returns the directive lines ("@case insensitive") a map file
// of sys needs before its header to match as this one does; nil when it
// needs none. `baton statusmap show` prints them, so what it prints
// loads back with the same matching.
func (s *Set) Directives(sys schemas.System) []string {
	if t := s.tables[sys]; t != nil {
		return t.directives()
	}
	return nil
}

// Codes returns, in file order, the code each row of sys's map matches,
// in the form Result.Code and the unmapped-status dead letters and
// metric use: the key columns joined by "/" ("fulfillment_event/
// in_transit", "op=d"), a carrier wildcard row ending in "/*" (any
// sub-status, or none), help-desk codes folded. An event code matches a
// row when it equals the row's code as Matching says (an "@case
// insensitive" map lists its codes as written and also matches them in
// another case); anything else is dead-lettered. Nil for an unknown
// system.
func (s *Set) Codes(sys schemas.System) []string {
	t := s.tables[sys]
	if t == nil {
		return nil
	}
	out := make([]string, len(t.rows))
	for i, r := range t.rows {
		out[i] = t.sys.code(t.sys.normalize(keyOf(r.Key)))
	}
	return out
}

// Resolve translates one event into the shared language. plain is the
// event in baton's JSON form (the fields of the system's .avsc; null
// fields nil or absent). The key per system:
//
//   - storefront: (status_type, status)
//   - oms: status (in any case with the shipped oms.map, which declares
//     "@case insensitive"); a Debezium event without a row after the
//     change (op d, t) as "op=<op>"
//   - wms: status
//   - carrier: (provider, status, sub_status); a row with the event's
//     sub_status wins, else the (provider, status, *) row
//   - helpdesk: order_status_shown, compared case-insensitively with blanks
//     trimmed and collapsed; null or blank is no status (HasStatus false)
//   - notifications: status (the message type)
//
// Any map may match case-insensitively by declaring "@case insensitive"
// (see Matching); the code reported is still the event's own spelling.
// A code no row maps is an error wrapping ErrUnmapped (an *UnmappedError
// naming system and code); the Result still carries Code. A missing or
// non-string key field is an error wrapping ErrInvalid. Resolve never
// guesses: no fallback, no prefix or fuzzy matching beyond the case
// folding a map declares and the help desk's folding.
func (s *Set) Resolve(sys schemas.System, plain map[string]any) (Result, error) {
	res, _, err := s.match(sys, plain)
	return res, err
}

// match is Resolve, also returning the row that matched (nil when none
// did, or the event carries no status field).
func (s *Set) match(sys schemas.System, plain map[string]any) (Result, *Row, error) {
	t := s.tables[sys]
	if t == nil {
		return Result{}, nil, fmt.Errorf("statusmap: unknown system %q", sys)
	}
	k, has, err := t.sys.eventKey(plain)
	if err != nil {
		return Result{}, nil, err
	}
	code := t.sys.code(t.sys.normalize(k))
	if !has {
		return Result{Code: code}, nil, nil
	}
	lk := t.lookupKey(k)
	i, ok := t.index[lk]
	if !ok && t.sys.wildcard >= 0 {
		w := lk
		w[t.sys.wildcard] = wildcard
		i, ok = t.index[w]
	}
	if !ok {
		return Result{Code: code}, nil, &UnmappedError{System: sys, Code: code}
	}
	r := &t.rows[i]
	return Result{Status: r.Status, HasStatus: r.HasStatus, Code: code}, r, nil
}
