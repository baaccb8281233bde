package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/sr"
)

// fakeClock is a settable now for Stalls.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newTestStalls(t *testing.T) (*Stalls, *fakeClock, *bytes.Buffer, *prometheus.Registry) {
	t.Helper()
	var log bytes.Buffer
	reg := prometheus.NewRegistry()
	s := NewStalls(reg, slog.New(slog.NewTextHandler(&log, nil)))
	clock := &fakeClock{t: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
	s.Now = clock.now
	return s, clock, &log, reg
}

// TestStallsExportLogAndReportAWaitPastTheThreshold: a partition that
// waits is exported with how long it waited, becomes stalled (logged once,
// listed for /readyz) past After, and is 0 again once it moves; a stage
// that does not run records no waits.
func TestStallsExportLogAndReportAWaitPastTheThreshold(t *testing.T) {
	s, clock, log, reg := newTestStalls(t)
	s.After = 30 * time.Second
	s.Waiting("sink", 3, "orders", "ClickHouse") // not running: ignored
	if n := testutil.CollectAndCount(reg, "baton_stage_stalled_seconds"); n != 0 {
		t.Fatalf("a stage that is not running exports %d series, want none", n)
	}
	s.Running("sink", true)
	s.Waiting("sink", 3, "orders", "the committed offset to move")
	s.Moved("sink", 4, "orders")
	clock.advance(20 * time.Second)
	s.Waiting("sink", 3, "orders", "the committed offset to move")
	s.Waiting("sink", 3, "dead", "the committed offset to move") // a second input of partition 3, waiting for less time
	if v3, v4 := stalledSeconds(t, reg, "3"), stalledSeconds(t, reg, "4"); v3 != 20 || v4 != 0 {
		t.Errorf("stalled seconds %v and %v, want 20 (the longest wait of partition 3) and 0 (partition 4 moved)", v3, v4)
	}
	if got := s.Stalled(); len(got) != 0 || strings.Contains(log.String(), "stalled") {
		t.Errorf("stalled before the threshold: %v, log %q", got, log.String())
	}
	clock.advance(15 * time.Second)
	s.Waiting("sink", 3, "orders", "the committed offset to move")
	s.Waiting("sink", 3, "orders", "the committed offset to move")
	if got := s.Stalled(); len(got) != 1 || !strings.Contains(got[0], "sink partition 3 (orders)") || !strings.Contains(got[0], "35s") {
		t.Errorf("Stalled() = %q, want sink partition 3 (orders) for 35s", got)
	}
	if n := strings.Count(log.String(), "partition stalled"); n != 1 {
		t.Errorf("the stall was logged %d times, want once:\n%s", n, log.String())
	}
	s.Moved("sink", 3, "orders")
	if got := s.Stalled(); len(got) != 0 {
		t.Errorf("after the partition moved: Stalled() = %q", got)
	}
	if !strings.Contains(log.String(), "moves again") {
		t.Errorf("the end of a logged stall was not logged:\n%s", log.String())
	}
	if v := stalledSeconds(t, reg, "3"); v != 15 {
		t.Errorf("partition 3 after its main input moved exports %v, want 15 (its other input still waits)", v)
	}
	s.Running("sink", false)
	if got := s.RunningStages(); len(got) != 0 {
		t.Errorf("running stages after the sink stopped: %v", got)
	}
	if v := stalledSeconds(t, reg, "3"); v != 0 {
		t.Errorf("a stopped stage's partition exports %v, want 0", v)
	}
}

// stalledSeconds is the sink's baton_stage_stalled_seconds of partition p.
func stalledSeconds(t *testing.T, reg *prometheus.Registry, p string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if f.GetName() == "baton_stage_stalled_seconds" && labels["stage"] == "sink" && labels["partition"] == p {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no baton_stage_stalled_seconds series for partition %s", p)
	return 0
}

// TestCanHealTellsOutagesFromMistakes: what a dependency that is away
// answers is retried at start-up; bad credentials, an incompatible schema
// or a plain mistake are not.
func TestCanHealTellsOutagesFromMistakes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("clickhouse: dial: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{fmt.Errorf("unable to dial: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("read: %w", io.EOF), true},
		{fmt.Errorf("create topics: %w", kerr.CoordinatorNotAvailable), true},
		{&sr.ResponseError{StatusCode: 503}, true},
		{&sr.ResponseError{StatusCode: 409, Message: "incompatible schema"}, false},
		{fmt.Errorf("create topics: %w", kerr.TopicAuthorizationFailed), false},
		{errors.New("code: 516, message: Authentication failed"), false},
		{nil, false},
	} {
		if got := CanHeal(c.err); got != c.want {
			t.Errorf("CanHeal(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
