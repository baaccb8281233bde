package unify

import (
	"testing"
)

func TestDbgLate(t *testing.T) {
	run := sharedRun(t)
	p, st := newProcessor(t), NewState()
	for i, in := range run.inputs {
		id := in.Plain["order_id"]
		out := p.Process(st, in)
		if id != "ORD-00000896" {
			continue
		}
		t.Logf("%d IN %v %v %v rec=%v W=%v late=%v", i, in.Plain["source_system"], in.Plain["canonical_status"], in.Plain["source_event_id"], in.Plain["recorded_at"], msTime(st.watermark), out.Late)
		for _, c := range out.Checks {
			t.Logf("   check %v %v %v v%v r%v", c.Value["viewer"], c.Value["expected_status"], c.Value["outcome"], c.Value["version"], c.Value["retracted"])
		}
		for _, c := range out.Failed {
			t.Logf("   failed %v %v %v v%v r%v", c.Value["viewer"], c.Value["expected_status"], c.Value["reason"], c.Value["version"], c.Value["retracted"])
		}
	}
}
