package schemas

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file holds what FromJSON (native form) and AppendBinary (Avro binary)
// share: the checks and conversions of plain scalar values, default
// handling, the unknown-field check, and the error type. Keeping them in one
// place is what makes the two accept exactly the same values and word their
// errors identically.

// errKind says which message a valueError carries.
type errKind uint8

const (
	errMismatch     errKind = iota // expected <type>, got <value>
	errBadNumber                   // an integer type given a number that is not a 64-bit integer
	errIntRange                    // an int outside 32 bits
	errBase64                      // bytes not in base64
	errTimeType                    // a timestamp given neither a string nor a time.Time
	errTimeParse                   // a timestamp string that is not RFC 3339
	errEnum                        // not one of the enum's symbols
	errMissing                     // a required field missing
	errUnknownField                // a field the record does not have
	errUnsupported                 // a type kind the converter does not know
)

// valueError is a plain value that does not fit its schema. It is built
// lazily: the conversion records only what went wrong and where (the
// offending type and value, and the path segments added one per level as
// the error unwinds through the type tree), and the message, with its field
// path ("items[0].quantity", "record" at the top), is formatted only when
// Error is called. So the success path never builds a path string, and a
// union branch that fails before the next branch fits costs one small
// allocation, not a fmt.Sprintf.
type valueError struct {
	kind errKind
	t    *Type
	v    any    // the offending value
	s    string // the number, time string or field name the message quotes
	n    int64  // the out-of-range int
	err  error  // the base64 error, kept for errors.Is/As
	segs []pathSeg
}

// pathSeg is one step of an error's field path.
type pathSeg struct {
	kind  segKind
	name  string // the field or map key
	index int    // the array index
}

type segKind uint8

const (
	segField segKind = iota
	segIndex
	segKey
)

func fieldSeg(name string) pathSeg { return pathSeg{kind: segField, name: name} }
func indexSeg(i int) pathSeg       { return pathSeg{kind: segIndex, index: i} }
func keySeg(k string) pathSeg      { return pathSeg{kind: segKey, name: k} }

// at adds the segment of the enclosing level to e's path and returns e. The
// segments are stored innermost first.
func (e *valueError) at(seg pathSeg) *valueError {
	e.segs = append(e.segs, seg)
	return e
}

// path renders the field path exactly as FromJSON always has: fields joined
// with ".", indexes as "[i]", map keys as ".key", and "record" for the top
// level.
func (e *valueError) path() string {
	var b strings.Builder
	for i := len(e.segs) - 1; i >= 0; i-- {
		switch seg := e.segs[i]; seg.kind {
		case segKey:
			b.WriteByte('.')
			b.WriteString(seg.name)
		case segIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(seg.index))
			b.WriteByte(']')
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg.name)
		}
	}
	if b.Len() == 0 {
		return "record"
	}
	return b.String()
}

func (e *valueError) Error() string {
	where := e.path()
	switch e.kind {
	case errMismatch:
		return fmt.Sprintf("%s: expected %s, got %s", where, e.t.describe(), describeJSON(e.v))
	case errBadNumber:
		return fmt.Sprintf("%s: expected %s, got %s", where, e.t.describe(), e.s)
	case errIntRange:
		return fmt.Sprintf("%s: %d out of int range", where, e.n)
	case errBase64:
		return fmt.Sprintf("%s: bytes must be base64: %v", where, e.err)
	case errTimeType:
		return fmt.Sprintf("%s: expected an RFC 3339 time, got %s", where, describeJSON(e.v))
	case errTimeParse:
		return fmt.Sprintf("%s: expected an RFC 3339 time, got %q", where, e.s)
	case errEnum:
		return fmt.Sprintf("%s: %q is not one of %v", where, e.s, e.t.Symbols)
	case errMissing:
		return where + ": required field missing"
	case errUnknownField:
		return fmt.Sprintf("%s: unknown field %q", where, e.s)
	}
	return fmt.Sprintf("%s: unsupported type %s", where, e.t.Kind)
}

// Unwrap returns the base64 decoding error of bytes that are not base64.
func (e *valueError) Unwrap() error { return e.err }

func mismatch(t *Type, v any) *valueError {
	return &valueError{kind: errMismatch, t: t, v: v}
}

// plainLong checks an int or long value: a json.Number holding a 64-bit
// integer, or a Go int, int32 or int64; for an int, within 32 bits.
func plainLong(t *Type, v any) (int64, *valueError) {
	var i int64
	switch n := v.(type) {
	case json.Number:
		var err error
		if i, err = strconv.ParseInt(string(n), 10, 64); err != nil {
			return 0, &valueError{kind: errBadNumber, t: t, s: string(n)}
		}
	case int:
		i = int64(n)
	case int32:
		i = int64(n)
	case int64:
		i = n
	default:
		return 0, mismatch(t, v)
	}
	if t.Kind == KindInt && (i < math.MinInt32 || i > math.MaxInt32) {
		return 0, &valueError{kind: errIntRange, n: i}
	}
	return i, nil
}

