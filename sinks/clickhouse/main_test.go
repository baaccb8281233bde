package clickhouse_test

import (
	"os"
	"testing"

	"github.com/baton-pipeline/baton/sinks/clickhouse/synctest"
)

// TestMain ends the embedded ClickHouse of the chdb backend after the
// tests and deletes its data (nothing to do against the server).
func TestMain(m *testing.M) {
	code := m.Run()
	synctest.Close()
	os.Exit(code)
}
