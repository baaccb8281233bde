//go:build chdb

package chdb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// jsonValues turns a batch row into what JSONCompactEachRow reads: times
// as UTC "YYYY-MM-DD hh:mm:ss" (the session's zone), nil pointers as null.
func jsonValues(v []any) []any {
	out := make([]any, len(v))
	for i, x := range v {
		switch t := x.(type) {
		case time.Time:
			out[i] = t.UTC().Format(time.DateTime)
		case *time.Time:
			if t != nil {
				out[i] = t.UTC().Format(time.DateTime)
			}
		default:
			out[i] = x
		}
	}
	return out
}

// column is one result column: its name and ClickHouse type.
type column struct{ name, typ string }

func (c column) Name() string             { return c.name }
func (c column) DatabaseTypeName() string { return c.typ }
func (c column) Nullable() bool           { return strings.HasPrefix(c.typ, "Nullable(") }
func (c column) ScanType() reflect.Type   { return goType(c.typ) }

// unwrap strips a type constructor, Nullable(T) → T; ok says it matched.
func unwrap(typ, constructor string) (string, bool) {
	if strings.HasPrefix(typ, constructor+"(") && strings.HasSuffix(typ, ")") {
		return typ[len(constructor)+1 : len(typ)-1], true
	}
	return typ, false
}

// goType is the Go type clickhouse-go scans a ClickHouse type into.
func goType(typ string) reflect.Type {
	if inner, ok := unwrap(typ, "LowCardinality"); ok {
		return goType(inner)
	}
	if inner, ok := unwrap(typ, "Nullable"); ok {
		return reflect.PointerTo(goType(inner))
	}
	if inner, ok := unwrap(typ, "Array"); ok {
		return reflect.SliceOf(goType(inner))
	}
	base, _, _ := strings.Cut(typ, "(")
	switch base {
	case "UInt8":
		return reflect.TypeFor[uint8]()
	case "UInt16":
		return reflect.TypeFor[uint16]()
	case "UInt32":
		return reflect.TypeFor[uint32]()
	case "UInt64":
		return reflect.TypeFor[uint64]()
	case "Int8":
		return reflect.TypeFor[int8]()
	case "Int16":
		return reflect.TypeFor[int16]()
	case "Int32":
		return reflect.TypeFor[int32]()
	case "Int64":
		return reflect.TypeFor[int64]()
	case "Float32":
		return reflect.TypeFor[float32]()
	case "Float64":
		return reflect.TypeFor[float64]()
	case "Bool":
		return reflect.TypeFor[bool]()
	case "Date", "Date32", "DateTime", "DateTime64":
		return reflect.TypeFor[time.Time]()
	}
	return reflect.TypeFor[string]() // String, FixedString, Enum*, UUID, Nothing
}

// rows is a whole result read at once.
type rows struct {
	cols []column
	data [][]json.RawMessage
	next int
}

// parseRows reads JSONCompactEachRowWithNamesAndTypes: a line of names,
// a line of types, then one JSON array per row.
func parseRows(out []byte) (*rows, error) {
	r := &rows{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	var names, types []string
	for line := 0; sc.Scan(); line++ {
		var err error
		switch line {
		case 0:
			err = json.Unmarshal(sc.Bytes(), &names)
		case 1:
			err = json.Unmarshal(sc.Bytes(), &types)
		default:
			var cells []json.RawMessage
			err = json.Unmarshal(sc.Bytes(), &cells)
			r.data = append(r.data, cells)
		}
		if err != nil {
			return nil, fmt.Errorf("chdb: result line %d: %w", line+1, err)
		}
	}
	for i := range names {
		r.cols = append(r.cols, column{names[i], types[i]})
	}
	return r, sc.Err()
}

func (r *rows) Next() bool           { r.next++; return r.next <= len(r.data) }
func (r *rows) Close() error         { return nil }
func (r *rows) Err() error           { return nil }
func (r *rows) HasData() bool        { return len(r.data) > 0 }
func (r *rows) Totals(...any) error  { return errors.New("chdb: totals are not supported") }
func (r *rows) ScanStruct(any) error { return errors.New("chdb: ScanStruct is not supported") }
func (r *rows) Columns() []string {
	out := make([]string, len(r.cols))
	for i, c := range r.cols {
		out[i] = c.name
	}
	return out
}
func (r *rows) ColumnTypes() []driver.ColumnType {
	out := make([]driver.ColumnType, len(r.cols))
	for i, c := range r.cols {
		out[i] = c
	}
	return out
}

// Scan stores the current row's cells into pointers, as clickhouse-go
// would: numbers into any numeric kind, times from their text in UTC,
// null into a nil pointer.
func (r *rows) Scan(dest ...any) error {
	if r.next < 1 || r.next > len(r.data) {
		return errors.New("chdb: Scan without a current row")
	}
	cells := r.data[r.next-1]
	if len(dest) != len(cells) {
		return fmt.Errorf("chdb: Scan into %d values, the row has %d", len(dest), len(cells))
	}
	for i, d := range dest {
		v := reflect.ValueOf(d)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("chdb: Scan destination %d is not a non-nil pointer", i)
		}
		if err := assign(v.Elem(), cells[i]); err != nil {
			return fmt.Errorf("chdb: column %s (%s): %w", r.cols[i].name, r.cols[i].typ, err)
		}
	}
	return nil
}

// assign decodes one JSON cell into dst.
func assign(dst reflect.Value, cell json.RawMessage) error {
	if string(cell) == "null" {
		dst.SetZero()
		return nil
	}
	if dst.Kind() == reflect.Pointer {
		p := reflect.New(dst.Type().Elem())
		if err := assign(p.Elem(), cell); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	}
	if dst.Type() == reflect.TypeFor[time.Time]() {
		var s string
		if err := json.Unmarshal(cell, &s); err != nil {
			return err
		}
		for _, layout := range []string{time.DateTime, time.DateOnly, "2006-01-02 15:04:05.999999999"} {
			if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				dst.Set(reflect.ValueOf(t))
				return nil
			}
		}
		return fmt.Errorf("time %q", s)
	}
	switch dst.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(unquote(cell), 10, 64)
		dst.SetInt(n)
		return err
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(unquote(cell), 10, 64)
		dst.SetUint(n)
		return err
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(unquote(cell), 64)
		dst.SetFloat(f)
		return err
	case reflect.Bool:
		c := unquote(cell)
		dst.SetBool(c == "true" || c == "1")
		return nil
	case reflect.Slice:
		var items []json.RawMessage
		if err := json.Unmarshal(cell, &items); err != nil {
			return err
		}
		s := reflect.MakeSlice(dst.Type(), len(items), len(items))
		for i, it := range items {
			if err := assign(s.Index(i), it); err != nil {
				return err
			}
		}
		dst.Set(s)
		return nil
	}
	return json.Unmarshal(cell, dst.Addr().Interface())
}

// unquote strips the quotes ClickHouse may put around big numbers and
// non-finite floats.
func unquote(cell json.RawMessage) string {
	return strings.Trim(string(cell), `"`)
}
