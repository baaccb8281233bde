// Command benchcompare measures baton against the ceilings of the machine it
// runs on, in one run and interleaved, so that every throughput figure comes
// with the ratio to what the same broker and ClickHouse can do at the same
// moment (`make bench-compare`).
//
//	go run ./scripts/benchcompare [-orders 20000] [-rounds 3] [-baton bin/baton[,other/baton...]]
//
// It simulates one backlog of source records into fresh topics, then, per
// round and back to back:
//
//   - raw: franz-go copies every source record to another topic (acks=all,
//     idempotent), the broker's pass-through ceiling;
//   - transactional: the same copy consumed by a group inside Kafka
//     transactions (GroupTransactSession, one transaction per poll of at most
//     4,000 records), the ceiling of an exactly-once stage;
//   - caught-up: `baton run --until-caught-up` on the backlog, with a fresh
//     app ID and database: source records ÷ wall time, each stage's own rate,
//     peak RSS and baton's CPU per source record;
//   - insert ceiling: clickhouse-go inserting the source_events rows that run
//     stored, into a table of the same DDL, 20,000 rows per batch;
//   - live: `baton run` with every stage at once on the same backlog, until
//     each stage's consumer group has committed its inputs' end offsets.
//
// With several binaries (-baton before,after) each round runs the two baton
// measurements of each in turn, so that a change is measured back to back
// against the same ceilings. It prints each figure's min / median / max
// over the rounds and each round's ratios, then drops its databases and
// topics (-keep keeps them).
// It needs the dev stack (make dev-up) and a built bin/baton.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/internal/procstat"
	"github.com/baton-pipeline/baton/pipelines"
	"github.com/baton-pipeline/baton/topology"
)

func main() {
	var b bench
	flag.IntVar(&b.orders, "orders", 20000, "orders in the simulated backlog")
	flag.IntVar(&b.rounds, "rounds", 3, "rounds of every measurement")
	batons := flag.String("baton", "bin/baton", "the baton binary, or comma-separated binaries to compare")
	flag.StringVar(&b.brokers, "brokers", cmp.Or(os.Getenv("BATON_BROKERS"), "127.0.0.1:9092"), "Kafka bootstrap brokers")
	flag.StringVar(&b.clickhouse, "clickhouse-addr", cmp.Or(os.Getenv("BATON_CLICKHOUSE_ADDR"), "127.0.0.1:9000"), "ClickHouse native-protocol address")
	flag.IntVar(&b.batch, "batch", 20000, "rows per insert of the ClickHouse ceiling")
	flag.BoolVar(&b.keep, "keep", false, "keep the topics and databases afterwards")
	flag.StringVar(&b.profiles, "profiles", "", "save a CPU profile of each binary's first caught-up run in this `directory` and print its top entries")
	flag.Parse()
	b.batons = strings.Split(*batons, ",")
	b.name = fmt.Sprintf("benchcmp_%d", time.Now().Unix())
	ctx := context.Background()
	if err := b.run(ctx); err != nil {
		log.Fatalf("benchcompare: %v", err)
	}
}

type bench struct {
	orders, rounds, batch int
	batons                []string
	brokers               string
	clickhouse            string
	keep                  bool
	profiles              string
	name                  string // prefix of every topic, group and database

	sources []string // source topics of the backlog
	records int64    // source records in the backlog
	rows    [][]any  // source_events rows for the insert ceiling
	columns string   // their column list
	created []string // databases to drop
}

// round is one round's figures.
type round struct {
	raw, txn, ceiling float64 // records/s, records/s, rows/s
	baton             []batonFigures
}

// batonFigures are one binary's figures in one round.
type batonFigures struct {
	caughtUp, live       float64 // source records/s
	normalize, unify     float64 // the caught-up run's stage rates, records/s
	sink                 float64 // rows/s over the sink's own run
	rssCaughtUp, rssLive float64 // MiB
	cpuCaughtUp, cpuLive float64 // baton's CPU µs per source record
	rowsStored           int64
}

