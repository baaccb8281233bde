// Package clickhouse is baton's ClickHouse sink: schema migrations, batched
// writers and the queries behind `baton report`.
//
// It speaks the native protocol (clickhouse-go v2) and keeps to the SQL
// subset that runs on both ClickHouse 18.16 (Debian 12's package, used by the
// dev stack and tests) and current releases: no DateTime64, TTL, Map or Bool;
// millisecond times are Int64 epoch-ms columns beside DateTime ones; every
// INSERT names its columns and goes through PrepareBatch. Its tests run on
// both: the dev stack's 18.16 server, and with -tags chdb an embedded
// current ClickHouse (package chdb, through NewClient).
package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Config says where ClickHouse is.
type Config struct {
	Addr     string // host:port of the native protocol (9000)
	Database string // baton's database; created by Migrate
	User     string
	Password string
	Timeout  time.Duration // dial and read timeout
}

// Client is a connection pool to ClickHouse bound to baton's database.
// Table names are always qualified with the database, so the connection
// itself uses "default" and works before the database exists.
type Client struct {
	conn driver.Conn
	db   string
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Open connects and pings.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	if err := checkDatabase(cfg.Database); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	conn, err := ch.Open(&ch.Options{
		Addr:        []string{cfg.Addr},
		Auth:        ch.Auth{Database: "default", Username: cfg.User, Password: cfg.Password},
		DialTimeout: cfg.Timeout,
		ReadTimeout: cfg.Timeout,
		Compression: &ch.Compression{Method: ch.CompressionLZ4},
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", cfg.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse %s: ping: %w", cfg.Addr, err)
	}
	return &Client{conn: conn, db: cfg.Database}, nil
}

// NewClient binds an open connection to baton's database. It lets the
// same migrations, writers and queries run over another implementation of
// the driver (the chDB test backend, package chdb); the connection's own
// default database is never relied on.
func NewClient(conn driver.Conn, database string) (*Client, error) {
	if err := checkDatabase(database); err != nil {
		return nil, err
	}
	return &Client{conn: conn, db: database}, nil
}

// checkDatabase refuses a database name that is not a plain identifier:
// it is spliced into SQL.
func checkDatabase(name string) error {
	if !identifier.MatchString(name) {
		return fmt.Errorf("clickhouse database name %q: want letters, digits and underscores", name)
	}
	return nil
}

// DatabaseExists says whether baton's database exists: readers call it
// to tell "nothing stored yet" from a failure.
func (c *Client) DatabaseExists(ctx context.Context) (bool, error) {
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = '"+c.db+"'").Scan(&n); err != nil {
		return false, fmt.Errorf("clickhouse: look up database %s: %w", c.db, err)
	}
	return n > 0, nil
}

// Close closes the pool.
func (c *Client) Close() error { return c.conn.Close() }

// Database is the database baton's tables live in.
func (c *Client) Database() string { return c.db }

// Conn exposes the driver connection for ad-hoc queries (tests, tools).
func (c *Client) Conn() driver.Conn { return c.conn }

// table qualifies a table name with baton's database.
func (c *Client) table(name string) string { return c.db + "." + name }

// Position is where a row's record sits in Kafka: every table keeps it, so
// a restarted sink resumes after what ClickHouse already holds (MaxOffsets)
// and re-inserts collapse.
type Position struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Revision is a correctable record's version and whether it was
// retracted (migration 0007): a late event re-emits a changed record with
// a higher version, and one that no longer exists retracted.
type Revision struct {
	Version   uint64
	Retracted bool
}

// revisionOf reads a record's version and retracted (0 and false when
// absent: written before corrections).
func revisionOf(plain map[string]any) Revision {
	v, _ := plain["version"].(int64)
	r, _ := plain["retracted"].(bool)
	return Revision{Version: uint64(max(v, 0)), Retracted: r}
}

// revisionColumns are the Revision's columns, last in an insert.
const revisionColumns = ", version, retracted"

func (r Revision) values(vals ...any) []any { return append(vals, r.Version, uint8of(r.Retracted)) }

// SetPosition records where the row's record was read.
func (p *Position) SetPosition(topic string, partition int32, offset int64) {
	p.Topic, p.Partition, p.Offset = topic, partition, offset
}
