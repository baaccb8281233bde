package stream

import (
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// aligner keeps a stage's input partitions in event-time order of each
// other while they have a backlog (Flink's watermark alignment; Kafka
// Streams' timestamp synchronization), in two ways:
//
//   - a polled batch is cut at its frontier (see cut): the records of an
//     aligned partition later than the lowest position any lagging aligned
//     partition has reached are not processed in this batch; the stage
//     keeps them in memory for a later batch (Kafka Streams' partition
//     record queues), and commits its offsets only up to them;
//   - partitions more than window ahead of the slowest lagging one are
//     paused, so the stage does not keep fetching records it would cut.
//
// Why: a stage that merges several topics (normalize reads every source
// topics into one canonical topic) would otherwise copy whatever the
// broker's fetches return first. Catching up on a backlog, one fetch of a
// sparse topic (the help desk's tickets) spans days of event time, while
// one of a dense topic (carrier scans) spans minutes; copied as fetched,
// the canonical topic would hold an order's help-desk view long before the
// warehouse and carrier facts it copies, and everything downstream that
// compares systems by arrival (the viewer checks) would see every viewer
// ahead of the truth. With alignment the canonical topic is in the
// sources' own arrival order, whether the stage runs live or replays a
// month.
//
// A partition takes part from its assignment while it has a backlog
// (records beyond the last one processed): a partition at its end is
// waiting for new records, not behind, and is never waited for; nor is one
// that has returned nothing for idleAfter (Flink's idleness). A newly
// assigned partition with a backlog that has not returned records yet
// holds back every other aligned partition (Kafka Streams'
// max.task.idle.ms): its first record may be the earliest of all, and a
// stage that went ahead without it would start a backlog by copying days
// of the fast-fetched topics before the first record of the others. The
// slowest lagging partition is never paused and its records are never cut,
// so the stage always progresses.
type aligner struct {
	window time.Duration
	topics map[string]bool

	mu     sync.Mutex
	last   map[topicPartition]alignPosition
	paused map[string][]int32
	// unresolved: partitions were assigned whose backlog is not known yet
	// (see expect and resolve).
	unresolved bool
}

// idleAfter is how long a lagging partition that returns no records still
// holds back the frontier.
const idleAfter = 10 * time.Second

type topicPartition struct {
	topic     string
	partition int32
}

// alignPosition is where a partition stands: a lower bound of the
// timestamp of its next unprocessed record, whether it has a backlog, and
// when it last returned records (wall clock).
type alignPosition struct {
	at      time.Time
	lagging bool
	seen    time.Time
	// unknown: assigned, with a backlog (or not known to have none), and
	// no record returned yet, so at says nothing.
	unknown bool
}

// awaited reports whether pos is an assigned partition with a backlog
// that has not returned records yet and is not idle.
func (pos alignPosition) awaited(now time.Time) bool {
	return pos.unknown && pos.lagging && now.Sub(pos.seen) < idleAfter
}

// expect registers newly assigned partitions of the aligned topics: until
// each returns records, or resolve finds it has no backlog, or idleAfter
// passes, the others wait for it.
func (a *aligner) expect(assigned map[string][]int32, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for t, ps := range assigned {
		if !a.topics[t] {
			continue
		}
		for _, p := range ps {
			tp := topicPartition{t, p}
			if _, ok := a.last[tp]; !ok {
				a.last[tp] = alignPosition{lagging: true, seen: now, unknown: true}
				a.unresolved = true
			}
		}
	}
}

// needsBacklog reports whether expect registered partitions whose backlog
// resolve has not looked up yet.
func (a *aligner) needsBacklog() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.unresolved
}

// resolve stops waiting for the awaited partitions that have no backlog
// (hasBacklog false): they will return records only when new ones arrive.
func (a *aligner) resolve(hasBacklog func(topic string, partition int32) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for tp, pos := range a.last {
		if pos.unknown && !hasBacklog(tp.topic, tp.partition) {
			pos.lagging = false
			a.last[tp] = pos
		}
	}
	a.unresolved = false
}

func newAligner(window time.Duration, topics []string) *aligner {
	a := &aligner{window: window, topics: map[string]bool{}, last: map[topicPartition]alignPosition{}}
	for _, t := range topics {
		a.topics[t] = true
	}
	return a
}

