package clickhouse

import (
	"context"
	"embed"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered DDL file from migrations/. Its statements are
// idempotent (IF NOT EXISTS), so applying a migration twice, or from two
// processes at once, is harmless.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// Migrations lists the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".sql")
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, Statements: splitStatements(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

// splitStatements splits a file on semicolons that end a line, dropping
// comment-only chunks.
func splitStatements(sql string) []string {
	var out []string
	for _, chunk := range strings.Split(sql, ";\n") {
		var lines []string
		for _, l := range strings.Split(chunk, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		if s := strings.TrimSpace(strings.TrimSuffix(strings.Join(lines, "\n"), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Migrate creates the database and applies every migration not yet recorded
// in schema_migrations, in order. Safe to run at every start.
func (c *Client) Migrate(ctx context.Context) error { return c.migrateTo(ctx, math.MaxInt) }

// migrateTo applies the migrations up to version last (tests stop short of
// the newest to check what a migration does to existing data).
func (c *Client) migrateTo(ctx context.Context, last int) error {
	bootstrap := []string{
		"CREATE DATABASE IF NOT EXISTS " + c.db,
		"CREATE TABLE IF NOT EXISTS " + c.table("schema_migrations") +
			" (version UInt32, name String, applied_at DateTime) ENGINE = ReplacingMergeTree() ORDER BY version",
	}
	for _, stmt := range bootstrap {
		if err := c.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("clickhouse migrate: %s: %w", stmt, err)
		}
	}
	applied := map[int]bool{}
	rows, err := c.conn.Query(ctx, "SELECT DISTINCT version FROM "+c.table("schema_migrations"))
	if err != nil {
		return fmt.Errorf("clickhouse migrate: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[int(v)] = true
	}
	rows.Close()
	migrations, err := Migrations()
	if err != nil {
		return err
	}
migrations:
	for _, m := range migrations {
		if applied[m.Version] || m.Version > last {
			continue
		}
		for _, stmt := range m.Statements {
			stmt = strings.ReplaceAll(stmt, "{db}", c.db)
			if err := c.conn.Exec(ctx, stmt); err != nil {
				if c.appliedElsewhere(ctx, m.Version) {
					continue migrations
				}
				return fmt.Errorf("clickhouse migration %s: %w\n%s", m.Name, err, stmt)
			}
		}
		if after := afterMigration[m.Version]; after != nil {
			if err := after(c, ctx); err != nil {
				return fmt.Errorf("clickhouse migration %s: %w", m.Name, err)
			}
		}
		if err := c.recordMigration(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// afterMigration holds the steps a migration's SQL cannot state, run once
// right after its statements.
var afterMigration = map[int]func(*Client, context.Context) error{
	8: (*Client).backfillOrderRows,
}

// materializedSelect finds the SELECT of a materialized view's DDL as
// system.tables.create_table_query gives it ("CREATE MATERIALIZED VIEW …
// TO … (columns) AS SELECT …").
var materializedSelect = regexp.MustCompile(`(?s)\)\s+AS\s+(SELECT\b.*)$`)

// backfillOrderRows copies into order_rows what the tables held before
// migration 0008 created the views that fill it, by running each view's
// own SELECT over its whole table: a view copies only what is inserted
// after it exists. The views exist first, so a row the sink inserts
// meanwhile is copied by its view, the backfill, or both; Order keeps one
// of identical copies.
func (c *Client) backfillOrderRows(ctx context.Context) error {
	type view struct{ name, ddl string }
	var views []view
	err := c.scanEach(ctx, "order_rows views", "SELECT name, create_table_query FROM system.tables WHERE database = '"+c.db+
		"' AND name LIKE 'order_rows_from_%' ORDER BY name",
		func(scan func(...any) error) error {
			var v view
			if err := scan(&v.name, &v.ddl); err != nil {
				return err
			}
			views = append(views, v)
			return nil
		})
	if err != nil {
		return err
	}
	if len(views) == 0 {
		return fmt.Errorf("backfill order_rows: no order_rows_from_* view in %s", c.db)
	}
	for _, v := range views {
		m := materializedSelect.FindStringSubmatch(strings.TrimSpace(v.ddl))
		if m == nil {
			return fmt.Errorf("backfill order_rows: no SELECT in the definition of %s: %s", v.name, v.ddl)
		}
		if err := c.conn.Exec(ctx, "INSERT INTO "+c.table("order_rows")+" "+m[1]); err != nil {
			return fmt.Errorf("backfill order_rows from %s: %w", v.name, err)
		}
	}
	return nil
}

// migrationWait is how long a failed migration statement waits for
// another process to record that migration.
const migrationWait = 30 * time.Second

// appliedElsewhere reports whether migration version gets recorded within
// migrationWait. Two processes started together (`baton run` scaled out,
// a restart overlapping its predecessor) both find it unapplied and both
// run it; the second's ALTER … ADD COLUMN then fails with "already
// exists". That is not an error when the first finishes and records it.
func (c *Client) appliedElsewhere(ctx context.Context, version int) bool {
	deadline := time.Now().Add(migrationWait)
	for {
		var n uint64
		// The version is an int from the embedded migrations, so it is
		// written into the SQL: no parameters, as every backend accepts.
		err := c.conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s WHERE version = %d", c.table("schema_migrations"), version)).Scan(&n)
		if err == nil && n > 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *Client) recordMigration(ctx context.Context, m Migration) error {
	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+c.table("schema_migrations")+" (version, name, applied_at)")
	if err != nil {
		return fmt.Errorf("clickhouse migration %s: record: %w", m.Name, err)
	}
	defer batch.Close()
	if err := batch.Append(uint32(m.Version), m.Name, nowSecond()); err != nil {
		return err
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse migration %s: record: %w", m.Name, err)
	}
	return nil
}