// plainFloat checks a float or double value: only a json.Number (a Go
// float would be a second, lossy way to write the same thing).
func plainFloat(t *Type, v any) (float64, *valueError) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, mismatch(t, v)
	}
	f, err := n.Float64()
	if err != nil {
		return 0, mismatch(t, v)
	}
	return f, nil
}

// plainBytes decodes a bytes value: a base64 (standard, padded) string.
func plainBytes(t *Type, v any) ([]byte, *valueError) {
	s, ok := v.(string)
	if !ok {
		return nil, mismatch(t, v)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, &valueError{kind: errBase64, err: err}
	}
	return b, nil
}

// plainTime checks a timestamp value, a time.Time or an RFC 3339 string,
// and returns it in UTC truncated to the millisecond, the precision of
// timestamp-millis: FromJSON's native value.
func plainTime(v any) (time.Time, *valueError) {
	ts, err := plainTimeAsIs(v)
	if err != nil {
		return time.Time{}, err
	}
	return ts.UTC().Truncate(time.Millisecond), nil
}

// plainMillis checks a timestamp value as plainTime does and returns the
// long goavro writes for plainTime's result. It skips plainTime's UTC and
// Truncate, about a sixth of AppendBinary's time on a canonical event, as
// neither changes the result: Truncate(time.Millisecond) takes away the
// sub-millisecond part of the nanoseconds within the second (Go's time.div
// computes it from the nanosecond field alone, so also for times before
// year 1), which the integer division in timeMillis drops anyway.
func plainMillis(v any) (int64, *valueError) {
	ts, err := plainTimeAsIs(v)
	if err != nil {
		return 0, err
	}
	return timeMillis(ts), nil
}

func plainTimeAsIs(v any) (time.Time, *valueError) {
	if ts, ok := v.(time.Time); ok {
		return ts, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, &valueError{kind: errTimeType, v: v}
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &valueError{kind: errTimeParse, s: s}
	}
	return ts, nil
}

// timeMillis is the timestamp-millis encoding of a time, computed as goavro
// computes it, so both encoders write the same long for any time.Time.
func timeMillis(ts time.Time) int64 {
	return ts.Unix()*1e3 + int64(ts.Nanosecond()/1e6)
}

// enumMapMin is the symbol count from which an enum looks its symbols up in
// a map (built at parse time) rather than scanning them. Measured with
// status-like symbols: a scan costs ~20 ns at 8 symbols and ~30 ns at 16,
// about what a map lookup costs at any size, and ~70 ns at 32.
const enumMapMin = 16

func (t *Type) indexSymbols() {
	if len(t.Symbols) < enumMapMin {
		return
	}
	t.symbolIndex = make(map[string]int, len(t.Symbols))
	for i, s := range t.Symbols {
		if _, dup := t.symbolIndex[s]; !dup {
			t.symbolIndex[s] = i
		}
	}
}

// plainEnum checks an enum value, a string that is one of the symbols, and
// returns it with its index.
func plainEnum(t *Type, v any) (string, int, *valueError) {
	s, ok := v.(string)
	if !ok {
		return "", 0, mismatch(t, v)
	}
	if t.symbolIndex != nil {
		if i, ok := t.symbolIndex[s]; ok {
			return s, i, nil
		}
	} else {
		for i, sym := range t.Symbols {
			if sym == s {
				return s, i, nil
			}
		}
	}
	return "", 0, &valueError{kind: errEnum, t: t, s: s}
}

// plainDefault is the value a record field missing from a plain value
// takes: its schema default in plain form, or false if it has none and is
// therefore required.
func (f *Field) plainDefault() (any, bool) {
	if !f.HasDefault {
		return nil, false
	}
	if f.plain == nil && f.Default != nil {
		return jsonDefault(f.Default), true // a Field not built by Parse
	}
	return f.plain, true
}

// unknownField is the error for a record value with a key that is not one
// of t's fields. Called only once the fields have been counted and one is
// known to be extra; with several, it names the smallest, so the message
// does not depend on map iteration order.
func unknownField(t *Type, m map[string]any) *valueError {
	var name string
	found := false
	for k := range m {
		if t.field(k) == nil && (!found || k < name) {
			name, found = k, true
		}
	}
	return &valueError{kind: errUnknownField, s: name}
}

func (t *Type) field(name string) *Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}

// nullIndex is the position of a union's null branch, or -1.
func (t *Type) nullIndex() int {
	for i, b := range t.Branches {
		if b.Kind == KindNull {
			return i
		}
	}
	return -1
}
