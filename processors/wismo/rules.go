package wismo

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

//go:embed wismo.map
var defaultRules []byte

// DefaultRulesFile is the name problems in the embedded file are reported
// under.
const DefaultRulesFile = "wismo.map"

// Rules is a parsed WISMO rules file: the tags and keywords that classify
// a ticket, and the viewers a ticket may be attributed to. It is read-only
// once loaded and safe for concurrent use.
type Rules struct {
	source   string
	tags     []string // lower case, file order
	keywords []string // folded (see fold), file order
	viewers  []schemas.System
}

// The directives of a rules file.
const (
	keyTag      = "tag"
	keyKeyword  = "keyword"
	keyViewers  = "attribute_viewers"
	maxKeywords = 256
)

// defaultViewers are attribute_viewers when a file does not set it: the
// customer-facing viewers.
var defaultViewers = schemas.SystemsWhere(func(s schemas.Spec) bool { return s.Shows == schemas.Customers })

// viewerSystems are the systems that show an order's status (package
// synccheck's viewers), in the default tie order: the customer-facing
// ones, then the agent-facing ones.
var viewerSystems = append(slices.Clip(defaultViewers), schemas.SystemsWhere(func(s schemas.Spec) bool { return s.Shows == schemas.Agents })...)

// DefaultRules returns the embedded rules.
func DefaultRules() (*Rules, error) {
	return ParseRules(DefaultRulesFile, defaultRules)
}

// LoadRules reads a rules file in the embedded file's format. Errors name
// file:line; every problem is reported, not only the first.
func LoadRules(path string) (*Rules, error) {
	return statusmap.LoadFile("wismo rules", path, ParseRules)
}

