package synccheck

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

//go:embed viewers.map
var defaultViewers []byte

// DefaultViewersFile is the name problems in the embedded file are
// reported under.
const DefaultViewersFile = "viewers.map"

// DefaultMissingAfter is missing_after when a file does not set it.
const DefaultMissingAfter = 24 * time.Hour

// Viewer is one viewer's row: its system, its SLA and the canonical
// statuses it is expected to reflect, in file order.
type Viewer struct {
	System   schemas.System
	SLA      time.Duration
	Statuses []canonical.Status
}

// Viewers is a parsed viewers file. It is read-only once loaded and safe
// for concurrent use.
type Viewers struct {
	source       string
	missingAfter int64 // ms
	list         []Viewer
	by           [8]viewerConf // by sys
}

type viewerConf struct {
	on      bool
	sla     int64  // ms
	expects uint32 // bit per st
}

// DefaultViewers returns the embedded rules.
func DefaultViewers() (*Viewers, error) {
	return ParseViewers(DefaultViewersFile, defaultViewers)
}

// LoadViewers reads a viewers file in the embedded file's format. Errors
// name file:line; every problem is reported, not only the first.
func LoadViewers(path string) (*Viewers, error) {
	return statusmap.LoadFile("viewers", path, ParseViewers)
}

const missingAfterKey = "missing_after"

// ParseViewers parses viewer rules from data; file names it in errors.
//
// Format: comments start with # (also after a row); blank lines are
// ignored. `missing_after <duration>` at most once (default 24h). Then one
// row per viewer: the viewer system (storefront, helpdesk, notifications),
// its SLA as a Go duration, and one or more canonical statuses. Durations
// are positive whole milliseconds; a viewer or a status may not repeat;
// at least one viewer is required.
func ParseViewers(file string, data []byte) (*Viewers, error) {
	v := &Viewers{source: file, missingAfter: DefaultMissingAfter.Milliseconds()}
	var problems []error
	report := func(line int, format string, args ...any) {
		problems = append(problems, &statusmap.Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	var lines [8]int // the row of each viewer, by sys
	missingLine := 0
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		text, _, _ := strings.Cut(strings.TrimSuffix(raw, "\r"), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if fields[0] == missingAfterKey {
			if len(fields) != 2 {
				report(n, "%s: want one duration, got %d fields", missingAfterKey, len(fields)-1)
				continue
			}
			if missingLine != 0 {
				report(n, "duplicate %s: already set at %s:%d", missingAfterKey, file, missingLine)
				continue
			}
			missingLine = n
			d, err := parseDuration(fields[1])
			if err != nil {
				report(n, "%s: %v", missingAfterKey, err)
				continue
			}
			v.missingAfter = d.Milliseconds()
			continue
		}
		if len(fields) < 3 {
			report(n, "want a viewer, its SLA and at least one status (or %s <duration>), got %q", missingAfterKey, strings.Join(fields, " "))
			continue
		}
		system := schemas.System(fields[0])
		if !isViewer(system) {
			report(n, "unknown viewer %q (valid: %s)", fields[0], viewerNames())
			continue
		}
		y := sysByName[system]
		if first := lines[y]; first != 0 {
			report(n, "duplicate viewer %s: already configured at %s:%d", system, file, first)
			continue
		}
		lines[y] = n
		sla, err := parseDuration(fields[1])
		if err != nil {
			report(n, "%s: SLA: %v", system, err)
		}
		row := Viewer{System: system, SLA: sla}
		var mask uint32
		for _, name := range fields[2:] {
			s, ok := parseSt(name)
			if !ok {
				report(n, "%s: unknown canonical status %q (valid: %s)", system, name, canonical.Names())
				continue
			}
			if mask&s.Bit() != 0 {
				report(n, "%s: duplicate status %s", system, s)
				continue
			}
			mask |= s.Bit()
			row.Statuses = append(row.Statuses, s.Status())
		}
		v.by[y] = viewerConf{on: true, sla: sla.Milliseconds(), expects: mask}
		v.list = append(v.list, row)
	}
	if len(v.list) == 0 && len(problems) == 0 {
		report(0, "no viewers: want one row per viewer (%s)", viewerNames())
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return v, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("not a duration: %q (write e.g. 5m, 90s, 24h)", s)
	case d <= 0:
		return 0, fmt.Errorf("%s: must be positive", s)
	case d%time.Millisecond != 0:
		return 0, fmt.Errorf("%s: must be whole milliseconds", s)
	}
	return d, nil
}

func viewerNames() string {
	names := make([]string, len(viewerSystems))
	for i, s := range viewerSystems {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Source names where the rules came from (a path, or viewers.map for the
// embedded default).
func (v *Viewers) Source() string { return v.source }

// MissingAfter is how long past its deadline an unreflected check stays
// open before it closes MISSING.
func (v *Viewers) MissingAfter() time.Duration {
	return time.Duration(v.missingAfter) * time.Millisecond
}

// List returns the viewers in file order (a copy).
func (v *Viewers) List() []Viewer {
	out := make([]Viewer, len(v.list))
	for i, r := range v.list {
		r.Statuses = append([]canonical.Status(nil), r.Statuses...)
		out[i] = r
	}
	return out
}

// Viewer returns system's row; ok is false when system is not a
// configured viewer.
func (v *Viewers) Viewer(system schemas.System) (Viewer, bool) {
	for _, r := range v.List() {
		if r.System == system {
			return r, true
		}
	}
	return Viewer{}, false
}

// Expects reports whether viewer is configured and expected to reflect
// status.
func (v *Viewers) Expects(viewer schemas.System, status canonical.Status) bool {
	s, ok := canonical.IndexOf(status)
	return ok && v.conf(sysByName[viewer]).expects&s.Bit() != 0
}

func (v *Viewers) conf(y sys) viewerConf {
	if int(y) >= len(v.by) {
		return viewerConf{}
	}
	return v.by[y]
}

// String renders the rules in the file format (a valid viewers file).
func (v *Viewers) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %s\n", missingAfterKey, v.MissingAfter())
	for _, r := range v.list {
		fmt.Fprintf(&b, "%-14s %-5s", r.System, r.SLA)
		for _, s := range r.Statuses {
			b.WriteString(" " + string(s))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
