// Package topology declares baton's Kafka topology once: every topic it
// owns (its name under a prefix, partitions, key, value schema, cleanup
// policy and the ClickHouse table its records are stored in) and every
// stage (what it reads, what it writes, its changelog), as goka's
// DefineGroup does. Topic creation, schema registration, the sink's
// tables and the stages' wiring derive from these declarations, and Check
// verifies them at start. The gateway, the stages and the tools all name
// topics through it; it keeps no client of its own (EnsureTopics and
// RegisterSchemas take theirs).
package topology

import (
	"errors"
	"fmt"
	"slices"

	"github.com/baton-pipeline/baton/schemas"
)

// DefaultPrefix prefixes every topic baton owns. A different prefix gives
// an isolated set of topics on a shared cluster (tests use one each).
const DefaultPrefix = "baton."

// DefaultPartitions is the partition count of the source topics and of
// every topic keyed like them: enough for a handful of `baton run`
// processes to share the load.
const DefaultPartitions = 6

// Topic is one Kafka topic baton owns, with what its records hold.
type Topic struct {
	Name       string
	Partitions int32
	// Compacted topics keep the latest value per key (state changelogs,
	// the order views).
	Compacted bool
	// Schema is the embedded schema name of the topic's values; empty for
	// internal topics (state changelogs) whose values are not Avro.
	Schema string
	// Key says what a record's key holds.
	Key string
	// Table is the ClickHouse table the sink stores the topic's records
	// in; empty when they are not stored.
	Table string
}

// ID names one of the topics a stage writes (the source topics are named
// by their system: Topics.Source).
type ID uint8

// The topics the stages write.
const (
	// DeadLetter holds the records a stage or the gateway could not
	// process, each with its reason.
	DeadLetter ID = iota + 1
	// Canonical holds the canonical events: the normalize stage's output,
	// every later stage's input.
	Canonical
	// Links is the normalize stage's repartition topic: tracking links
	// re-keyed by tracking number so they land in the partition number of
	// that tracking number's carrier scans (the carrier source topic is
	// keyed the same way and has as many partitions), ticket links
	// re-keyed by ticket ID so they land in that of the ticket's
	// order-less help-desk events, and the link sources' progress.
	Links
	// NormalizeChangelog is the normalize state's changelog: partition p
	// holds the state of input partition number p.
	NormalizeChangelog
	// Transitions holds the canonical timeline: the unify stage's order
	// transitions.
	Transitions
	// OrderStates holds the unified order views: the latest record per
	// order is its current truth, each system's view and its shipments.
	OrderStates
	// UnifyChangelog is the unify state's changelog: partition p holds the
	// open orders of canonical partition p.
	UnifyChangelog
	// SyncChecks holds every closed viewer check, one record per check.
	SyncChecks
	// FailedSyncs holds one record per check that breached its SLA or a
	// confirmed conflict: what on-call alerting and the failed-sync
	// dashboards read.
	FailedSyncs
	// DelayNotices holds the delay notices: every notice when it opens and
	// again whenever it changes (told, closed, flagged for refund), with a
	// higher version.
	DelayNotices
	// WismoTickets holds the help-desk tickets classified as "where is my
	// order?", each attributed to the cause visible when the customer
	// asked; the monthly review reads them.
	WismoTickets
	lastID = WismoTickets
)

// decl is a topic's declaration; the name is the prefix plus suffix.
type decl struct {
	suffix    string
	schema    string
	key       string
	table     string
	compacted bool
	// single: one partition, whatever the topic set's count (records
	// keyed by nothing a consumer needs together).
	single bool
}

const byOrderID = "order ID"

var decls = [lastID + 1]decl{
	DeadLetter:         {suffix: "deadletter", schema: "dead_letter", key: "the rejected record's key", table: "dead_letters", single: true},
	Canonical:          {suffix: "canonical", schema: "canonical_event", key: byOrderID, table: "canonical_events"},
	Links:              {suffix: "normalize.links", schema: "tracking_link", key: "tracking number or ticket ID"},
	NormalizeChangelog: {suffix: "normalize.changelog", key: "state entry", compacted: true},
	Transitions:        {suffix: "transitions", schema: "order_transition", key: byOrderID, table: "order_transitions"},
	OrderStates:        {suffix: "order-state", schema: "order_state", key: byOrderID, table: "order_states", compacted: true},
	UnifyChangelog:     {suffix: "unify.changelog", key: byOrderID, compacted: true},
	SyncChecks:         {suffix: "sync-checks", schema: "sync_check", key: byOrderID, table: "sync_checks"},
	FailedSyncs:        {suffix: "failed-syncs", schema: "failed_sync", key: byOrderID, table: "failed_syncs"},
	DelayNotices:       {suffix: "delay-notices", schema: "delay_notice", key: byOrderID, table: "delay_notices"},
	WismoTickets:       {suffix: "wismo-tickets", schema: "wismo_ticket", key: byOrderID, table: "wismo_tickets"},
}

// SourceTable is the ClickHouse table every source topic is stored in.
const SourceTable = "source_events"

// Topics names every topic under one prefix.
type Topics struct {
	Prefix     string
	Partitions int32
}

// New returns the topic set for a prefix ("" means DefaultPrefix).
func New(prefix string) Topics {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return Topics{Prefix: prefix, Partitions: DefaultPartitions}
}

// Topic is the declared topic id.
func (t Topics) Topic(id ID) Topic {
	d := decls[id]
	parts := t.Partitions
	if d.single {
		parts = 1
	}
	return Topic{Name: t.Prefix + d.suffix, Partitions: parts, Compacted: d.compacted, Schema: d.schema, Key: d.key, Table: d.table}
}

