package stream

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestMergeKeepsEachPartitionsOffsetOrder: records are merged across
// partitions by timestamp, but a partition's records stay in offset order
// even when its timestamps go backward and a poll holds two ranges of it.
func TestMergeKeepsEachPartitionsOffsetOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rec := func(topic string, p int32, off int64, minute int) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: p, Offset: off, Timestamp: t0.Add(time.Duration(minute) * time.Minute)}
	}
	var parts []kgo.FetchTopicPartition
	for _, fp := range []kgo.FetchTopicPartition{
		{Topic: "a", FetchPartition: kgo.FetchPartition{Partition: 0, Records: []*kgo.Record{rec("a", 0, 0, 5), rec("a", 0, 1, 1)}}},
		{Topic: "b", FetchPartition: kgo.FetchPartition{Partition: 0, Records: []*kgo.Record{rec("b", 0, 0, 2), rec("b", 0, 1, 3)}}},
		{Topic: "a", FetchPartition: kgo.FetchPartition{Partition: 0, Records: []*kgo.Record{rec("a", 0, 2, 0)}}}, // a second range of a/0
	} {
		parts = appendPart(parts, fp)
	}
	var got []string
	if err := MergeByTimestamp(parts, func(r *kgo.Record) error {
		got = append(got, r.Topic+string(rune('0'+r.Offset)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// b0 (2m) and b1 (3m) go before a0 (5m); a's records keep offset order.
	want := []string{"b0", "b1", "a0", "a1", "a2"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestAlignerCutsABatchAtItsFrontier: the records of aligned partitions
// later than the lowest position of a lagging aligned partition wait for a
// later batch (the partition is sought back to the first of them); a
// partition at its end does not hold the others back, nor does an idle
// one; unaligned topics are never cut; a batch of caught-up partitions is
// not cut at all.
func TestAlignerCutsABatchAtItsFrontier(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	part := func(topic string, p int32, hwm int64, minutes ...int) kgo.FetchTopicPartition {
		fp := kgo.FetchTopicPartition{Topic: topic, FetchPartition: kgo.FetchPartition{Partition: p, HighWatermark: hwm}}
		for i, m := range minutes {
			fp.Records = append(fp.Records, &kgo.Record{Topic: topic, Partition: p, Offset: int64(10 + i), Timestamp: t0.Add(time.Duration(m) * time.Minute)})
		}
		return fp
	}
	now := t0
	a := newAligner(30*time.Second, []string{"dense", "sparse"})
	parts := []kgo.FetchTopicPartition{
		part("dense", 0, 100, 1, 2, 3),       // lagging, reached minute 3: the frontier
		part("sparse", 0, 100, 2, 60, 24*60), // lagging too, a day ahead
		part("sparse", 1, 12, 1, 4),          // at its end: not waited for, but cut at the frontier
		part("links", 0, 100, 1, 500),        // not aligned: never cut
	}
	rest := a.cut(parts, now)
	kept := func(i int) int { return len(parts[i].Records) }
	if kept(0) != 3 || kept(1) != 1 || kept(2) != 1 || kept(3) != 2 {
		t.Fatalf("kept %d, %d, %d, %d records; want 3, 1, 1, 2", kept(0), kept(1), kept(2), kept(3))
	}
	later := map[string]int64{}
	for _, fp := range rest {
		later[fmt.Sprintf("%s/%d", fp.Topic, fp.Partition)] = fp.Records[0].Offset
	}
	if want := map[string]int64{"sparse/0": 11, "sparse/1": 11}; !maps.Equal(later, want) {
		t.Errorf("records kept for later start at %v, want %v (the frontier partition and unaligned topics are never cut)", later, want)
	}
	a.observe(parts, rest, now)

	// The next batch has only sparse/0's records: dense/0, lagging at
	// minute 3 and not idle, still holds them back...
	parts = rest[:1]
	if rest := a.cut(parts, now.Add(time.Second)); len(parts[0].Records) != 0 || len(rest) != 1 || len(rest[0].Records) != 2 {
		t.Fatalf("kept %d records, %v for later; want 0, both: dense/0 is behind", len(parts[0].Records), rest)
	}
	// ...until it has returned nothing for idleAfter.
	parts = []kgo.FetchTopicPartition{part("sparse", 0, 100, 60, 24*60)}
	if rest := a.cut(parts, now.Add(idleAfter+time.Second)); len(parts[0].Records) != 2 || rest != nil {
		t.Fatalf("kept %d records, %v for later; want both: no other partition is lagging", len(parts[0].Records), rest)
	}

	// Caught up everywhere (the live case): nothing is cut.
	b := newAligner(30*time.Second, []string{"dense", "sparse"})
	parts = []kgo.FetchTopicPartition{part("dense", 0, 13, 1, 2, 3), part("sparse", 0, 12, 5, 9)}
	if rest := b.cut(parts, now); rest != nil || len(parts[1].Records) != 2 {
		t.Fatalf("a batch of caught-up partitions was cut: %v", rest)
	}
}

// TestAlignerAwaitsAnAssignedPartitionsFirstRecords: a newly assigned
// aligned partition with a backlog holds every other aligned partition
// back until it returns records (its first may be the earliest of all),
// until the backlog lookup finds it has none, or until idleAfter; the
// partitions that returned records are paused meanwhile. Otherwise the
// batch is cut at the lowest position of a lagging partition.
func TestAlignerAwaitsAnAssignedPartitionsFirstRecords(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	part := func(topic string, p int32, hwm int64, minutes ...int) kgo.FetchTopicPartition {
		fp := kgo.FetchTopicPartition{Topic: topic, FetchPartition: kgo.FetchPartition{Partition: p, HighWatermark: hwm}}
		for i, m := range minutes {
			fp.Records = append(fp.Records, &kgo.Record{Topic: topic, Partition: p, Offset: int64(i), Timestamp: t0.Add(time.Duration(m) * time.Minute)})
		}
		return fp
	}
	assigned := map[string][]int32{"dense": {0}, "sparse": {0, 1}, "links": {0}}
	for _, c := range []struct {
		name     string
		resolve  func(string, int32) bool // nil: no lookup
		at       time.Duration
		wantKept int
	}{
		{"sparse/1 has a backlog and has not answered", func(string, int32) bool { return true }, 0, 0},
		{"sparse/1 has none", func(t string, p int32) bool { return !(t == "sparse" && p == 1) }, 0, 4},
		{"the lookup failed, sparse/1 is idle", nil, idleAfter + time.Second, 4},
	} {
		a := newAligner(time.Hour, []string{"dense", "sparse"})
		a.expect(assigned, t0)
		if !a.needsBacklog() {
			t.Fatalf("%s: expect registered nothing to look up", c.name)
		}
		if c.resolve != nil {
			a.resolve(c.resolve)
		}
		parts := []kgo.FetchTopicPartition{part("dense", 0, 100, 1, 2, 3), part("sparse", 0, 100, 2, 4), part("links", 0, 100, 1)}
		rest := a.cut(parts, t0.Add(c.at))
		kept := len(parts[0].Records) + len(parts[1].Records)
		if kept != c.wantKept || len(parts[2].Records) != 1 {
			t.Errorf("%s: kept %d aligned records and %d links, want %d and 1 (rest %v)", c.name, kept, len(parts[2].Records), c.wantKept, rest)
		}
		if c.wantKept == 0 {
			a.observe(parts, rest, t0)
			a.apply(nil, t0)
			if got := a.paused["dense"]; len(got) != 1 {
				t.Errorf("%s: paused %v while awaiting sparse/1, want dense/0 and sparse/0", c.name, a.paused)
			}
			// sparse/1 answers: the batch is cut at the lowest lagging
			// position, its minute 1.
			parts = append(rest, part("sparse", 1, 100, 0, 1))
			a.cut(parts, t0.Add(time.Second))
			if n := len(parts[0].Records) + len(parts[1].Records) + len(parts[2].Records); n != 3 {
				t.Errorf("%s: kept %d records once sparse/1 answered, want 3 (up to its minute 1)", c.name, n)
			}
		}
	}
}

// TestLimitPartsKeepsAPrefixOfEachPartitionInMergeOrder: a batch over
// maxBatchRecords is cut after that many records in merge order, which is
// a prefix of every partition; the rest waits, in offset order.
func TestLimitPartsKeepsAPrefixOfEachPartitionInMergeOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	part := func(topic string, minutes ...int) kgo.FetchTopicPartition {
		fp := kgo.FetchTopicPartition{Topic: topic}
		for i, m := range minutes {
			fp.Records = append(fp.Records, &kgo.Record{Topic: topic, Offset: int64(i), Timestamp: t0.Add(time.Duration(m) * time.Minute)})
		}
		return fp
	}
	parts := []kgo.FetchTopicPartition{part("a", 1, 4, 6), part("b", 2, 3, 5, 7)}
	rest := limitParts(parts, 4) // minutes 1, 2, 3, 4
	if len(parts[0].Records) != 2 || len(parts[1].Records) != 2 {
		t.Fatalf("kept %d and %d records, want 2 and 2", len(parts[0].Records), len(parts[1].Records))
	}
	if len(rest) != 2 || rest[0].Records[0].Offset != 2 || rest[1].Records[0].Offset != 2 || len(rest[1].Records) != 2 {
		t.Fatalf("rest %v, want a from offset 2 and b from offset 2 (2 records)", rest)
	}
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: "a", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 3}}},
		{Topic: "c", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 9}}}}
	holdOffsetsAtPending(req, rest)
	if got := req.Topics[0].Partitions[0].Offset; got != 2 {
		t.Errorf("a/0 commits offset %d, want 2: its first pending record", got)
	}
	if got := req.Topics[1].Partitions[0].Offset; got != 9 {
		t.Errorf("c/0 commits offset %d, want 9: nothing of it pends", got)
	}
}

// TestBatchLimitHalvesWhenFencedAndGrowsBackWhenCommitted: a fenced
// transaction halves the records per transaction down to a floor, and
// committed ones grow it back to the cap.
func TestBatchLimitHalvesWhenFencedAndGrowsBackWhenCommitted(t *testing.T) {
	var b batchLimit
	if b.get() != maxBatchRecords {
		t.Fatalf("initial limit %d, want %d", b.get(), maxBatchRecords)
	}
	b.fenced()
	b.fenced()
	if b.get() != maxBatchRecords/4 {
		t.Errorf("after two fencings: %d, want %d", b.get(), maxBatchRecords/4)
	}
	for range 20 {
		b.fenced()
	}
	if b.get() != minBatchRecords {
		t.Errorf("after many fencings: %d, want the floor %d", b.get(), minBatchRecords)
	}
	b.committed()
	if want := minBatchRecords + minBatchRecords/8; b.get() != want {
		t.Errorf("after a commit: %d, want %d", b.get(), want)
	}
	for range 100 {
		b.committed()
	}
	if b.get() != maxBatchRecords {
		t.Errorf("after many commits: %d, want the cap %d", b.get(), maxBatchRecords)
	}
}
