// Package testenv gives tests the addresses of the real services they run
// against: the dev stack's Kafka-protocol broker, schema registry and
// ClickHouse server, started by `make test` (scripts/dev-up.sh) or by the
// developer with `make dev-up`. A service that does not answer fails the
// test; it is never skipped, so CI cannot go green without the real thing.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Brokers is the Kafka bootstrap list (BATON_BROKERS).
func Brokers() []string { return strings.Split(envOr("BATON_BROKERS", "127.0.0.1:9092"), ",") }

// RegistryURL is the schema registry URL (BATON_REGISTRY_URL).
func RegistryURL() string { return envOr("BATON_REGISTRY_URL", "http://127.0.0.1:8081") }

// ClickHouseAddr is the ClickHouse native address (BATON_CLICKHOUSE_ADDR).
func ClickHouseAddr() string { return envOr("BATON_CLICKHOUSE_ADDR", "127.0.0.1:9000") }

// Require fails the test unless every named service answers on TCP.
// Names: "kafka", "registry", "clickhouse".
func Require(t testing.TB, services ...string) {
	t.Helper()
	for _, s := range services {
		var addr string
		switch s {
		case "kafka":
			addr = Brokers()[0]
		case "registry":
			addr = strings.TrimPrefix(strings.TrimPrefix(RegistryURL(), "http://"), "https://")
		case "clickhouse":
			addr = ClickHouseAddr()
		default:
			t.Fatalf("testenv: unknown service %q", s)
		}
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			t.Fatalf("%s is not reachable at %s (%v): start the dev stack with `make dev-up` or run `make test`", s, addr, err)
		}
		c.Close()
	}
}

// FreeAddr returns a 127.0.0.1 address with a port nobody listens on
// right now, for a server the test starts (or, for an outage, does not).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var seq atomic.Int64

// Unique returns a name unique to this test process, for topics, groups and
// databases, so tests sharing one broker and one ClickHouse never collide.
func Unique(prefix string) string {
	return fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1_000_000, seq.Add(1))
}

// DeleteTopicsAtCleanup deletes, when t ends, every topic on brokers whose
// name starts with prefix: the topics the test created, its stages'
// changelogs and repartition topics included. With BATON_KEEP_FAILED set,
// a failed test's topics are kept for inspection instead.
//
// Why: the dev broker keeps two files open per partition of every topic it
// holds, and one end-to-end test creates about a hundred partitions; a dev
// stack that kept every test's topics ran out of file descriptors after a
// few CI runs and stopped accepting connections.
func DeleteTopicsAtCleanup(t testing.TB, brokers []string, prefix string) {
	t.Helper()
	if prefix == "" {
		t.Fatal("testenv: DeleteTopicsAtCleanup needs a prefix")
	}
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("BATON_KEEP_FAILED") != "" {
			t.Logf("BATON_KEEP_FAILED: kept topics %s*", prefix)
			return
		}
		if err := deleteTopicsWithPrefix(brokers, prefix); err != nil {
			t.Logf("testenv: delete topics %s*: %v", prefix, err)
		}
	})
}

func deleteTopicsWithPrefix(brokers []string, prefix string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	listed, err := adm.ListTopics(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, name := range listed.Names() {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	deleted, err := adm.DeleteTopics(ctx, names...)
	if err != nil {
		return err
	}
	return deleted.Error()
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes and reads: a log
// that a process or goroutine writes while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
