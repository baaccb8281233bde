//go:build !chdb

package synctest

import (
	"context"
	"testing"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// Backend names the ClickHouse the tests run against.
const Backend = "server"

// Close does nothing: every test closes its own server connection.
func Close() {}

// connect opens a client of the dev stack's server bound to database.
func connect(t testing.TB, database string) (*clickhouse.Client, func()) {
	t.Helper()
	testenv.Require(t, "clickhouse")
	c, err := clickhouse.Open(context.Background(), clickhouse.Config{Addr: testenv.ClickHouseAddr(), Database: database, User: "default"})
	if err != nil {
		t.Fatal(err)
	}
	return c, func() { c.Close() }
}