func (b *bench) run(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(b.brokers, ",")...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if !b.keep {
		defer b.cleanup(adm)
	}
	topics := topology.New(b.name + ".")
	for _, t := range topics.Sources() {
		b.sources = append(b.sources, t.Name)
	}
	log.Printf("simulating %d orders into %s*", b.orders, topics.Prefix)
	if _, err := b.runBaton(ctx, b.batons[0], b.name, "", "simulate", "--orders", strconv.Itoa(b.orders), "--seed", "1"); err != nil {
		return err
	}
	ends, err := adm.ListEndOffsets(ctx, b.sources...)
	if err != nil {
		return err
	}
	ends.Each(func(o kadm.ListedOffset) { b.records += o.Offset })
	log.Printf("backlog: %d source records in %d topics", b.records, len(b.sources))
	copies := &topology.Topics{Prefix: b.name + ".copy.", Partitions: topics.Partitions}
	if err := topology.EnsureTopics(ctx, adm, topology.Topic{Name: copies.Prefix + "raw", Partitions: topics.Partitions},
		topology.Topic{Name: copies.Prefix + "txn", Partitions: topics.Partitions}); err != nil {
		return err
	}

	var rounds []round
	for i := 1; i <= b.rounds; i++ {
		var r round
		if r.raw, err = b.copyRecords(ctx, func(string) string { return copies.Prefix + "raw" }); err != nil {
			return fmt.Errorf("round %d, raw copy: %w", i, err)
		}
		if r.txn, err = b.copyTransactional(ctx, copies.Prefix+"txn", fmt.Sprintf("%s_txn_%d", b.name, i)); err != nil {
			return fmt.Errorf("round %d, transactional copy: %w", i, err)
		}
		r.baton = make([]batonFigures, len(b.batons))
		for j, bin := range b.batons {
			f := &r.baton[j]
			db := fmt.Sprintf("%s_caughtup_%d_%d", b.name, i, j)
			profile := ""
			if i == 1 && b.profiles != "" {
				profile = filepath.Join(b.profiles, fmt.Sprintf("%d-%s.pprof", j, filepath.Base(bin)))
			}
			if err := b.caughtUp(ctx, bin, db, profile, adm, f); err != nil {
				return fmt.Errorf("round %d, %s --until-caught-up: %w", i, bin, err)
			}
			if j == 0 {
				if r.ceiling, err = b.insertCeiling(ctx, db, i); err != nil {
					return fmt.Errorf("round %d, insert ceiling: %w", i, err)
				}
			}
			if err := b.live(ctx, bin, fmt.Sprintf("%s_live_%d_%d", b.name, i, j), adm, f); err != nil {
				return fmt.Errorf("round %d, %s live: %w", i, bin, err)
			}
			log.Printf("round %d, %s: caught-up %.0f/s, live %.0f/s", i, bin, f.caughtUp, f.live)
		}
		log.Printf("round %d: raw %.0f/s, transactional %.0f/s, insert ceiling %.0f rows/s", i, r.raw, r.txn, r.ceiling)
		rounds = append(rounds, r)
	}
	b.report(os.Stdout, rounds)
	return nil
}

