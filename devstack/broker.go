// Package devstack runs baton's embedded development stack: a Kafka-protocol
// broker (franz-go's kfake) and a Confluent-compatible schema registry that
// really enforces Avro compatibility. Both keep their state in a data
// directory, so a restart keeps topics, records, committed offsets and schema
// IDs: records on the broker name schema IDs, and the two must stay in step.
//
// `baton dev broker` and `baton dev registry` run these as processes;
// scripts/dev-up.sh starts them together with ClickHouse.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// compactionBackoff is how often the broker's log cleaner runs: once a
// day, so in practice never during a dev session or a test. kfake's cleaner
// (at the version in go.mod) cleans up to the last batch, not, as Kafka
// does, only below the last stable offset: an open transaction's record
// then supersedes the committed value of its key, and when that
// transaction is aborted (a crashed process's, at its timeout) the key has
// no value left. State changelogs lost whole orders that way under the
// SIGKILL tests. Uncompacted changelogs are only longer to restore.
const compactionBackoff = 24 * 60 * 60 * 1000 // milliseconds

// maxLoadThreads bounds the OS threads of the broker process; see RunBroker.
const maxLoadThreads = 100_000

// BrokerConfig configures RunBroker.
type BrokerConfig struct {
	// Port is the TCP port the broker listens on, always on 127.0.0.1;
	// 0 picks a free port.
	Port int
	// DataDir is where topics, records, committed offsets and producer
	// state are kept across restarts; it is created if missing. Empty
	// keeps everything in memory and loses it on exit.
	DataDir string
	// Logf receives the broker's warnings and errors (for example a
	// failed flush to DataDir on shutdown); nil discards them.
	Logf func(format string, args ...any)
	// MaxOpenFiles is the process's open-file limit; 0 sets it as high
	// as the process may (see setOpenFileLimit). The broker needs two
	// per partition holding records.
	MaxOpenFiles uint64
}

// Intervals of the broker's file-descriptor check (watchOpenFiles).
const (
	openFilesCheckEvery  = 30 * time.Second
	openFilesWarnAgainIn = 10 * time.Minute
)

// RunBroker runs a single-broker Kafka cluster until ctx is done, then closes
// it, which flushes its state to DataDir, and returns nil. ready, if not nil,
// is called once with the broker's host:port as soon as it accepts
// connections. Topics are never created implicitly: clients create them with
// CreateTopics (kadm), as against production Kafka.
//
// If its last run on DataDir crashed, it first writes ABORT markers for the
// transactions that run left open, as Kafka's transaction coordinator does
// when they time out, and accepts clients only then (see
// broker_recovery.go): kfake aborts them in memory only.
func RunBroker(ctx context.Context, cfg BrokerConfig, ready func(addr string)) error {
	logf := brokerLogf(cfg.Logf)
	fileLimit, err := setOpenFileLimit(cfg.MaxOpenFiles)
	if err != nil {
		logf("set the open-file limit: %v", err)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(cfg.Port),
		kfake.BrokerConfigs(map[string]string{
			"log.cleaner.backoff.ms": strconv.Itoa(compactionBackoff),
		}),
	}
	// After a crash, transactions left open need ABORT markers before
	// clients come in; see broker_recovery.go.
	var held *heldListener
	crashed := cfg.DataDir != "" && crashedLastRun(cfg.DataDir)
	if cfg.DataDir != "" {
		// This run may crash: only its clean end writes the marker again.
		if err := os.Remove(filepath.Join(cfg.DataDir, cleanShutdownMarker)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("broker data dir %q: %w", cfg.DataDir, err)
		}
	}
	if crashed {
		if err := dropPartitionSnapshots(cfg.DataDir); err != nil {
			return fmt.Errorf("broker data dir %q: %w", cfg.DataDir, err)
		}
	}
	opts = append(opts, kfake.ListenFn(func(network, addr string) (net.Listener, error) {
		var l net.Listener
		var err error
		if crashed {
			held, err = newHeldListener(network, addr)
			l = held
		} else {
			l, err = net.Listen(network, addr)
		}
		if err != nil {
			return nil, err
		}
		return &patientListener{Listener: l, logf: logf}, nil
	}))
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
		// kfake loads every partition from DataDir at once, each in a
		// goroutine blocked in file reads, so each holds a thread: a data
		// directory that collected thousands of test partitions crashed
		// the broker at start with "thread exhaustion" (Go's default
		// limit is 10,000 threads).
		debug.SetMaxThreads(maxLoadThreads)
	}
	if cfg.Logf != nil {
		opts = append(opts, kfake.WithLogger(brokerLogger(cfg.Logf)))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start broker on 127.0.0.1:%d with data dir %q: %w", cfg.Port, cfg.DataDir, err)
	}
	cluster.ControlKey(int16(kmsg.Fetch), keepAbortedIndex)
	if held != nil {
		if err := recoverFromCrash(ctx, held, logf); err != nil {
			cluster.Close()
			// Close wrote session_state.json: without it the
			// next start takes this one's place and repairs.
			os.Remove(filepath.Join(cfg.DataDir, kfakeSessionState))
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("broker data dir %q: recover from the crash of its last run: %w", cfg.DataDir, err)
		}
		held.release()
	}
	if ready != nil {
		ready(cluster.ListenAddrs()[0])
	}
	logf("open-file limit %d", fileLimit)
	go watchOpenFiles(ctx, fileLimit, openFilesCheckEvery, openFilesWarnAgainIn, logf)
	<-ctx.Done()
	cluster.Close()
	if cfg.DataDir != "" {
		if err := os.WriteFile(filepath.Join(cfg.DataDir, cleanShutdownMarker), nil, 0o644); err != nil {
			logf("mark the clean shutdown (the next start will check the logs as after a crash): %v", err)
		}
	}
	return nil
}

