// Package textfmt prints the scorecard's values the same way wherever they
// are shown: `baton report`'s tables and `baton serve`'s pages.
package textfmt

import "strconv"

// Verdict prints a pass/fail verdict; "-" when there is none.
func Verdict(pass *bool) string {
	switch {
	case pass == nil:
		return "-"
	case *pass:
		return "pass"
	}
	return "FAIL"
}

// Percent prints a share (0–1) as a percentage with two decimals; "-"
// when there is none.
func Percent(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(100**f, 'f', 2, 64) + "%"
}
