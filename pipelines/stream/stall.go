package stream

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TransactionTimeout is the Kafka transaction timeout of the stateful
// stages: a crashed process's open transaction pins the last stable
// offset of every partition it wrote until the coordinator aborts it, so
// read_committed consumers downstream stall that long. One polled batch
// takes well under a second, so 10 s is ample.
const TransactionTimeout = 10 * time.Second

// DefaultStallAfter is how long a position with work to do may stand
// still before it counts as stalled: three transaction timeouts, so that a
// crashed producer's open transaction (aborted after one) or a rebalance
// never counts, and anything longer is logged, exported, alerted on and
// turns /readyz to 503.
const DefaultStallAfter = 3 * TransactionTimeout

// Stalls tracks, per stage and partition, since when a position that has
// work to do has not moved: a consumer group's committed offset below the
// partition's end (fed by LagExporter, whatever the cause: a database
// that is down, a restore that waits, a stage that hangs), or a restore
// that receives no changelog records. It is Burrow's "stalled" status
// for baton's own groups.
//
// It exports baton_stage_stalled_seconds{stage,partition} (0 while the
// partition moves or has nothing to do; a partition of a stage's several
// inputs counts as stalled when one of them is), logs a warning when a
// wait first exceeds After and when it ends, and answers /readyz. Safe for
// concurrent use.
type Stalls struct {
	// After is how long a wait lasts before it is a stall; 0 means
	// DefaultStallAfter.
	After  time.Duration
	Logger *slog.Logger
	// Now, optional, is the clock waits are timed by (default
	// time.Now).
	Now func() time.Time

	mu      sync.Mutex
	waits   map[stallKey]*stallWait
	running map[string]bool
	// seen are the partitions reported so far, exported as 0 while
	// nothing waits.
	seen map[stagePartition]bool
	desc *prometheus.Desc
}

type stagePartition struct {
	stage     string
	partition int32
}

// stallKey is one waiting position: a stage's partition, and what it
// waits on (a topic's committed offset, the changelog restore).
type stallKey struct {
	stage     string
	partition int32
	on        string
}

type stallWait struct {
	since  time.Time
	what   string // for the log: what the position waits for
	logged bool   // the stall was logged
}

// NewStalls creates the tracker and registers its metric.
func NewStalls(reg prometheus.Registerer, logger *slog.Logger) *Stalls {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Stalls{Logger: logger, Now: time.Now, waits: map[stallKey]*stallWait{}, running: map[string]bool{}, seen: map[stagePartition]bool{},
		desc: prometheus.NewDesc("baton_stage_stalled_seconds",
			"How long a stage's partition has had work to do (records past its group's committed offset, or a state restore under way) without moving; 0 while it moves or is idle. Over --stall-after (default "+DefaultStallAfter.String()+") the partition is stalled: logged, alerted on, and /readyz answers 503.",
			[]string{"stage", "partition"}, nil)}
	reg.MustRegister(s)
	return s
}

func (s *Stalls) after() time.Duration {
	if s.After > 0 {
		return s.After
	}
	return DefaultStallAfter
}

// Running marks a stage as running or not. The waits of a stage that is
// not running are forgotten and none are recorded: `run
// --until-caught-up` runs one stage after another, and the later ones'
// backlogs are not stalls.
func (s *Stalls) Running(stage string, running bool) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[stage] = running
	if !running {
		for k := range s.waits {
			if k.stage == stage {
				delete(s.waits, k)
			}
		}
	}
}

// RunningStages lists the stages running now, sorted.
func (s *Stalls) RunningStages() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{}
	for stage, running := range s.running {
		if running {
			out = append(out, stage)
		}
	}
	slices.Sort(out)
	return out
}

// Waiting records that the position stays where it was while it has work
// to do; the wait started at the first call since the last Moved. what
// says what it waits for, for the log.
func (s *Stalls) Waiting(stage string, partition int32, on, what string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running[stage] {
		return
	}
	s.seen[stagePartition{stage, partition}] = true
	k := stallKey{stage, partition, on}
	w := s.waits[k]
	now := s.Now()
	if w == nil {
		w = &stallWait{since: now}
		s.waits[k] = w
	}
	w.what = what
	if !w.logged && now.Sub(w.since) >= s.after() {
		w.logged = true
		s.Logger.Warn(stage+" partition stalled: no progress", "partition", partition, "on", on,
			"stalled_for", now.Sub(w.since).Round(time.Second), "waiting_for", what)
	}
}

// Moved records that the position moved or has nothing left to do.
func (s *Stalls) Moved(stage string, partition int32, on string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[stage] {
		s.seen[stagePartition{stage, partition}] = true
	}
	k := stallKey{stage, partition, on}
	if w := s.waits[k]; w != nil && w.logged {
		s.Logger.Info(stage+" partition moves again", "partition", partition, "on", on,
			"stalled_for", s.Now().Sub(w.since).Round(time.Second))
	}
	delete(s.waits, k)
}

// Stalled lists the stalled positions (waiting longer than After), as
// "stage partition N (on): waiting for ... for D", sorted.
func (s *Stalls) Stalled() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	now := s.Now()
	for k, w := range s.waits {
		if d := now.Sub(w.since); d >= s.after() {
			out = append(out, fmt.Sprintf("%s partition %d (%s): %s, for %s", k.stage, k.partition, k.on, w.what, d.Round(time.Second)))
		}
	}
	slices.Sort(out)
	return out
}

// Describe implements prometheus.Collector.
func (s *Stalls) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector: per stage and partition, the
// longest of its waits (0 for a partition seen that waits for nothing).
func (s *Stalls) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	now := s.Now()
	longest := map[stagePartition]float64{}
	for p := range s.seen {
		longest[p] = 0
	}
	for k, w := range s.waits {
		p := stagePartition{k.stage, k.partition}
		longest[p] = max(longest[p], now.Sub(w.since).Seconds())
	}
	s.mu.Unlock()
	for p, secs := range longest {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, secs, p.stage, strconv.Itoa(int(p.partition)))
	}
}
