//go:build chdb

package synctest

import (
	"os"
	"sync"
	"testing"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/sinks/clickhouse/chdb"
)

// Backend names the ClickHouse the tests run against.
const Backend = "chdb"

// embeddedDir holds the embedded ClickHouse's data; Close removes it.
var embeddedDir string

// embedded is the process's one chDB session (libchdb allows one): every
// test gets its own database in it, as on the server.
var embedded = sync.OnceValues(func() (*chdb.Conn, error) {
	dir, err := os.MkdirTemp("", "baton-chdb-")
	if err != nil {
		return nil, err
	}
	embeddedDir = dir
	return chdb.Open(dir)
})

// Close ends the embedded ClickHouse, if one was started, and deletes its
// data; a test package's TestMain calls it after the tests.
func Close() {
	if embeddedDir == "" {
		return
	}
	if conn, err := embedded(); err == nil {
		conn.Close()
	}
	os.RemoveAll(embeddedDir)
}

// connect binds the embedded ClickHouse to database; the session outlives
// the test, so releasing does nothing.
func connect(t testing.TB, database string) (*clickhouse.Client, func()) {
	t.Helper()
	conn, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	c, err := clickhouse.NewClient(conn, database)
	if err != nil {
		t.Fatal(err)
	}
	return c, func() {}
}
