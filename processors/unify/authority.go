package unify

import (
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

//go:embed authority.map
var defaultAuthority []byte

// DefaultAuthorityFile is the name problems in the embedded file are
// reported under.
const DefaultAuthorityFile = "authority.map"

// Authority says which system is the source of truth for which canonical
// status. It is read-only once loaded and safe for concurrent use.
type Authority struct {
	source string
	by     [32]sys // by st
	line   [32]int // the row of each status, for Rows
	hint   sys     // whose PARTIALLY_SHIPPED announces more parcels; 0: none
}

// DefaultAuthority returns the embedded rules (DESIGN.md's defaults).
func DefaultAuthority() (*Authority, error) {
	return ParseAuthority(DefaultAuthorityFile, defaultAuthority)
}

// LoadAuthority reads an authority file in the embedded file's format.
// Errors name file:line; every problem is reported, not only the first.
func LoadAuthority(path string) (*Authority, error) {
	return statusmap.LoadFile("authority", path, ParseAuthority)
}

// authorityHeader is the file's first non-comment line.
var authorityHeader = []string{"status", "system"}

// ParseAuthority parses authority rules from data; file names it in errors.
//
// Format: comments start with # (also after a row); the header "status
// system"; then one row per status: a canonical status and the system that
// is its authority. Every status that can be a truth (all but the two
// aggregates) needs exactly one row. PARTIALLY_SHIPPED may have a row, read
// as a hint (see the embedded file); PARTIALLY_DELIVERED may not, no
// system reports it with authority.
func ParseAuthority(file string, data []byte) (*Authority, error) {
	a := &Authority{source: file}
	var problems []error
	report := func(line int, format string, args ...any) {
		problems = append(problems, &statusmap.Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	sawHeader := false
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		text, _, _ := strings.Cut(strings.TrimSuffix(raw, "\r"), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if !sawHeader {
			if strings.Join(fields, " ") != strings.Join(authorityHeader, " ") {
				report(n, "header: want %q, got %q", strings.Join(authorityHeader, " "), strings.Join(fields, " "))
				return nil, errors.Join(problems...)
			}
			sawHeader = true
			continue
		}
		if len(fields) != 2 {
			report(n, "wrong column count: want 2 (status system), got %d", len(fields))
			continue
		}
		s, ok := parseSt(fields[0])
		if !ok {
			report(n, "unknown canonical status %q (valid: %s)", fields[0], canonical.Names())
			continue
		}
		y, ok := sysByName[fields[1]]
		if !ok {
			report(n, "unknown system %q (valid: %s)", fields[1], schemas.SystemNames())
			continue
		}
		if s == sPartiallyDelivered {
			report(n, "%s is derived from the shipments: no system is its authority", s)
			continue
		}
		if first := a.line[s]; first != 0 {
			report(n, "duplicate status %s: already given to %s at %s:%d", s, a.system(s), file, first)
			continue
		}
		a.line[s] = n
		if s == sPartiallyShipped {
			a.hint = y
			continue
		}
		a.by[s] = y
	}
	if !sawHeader {
		report(0, "empty: want the header %q and one row per status", strings.Join(authorityHeader, " "))
	}
	var missing []string
	for s := st(1); s <= lastSt; s++ {
		if !s.Aggregate() && a.by[s] == 0 && a.line[s] == 0 {
			missing = append(missing, s.String())
		}
	}
	if sawHeader && len(missing) > 0 {
		report(0, "no authority for %s: every status that can be a truth needs exactly one row", strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return a, nil
}

func (a *Authority) system(s st) sys {
	if s == sPartiallyShipped {
		return a.hint
	}
	return a.by[s]
}

// Source names where the rules came from (a path, or authority.map for the
// embedded default).
func (a *Authority) Source() string { return a.source }

// Of returns the authority for status; ok is false for an unknown status
// and for the aggregates (whose PARTIALLY_SHIPPED hint is HintSystem).
func (a *Authority) Of(status canonical.Status) (system schemas.System, ok bool) {
	s, known := canonical.IndexOf(status)
	if !known || a.by[s] == 0 {
		return "", false
	}
	return schemas.Systems[a.by[s]-1], true
}

// HintSystem is the system whose PARTIALLY_SHIPPED announces more parcels,
// or "" when the file names none.
func (a *Authority) HintSystem() schemas.System {
	if a.hint == 0 {
		return ""
	}
	return schemas.Systems[a.hint-1]
}

// String renders the rules in the file format (a valid authority file), in
// lifecycle order.
func (a *Authority) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %s\n", authorityHeader[0], authorityHeader[1])
	rows := make([]st, 0, lastSt)
	for s := st(1); s <= lastSt; s++ {
		if a.system(s) != 0 {
			rows = append(rows, s)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Rank() < rows[j].Rank() })
	for _, s := range rows {
		fmt.Fprintf(&b, "%-24s %s\n", s, a.system(s))
	}
	return b.String()
}