// ParseRules parses WISMO rules from data; file names it in errors, each a
// *statusmap.Problem (joined with errors.Join when there are several).
//
// Format: comments start with # (also after a row); blank lines are
// ignored. `tag <tag>`: one tag, compared without regard to case.
// `keyword <words...>`: a phrase, folded (lower case, runs of white space
// as one space, typographic apostrophes as '), which must start and end
// with a letter or a digit. `attribute_viewers <viewer>...` at most once:
// storefront, notifications or helpdesk, each once (default storefront
// notifications). A tag or a keyword may not repeat; at least one tag or
// keyword is required.
func ParseRules(file string, data []byte) (*Rules, error) {
	r := &Rules{source: file}
	var problems []error
	report := func(line int, format string, args ...any) {
		problems = append(problems, &statusmap.Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{} // "tag x" or "keyword x" → its line
	viewersLine := 0
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		text, _, _ := strings.Cut(strings.TrimSuffix(raw, "\r"), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		switch key, args := fields[0], fields[1:]; key {
		case keyTag:
			if len(args) != 1 {
				report(n, "%s: want one tag (tags have no spaces), got %d words", keyTag, len(args))
				continue
			}
			tag := strings.ToLower(args[0])
			if first, dup := seen["tag "+tag]; dup {
				report(n, "duplicate tag %q: already at %s:%d", tag, file, first)
				continue
			}
			seen["tag "+tag] = n
			r.tags = append(r.tags, tag)
		case keyKeyword:
			if len(args) == 0 {
				report(n, "%s: want a word or a phrase", keyKeyword)
				continue
			}
			kw := fold(strings.Join(args, " "))
			if !startsAndEndsWithWord(kw) {
				report(n, "keyword %q: must start and end with a letter or a digit", kw)
				continue
			}
			if first, dup := seen["keyword "+kw]; dup {
				report(n, "duplicate keyword %q: already at %s:%d", kw, file, first)
				continue
			}
			if len(r.keywords) == maxKeywords {
				report(n, "more than %d keywords", maxKeywords)
				continue
			}
			seen["keyword "+kw] = n
			r.keywords = append(r.keywords, kw)
		case keyViewers:
			if viewersLine != 0 {
				report(n, "duplicate %s: already set at %s:%d", keyViewers, file, viewersLine)
				continue
			}
			viewersLine = n
			if len(args) == 0 {
				report(n, "%s: want at least one viewer (%s)", keyViewers, viewerNames())
				continue
			}
			r.viewers = []schemas.System{}
			for _, name := range args {
				v := schemas.System(name)
				switch {
				case !isViewer(v):
					report(n, "%s: unknown viewer %q (valid: %s)", keyViewers, name, viewerNames())
				case r.attributes(v):
					report(n, "%s: duplicate viewer %s", keyViewers, v)
				default:
					r.viewers = append(r.viewers, v)
				}
			}
		default:
			report(n, "unknown row %q: want %s, %s or %s", key, keyTag, keyKeyword, keyViewers)
		}
	}
	if len(r.tags) == 0 && len(r.keywords) == 0 && len(problems) == 0 {
		report(0, "no %s and no %s: nothing would classify a ticket as WISMO", keyTag, keyKeyword)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if r.viewers == nil {
		r.viewers = defaultViewers
	}
	return r, nil
}

func isViewer(s schemas.System) bool {
	for _, v := range viewerSystems {
		if v == s {
			return true
		}
	}
	return false
}

func viewerNames() string {
	names := make([]string, len(viewerSystems))
	for i, s := range viewerSystems {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// attributes reports whether a ticket may be attributed to viewer v.
func (r *Rules) attributes(v schemas.System) bool { return r.viewerRank(v) >= 0 }

// viewerRank is v's place in attribute_viewers; -1 when not listed.
func (r *Rules) viewerRank(v schemas.System) int {
	for i, x := range r.viewers {
		if x == v {
			return i
		}
	}
	return -1
}

// Source names where the rules came from (a path, or wismo.map for the
// embedded default).
func (r *Rules) Source() string { return r.source }

// Tags returns the WISMO tags in file order, in lower case (a copy).
func (r *Rules) Tags() []string { return append([]string(nil), r.tags...) }

// Keywords returns the keywords in file order, folded (a copy).
func (r *Rules) Keywords() []string { return append([]string(nil), r.keywords...) }

// Viewers returns attribute_viewers: the viewers a ticket may be
// attributed to, in tie order (a copy).
func (r *Rules) Viewers() []schemas.System { return append([]schemas.System(nil), r.viewers...) }

// String renders the rules in the file format (a valid rules file).
func (r *Rules) String() string {
	var b strings.Builder
	for _, t := range r.tags {
		fmt.Fprintf(&b, "%s %s\n", keyTag, t)
	}
	for _, k := range r.keywords {
		fmt.Fprintf(&b, "%s %s\n", keyKeyword, k)
	}
	b.WriteString(keyViewers)
	for _, v := range r.viewers {
		b.WriteString(" " + string(v))
	}
	b.WriteByte('\n')
	return b.String()
}

// How a ticket was classified (wismo_ticket.classified_by).
const (
	ByTag     = "tag"
	ByKeyword = "keyword"
)

// Match says why a ticket is WISMO.
type Match struct {
	By   string // ByTag or ByKeyword
	Term string // the tag (lower case) or the keyword (folded), as in the rules
}

// Classify reports whether a ticket event with these tags, subject and
// description is WISMO, and why: the first of the rules' tags (in file
// order) the ticket carries, compared without regard to case; else the
// first keyword (in file order) found as whole words in the subject or
// the description, both folded like the keywords. A keyword is found as
// whole words when the characters on either side of it, if any, are
// neither letters nor digits ("tracking" is found in "Tracking #1Z9?" but
// not in "backtracking").
func (r *Rules) Classify(tags []string, subject, description string) (Match, bool) {
	for _, t := range r.tags {
		for _, have := range tags {
			if strings.EqualFold(strings.TrimSpace(have), t) {
				return Match{By: ByTag, Term: t}, true
			}
		}
	}
	if len(r.keywords) == 0 || (subject == "" && description == "") {
		return Match{}, false
	}
	s, d := fold(subject), fold(description)
	for _, k := range r.keywords {
		if containsWords(s, k) || containsWords(d, k) {
			return Match{By: ByKeyword, Term: k}, true
		}
	}
	return Match{}, false
}

// fold prepares text for keyword matching: lower case, typographic
// apostrophes as ', every run of white space as one space, trimmed.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, c := range s {
		switch {
		case unicode.IsSpace(c):
			space = b.Len() > 0
			continue
		case c == '\u2019' || c == '\u2018' || c == '\u02bc' || c == '`':
			c = '\''
		default:
			c = unicode.ToLower(c)
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(c)
	}
	return b.String()
}

func isWord(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

func startsAndEndsWithWord(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWord(first) && isWord(last)
}

// containsWords reports whether kw occurs in text with no letter or digit
// right before or after it. Both are folded.
func containsWords(text, kw string) bool {
	for from := 0; from+len(kw) <= len(text); {
		i := strings.Index(text[from:], kw)
		if i < 0 {
			return false
		}
		i += from
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		after, _ := utf8.DecodeRuneInString(text[i+len(kw):])
		if (i == 0 || !isWord(before)) && (i+len(kw) == len(text) || !isWord(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		from = i + size
	}
	return false
}
