package statusmap

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/baton-pipeline/baton/canonical"
)

// Problem is one defect in a map file: the file, the line (0 when it is
// about the file as a whole) and what is wrong. Check and LoadDir report
// every problem they find, not only the first.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p *Problem) Error() string {
	if p.Line == 0 {
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// table is one system's parsed map.
type table struct {
	sys   *system
	rows  []Row
	index map[key]int // lookup key (see lookupKey) → index in rows
	// foldCase is the map's "@case insensitive": rows and events meet
	// whatever the case of their codes.
	foldCase bool
	// caseLine is the line of the map's @case directive, 0 when none.
	caseLine int
}

// Directives are lines before the header that set how a whole map
// matches. The only one is
//
//	@case exact          (the default) codes match byte for byte
//	@case insensitive    codes match whatever their case
//
// A map declares "@case insensitive" when its system's codes are the
// integrator's own (an OMS table's status column may hold "confirmed",
// "CONFIRMED" or "Confirmed", depending on who built it) rather than a
// vendor's fixed spelling; matching exactly there would dead-letter every
// event of a table that merely chose another case. Systems whose vendor
// fixes the case refuse it (system.fixedCase): a miscased code there is a
// broken integration, which exact matching makes visible. The help desk
// always folds case and blanks (system.norm), so "@case exact" is refused
// there.
const (
	directivePrefix = "@"
	caseDirective   = "@case"
	caseExact       = "exact"
	caseInsensitive = "insensitive"
)

// lookupKey is the form a row's or an event's key takes in the index: the
// system's normalization, then the map's case folding.
func (t *table) lookupKey(k key) key {
	k = t.sys.normalize(k)
	if t.foldCase {
		for i := range t.sys.columns {
			k[i] = strings.ToLower(k[i])
		}
	}
	return k
}

// directive applies one directive line (fields[0] starts with '@') and
// returns what is wrong with it, or "".
func (t *table) directive(line int, fields []string) string {
	if fields[0] != caseDirective {
		return fmt.Sprintf("unknown directive %q (known: %s)", fields[0], caseDirective)
	}
	if len(fields) != 2 || (fields[1] != caseExact && fields[1] != caseInsensitive) {
		return fmt.Sprintf("%s wants one value, %s or %s, got %q", caseDirective, caseExact, caseInsensitive, strings.Join(fields[1:], " "))
	}
	if t.caseLine != 0 {
		return fmt.Sprintf("%s given twice: already at line %d", caseDirective, t.caseLine)
	}
	switch insensitive := fields[1] == caseInsensitive; {
	case insensitive && t.sys.fixedCase != "":
		return fmt.Sprintf("%s %s not allowed in the %s map: %s, so a code in another case is an error to see, not to match",
			caseDirective, caseInsensitive, t.sys.sys, t.sys.fixedCase)
	case !insensitive && t.sys.norm != nil:
		return fmt.Sprintf("%s %s not allowed in the %s map: its keys are always compared with case and blanks folded",
			caseDirective, caseExact, t.sys.sys)
	default:
		t.caseLine, t.foldCase = line, insensitive
		return ""
	}
}

// directives returns the directive lines that reproduce the map's
// matching, for a map file written back (Set.Directives).
func (t *table) directives() []string {
	if t.foldCase && t.sys.norm == nil {
		return []string{caseDirective + " " + caseInsensitive}
	}
	return nil
}

// parse reads one system's map file. It returns the table built from the
// valid rows and every problem found; the table is usable only when there
// are no problems.
func parse(sys *system, file string, data []byte) (*table, []error) {
	t := &table{sys: sys, index: map[key]int{}}
	var problems []error
	report := func(line int, format string, args ...any) {
		problems = append(problems, &Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	want := sys.header()
	sawHeader := false
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		fields, err := splitFields(strings.TrimSuffix(line, "\r"))
		if err != nil {
			report(n, "%v", err)
			continue
		}
		if len(fields) == 0 {
			continue
		}
		if !sawHeader && strings.HasPrefix(fields[0], directivePrefix) {
			if msg := t.directive(n, fields); msg != "" {
				report(n, "%s", msg)
			}
			continue
		}
		if !sawHeader {
			if strings.Join(fields, " ") != strings.Join(want, " ") {
				// Without the right header the columns mean something
				// else (often: another system's file): stop here.
				report(n, "header: want %q, got %q", strings.Join(want, " "), strings.Join(fields, " "))
				return t, problems
			}
			sawHeader = true
			continue
		}
		if fields[0] == caseDirective {
			// Read as a row it would be a baffling unknown status.
			report(n, "directive %s must come before the header line", caseDirective)
			continue
		}
		if len(fields) != len(want) {
			report(n, "wrong column count: want %d (%s), got %d; quote values that contain blanks",
				len(want), strings.Join(want, " "), len(fields))
			continue
		}
		row, msgs := t.row(n, file, fields)
		for _, m := range msgs {
			report(n, "%s", m)
		}
		if len(msgs) > 0 {
			continue
		}
		k := t.lookupKey(keyOf(row.Key))
		if first, dup := t.index[k]; dup {
			report(n, "duplicate key %s: already mapped at %s:%d", quoteAll(row.Key), file, t.rows[first].Line)
			continue
		}
		t.index[k] = len(t.rows)
		t.rows = append(t.rows, row)
	}
	if !sawHeader {
		report(0, "no header line: want %q", strings.Join(want, " "))
	}
	return t, problems
}

// row validates one data line's fields (already the right count) and
// returns the row, or what is wrong with it.
func (t *table) row(line int, file string, fields []string) (Row, []string) {
	sys := t.sys
	r := Row{System: sys.sys, Key: fields[:len(sys.columns)], File: file, Line: line}
	var msgs []string
	for i, v := range r.Key {
		switch {
		case v == "":
			msgs = append(msgs, fmt.Sprintf("empty %s", sys.columns[i]))
		case v == wildcard && i != sys.wildcard:
			msgs = append(msgs, fmt.Sprintf("wildcard %q not allowed in column %s%s", wildcard, sys.columns[i], wildcardHint(sys)))
		}
	}
	if len(msgs) == 0 {
		if why := sys.unreachable(t.lookupKey(keyOf(r.Key))); why != "" {
			msgs = append(msgs, "unreachable row: "+why)
		}
	}
	switch name := fields[len(fields)-1]; name {
	case noStatus:
	default:
		st, err := canonical.Parse(name)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("unknown canonical status %q (want one of %s, or %s for no order status)", name, canonical.Names(), noStatus))
		}
		r.Status, r.HasStatus = st, err == nil
	}
	return r, msgs
}

