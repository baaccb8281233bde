package main

import (
	"math"
	"strings"
	"testing"
)

var inf = math.Inf(1)

func TestQuantileInterpolatesWithinBuckets(t *testing.T) {
	// 100 observations: 10 at most 0.1, 50 at most 0.2, 90 at most 0.4,
	// 99 at most 0.8, all 100 at most +Inf.
	h := []bucket{{0.1, 10}, {0.2, 50}, {0.4, 90}, {0.8, 99}, {inf, 100}}
	for _, c := range []struct {
		name string
		q    float64
		bs   []bucket
		want float64
	}{
		{"first bucket from 0", 0.05, h, 0.05}, // rank 5 of 10 in [0, 0.1]
		{"bucket's upper bound", 0.1, h, 0.1},  // rank 10: the first bucket's end
		{"median", 0.5, h, 0.2},                // rank 50: the end of (0.1, 0.2]
		{"inside a bucket", 0.3, h, 0.15},      // rank 30: 20 of 40 into (0.1, 0.2]
		{"p70", 0.7, h, 0.3},                   // rank 70: 20 of 40 into (0.2, 0.4]
		{"p95", 0.95, h, 0.4 + 0.4*5.0/9.0},    // rank 95: 5 of 9 into (0.4, 0.8]
		{"p99 at a bound", 0.99, h, 0.8},       // rank 99: exactly 0.8's count
		{"in +Inf: the largest finite bound", 0.995, h, 0.8},
		{"q 1", 1, h, 0.8},
		{"q 0", 0, h, 0},
		{"q below 0", -0.1, h, math.Inf(-1)},
		{"q above 1", 1.1, h, inf},
		{"no observations", 0.5, []bucket{{0.1, 0}, {inf, 0}}, math.NaN()},
		{"no +Inf bucket", 0.5, []bucket{{0.1, 5}, {0.2, 10}}, math.NaN()},
		{"a single bucket", 0.5, []bucket{{inf, 10}}, math.NaN()},
		{"empty buckets skipped", 0.5, []bucket{{1, 0}, {2, 0}, {4, 10}, {inf, 10}}, 3},
		{"negative first bound", 0.5, []bucket{{-1, 10}, {inf, 10}}, -1},
		// A dip in the cumulative counts is evened out, as Prometheus does
		// ((0.2, 10) counts as (0.2, 20)); rank 15 is 15 of 20 into [0, 0.1].
		{"non-monotonic counts", 0.5, []bucket{{0.1, 20}, {0.2, 10}, {inf, 30}}, 0.075},
		// Buckets like the latency histogram's, 0.005 × 1.4^k: 60 of 100 at
		// most 0.0098, the rest at most 0.01372: p50 is 50/60 of [0.007, 0.0098].
		{"exponential buckets", 0.5, []bucket{{0.005, 0}, {0.007, 0}, {0.0098, 60}, {0.01372, 100}, {inf, 100}}, 0.007 + 0.0028*50.0/60.0},
	} {
		got := quantile(c.q, c.bs)
		if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want) || math.Abs(got-c.want) < 1e-12) {
			t.Errorf("%s: quantile(%g) = %g, want %g", c.name, c.q, got, c.want)
		}
	}
}

const scrape1 = `# HELP baton_pipeline_latency_seconds Wall-clock time …
# TYPE baton_pipeline_latency_seconds histogram
baton_pipeline_latency_seconds_bucket{stage="sink",le="0.1"} 5
baton_pipeline_latency_seconds_bucket{stage="sink",le="0.2"} 10
baton_pipeline_latency_seconds_bucket{stage="sink",le="+Inf"} 20
baton_pipeline_latency_seconds_sum{stage="sink"} 30
baton_pipeline_latency_seconds_count{stage="sink"} 20
baton_insert_seconds_bucket{table="x",le="+Inf"} 7
`

const scrape2 = `# TYPE baton_pipeline_latency_seconds histogram
baton_pipeline_latency_seconds_bucket{stage="normalize",le="0.1"} 4
baton_pipeline_latency_seconds_bucket{stage="normalize",le="0.2"} 4
baton_pipeline_latency_seconds_bucket{stage="normalize",le="+Inf"} 4
baton_pipeline_latency_seconds_sum{stage="normalize"} 0.2
baton_pipeline_latency_seconds_count{stage="normalize"} 4
baton_pipeline_latency_seconds_bucket{stage="sink",le="0.1"} 5
baton_pipeline_latency_seconds_bucket{stage="sink",le="0.2"} 110
baton_pipeline_latency_seconds_bucket{stage="sink",le="+Inf"} 120 1700000000000
baton_pipeline_latency_seconds_sum{stage="sink"} 45
baton_pipeline_latency_seconds_count{stage="sink"} 120
`

func TestSubtractGivesTheObservationsBetweenScrapes(t *testing.T) {
	before, err := parse(strings.NewReader(scrape1), "baton_pipeline_latency_seconds", "stage")
	if err != nil {
		t.Fatal(err)
	}
	after, err := parse(strings.NewReader(scrape2), "baton_pipeline_latency_seconds", "stage")
	if err != nil {
		t.Fatal(err)
	}
	d, err := subtract(after, before)
	if err != nil {
		t.Fatal(err)
	}
	sink := d["sink"]
	if sink == nil || sink.count != 100 || sink.sum != 15 {
		t.Fatalf("sink difference = %+v, want 100 observations summing to 15", sink)
	}
	// Between the scrapes: 0 at most 0.1, 100 at most 0.2, 100 in all;
	// before them 10 of 20 lay above 0.2 and would have put p99 in +Inf.
	if got := quantile(0.99, sink.sorted()); math.Abs(got-0.199) > 1e-12 {
		t.Errorf("sink p99 = %g, want 0.199", got)
	}
	if n := d["normalize"]; n == nil || n.count != 4 || quantile(0.5, n.sorted()) != 0.05 {
		t.Errorf("normalize (absent from the first scrape) = %+v, want 4 observations, p50 0.05", n)
	}
	if _, err := subtract(before, after); err == nil || !strings.Contains(err.Error(), "restarted") {
		t.Errorf("subtracting a later scrape: err = %v, want a restart error", err)
	}
}

func TestParseSampleLabels(t *testing.T) {
	name, labels, v, err := parseSample(`m_bucket{a="x,y}",b="q\"uote\\",le="+Inf"} 3.5e2 123`)
	if err != nil || name != "m_bucket" || labels["a"] != "x,y}" || labels["b"] != `q"uote\` || labels["le"] != "+Inf" || v != 350 {
		t.Errorf("parseSample = %q %q %g %v", name, labels, v, err)
	}
	if _, _, v, err := parseSample(`m 7`); err != nil || v != 7 {
		t.Errorf("parseSample without labels = %g %v", v, err)
	}
	for _, bad := range []string{`m{a="x"`, `m{a=x} 1`, `m`, `m{a="x"} one`} {
		if _, _, _, err := parseSample(bad); err == nil {
			t.Errorf("parseSample(%q) gave no error", bad)
		}
	}
}
