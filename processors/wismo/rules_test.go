package wismo

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

func defaults(t testing.TB) *Rules {
	t.Helper()
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDefaultRules(t *testing.T) {
	r := defaults(t)
	if r.Source() != DefaultRulesFile {
		t.Errorf("source %q", r.Source())
	}
	if got := r.Tags(); !slices.Equal(got, []string{"wismo", "where_is_my_order", "order_status"}) {
		t.Errorf("tags %q", got)
	}
	for _, k := range []string{"where is my order", "tracking", "hasn't arrived", "not received"} {
		if !slices.Contains(r.Keywords(), k) {
			t.Errorf("keyword %q missing from %q", k, r.Keywords())
		}
	}
	if got := r.Viewers(); !slices.Equal(got, []schemas.System{schemas.Storefront, schemas.Notifications}) {
		t.Errorf("viewers %q", got)
	}
	// String prints a valid file with the same rules.
	again, err := ParseRules("printed", []byte(r.String()))
	if err != nil {
		t.Fatalf("printed rules do not parse: %v\n%s", err, r)
	}
	if again.String() != r.String() {
		t.Errorf("printed rules differ:\n%s\n%s", r, again)
	}
}

func TestClassify(t *testing.T) {
	r := defaults(t)
	for _, c := range []struct {
		name          string
		tags          []string
		subject, desc string
		want          Match // zero: not WISMO
	}{
		{"wismo tag", []string{"vip", "wismo"}, "", "", Match{ByTag, "wismo"}},
		{"tag case", []string{"WISMO"}, "", "", Match{ByTag, "wismo"}},
		{"tag with spaces around", []string{" Where_Is_My_Order "}, "", "", Match{ByTag, "where_is_my_order"}},
		// The simulator's untagged WISMO tickets carry only order_status.
		{"order_status alone", []string{"order_status"}, "", "", Match{ByTag, "order_status"}},
		// Tags are tried in file order, whatever the ticket's order.
		{"first tag of the file", []string{"order_status", "wismo"}, "", "", Match{ByTag, "wismo"}},
		{"tag before keyword", []string{"order_status"}, "Where is my order?", "", Match{ByTag, "order_status"}},
		{"simulator subject", []string{"new"}, "Where is my order #1042?", "", Match{ByKeyword, "where is my order"}},
		{"keyword in description", nil, "Question", "Hi, my parcel hasn't arrived yet.", Match{ByKeyword, "hasn't arrived"}},
		{"typographic apostrophe", nil, "It hasn’t arrived", "", Match{ByKeyword, "hasn't arrived"}},
		{"upper case and line break", nil, "", "WHERE IS\n  MY   ORDER", Match{ByKeyword, "where is my order"}},
		{"keyword at the end", nil, "package not received", "", Match{ByKeyword, "not received"}},
		{"punctuation is a boundary", nil, "Tracking: 1Z999", "", Match{ByKeyword, "tracking"}},
		{"hyphen is a boundary", nil, "tracking-number missing", "", Match{ByKeyword, "tracking"}},
		{"first keyword of the file", nil, "tracking says not received", "where is my order", Match{ByKeyword, "where is my order"}},
		{"non-ASCII around", nil, "¿dónde está? tracking…", "", Match{ByKeyword, "tracking"}},
		// No match.
		{"return request", []string{"return_request"}, "Return request for order 1042", "", Match{}},
		{"inside a word", nil, "backtracking the refund", "", Match{}},
		{"digit joins the word", nil, "tracking2 order", "", Match{}},
		{"letter after", nil, "trackings", "", Match{}},
		{"accented letter before", nil, "étracking", "", Match{}},
		{"phrase split by a word", nil, "where is my new order", "", Match{}},
		{"no tags, no text", nil, "", "", Match{}},
		{"unrelated tag", []string{"wismo2", "not_wismo"}, "Invoice copy", "", Match{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := r.Classify(c.tags, c.subject, c.desc)
			if ok != (c.want != Match{}) || got != c.want {
				t.Errorf("Classify(%q, %q, %q) = %+v, %v; want %+v", c.tags, c.subject, c.desc, got, ok, c.want)
			}
		})
	}
}

func TestContainsWordsFindsALaterWholeOccurrence(t *testing.T) {
	// The first occurrence is inside a word, the second is whole.
	if !containsWords(fold("backtracking and tracking"), "tracking") {
		t.Error("second occurrence not found")
	}
	if !containsWords(fold("ordered: order status?"), "order status") {
		t.Error("phrase after a prefix not found")
	}
	if containsWords("", "tracking") || containsWords("track", "tracking") {
		t.Error("found in too short a text")
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string // each must appear, as file:line: message
	}{
		{"unknown row", "tag wismo\nlabel wismo\n", []string{`f.map:2: unknown row "label"`}},
		{"tag with two words", "tag where is\n", []string{"f.map:1: tag: want one tag"}},
		{"tag without a word", "tag\nkeyword x\n", []string{"f.map:1: tag: want one tag (tags have no spaces), got 0 words"}},
		{"duplicate tag, any case", "tag wismo\n\ntag WISMO\n", []string{`f.map:3: duplicate tag "wismo": already at f.map:1`}},
		{"empty keyword", "keyword   # nothing\ntag x\n", []string{"f.map:1: keyword: want a word or a phrase"}},
		{"keyword ending in punctuation", "keyword where is my order?\n", []string{`f.map:1: keyword "where is my order?": must start and end with a letter or a digit`}},
		{"keyword starting with an apostrophe", "keyword 'tracking\n", []string{"f.map:1: keyword \"'tracking\""}},
		{"duplicate keyword after folding", "keyword Where  is my order\nkeyword where is my ORDER\n", []string{`f.map:2: duplicate keyword "where is my order": already at f.map:1`}},
		{"unknown viewer", "tag w\nattribute_viewers storefront carrier\n", []string{`f.map:2: attribute_viewers: unknown viewer "carrier" (valid: storefront, notifications, helpdesk)`}},
		{"duplicate viewer", "tag w\nattribute_viewers helpdesk helpdesk\n", []string{"f.map:2: attribute_viewers: duplicate viewer helpdesk"}},
		{"viewers twice", "tag w\nattribute_viewers helpdesk\nattribute_viewers storefront\n", []string{"f.map:3: duplicate attribute_viewers: already set at f.map:2"}},
		{"no viewer", "tag w\nattribute_viewers\n", []string{"f.map:2: attribute_viewers: want at least one viewer"}},
		{"nothing classifies", "# only comments\n\nattribute_viewers storefront\n", []string{"f.map: no tag and no keyword"}},
		{"empty file", "", []string{"f.map: no tag and no keyword"}},
		{"every problem reported", "tag a b\nfoo\nkeyword !\n", []string{"f.map:1:", "f.map:2:", "f.map:3:"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRules("f.map", []byte(c.text))
			if err == nil {
				t.Fatalf("parsed: %s", r)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			var p *statusmap.Problem
			if !errors.As(err, &p) || p.File != "f.map" {
				t.Errorf("not a *statusmap.Problem naming the file: %#v", err)
			}
			if all := err.(interface{ Unwrap() []error }).Unwrap(); len(all) != len(c.want) {
				t.Errorf("%d problems reported, want %d: %v", len(all), len(c.want), err)
			}
		})
	}
}

func TestParseRulesAccepts(t *testing.T) {
	r, err := ParseRules("ok.map", []byte("# WISMO\r\ntag  Wismo   # trailing comment\r\nkeyword  Where’s  my   ORDER\r\nattribute_viewers helpdesk storefront\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Tags(), []string{"wismo"}) || !slices.Equal(r.Keywords(), []string{"where's my order"}) ||
		!slices.Equal(r.Viewers(), []schemas.System{schemas.Helpdesk, schemas.Storefront}) {
		t.Errorf("%q %q %q", r.Tags(), r.Keywords(), r.Viewers())
	}
	// Keywords only, viewers defaulted.
	r, err = ParseRules("k.map", []byte("keyword tracking\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Tags()) != 0 || !slices.Equal(r.Viewers(), defaultViewers) {
		t.Errorf("%q %q", r.Tags(), r.Viewers())
	}
	if _, ok := r.Classify([]string{"wismo"}, "", ""); ok {
		t.Error("no tags configured, yet a tag classified")
	}
}

func TestLoadRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my.map")
	if err := os.WriteFile(path, []byte("tag urgent_wismo\nkeyword lost parcel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source() != path {
		t.Errorf("source %q", r.Source())
	}
	// The copy's rules take effect: wismo is no longer a tag.
	a := New(r)
	if _, ok := a.Rules().Classify([]string{"wismo"}, "", ""); ok {
		t.Error("the default tag still classifies")
	}
	if m, ok := a.Rules().Classify(nil, "My LOST parcel", ""); !ok || m != (Match{ByKeyword, "lost parcel"}) {
		t.Errorf("%+v %v", m, ok)
	}
	if err := os.WriteFile(path, []byte("tag a b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRules(path); err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Errorf("error does not name %s:1: %v", path, err)
	}
	if _, err := LoadRules(filepath.Join(t.TempDir(), "absent.map")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParseRules: the parser never panics; what it accepts prints as a
// file that parses to the same rules, and classifies the same.
func FuzzParseRules(f *testing.F) {
	f.Add(string(defaultRules), "Where is my order?")
	f.Add("tag a\nkeyword b c\nattribute_viewers helpdesk\n", "B  C!")
	f.Add("keyword hasn’t arrived # x\r\n", "HASN'T ARRIVED")
	f.Add("tag\nkeyword\nattribute_viewers\nfoo bar\n", "")
	f.Add("keyword ÉTÉ\n", "été")
	f.Fuzz(func(t *testing.T, text, subject string) {
		r, err := ParseRules("fuzz.map", []byte(text))
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.map") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		again, err := ParseRules("printed", []byte(r.String()))
		if err != nil {
			t.Fatalf("printed rules do not parse: %v\n%s", err, r)
		}
		if again.String() != r.String() {
			t.Fatalf("printed rules differ:\n%s\n%s", r, again)
		}
		m1, ok1 := r.Classify([]string{subject}, subject, subject)
		m2, ok2 := again.Classify([]string{subject}, subject, subject)
		if m1 != m2 || ok1 != ok2 {
			t.Fatalf("classification differs: %+v %v, %+v %v", m1, ok1, m2, ok2)
		}
	})
}
