package clickhouse

import (
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/reports/wismoreview"
)

// The arguments of the scorecard and of the monthly WISMO review, checked
// the same way for `baton report` (flags, prefix "--") and for `baton
// serve` (query parameters, prefix ""), so both answer the same questions
// the same way.

// ParseWindow parses a scorecard window's since and until: an RFC 3339
// time or a date (midnight UTC); "" leaves the bound open. A window with a
// start and no end ends now, so it has a length and the WISMO trend a
// previous window; none at all is everything. Errors name the bounds with
// prefix.
func ParseWindow(sinceArg, untilArg string, now time.Time, prefix string) (since, until time.Time, err error) {
	parse := func(name, s string) (time.Time, error) {
		if s == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("%s%s %q: want an RFC 3339 time (2026-11-02T15:04:05Z) or a date (2026-11-02)", prefix, name, s)
	}
	if since, err = parse("since", sinceArg); err != nil {
		return
	}
	if until, err = parse("until", untilArg); err != nil {
		return
	}
	if !since.IsZero() && until.IsZero() {
		until = now.UTC()
	}
	if !since.IsZero() && !until.After(since) {
		err = fmt.Errorf("%suntil %s is not after %ssince %s", prefix, until.Format(time.RFC3339), prefix, since.Format(time.RFC3339))
	}
	return
}

// DefaultReviewMonths is how many previous months a WISMO review compares
// with unless told.
const DefaultReviewMonths = 3

// MaxReviewMonths bounds the previous months a WISMO review compares with:
// ten years of months.
const MaxReviewMonths = 120

// CheckReviewArgs checks a WISMO review's month (YYYY-MM, required: the
// month in progress is never reviewed by default) and previous months
// (0 to MaxReviewMonths); errors name them with prefix.
func CheckReviewArgs(month string, previous int, prefix string) error {
	if month == "" {
		return fmt.Errorf("%smonth is required: the month to review, YYYY-MM (e.g. 2026-11)", prefix)
	}
	if _, _, err := wismoreview.MonthRange(month); err != nil {
		return fmt.Errorf("%smonth %q: want a month as YYYY-MM (e.g. 2026-11)", prefix, month)
	}
	if previous < 0 || previous > MaxReviewMonths {
		return fmt.Errorf("%smonths %d: want 0 to %d previous months", prefix, previous, MaxReviewMonths)
	}
	return nil
}