// copyRecords copies the backlog, each record to topic to(its topic) and
// the same partition, with an idempotent acks=all producer, and returns
// records/s.
func (b *bench) copyRecords(ctx context.Context, to func(topic string) string) (float64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(b.brokers, ",")...), kgo.ConsumeTopics(b.sources...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	start := time.Now()
	var copied int64
	var failed firstError
	for copied < b.records {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return 0, err
		}
		fs.EachRecord(func(r *kgo.Record) {
			copied++
			c := copyOf(r)
			c.Topic = to(r.Topic)
			cl.Produce(ctx, c, failed.produced)
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, err
	}
	if err := failed.get(); err != nil {
		return 0, err
	}
	return float64(b.records) / time.Since(start).Seconds(), nil
}

// copyOf is r to be produced to a copy topic, same partition.
func copyOf(r *kgo.Record) *kgo.Record {
	return &kgo.Record{Key: r.Key, Value: r.Value, Partition: r.Partition, Timestamp: r.Timestamp}
}

// firstError keeps the first error of produce callbacks.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) produced(_ *kgo.Record, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = cmp.Or(f.err, err)
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// copyTransactional copies the backlog to topic as an exactly-once stage
// does: a group consumes, and each poll's copies commit in one transaction
// with the group's offsets. It returns records/s.
func (b *bench) copyTransactional(ctx context.Context, topic, group string) (float64, error) {
	s, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(strings.Split(b.brokers, ",")...), kgo.ConsumeTopics(b.sources...),
		kgo.ConsumerGroup(group), kgo.TransactionalID(group), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return 0, err
	}
	defer s.Close()
	start := time.Now()
	var copied int64
	for copied < b.records {
		fs := s.PollRecords(ctx, 4000)
		if err := fs.Err0(); err != nil {
			return 0, err
		}
		if err := s.Begin(); err != nil {
			return 0, err
		}
		var failed firstError
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			n++
			s.Produce(ctx, copyOf(r), failed.produced)
		})
		committed, err := s.End(ctx, kgo.TransactionEndTry(failed.get() == nil))
		if err != nil {
			return 0, err
		}
		if err := failed.get(); err != nil {
			return 0, err
		}
		if committed {
			copied += int64(n)
		}
	}
	return float64(b.records) / time.Since(start).Seconds(), nil
}

// caughtUp runs `baton run --until-caught-up` on the backlog into database
// db and fills r with its figures.
func (b *bench) caughtUp(ctx context.Context, bin, db, profile string, adm *kadm.Client, r *batonFigures) error {
	b.created = append(b.created, db)
	if _, err := b.seedRun(ctx, adm, db); err != nil {
		return err
	}
	defer b.dropTopics(adm, db+".")
	args := []string{"run", "--until-caught-up", "--log-format", "json", "--metrics-addr", ""}
	var profiled chan error
	if profile != "" {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		args[len(args)-1] = addr
		if help, _ := exec.Command(bin, "run", "--help").CombinedOutput(); bytes.Contains(help, []byte("-pprof")) {
			args = append(args, "--pprof") // older binaries serve profiles unasked
		}
		profiled = make(chan error, 1)
		go func() { profiled <- saveProfile(ctx, addr, profile) }()
	}
	start := time.Now()
	res, err := b.runBaton(ctx, bin, db, db, args...)
	if err != nil {
		return err
	}
	if profiled != nil {
		if err := <-profiled; err != nil {
			log.Printf("CPU profile of %s: %v", bin, err)
		} else if top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount", "30", bin, profile).CombinedOutput(); err != nil {
			log.Printf("CPU profile of %s: go tool pprof: %v\n%s", bin, err, top)
		} else {
			log.Printf("CPU profile of %s --until-caught-up (%s):\n%s", bin, profile, top)
		}
	}
	r.caughtUp = float64(b.records) / time.Since(start).Seconds()
	r.rssCaughtUp = res.peakRSS
	r.cpuCaughtUp = res.cpu.Seconds() * 1e6 / float64(b.records)
	var unifyDone, stopped time.Time
	for _, l := range res.lines {
		switch l.Msg {
		case "normalize caught up with its inputs":
			r.normalize = l.float("records_per_second")
		case "unify caught up with its inputs":
			r.unify, unifyDone = l.float("records_per_second"), l.Time
		case "source sink caught up with its input topics":
			r.sink = l.float("rows_per_second")
		case "pipeline stopped":
			stopped = l.Time
			r.rowsStored = int64(l.float("rows_stored"))
		}
	}
	if unifyDone.IsZero() || stopped.IsZero() || r.rowsStored == 0 {
		return fmt.Errorf("the run's log lacks its caught-up and stopped lines:\n%s", res.tail())
	}
	if r.sink == 0 { // a baton whose stages ran one after another, the sink last
		r.sink = float64(r.rowsStored) / stopped.Sub(unifyDone).Seconds()
	}
	return nil
}

