package topology

import (
	"slices"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/schemas"
)

// TestNamesAreThoseOfEarlierReleases: topic names are a deployment's data;
// a declaration change must not rename one. (baton.source.returns came
// with the returns portal, the seventh source system.)
func TestNamesAreThoseOfEarlierReleases(t *testing.T) {
	var got []string
	for _, tp := range New("").All() {
		got = append(got, tp.Name)
	}
	want := []string{
		"baton.source.storefront", "baton.source.oms", "baton.source.wms", "baton.source.carrier", "baton.source.helpdesk", "baton.source.notifications",
		"baton.source.returns",
		"baton.deadletter", "baton.canonical", "baton.normalize.links", "baton.normalize.changelog",
		"baton.transitions", "baton.order-state", "baton.unify.changelog",
		"baton.sync-checks", "baton.failed-syncs", "baton.delay-notices", "baton.wismo-tickets",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("topics:\n got %v\nwant %v", got, want)
	}
}

func TestDeclarations(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	tp := New("x.")
	if d := tp.Topic(DeadLetter); d.Partitions != 1 || d.Schema != "dead_letter" || d.Table != "dead_letters" {
		t.Errorf("dead letters: %+v", d)
	}
	if c := tp.Topic(UnifyChangelog); !c.Compacted || c.Schema != "" || c.Table != "" || c.Partitions != DefaultPartitions {
		t.Errorf("unify changelog: %+v", c)
	}
	if o := tp.Topic(OrderStates); !o.Compacted || o.Table != "order_states" {
		t.Errorf("order states: %+v", o)
	}
	if got := Normalize.InputNames(tp); got[0] != "x.normalize.links" || len(got) != 1+len(schemas.Systems) || !strings.HasPrefix(got[1], "x.source.") {
		t.Errorf("normalize reads %v", got)
	}
	if got := Unify.InputNames(tp); !slices.Equal(got, []string{"x.canonical"}) {
		t.Errorf("unify reads %v", got)
	}
	var stored []string
	for _, s := range tp.Stored() {
		stored = append(stored, s.Table)
	}
	if want := []string{"dead_letters", "canonical_events", "order_transitions", "order_states", "sync_checks", "failed_syncs", "delay_notices", "wismo_tickets"}; !slices.Equal(stored, want) {
		t.Errorf("stored tables %v, want %v", stored, want)
	}
	if s, ok := tp.SystemOf("x.source.carrier"); !ok || s != "carrier" {
		t.Errorf("SystemOf: %q %v", s, ok)
	}
	if _, ok := tp.SystemOf("x.canonical"); ok {
		t.Error("SystemOf took a stage's topic for a source")
	}
}

// TestCheckFindsMistakes changes one declaration at a time.
func TestCheckFindsMistakes(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func()
		want   string
	}{
		{"two topics, one name", func() { decls[FailedSyncs].suffix = "sync-checks" }, `both named "sync-checks"`},
		{"an unknown schema", func() { decls[SyncChecks].schema = "no_such_schema" }, "no_such_schema"},
		{"a stored changelog", func() { decls[UnifyChangelog].table = "x" }, "must be compacted, internal and not stored"},
		{"a stage reading what only a later one writes", func() { Stages[0].Inputs = []ID{Transitions} }, "stage normalize reads transitions, which no stage before it writes"},
		{"a topic nobody writes", func() { Stages[1].Outputs = Stages[1].Outputs[1:] }, "topic transitions is declared but no stage writes it"},
		{"a table the sink does not read", func() { Stages[2].Inputs = Stages[2].Inputs[1:] }, "has table dead_letters but the sink does not read it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			savedDecls, savedStages := decls, slices.Clone(Stages)
			for i := range savedStages {
				savedStages[i].Inputs = slices.Clone(savedStages[i].Inputs)
				savedStages[i].Outputs = slices.Clone(savedStages[i].Outputs)
			}
			defer func() { decls, Stages = savedDecls, savedStages }()
			c.change()
			if err := Check(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Check() = %v, want an error with %q", err, c.want)
			}
		})
	}
}