// Name is the name of topic id.
func (t Topics) Name(id ID) string { return t.Prefix + decls[id].suffix }

// Source is the topic a source system's change stream lands in.
func (t Topics) Source(s schemas.System) Topic {
	return Topic{Name: t.Prefix + "source." + string(s), Partitions: t.Partitions, Schema: s.SchemaName(),
		Key: "the system's key field", Table: SourceTable}
}

// Sources lists the source topics, one per system.
func (t Topics) Sources() []Topic {
	out := make([]Topic, len(schemas.Systems))
	for i, s := range schemas.Systems {
		out[i] = t.Source(s)
	}
	return out
}

// All lists every topic baton owns: the source topics, then the declared
// ones in ID order.
func (t Topics) All() []Topic {
	out := t.Sources()
	for id := DeadLetter; id <= lastID; id++ {
		out = append(out, t.Topic(id))
	}
	return out
}

// Stored lists the declared topics whose records the sink stores, in ID
// order (the source topics are stored too: Sources).
func (t Topics) Stored() []Topic {
	var out []Topic
	for id := DeadLetter; id <= lastID; id++ {
		if decls[id].table != "" {
			out = append(out, t.Topic(id))
		}
	}
	return out
}

// SystemOf returns the source system whose topic this is.
func (t Topics) SystemOf(topic string) (schemas.System, bool) {
	for _, s := range schemas.Systems {
		if t.Source(s).Name == topic {
			return s, true
		}
	}
	return "", false
}

// Stage declares one processing stage: its consumer group's name suffix,
// what it reads and writes, and its state's changelog (0: stateless).
type Stage struct {
	Name string
	// Sources: the stage reads every source topic, besides Inputs.
	Sources   bool
	Inputs    []ID
	Outputs   []ID
	Changelog ID
}

// The stages of `baton run`, in pipeline order.
var (
	Normalize = Stage{Name: "normalize", Sources: true, Inputs: []ID{Links},
		Outputs: []ID{Canonical, Links, DeadLetter}, Changelog: NormalizeChangelog}
	Unify = Stage{Name: "unify", Inputs: []ID{Canonical},
		Outputs:   []ID{Transitions, OrderStates, SyncChecks, FailedSyncs, DelayNotices, WismoTickets, DeadLetter},
		Changelog: UnifyChangelog}
	Sink = Stage{Name: "sink", Sources: true, Inputs: storedIDs(), Outputs: []ID{DeadLetter}}
	// Stages lists them in pipeline order.
	Stages = []Stage{Normalize, Unify, Sink}
)

func storedIDs() []ID {
	var out []ID
	for id := DeadLetter; id <= lastID; id++ {
		if decls[id].table != "" {
			out = append(out, id)
		}
	}
	return out
}

// InputNames are the names of the topics the stage reads: its Inputs,
// then the source topics when it reads them.
func (st Stage) InputNames(t Topics) []string {
	var out []string
	for _, id := range st.Inputs {
		out = append(out, t.Name(id))
	}
	if st.Sources {
		for _, s := range t.Sources() {
			out = append(out, s.Name)
		}
	}
	return out
}

// Check verifies the declarations: names unique under any prefix, every
// topic a stage reads written by an earlier stage or by itself (a
// repartition) or a source topic, every stored or Avro topic written by
// some stage, a changelog compacted, internal and written by its stage
// alone, and every schema one the schemas package embeds. `baton run`
// calls it at start; a failure is a programming error.
func Check() error {
	var errs []error
	names := map[string]ID{}
	for id := DeadLetter; id <= lastID; id++ {
		d := decls[id]
		if d.suffix == "" || d.key == "" {
			errs = append(errs, fmt.Errorf("topic %d: no name or no key declared", id))
		}
		if other, dup := names[d.suffix]; dup {
			errs = append(errs, fmt.Errorf("topics %d and %d are both named %q", other, id, d.suffix))
		}
		names[d.suffix] = id
		if d.schema != "" {
			if _, err := schemas.Load(d.schema); err != nil {
				errs = append(errs, fmt.Errorf("topic %s: %w", d.suffix, err))
			}
		}
	}
	written := map[ID]string{}
	var sinkInputs []ID
	for _, st := range Stages {
		if st.Name == Sink.Name {
			sinkInputs = st.Inputs
		}
		for _, id := range st.Outputs {
			written[id] = st.Name
		}
		for _, id := range st.Inputs {
			if _, ok := written[id]; !ok {
				errs = append(errs, fmt.Errorf("stage %s reads %s, which no stage before it writes", st.Name, decls[id].suffix))
			}
		}
		if st.Changelog != 0 {
			d := decls[st.Changelog]
			if !d.compacted || d.schema != "" || d.table != "" {
				errs = append(errs, fmt.Errorf("stage %s: changelog %s must be compacted, internal and not stored", st.Name, d.suffix))
			}
			if w, ok := written[st.Changelog]; ok {
				errs = append(errs, fmt.Errorf("changelog %s of stage %s is also written by %s", d.suffix, st.Name, w))
			}
		}
	}
	for id := DeadLetter; id <= lastID; id++ {
		d := decls[id]
		_, isOutput := written[id]
		isChangelog := false
		for _, st := range Stages {
			isChangelog = isChangelog || st.Changelog == id
		}
		if !isOutput && !isChangelog {
			errs = append(errs, fmt.Errorf("topic %s is declared but no stage writes it", d.suffix))
		}
		if d.table != "" && !slices.Contains(sinkInputs, id) {
			errs = append(errs, fmt.Errorf("topic %s has table %s but the sink does not read it", d.suffix, d.table))
		}
	}
	return errors.Join(errs...)
}
