package pipelines

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// Counters that start at zero. A counter series appears only at its first
// increment, and rate() needs two samples: an error counter created by the
// error it counts hides that first error from every alert. Each known label
// value is therefore created up front.

// startSinkTables creates the per-table sink series of every table.
func (m *Metrics) startSinkTables(tables []sinkTable) {
	for _, t := range tables {
		m.InsertErrors.WithLabelValues(t.name)
		m.RowsWritten.WithLabelValues(t.name)
		m.BatchesWritten.WithLabelValues(t.name)
	}
}

// StartAtZero creates the normalize stage's series of every source system:
// duplicates, and dead letters of every reason a stage can give.
func (m *NormalizeMetrics) StartAtZero(pm *Metrics) {
	for _, sys := range schemas.Systems {
		m.Duplicates.WithLabelValues(string(sys))
	}
	for _, reason := range []string{normalize.ReasonMissingID, normalize.ReasonInvalidTime, normalize.ReasonFutureTime,
		normalize.ReasonUnmappedStatus, normalize.ReasonUnlinked, records.ReasonUndecodable, records.ReasonInvalidRecord, records.ReasonUnknownTopic} {
		pm.DeadLetters.WithLabelValues(topology.Normalize.Name, reason)
	}
}

// DefaultMaxUnmappedCodes bounds the code label of
// baton_unmapped_status_total.
const DefaultMaxUnmappedCodes = 100

// OtherCode is the code label of the unmapped codes past the bound.
const OtherCode = "other"

// BoundUnmappedCodes replaces m.Unmapped (registered on reg) with a counter
// whose code label keeps the first maxCodes distinct codes and counts every
// later one as "other". Codes come from vendors, so without a bound a
// misbehaving source (a code with an ID in it) creates a series per event;
// the full code is in each event's dead letter.
func (m *NormalizeMetrics) BoundUnmappedCodes(reg prometheus.Registerer, maxCodes int) error {
	bound := &labelBound{max: maxCodes, seen: map[string]bool{}}
	unmapped := prometheus.V2.NewCounterVec(prometheus.CounterVecOpts{
		CounterOpts: prometheus.CounterOpts{Name: "baton_unmapped_status_total",
			// NewNormalizeMetrics' help: a registry refuses another for the same name.
			Help: "Source events whose status code is not in the system's status map (dead-lettered), by system and code."},
		VariableLabels: prometheus.ConstrainedLabels{{Name: "system"}, {Name: "code", Constraint: bound.fold}},
	})
	if !reg.Unregister(m.Unmapped) {
		return fmt.Errorf("baton_unmapped_status_total is not registered")
	}
	if err := reg.Register(unmapped); err != nil {
		return err
	}
	m.Unmapped = unmapped
	return nil
}

// labelBound keeps the first max distinct values of a label and folds the
// rest into OtherCode. Safe for concurrent use.
type labelBound struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func (b *labelBound) fold(v string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[v] {
		return v
	}
	if len(b.seen) >= b.max {
		return OtherCode
	}
	b.seen[v] = true
	return v
}