// live runs `baton run` with every stage at once on the backlog, into
// database db, until every stage's group has committed the end offsets of
// its inputs, and fills r with its figures.
func (b *bench) live(ctx context.Context, bin, db string, adm *kadm.Client, r *batonFigures) error {
	b.created = append(b.created, db)
	sources, err := b.seedRun(ctx, adm, db)
	if err != nil {
		return err
	}
	defer b.dropTopics(adm, db+".")
	cmd := b.batonCommand(bin, db, db, "run", "--metrics-addr", "", "--log-format", "json")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	groups := []string{pipelines.StageGroup(db, "normalize"), pipelines.StageGroup(db, "unify"), pipelines.StageGroup(db, "sink")}
	var hwm float64
	lastSaid := start
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case err := <-exited:
			return fmt.Errorf("baton run exited before it caught up (%v):\n%s", err, tailOf(out.String(), 30))
		case <-tick.C:
		}
		if mib, err := procstat.MiB(cmd.Process.Pid, procstat.PeakRSS); err == nil {
			hwm = max(hwm, mib)
		}
		var waitingFor string
		var err error
		if done, waitingFor, err = b.everyGroupCaughtUp(ctx, adm, groups, sources); err != nil {
			return err
		}
		if !done && time.Since(lastSaid) > 30*time.Second {
			log.Printf("live: %s after %s", waitingFor, time.Since(start).Round(time.Second))
			lastSaid = time.Now()
		}
	}
	r.live = float64(b.records) / time.Since(start).Seconds()
	r.rssLive = hwm
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
	}
	if ps := cmd.ProcessState; ps != nil {
		r.cpuLive = (ps.UserTime() + ps.SystemTime()).Seconds() * 1e6 / float64(b.records)
	}
	return nil
}

// profileSeconds is how long a caught-up run is profiled, from
// profileAfter after its start: within the stages' work on a 20,000-order
// backlog, after the restores and the first fetches.
const profileSeconds, profileAfter = 30, 5 * time.Second

// saveProfile takes a CPU profile from the pprof endpoint at addr into
// file.
func saveProfile(ctx context.Context, addr, file string) error {
	select {
	case <-time.After(profileAfter):
	case <-ctx.Done():
		return ctx.Err()
	}
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, profileSeconds))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET profile: %s", resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// freeAddr is a loopback address nothing listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// everyGroupCaughtUp reports whether each group has committed offsets and
// none lags its inputs' end offsets, and the first (normalize) has
// committed every source record; if not, what it waits for.
func (b *bench) everyGroupCaughtUp(ctx context.Context, adm *kadm.Client, groups, sources []string) (bool, string, error) {
	lags, err := adm.Lag(ctx, groups...)
	if err != nil {
		return false, "", err
	}
	for i, g := range groups {
		l, ok := lags[g]
		switch {
		case !ok:
			return false, g + " is not described", nil
		case l.Error() != nil:
			return false, fmt.Sprintf("%s: %v", g, l.Error()), nil
		case len(l.Lag) == 0:
			return false, g + " has no partitions yet", nil
		}
		for _, ps := range l.Lag {
			for _, p := range ps {
				if p.Err != nil || p.Lag != 0 {
					return false, fmt.Sprintf("%s lags %s/%d by %d (%v)", g, p.Topic, p.Partition, p.Lag, p.Err), nil
				}
			}
		}
		if i == 0 {
			var committed int64
			for _, ps := range l.Lag {
				for _, p := range ps {
					if slices.Contains(sources, p.Topic) {
						committed += max(p.Commit.At, 0) // -1: an empty partition never committed
					}
				}
			}
			if committed != b.records {
				return false, fmt.Sprintf("%s committed %d of %d source records", g, committed, b.records), nil
			}
		}
	}
	return true, "", nil
}

// insertCeiling inserts the source_events rows of database from into a
// fresh table of the same DDL, b.batch rows per insert, and returns rows/s.
// The rows are read once (not timed).
func (b *bench) insertCeiling(ctx context.Context, from string, i int) (float64, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{b.clickhouse}, Auth: clickhouse.Auth{Database: from}})
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if b.rows == nil {
		if err := b.loadRows(ctx, conn); err != nil {
			return 0, err
		}
	}
	db := fmt.Sprintf("%s_ceiling_%d", b.name, i)
	b.created = append(b.created, db)
	if err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return 0, err
	}
	if err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s.source_events AS %s.source_events", db, from)); err != nil {
		return 0, err
	}
	start := time.Now()
	for lo := 0; lo < len(b.rows); lo += b.batch {
		batch, err := conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.source_events (%s)", db, b.columns))
		if err != nil {
			return 0, err
		}
		for _, row := range b.rows[lo:min(lo+b.batch, len(b.rows))] {
			if err := batch.Append(row...); err != nil {
				return 0, err
			}
		}
		if err := batch.Send(); err != nil {
			return 0, err
		}
	}
	return float64(len(b.rows)) / time.Since(start).Seconds(), nil
}