// cut removes from parts the records of aligned partitions later than the
// frontier: the lowest position of the lagging aligned partitions, the
// ones in this batch at their last fetched record, the others (not idle)
// where they last stood. It returns the records removed, per partition, in
// offset order. A batch without a lagging aligned partition (all caught
// up: the live case) is not cut.
func (a *aligner) cut(parts []kgo.FetchTopicPartition, now time.Time) (rest []kgo.FetchTopicPartition) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var frontier time.Time
	fromBatch := false // the frontier is a record of this batch
	lower := func(t time.Time, inBatch bool) {
		if frontier.IsZero() || t.Before(frontier) {
			frontier, fromBatch = t, inBatch
		}
	}
	inBatch := map[topicPartition]bool{}
	for _, fp := range parts {
		if !a.topics[fp.Topic] || len(fp.Records) == 0 {
			continue
		}
		inBatch[topicPartition{fp.Topic, fp.Partition}] = true
		if last := fp.Records[len(fp.Records)-1]; last.Offset+1 < fp.HighWatermark {
			lower(last.Timestamp, true)
		}
	}
	awaiting := false
	for tp, pos := range a.last {
		switch {
		case inBatch[tp]:
		case pos.awaited(now):
			awaiting = true
		case pos.lagging && !pos.unknown && now.Sub(pos.seen) < idleAfter:
			lower(pos.at, false)
		}
	}
	if awaiting {
		// Everything aligned waits for the first records of a partition
		// not heard from yet.
		cutAt := make([]int, len(parts))
		for i, fp := range parts {
			if !a.topics[fp.Topic] {
				cutAt[i] = len(fp.Records)
			}
		}
		return splitParts(parts, cutAt)
	}
	if frontier.IsZero() {
		return nil
	}
	// Where each aligned part is cut: at its first record later than the
	// frontier. Timestamps normally grow along a source partition (they
	// are arrival times), but a producer may set any, so the records kept
	// are those before the first later one.
	cutAt := make([]int, len(parts))
	kept := 0
	for i, fp := range parts {
		cutAt[i] = len(fp.Records)
		if !a.topics[fp.Topic] {
			continue
		}
		for j, r := range fp.Records {
			if r.Timestamp.After(frontier) {
				cutAt[i] = j
				break
			}
		}
		kept += cutAt[i]
	}
	if kept == 0 && fromBatch {
		// Only with timestamps going backward along a partition: the
		// partition that set the frontier would be cut before its first
		// record and wait forever. Progress over order.
		return nil
	}
	return splitParts(parts, cutAt)
}

// observe records where a batch, as processed, left each aligned
// partition: a partition with records left for later (rest) stands at the
// first of them, with a backlog; the others at their last record
// processed.
func (a *aligner) observe(parts, rest []kgo.FetchTopicPartition, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	waiting := map[topicPartition]bool{}
	for _, fp := range rest {
		if !a.topics[fp.Topic] {
			continue
		}
		tp := topicPartition{fp.Topic, fp.Partition}
		waiting[tp] = true
		a.last[tp] = alignPosition{at: fp.Records[0].Timestamp, lagging: true, seen: now}
	}
	for _, fp := range parts {
		tp := topicPartition{fp.Topic, fp.Partition}
		if !a.topics[fp.Topic] || len(fp.Records) == 0 || waiting[tp] {
			continue
		}
		last := fp.Records[len(fp.Records)-1]
		a.last[tp] = alignPosition{at: last.Timestamp, lagging: last.Offset+1 < fp.HighWatermark, seen: now}
	}
}

// apply pauses the lagging partitions more than window ahead of the
// slowest lagging one that is not idle (every one that returned records
// while a partition is awaited), and resumes the others.
func (a *aligner) apply(cl *kgo.Client, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var slowest time.Time
	awaiting := false
	for _, pos := range a.last {
		switch {
		case pos.awaited(now):
			awaiting = true
		case pos.lagging && !pos.unknown && now.Sub(pos.seen) < idleAfter && (slowest.IsZero() || pos.at.Before(slowest)):
			slowest = pos.at
		}
	}
	pause := map[string][]int32{}
	for tp, pos := range a.last {
		if pos.lagging && !pos.unknown && (awaiting || !slowest.IsZero() && pos.at.Sub(slowest) > a.window) {
			pause[tp.topic] = append(pause[tp.topic], tp.partition)
		}
	}
	if resume := minus(a.paused, pause); len(resume) > 0 && cl != nil {
		cl.ResumeFetchPartitions(resume)
	}
	if more := minus(pause, a.paused); len(more) > 0 && cl != nil {
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
