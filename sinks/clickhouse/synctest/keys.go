package synctest

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// ScorecardKeys reads the scorecard's documented JSON keys from the
// README's table between <!-- scorecard-keys --> and <!-- /scorecard-keys -->:
// every backquoted key in each row's first cell.
func ScorecardKeys(t testing.TB, readme string) []string {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- scorecard-keys -->")
	block, _, ok2 := strings.Cut(rest, "<!-- /scorecard-keys -->")
	if !ok || !ok2 {
		t.Fatalf("%s has no <!-- scorecard-keys --> block", readme)
	}
	key := regexp.MustCompile("`([a-z0-9_.\\[\\]]+)`")
	var keys []string
	for _, line := range strings.Split(block, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.TrimSpace(cells[1]) == "key" {
			continue
		}
		for _, m := range key.FindAllStringSubmatch(cells[1], -1) {
			keys = append(keys, m[1])
		}
	}
	if len(keys) == 0 {
		t.Fatalf("%s documents no scorecard keys", readme)
	}
	sort.Strings(keys)
	return keys
}

// JSONKeys lists every key path of a decoded JSON value under prefix
// (dot-separated, an array's elements as []), sorted.
func JSONKeys(prefix string, v any) []string {
	found := map[string]bool{}
	jsonKeys(prefix, v, found)
	keys := make([]string, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonKeys(prefix string, v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			into[p] = true
			jsonKeys(p, e, into)
		}
	case []any:
		for _, e := range v {
			jsonKeys(prefix+"[]", e, into)
		}
	}
}

// DiffKeys compares the keys found with the documented ones.
func DiffKeys(found, documented []string) (missing, extra []string) {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, k := range list {
			m[k] = true
		}
		return m
	}
	f, d := in(found), in(documented)
	for _, k := range documented {
		if !f[k] {
			missing = append(missing, k)
		}
	}
	for _, k := range found {
		if !d[k] {
			extra = append(extra, k)
		}
	}
	return missing, extra
}
