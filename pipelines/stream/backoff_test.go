package stream

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestBackoffDoublesToItsCapWithJitterAndResets(t *testing.T) {
	r := 0.0
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second, Rand: func() float64 { return r }}
	var low []time.Duration
	for range 6 {
		low = append(low, b.Next())
	}
	want := []time.Duration{50, 100, 200, 400, 500, 500} // half of 100, 200, 400, 800, then the 1 s cap
	for i, w := range want {
		if low[i] != w*time.Millisecond {
			t.Fatalf("waits with the least jitter %v, want %v ms", low, want)
		}
	}
	r = 0.999
	if d := b.Next(); d < 999*time.Millisecond || d >= time.Second {
		t.Errorf("wait with the most jitter at the cap = %v, want just under 1s", d)
	}
	if b.Failures() != 7 {
		t.Errorf("failures = %d, want 7", b.Failures())
	}
	b.Reset()
	r = 0.5
	if d := b.Next(); d != 75*time.Millisecond {
		t.Errorf("first wait after a reset = %v, want 75ms (half of 100 ms plus half of the jitter)", d)
	}
	var zero Backoff
	for range 100 {
		if d := zero.Next(); d < 50*time.Millisecond || d >= 10*time.Second {
			t.Fatalf("the zero Backoff waited %v, outside 50ms..10s", d)
		}
	}
}

// erroredFetch is one poll that brought only err for topic.
func erroredFetch(topic string, err error) kgo.Fetches {
	return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: topic, Partitions: []kgo.FetchPartition{{Partition: 0, Err: err}}}}}}
}

func TestFetchErrorsAreLoggedOncePerIntervalWithACountAndBackedOff(t *testing.T) {
	var log bytes.Buffer
	errs := testMetrics(prometheus.NewRegistry()).FetchErrors
	f := NewFetchErrors(slog.New(slog.NewTextHandler(&log, nil)), "unify", errs)
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	f.backoff = Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond}
	ctx := context.Background()
	for range 1000 { // a deleted topic: every fetch fails at once
		f.After(ctx, erroredFetch("t.canonical", kerr.UnknownTopicID))
		now = now.Add(10 * time.Millisecond)
	}
	f.After(ctx, erroredFetch("t.canonical", context.Canceled)) // a stop, not an error
	if counted := testutil.ToFloat64(errs.WithLabelValues("t.canonical")); counted != 1000 {
		t.Errorf("counted %v fetch errors, want 1000", counted)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	// 1000 polls 10 ms apart are 10 s: the first line, none until 30 s.
	if len(lines) != 1 || !strings.Contains(lines[0], "UNKNOWN_TOPIC_ID") {
		t.Fatalf("logged %d lines for 1,000 identical fetch errors in 10 s, want 1:\n%s", len(lines), log.String())
	}
	now = now.Add(30 * time.Second)
	f.After(ctx, erroredFetch("t.canonical", kerr.UnknownTopicID))
	lines = strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "times_since_last_logged=1000") {
		t.Fatalf("after the interval: %d lines, want a second one counting the 1,000 since the first:\n%s", len(lines), log.String())
	}
	if f.backoff.Failures() != 1001 {
		t.Errorf("back-off failures = %d after 1,001 polls of errors only", f.backoff.Failures())
	}
	f.After(ctx, kgo.Fetches{})
	if f.backoff.Failures() != 0 {
		t.Errorf("a clean poll left %d failures: the back-off must reset", f.backoff.Failures())
	}
}
