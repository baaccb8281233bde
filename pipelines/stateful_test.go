package pipelines

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
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
	if err := mergeByTimestamp(parts, func(r *kgo.Record) error {
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
