package pipelines

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/baton-pipeline/baton/pipelines/stream"
	"github.com/baton-pipeline/baton/topology"
)

// LagSource is what a stage consumes: its group and its input topics.
type LagSource struct {
	Stage, Group string
	Topics       []string
}

// Lag returns the stage's LagSource.
func (n *Normalize) Lag() LagSource { return lagSource(topology.Normalize.Name, n.stage.Consumes) }

// Lag returns the stage's LagSource.
func (u *Unify) Lag() LagSource { return lagSource(topology.Unify.Name, u.stage.Consumes) }

// Lag returns the stage's LagSource.
func (s *SourceSink) Lag() LagSource {
	return LagSource{Stage: topology.Sink.Name, Group: s.cfg.Group, Topics: s.inputs()}
}

// lagSource is the LagSource of a stateful stage.
func lagSource(stage string, consumes func() (string, []string)) LagSource {
	group, topics := consumes()
	return LagSource{Stage: stage, Group: group, Topics: topics}
}

// DefaultLagInterval is how often LagExporter refreshes by default.
const DefaultLagInterval = 10 * time.Second

// LagExporter keeps baton_consumer_lag_records{stage,topic,partition} as
// kafka-lag-exporter and Burrow do: every Interval, each group's committed
// offsets against its topics' end offsets, whatever the stages' fetches
// do. A stage that stopped fetching (its database is down, it is
// restoring, it hangs) keeps a growing lag instead of its last fetch's.
// A partition the group never committed counts from the partition's
// start. While Kafka does not answer, the last values stay and each
// failure is logged (once per interval) and counted in
// baton_lag_refresh_errors_total.
//
// With Stalls set, it also reports each partition whose committed offset
// stayed below the end from one refresh to the next as waiting, and one
// that moved or caught up as moving (see Stalls). While Kafka does not
// answer, the waits go on.
type LagExporter struct {
	Admin    *kadm.Client
	Sources  []LagSource
	Metrics  *Metrics
	Stalls   *stream.Stalls
	Interval time.Duration
	Logger   *slog.Logger
	// last holds each partition's committed position at the last refresh.
	last map[lagPosition]int64
	// refreshed is when every source was last refreshed (Unix nanoseconds).
	refreshed atomic.Int64
}

// Refreshed is when the lag of every source was last refreshed; zero
// before the first success.
func (e *LagExporter) Refreshed() time.Time {
	if n := e.refreshed.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// lagPosition is a stage's partition of one of its input topics.
type lagPosition struct {
	stage, topic string
	partition    int32
}

// Run refreshes at once and then every Interval until ctx is done.
func (e *LagExporter) Run(ctx context.Context) {
	interval := cmp.Or(e.Interval, DefaultLagInterval)
	logger := e.Logger
	if logger == nil {
		logger = slog.Default()
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok := true
		for _, src := range e.Sources {
			if err := e.refresh(ctx, src); err != nil && ctx.Err() == nil {
				ok = false
				e.Metrics.LagRefreshErrors.WithLabelValues(src.Stage).Inc()
				logger.Warn("consumer lag not refreshed; the last values stay", "stage", src.Stage, "group", src.Group, "err", err, "retry_in", interval)
			}
		}
		if ok && ctx.Err() == nil {
			e.refreshed.Store(time.Now().UnixNano())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// refresh sets one stage's lag gauges.
func (e *LagExporter) refresh(ctx context.Context, src LagSource) error {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(e.Interval, DefaultLagInterval))
	defer cancel()
	commits, err := e.Admin.FetchOffsets(ctx, src.Group)
	if err != nil {
		return fmt.Errorf("committed offsets: %w", err)
	}
	ends, err := stream.EndOffsets(ctx, e.Admin, src.Topics...)
	if err != nil {
		return fmt.Errorf("end offsets: %w", err)
	}
	starts, err := e.Admin.ListStartOffsets(ctx, src.Topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("start offsets: %w", err)
	}
	ends.Each(func(end kadm.ListedOffset) {
		from := int64(0)
		if s, ok := starts.Lookup(end.Topic, end.Partition); ok {
			from = s.Offset
		}
		if c, ok := commits.Lookup(end.Topic, end.Partition); ok && c.Err == nil && c.At >= 0 {
			from = max(from, c.At)
		}
		e.Metrics.ConsumerLag.WithLabelValues(src.Stage, end.Topic, strconv.Itoa(int(end.Partition))).Set(float64(max(0, end.Offset-from)))
		e.observe(src.Stage, end, from)
	})
	return nil
}

// observe reports one partition's position to Stalls: waiting when it has
// records to consume and stands where the last refresh found it.
func (e *LagExporter) observe(stage string, end kadm.ListedOffset, from int64) {
	if e.Stalls == nil {
		return
	}
	if e.last == nil {
		e.last = map[lagPosition]int64{}
	}
	pos := lagPosition{stage, end.Topic, end.Partition}
	last, seen := e.last[pos]
	e.last[pos] = from
	if seen && last == from && end.Offset > from {
		e.Stalls.Waiting(stage, end.Partition, end.Topic,
			fmt.Sprintf("the group's committed offset %d to move towards the end offset %d", from, end.Offset))
		return
	}
	e.Stalls.Moved(stage, end.Partition, end.Topic)
}
