package pipelines

import (
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// aligner keeps a stage's input partitions within a window of event time of
// each other while they have a backlog, by pausing the partitions that are
// ahead (Flink's watermark alignment; Kafka Streams' timestamp
// synchronization picks the lowest timestamp for the same reason).
//
// Why: a stage that merges several topics (normalize reads six source
// topics into one canonical topic) would otherwise copy whatever the
// broker's fetches return first. Catching up on a backlog, a topic with
// small records races days of event time ahead of one with large records,
// and the canonical topic then holds an order's storefront copies long
// before the warehouse and carrier facts they copy. Everything downstream
// that compares systems by arrival (the viewer checks) would see every
// viewer ahead of the truth. With alignment the canonical topic keeps
// close to the sources' own arrival order, whether the stage runs live or
// replays a month.
//
// A partition takes part once it has returned records and while it has a
// backlog (its last record is below its high watermark): a partition at
// its end is waiting for new records, not behind, and is never waited for.
// The slowest lagging partition is never paused, so the stage always
// progresses.
type aligner struct {
	window time.Duration
	topics map[string]bool

	mu     sync.Mutex
	last   map[topicPartition]alignPosition
	paused map[string][]int32
}

type topicPartition struct {
	topic     string
	partition int32
}

// alignPosition is where a partition stands: the timestamp of its last
// record and whether more records were waiting behind it.
type alignPosition struct {
	at      time.Time
	lagging bool
}

func newAligner(window time.Duration, topics []string) *aligner {
	a := &aligner{window: window, topics: map[string]bool{}, last: map[topicPartition]alignPosition{}}
	for _, t := range topics {
		a.topics[t] = true
	}
	return a
}

// observe records how far a polled batch took each aligned partition.
func (a *aligner) observe(fetches kgo.Fetches) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if !a.topics[fp.Topic] || len(fp.Records) == 0 {
			return
		}
		last := fp.Records[len(fp.Records)-1]
		a.last[topicPartition{fp.Topic, fp.Partition}] = alignPosition{at: last.Timestamp, lagging: last.Offset+1 < fp.HighWatermark}
	})
}

// apply pauses the lagging partitions more than window ahead of the
// slowest lagging one and resumes the others.
func (a *aligner) apply(cl *kgo.Client) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var slowest time.Time
	for _, pos := range a.last {
		if pos.lagging && (slowest.IsZero() || pos.at.Before(slowest)) {
			slowest = pos.at
		}
	}
	pause := map[string][]int32{}
	for tp, pos := range a.last {
		if pos.lagging && !slowest.IsZero() && pos.at.Sub(slowest) > a.window {
			pause[tp.topic] = append(pause[tp.topic], tp.partition)
		}
	}
	if resume := minus(a.paused, pause); len(resume) > 0 {
		cl.ResumeFetchPartitions(resume)
	}
	if more := minus(pause, a.paused); len(more) > 0 {
		cl.PauseFetchPartitions(more)
	}
	a.paused = pause
}

// minus is the partitions of a that are not in b.
func minus(a, b map[string][]int32) map[string][]int32 {
	out := map[string][]int32{}
	for t, ps := range a {
		for _, p := range ps {
			if !slices.Contains(b[t], p) {
				out[t] = append(out[t], p)
			}
		}
	}
	return out
}

// reset forgets every position and resumes what it paused: after a
// rebalance the positions are another process's business.
func (a *aligner) reset(cl *kgo.Client) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.paused) > 0 && cl != nil {
		cl.ResumeFetchPartitions(a.paused)
	}
	a.paused = nil
	clear(a.last)
}