func wildcardHint(sys *system) string {
	if sys.wildcard < 0 {
		return fmt.Sprintf(" (the %s map has no wildcard)", sys.sys)
	}
	return fmt.Sprintf(" (only in %s)", sys.columns[sys.wildcard])
}

func keyOf(cols []string) key {
	var k key
	copy(k[:], cols)
	return k
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quoteField(v)
	}
	return "(" + strings.Join(q, " ") + ")"
}

// quoteField writes a value as a map file field: quoted when it holds a
// blank or a '#', or is empty.
func quoteField(v string) string {
	if v == "" || strings.ContainsAny(v, " \t#") {
		return `"` + v + `"`
	}
	return v
}

var errQuote = errors.New(`unterminated quote: a quoted value runs from " to the next " on the same line`)

// splitFields splits a map file line into fields. Fields are separated by
// blanks (spaces, tabs); a field that starts with '"' runs to the next '"'
// and may hold blanks and '#' (there is no escape: a value cannot contain
// '"'). A '#' outside quotes starts a comment to the end of the line.
func splitFields(line string) ([]string, error) {
	var out []string
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '#':
			return out, nil
		case c == '"':
			end := strings.IndexByte(line[i+1:], '"')
			if end < 0 {
				return nil, errQuote
			}
			after := i + 1 + end + 1
			if after < len(line) && line[after] != ' ' && line[after] != '\t' {
				return nil, fmt.Errorf("a closing quote must end its field: %q", line[i:])
			}
			out = append(out, line[i+1:i+1+end])
			i = after
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				if line[j] == '"' || line[j] == '#' {
					return nil, fmt.Errorf("%q inside an unquoted value %q: quote the whole value", line[j], line[i:j+1])
				}
				j++
			}
			out = append(out, line[i:j])
			i = j
		}
	}
	return out, nil
}

// LoadFile reads a rules file in the format of the status maps (the
// authority, viewers and WISMO rules files) and parses it with parse; a
// file that cannot be read is an error naming what it was to hold.
func LoadFile[T any](what, path string, parse func(file string, data []byte) (T, error)) (T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return parse(path, b)
}
