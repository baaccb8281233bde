package main

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
)

func TestPaceReleaseSchedule(t *testing.T) {
	const tick = 10 * time.Millisecond
	for _, c := range []struct {
		i    int
		rate float64
		want time.Duration
	}{
		{0, 500, 0},                     // the first event goes at once
		{1, 500, 10 * time.Millisecond}, // due at 2 ms: the next tick
		{5, 500, 10 * time.Millisecond}, // due at 10 ms exactly
		{6, 500, 20 * time.Millisecond}, // due at 12 ms
		{500, 500, time.Second},
		{1, 1, time.Second},
		{3, 0.5, 6 * time.Second},
		{1, 3, 340 * time.Millisecond},   // due at 333.3… ms
		{1, 1e6, 10 * time.Millisecond},  // faster than the tick
		{1_000_000, 1e6, time.Second},    // 100 ticks of 10,000
		{59_999, 500, 120 * time.Second}, // due at 119.998 s: rounded up to its tick
	} {
		if got := paceRelease(c.i, c.rate, tick); got != c.want {
			t.Errorf("paceRelease(%d, %g, %s) = %s, want %s", c.i, c.rate, tick, got, c.want)
		}
	}
}

// TestPaceReleasesSteadyGroups checks the schedule's shape: over a
// minute at 500/s every tick but the first releases 5 events, none is
// released before it is due, and none more than a tick after.
func TestPaceReleasesSteadyGroups(t *testing.T) {
	const (
		rate = 500.0
		tick = 10 * time.Millisecond
		n    = 30_000
	)
	perTick := map[time.Duration]int{}
	prev := time.Duration(0)
	for i := range n {
		at := paceRelease(i, rate, tick)
		due := time.Duration(float64(i) * float64(time.Second) / rate)
		if at < due || at-due >= tick || at%tick != 0 || at < prev {
			t.Fatalf("event %d released at %s, due at %s (previous at %s)", i, at, due, prev)
		}
		prev = at
		perTick[at]++
	}
	if perTick[0] != 1 {
		t.Errorf("tick 0 releases %d events, want 1", perTick[0])
	}
	for at := tick; at < prev; at += tick {
		if perTick[at] != 5 {
			t.Fatalf("tick at %s releases %d events, want 5", at, perTick[at])
		}
	}
}

// TestSimulatePaceStampsRecordsWithTheirProductionTime runs a short paced
// simulation: every record's timestamp lies within the run's wall-clock
// span (not at its simulated arrival), the payloads keep their simulated
// times, and the run takes at least as long as the pace demands.
func TestSimulatePaceStampsRecordsWithTheirProductionTime(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	before := time.Now().Add(-time.Millisecond) // Kafka timestamps are milliseconds
	_, errOut, err := s.run("simulate", "--orders", "3", "--seed", "3", "--pace", "200", "--progress", "never")
	after := time.Now().Add(time.Millisecond)
	if err != nil {
		t.Fatalf("simulate --pace: %v\n%s", err, errOut)
	}
	topic := s.topics().Source(schemas.OMS).Name
	recs := s.consumeAll(topic, 1)
	dec := s.decoder()
	for _, r := range recs {
		if r.Timestamp.Before(before) || r.Timestamp.After(after) {
			t.Errorf("record at offset %d has timestamp %s, want the time it was produced, within [%s, %s]",
				r.Offset, r.Timestamp.Format(time.RFC3339Nano), before.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano))
		}
		d, err := dec.Decode(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"occurred_at", "recorded_at"} {
			at, err := schemas.PlainTimeField(d.Plain, f)
			if err != nil {
				t.Fatalf("payload %s = %#v, want a time: %v", f, d.Plain[f], err)
			}
			if !at.Before(simulator.DefaultStart.Add(24 * time.Hour)) {
				t.Errorf("payload %s = %s: want the simulated time (the run starts at %s)", f, at, simulator.DefaultStart)
			}
		}
	}
	// Every source topic together: n events at 200/s take (n-1)/200 s at
	// least, the schedule's lower bound (no upper bound: a busy machine
	// may be slower).
	total := 0
	for _, sys := range schemas.Systems {
		hw, err := s.adm.ListEndOffsets(context.Background(), s.topics().Source(sys).Name)
		if err != nil {
			t.Fatal(err)
		}
		hw.Each(func(o kadm.ListedOffset) { total += int(o.Offset) })
	}
	if min := paceRelease(total-1, 200, paceTick); after.Sub(before) < min {
		t.Errorf("%d events paced at 200/s took %s, want at least %s", total, after.Sub(before), min)
	}
}
