package pipelines

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

func TestErrorCountersStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.startSinkTables(sinkTables(topology.New("")))
	nm := NewNormalizeMetrics(reg)
	nm.StartAtZero(m)
	for name, want := range map[string]int{
		"baton_insert_errors_total":      9, // every sink table
		"baton_rows_written_total":       9,
		"baton_duplicate_events_total":   len(schemas.Systems), // every source system
		"baton_dead_letters_total":       8,                    // every normalize reason
		"baton_unmapped_status_total":    0,
		"baton_canonical_events_total":   0,
		"baton_batches_written_total":    9,
		"baton_records_consumed_total":   0,
		"baton_pipeline_latency_seconds": 0,
	} {
		if got := testutil.CollectAndCount(reg, name); got != want {
			t.Errorf("%s: %d series at start, want %d", name, got, want)
		}
	}
	if v := testutil.ToFloat64(m.InsertErrors.WithLabelValues("wismo_tickets")); v != 0 {
		t.Errorf("insert errors of wismo_tickets start at %v", v)
	}
}

func TestUnmappedCodesAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	nm := NewNormalizeMetrics(reg)
	if err := nm.BoundUnmappedCodes(reg, 3); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		nm.Unmapped.WithLabelValues("carrier", fmt.Sprintf("code-%d", i)).Inc()
	}
	nm.Unmapped.WithLabelValues("carrier", "code-1").Inc() // a kept code keeps counting
	if n := testutil.CollectAndCount(reg, "baton_unmapped_status_total"); n != 4 {
		t.Errorf("%d series for 10 codes with a bound of 3, want 3 codes and other", n)
	}
	for code, want := range map[string]float64{"code-0": 1, "code-1": 2, "code-2": 1, OtherCode: 7} {
		if got := testutil.ToFloat64(nm.Unmapped.WithLabelValues("carrier", code)); got != want {
			t.Errorf("code %s counted %v, want %v", code, got, want)
		}
	}
	if err := nm.BoundUnmappedCodes(prometheus.NewRegistry(), 3); err == nil {
		t.Error("bounding on a registry without the counter succeeded")
	}
}
