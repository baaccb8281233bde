package stream

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Backoff is capped exponential back-off with jitter: the n-th failure in
// a row waits between half and all of min(Max, Base·2^(n-1)), so that
// processes failing together (a broker restart) do not retry together,
// and a dependency that stays away costs one attempt per Max. Reset after
// a success. The zero value uses 100 ms and 10 s. Not safe for concurrent
// use.
type Backoff struct {
	Base, Max time.Duration
	// Rand returns a float in [0, 1); nil: math/rand/v2.
	Rand     func() float64
	failures int
}

// Next counts a failure and returns how long to wait before the next try.
func (b *Backoff) Next() time.Duration {
	base, ceiling := b.Base, b.Max
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	if ceiling <= 0 {
		ceiling = 10 * time.Second
	}
	d := ceiling
	if b.failures < 62 && base<<b.failures > 0 && base<<b.failures < ceiling {
		d = base << b.failures
	}
	b.failures++
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// Reset starts over after a success.
func (b *Backoff) Reset() { b.failures = 0 }

// Failures is the number of failures in a row so far.
func (b *Backoff) Failures() int { return b.failures }

// Wait sleeps for Next, or until ctx is done.
func (b *Backoff) Wait(ctx context.Context) { sleep(ctx, b.Next()) }

// fetchErrors reports a consumer's fetch errors without flooding its log:
// each distinct error (topic and text) is logged when first seen and then
// at most once per interval, with how many times it came meanwhile; every
// one is counted in the metric. A topic deleted under a running stage
// answers every fetch with UNKNOWN_TOPIC_ID: logged per fetch, that was
// millions of lines in minutes.
type FetchErrors struct {
	logger   *slog.Logger
	stage    string
	counter  *prometheus.CounterVec // baton_fetch_errors_total{topic}
	interval time.Duration
	now      func() time.Time
	seen     map[string]*fetchErrorSeen
	backoff  Backoff
}

type fetchErrorSeen struct {
	logged time.Time
	since  int // occurrences since it was last logged
}

// NewFetchErrors reports for stage into logger and counter.
func NewFetchErrors(logger *slog.Logger, stage string, counter *prometheus.CounterVec) *FetchErrors {
	return &FetchErrors{logger: logger, stage: stage, counter: counter, interval: 30 * time.Second, now: time.Now,
		seen: map[string]*fetchErrorSeen{}, backoff: Backoff{Base: 100 * time.Millisecond, Max: 5 * time.Second}}
}

// report records the fetch errors of one poll (a cancelled poll's are not
// errors) and returns how many there were.
func (f *FetchErrors) report(fetches kgo.Fetches) int {
	n := 0
	now := f.now()
	fetches.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		n++
		f.counter.WithLabelValues(topic).Inc()
		key := topic + "\x00" + err.Error()
		s := f.seen[key]
		if s == nil {
			s = &fetchErrorSeen{}
			f.seen[key] = s
		}
		s.since++
		if !s.logged.IsZero() && now.Sub(s.logged) < f.interval {
			return
		}
		f.logger.Warn("fetch error", "stage", f.stage, "topic", topic, "partition", p, "err", err,
			"times_since_last_logged", s.since, "log_interval", f.interval)
		s.logged, s.since = now, 0
	})
	return n
}

// After reports one poll and, when it brought errors and nothing else,
// waits with back-off before the next: a fetch that fails at once must
// not spin. A poll with records, or with no error at all, resets the
// back-off; a cancelled one (a stop) changes nothing.
func (f *FetchErrors) After(ctx context.Context, fetches kgo.Fetches) {
	n := f.report(fetches)
	switch {
	case n > 0 && fetches.NumRecords() == 0:
		f.backoff.Wait(ctx)
	case fetches.NumRecords() > 0 || len(fetches.Errors()) == 0:
		f.backoff.Reset()
	}
}
