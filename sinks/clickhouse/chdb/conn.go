//go:build chdb

// Package chdb runs baton's ClickHouse sink against a current ClickHouse
// without a server: chDB (ClickHouse as a library, libchdb.so from npm's
// @chdb/lib-linux-x64-gnu, located by CHDB_LIB_PATH) behind the part of
// clickhouse-go's driver.Conn that the sink uses. It exists so the tests of
// migrations, writers, `baton report` and the documented and Grafana queries
// also run on the ClickHouse release users deploy, not only on Debian's
// 18.16: the two disagree on SQL (26.x refuses an `ANY LEFT JOIN … USING`
// on a subquery without an alias, which 18.16 accepts).
//
// Build with -tags chdb. Loading the package dlopens the library at init
// (chdb-go's choice) and panics when it is missing, so a test binary built
// with the tag fails, never skips, on a machine without it. It is a test
// backend: one embedded server per process, queries serialised, query
// parameters bound on the client (strings and integers), no streaming.
package chdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	chdbgo "github.com/chdb-io/chdb-go/chdb"
)

// Conn is a driver.Conn over one chDB session. Methods the sink never
// calls (Select, AsyncInsert, QueryFormat, InsertFormat, Contributors,
// ServerVersion, Stats) come from the nil embedded interface and panic.
type Conn struct {
	driver.Conn // unused methods only: nil
	mu          sync.Mutex
	session     *chdbgo.Session
}

// Open starts an embedded ClickHouse keeping its data in dir, with the
// session time zone UTC (the sink writes and reads DateTime in UTC).
func Open(dir string) (*Conn, error) {
	s, err := chdbgo.NewSession(dir)
	if err != nil {
		return nil, fmt.Errorf("chdb session in %s: %w", dir, err)
	}
	c := &Conn{session: s}
	if err := c.Exec(context.Background(), "SET session_timezone = 'UTC'"); err != nil {
		s.Close()
		return nil, err
	}
	return c, nil
}

// query runs one statement and returns its output in format ("" for
// statements without a result).
func (c *Conn) query(q, format string, args []any) ([]byte, error) {
	q, err := bind(q, args)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	res, err := c.session.Query(q, format)
	if err != nil {
		return nil, fmt.Errorf("chdb: %w", err)
	}
	if res == nil {
		return nil, nil
	}
	defer res.Free()
	if err := res.Error(); err != nil {
		return nil, fmt.Errorf("chdb: %w", err)
	}
	return bytes.Clone(res.Buf()), nil
}

// bind replaces each ? outside a string literal with the next argument as
// a literal, as clickhouse-go binds positional parameters on the client.
// Strings are quoted with backslash escapes; integers are written as is.
func bind(q string, args []any) (string, error) {
	if len(args) == 0 {
		return q, nil
	}
	var b strings.Builder
	inString, n := false, 0
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case inString && ch == '\\' && i+1 < len(q):
			b.WriteByte(ch)
			i++
			ch = q[i]
		case ch == '\'':
			inString = !inString
		case ch == '?' && !inString:
			if n == len(args) {
				return "", fmt.Errorf("chdb: more ? than the %d arguments in %q", len(args), q)
			}
			lit, err := literal(args[n])
			if err != nil {
				return "", err
			}
			b.WriteString(lit)
			n++
			continue
		}
		b.WriteByte(ch)
	}
	if n != len(args) {
		return "", fmt.Errorf("chdb: %d arguments for %d ? in %q", len(args), n, q)
	}
	return b.String(), nil
}

// literal writes v as a ClickHouse literal.
func literal(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'", nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("chdb: a query parameter of type %T is not supported", v)
}

// Exec runs a statement.
func (c *Conn) Exec(_ context.Context, q string, args ...any) error {
	_, err := c.query(q, "", args)
	return err
}

// Ping runs SELECT 1.
func (c *Conn) Ping(ctx context.Context) error { return c.Exec(ctx, "SELECT 1") }

// Close ends the session.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.session.Close()
	return nil
}

// Query runs a SELECT and reads the whole result: names, types, rows.
func (c *Conn) Query(_ context.Context, q string, args ...any) (driver.Rows, error) {
	out, err := c.query(q, "JSONCompactEachRowWithNamesAndTypes", args)
	if err != nil {
		return nil, err
	}
	return parseRows(out)
}

// QueryRow is Query's first row; no row is sql.ErrNoRows' equivalent.
func (c *Conn) QueryRow(_ context.Context, q string, args ...any) driver.Row {
	out, err := c.query(q, "JSONCompactEachRowWithNamesAndTypes", args)
	if err != nil {
		return &row{err: err}
	}
	r, err := parseRows(out)
	return &row{rows: r, err: err}
}

var insertColumns = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+(\S+)\s*\((.*)\)\s*$`)

// PrepareBatch accepts the sink's only form, INSERT INTO t (columns).
func (c *Conn) PrepareBatch(_ context.Context, q string, _ ...driver.PrepareBatchOption) (driver.Batch, error) {
	m := insertColumns.FindStringSubmatch(q)
	if m == nil {
		return nil, fmt.Errorf("chdb: PrepareBatch wants INSERT INTO table (columns), got %q", q)
	}
	return &batch{conn: c, insert: "INSERT INTO " + m[1] + " (" + m[2] + ") FORMAT JSONCompactEachRow\n",
		width: len(strings.Split(m[2], ","))}, nil
}

// batch buffers rows as JSON arrays and inserts them in one statement.
type batch struct {
	driver.Batch // unused methods only: nil
	conn         *Conn
	insert       string
	width        int
	body         bytes.Buffer
	rows         int
	sent         bool
}

func (b *batch) Append(v ...any) error {
	if len(v) != b.width {
		return fmt.Errorf("chdb: %d values for %d columns", len(v), b.width)
	}
	line, err := json.Marshal(jsonValues(v))
	if err != nil {
		return fmt.Errorf("chdb: encode row: %w", err)
	}
	b.body.Write(line)
	b.body.WriteByte('\n')
	b.rows++
	return nil
}

func (b *batch) Send() error {
	if b.sent {
		return errors.New("chdb: batch already sent")
	}
	b.sent = true
	if b.rows == 0 {
		return nil
	}
	return b.conn.Exec(context.Background(), b.insert+b.body.String())
}

func (b *batch) IsSent() bool { return b.sent }
func (b *batch) Rows() int    { return b.rows }
func (b *batch) Abort() error { b.sent = true; return nil }
func (b *batch) Close() error { return nil }

// row is QueryRow's answer.
type row struct {
	rows *rows
	err  error
}

func (r *row) Err() error { return r.err }

func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if !r.rows.Next() {
		return errors.New("chdb: no rows in result set")
	}
	return r.rows.Scan(dest...)
}

func (r *row) ScanStruct(any) error { return errors.New("chdb: ScanStruct is not supported") }
