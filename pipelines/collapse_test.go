package pipelines

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/topology"
)

type keyedRow struct {
	value  string
	offset int64
}

func (r *keyedRow) SetPosition(_ string, _ int32, offset int64) { r.offset = offset }

// TestACompactedTopicsBatchKeepsTheLastRowPerKey: a later record of a key
// replaces the batch's row of it in place; a record that fails to project
// replaces nothing; other keys keep their order.
func TestACompactedTopicsBatchKeepsTheLastRowPerKey(t *testing.T) {
	rows := &rowsOf[keyedRow, *keyedRow]{
		project: func(r *kgo.Record, _ schemas.Decoded, _ map[string]any) (keyedRow, error) {
			if string(r.Value) == "bad" {
				return keyedRow{}, errors.New("malformed")
			}
			return keyedRow{value: string(r.Value)}, nil
		},
		latest: map[string]int{},
	}
	for i, kv := range [][2]string{{"a", "a1"}, {"b", "b1"}, {"a", "a2"}, {"c", "c1"}, {"b", "bad"}, {"a", "a3"}} {
		err := rows.add(&kgo.Record{Key: []byte(kv[0]), Value: []byte(kv[1]), Offset: int64(i)}, schemas.Decoded{}, nil)
		if (err != nil) != (kv[1] == "bad") {
			t.Fatalf("add %v: %v", kv, err)
		}
	}
	want := []keyedRow{{"a3", 5}, {"b1", 1}, {"c1", 3}}
	if len(rows.rows) != len(want) || rows.len() != len(want) {
		t.Fatalf("rows %v, want %v", rows.rows, want)
	}
	for i := range want {
		if rows.rows[i] != want[i] {
			t.Errorf("row %d: %v, want %v", i, rows.rows[i], want[i])
		}
	}
}

// TestOnlyCompactedTopicsCollapse: order_states (compacted) keeps one row
// per key per batch; the timelines keep every record.
func TestOnlyCompactedTopicsCollapse(t *testing.T) {
	for _, tb := range sinkTables(topology.New("")) {
		collapses := false
		switch r := tb.newRows().(type) {
		case *rowsOf[clickhouse.OrderState, *clickhouse.OrderState]:
			collapses = r.latest != nil
			if !collapses {
				t.Errorf("%s does not collapse", tb.name)
			}
		case *rowsOf[clickhouse.OrderTransition, *clickhouse.OrderTransition]:
			collapses = r.latest != nil
		case *rowsOf[clickhouse.SyncCheck, *clickhouse.SyncCheck]:
			collapses = r.latest != nil
		}
		if collapses && tb.name != "order_states" {
			t.Errorf("%s collapses its rows", tb.name)
		}
	}
}