// loadRows reads every source_events row baton stored, each column into a
// value of the Go type clickhouse-go scans it to.
func (b *bench) loadRows(ctx context.Context, conn driver.Conn) error {
	rows, err := conn.Query(ctx, "SELECT * FROM source_events")
	if err != nil {
		return err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	b.columns = strings.Join(rows.Columns(), ", ")
	for rows.Next() {
		row := make([]any, len(types))
		for i, t := range types {
			row[i] = newOf(t)
		}
		if err := rows.Scan(row...); err != nil {
			return err
		}
		for i := range row {
			row[i] = deref(row[i])
		}
		b.rows = append(b.rows, row)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(b.rows) == 0 {
		return errors.New("source_events is empty")
	}
	log.Printf("insert ceiling: %d source_events rows loaded", len(b.rows))
	return nil
}

// result is a finished baton command: its log lines, CPU time and peak
// RSS (MiB).
type result struct {
	lines   []logLine
	cpu     time.Duration
	out     string
	peakRSS float64
}

func (r result) tail() string { return tailOf(r.out, 30) }

type logLine struct {
	Time  time.Time      `json:"time"`
	Msg   string         `json:"msg"`
	Attrs map[string]any `json:"-"`
}

func (l logLine) float(key string) float64 {
	switch v := l.Attrs[key].(type) {
	case float64:
		return v
	case string:
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	return 0
}

// batonCommand is the baton binary bin with args, the bench's topics, app
// ID and database.
func (b *bench) batonCommand(bin, appID, db string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "BATON_TOPIC_PREFIX="+appID+".", "BATON_APP_ID="+appID, "BATON_BROKERS="+b.brokers,
		"BATON_CLICKHOUSE_ADDR="+b.clickhouse, "BATON_METRICS_ADDR=")
	if db != "" {
		cmd.Env = append(cmd.Env, "BATON_CLICKHOUSE_DATABASE="+db)
	}
	return cmd
}

// runBaton runs the baton binary bin with args to its end.
func (b *bench) runBaton(ctx context.Context, bin, appID, db string, args ...string) (result, error) {
	cmd := b.batonCommand(bin, appID, db, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	// The peak sampled while it runs, also for runs that do not log theirs.
	var hwm float64
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	for running := true; running; {
		select {
		case err = <-exited:
			running = false
		case <-time.After(250 * time.Millisecond):
			if mib, err := procstat.MiB(cmd.Process.Pid, procstat.PeakRSS); err == nil {
				hwm = max(hwm, mib)
			}
		}
	}
	res := result{out: out.String(), peakRSS: hwm}
	if cmd.ProcessState != nil {
		res.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return res, fmt.Errorf("baton %s: %v\n%s", strings.Join(args, " "), err, res.tail())
	}
	sc := bufio.NewScanner(strings.NewReader(res.out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && json.Unmarshal(sc.Bytes(), &l.Attrs) == nil {
			res.lines = append(res.lines, l)
		}
	}
	return res, ctx.Err()
}

func tailOf(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (b *bench) cleanup(adm *kadm.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{b.clickhouse}}); err == nil {
		for _, db := range b.created {
			if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
				log.Printf("drop database %s: %v", db, err)
			}
		}
		conn.Close()
	}
	b.dropTopics(adm, b.name)
}

// seedRun gives the baton run appID topics of its own (prefix appID.),
// its source topics holding a copy of the backlog (not timed): runs must
// not read each other's canonical events, transitions or dead letters.
// It returns the source topics' names.
func (b *bench) seedRun(ctx context.Context, adm *kadm.Client, appID string) ([]string, error) {
	base, run := topology.New(b.name+"."), topology.New(appID+".")
	if err := topology.EnsureTopics(ctx, adm, run.Sources()...); err != nil {
		return nil, err
	}
	to := map[string]string{}
	var names []string
	for i, t := range run.Sources() {
		to[base.Sources()[i].Name] = t.Name
		names = append(names, t.Name)
	}
	_, err := b.copyRecords(ctx, func(topic string) string { return to[topic] })
	return names, err
}

// dropTopics deletes the topics whose names start with prefix: a dev
// broker keeps files open for each partition holding records.
func (b *bench) dropTopics(adm *kadm.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		log.Printf("list topics to delete: %v", err)
		return
	}
	var mine []string
	for _, t := range topics.Names() {
		if strings.HasPrefix(t, prefix) {
			mine = append(mine, t)
		}
	}
	if _, err := adm.DeleteTopics(ctx, mine...); err != nil {
		log.Printf("delete topics: %v", err)
	}
}

// report prints the figures' min / median / max over the rounds, then
// each round's ratios to the ceilings.
func (b *bench) report(w io.Writer, rs []round) {
	fmt.Fprintf(w, "\n%d orders, %d source records, %d rounds\n\n", b.orders, b.records, len(rs))
	fmt.Fprintln(w, "| what | min | median | max |")
	fmt.Fprintln(w, "|---|---|---|---|")
	row := func(name string, f func(round) float64) {
		v := col(rs, f)
		slices.Sort(v)
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, num(v[0]), num(v[len(v)/2]), num(v[len(v)-1]))
	}
	row("franz-go copy, acks=all, idempotent (records/s)", func(r round) float64 { return r.raw })
	row("the same in transactions, one per poll of ≤ 4,000 (records/s)", func(r round) float64 { return r.txn })
	row("clickhouse-go inserting source_events rows, "+strconv.Itoa(b.batch)+" per batch (rows/s)", func(r round) float64 { return r.ceiling })
	for j, bin := range b.batons {
		of := func(f func(batonFigures) float64) func(round) float64 {
			return func(r round) float64 { return f(r.baton[j]) }
		}
		row(bin+" run --until-caught-up (source records/s)", of(func(f batonFigures) float64 { return f.caughtUp }))
		row("  normalize, over its own run (records/s)", of(func(f batonFigures) float64 { return f.normalize }))
		row("  unify, over its own run (records/s)", of(func(f batonFigures) float64 { return f.unify }))
		row("  sink, over its own run (rows/s)", of(func(f batonFigures) float64 { return f.sink }))
		row("  rows written, every version", of(func(f batonFigures) float64 { return float64(f.rowsStored) }))
		row("  peak RSS (MiB)", of(func(f batonFigures) float64 { return f.rssCaughtUp }))
		row("  baton CPU per source record (µs)", of(func(f batonFigures) float64 { return f.cpuCaughtUp }))
		row(bin+" run live, until every stage committed (source records/s)", of(func(f batonFigures) float64 { return f.live }))
		row("  peak RSS (MiB)", of(func(f batonFigures) float64 { return f.rssLive }))
		row("  baton CPU per source record (µs)", of(func(f batonFigures) float64 { return f.cpuLive }))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| round | baton | caught-up ÷ transactional copy | live ÷ transactional copy | sink rows/s ÷ insert ceiling |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for i, r := range rs {
		for j, f := range r.baton {
			fmt.Fprintf(w, "| %d | %s | %.3f | %.3f | %.2f |\n", i+1, b.batons[j], f.caughtUp/r.txn, f.live/r.txn, f.sink/r.ceiling)
		}
	}
}

func col(rs []round, f func(round) float64) []float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return v
}

func num(v float64) string {
	if v >= 1000 {
		return withCommas(int64(v + 0.5))
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func withCommas(n int64) string {
	s := strconv.FormatInt(n, 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// newOf is a pointer to a new value of the Go type ClickHouse scans the
// column to.
func newOf(t driver.ColumnType) any { return reflect.New(t.ScanType()).Interface() }

// deref is the value p points to.
func deref(p any) any { return reflect.ValueOf(p).Elem().Interface() }
