package schemas

import (
	"fmt"
	"time"
)

// Helpers for building values in the plain (JSON) form that
// Schema.FromJSON and the encoders accept: time.Time for timestamps, nil
// for null. The processors build their records with them.

// PlainTime is an epoch-millisecond time in plain form, in UTC.
func PlainTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// PlainOptionalTime is an optional epoch-millisecond time in plain form:
// null (nil) when ms is 0, which the processors use for "not known".
func PlainOptionalTime(ms int64) any {
	if ms == 0 {
		return nil
	}
	return PlainTime(ms)
}

// PlainOptionalString is an optional string in plain form: null (nil)
// when empty.
func PlainOptionalString[S ~string](s S) any {
	if s == "" {
		return nil
	}
	return string(s)
}

// PlainTimeField reads the timestamp field f of a decoded plain value (an
// RFC 3339 string, as Schema.Plain writes timestamps), in UTC.
func PlainTimeField(plain map[string]any, f string) (time.Time, error) {
	s, ok := plain[f].(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%s is missing", f)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time", f, s)
	}
	return t.UTC(), nil
}
