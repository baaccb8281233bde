package schemas

import "time"

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