// keepAbortedIndex lifts a fetch request's response-wide byte limit
// (MaxBytes), leaving the per-partition limits, and lets kfake handle the
// request as usual.
//
// Why: when kfake (at the version in go.mod) reaches MaxBytes in the middle
// of a partition, it stops the whole response before it looks up that
// partition's aborted transactions, and returns the partition's batches
// without them: a read_committed consumer then reads records of aborted
// transactions as committed. Any consumer of many partitions hits the limit
// (baton's sink reads about fifty with an 8 MiB limit); under rebalances,
// which abort transactions, the sink stored canonical events twice (once
// from an aborted transaction) and sync checks that only an aborted unify
// transaction had emitted. A real Kafka broker honours MaxBytes and keeps
// the index; here a response is bounded by its partitions' limits instead.
// TestReadCommittedSkipsAbortedTransactionsAtTheFetchLimit fails without it.
func keepAbortedIndex(req kmsg.Request) (kmsg.Response, error, bool) {
	if f, ok := req.(*kmsg.FetchRequest); ok && f.IsolationLevel == 1 {
		f.MaxBytes = math.MaxInt32
	}
	return nil, nil, false
}

// recoverFromCrash aborts the transactions the crashed last run left open
// (abortTransactionsLeftOpen), through a client of held's private port.
func recoverFromCrash(ctx context.Context, held *heldListener, logf func(format string, args ...any)) error {
	cl, err := held.privateClient()
	if err != nil {
		return err
	}
	defer cl.Close()
	return abortTransactionsLeftOpen(ctx, cl, logf)
}

// brokerLogf prefixes the broker's own log lines with "broker: ";
// a nil logf discards them.
func brokerLogf(logf func(format string, args ...any)) func(format string, args ...any) {
	if logf == nil {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) { logf("broker: "+format, args...) }
}

// brokerLogger adapts a printf-style function to kfake's Logger, keeping
// only warnings and errors: kfake logs every request at info level.
type brokerLogger func(format string, args ...any)

func (l brokerLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	if level == kfake.LogLevelNone || level > kfake.LogLevelWarn {
		return
	}
	l("broker "+level.String()+": "+format, args...)
}
