package unify

import (
	"testing"
	"time"
)

// TestDelayNoticeInTheUnifyStage: with Config.Delays the stage detects a
// missed ship-by by its watermark, emits the delay notice, and raises a
// delay_not_notified failed sync unless the notifications viewer told the
// customer in time; the notice state survives the changelog.
func TestDelayNoticeInTheUnifyStage(t *testing.T) {
	p, err := New(Config{SyncChecks: true, Delays: true})
	if err != nil {
		t.Fatal(err)
	}
	placed := ev("storefront", "PLACED", 0)
	placed.shipBy = 24 * h
	run := func(told bool) (notices []map[string]any, failed []string) {
		st := NewState()
		steps := []Input{placed.input("o-1", 0), ev("oms", "CONFIRMED", 10*time.Minute).input("o-1", 1)}
		if told {
			msg := ev("notifications", "", 23*h).input("o-1", 2)
			msg.Plain["message_type"], msg.Plain["delivery_status"] = "delay_notice", "sent"
			steps = append(steps, msg)
		}
		// Another order's events carry the watermark past the ship-by
		// and the notice's deadline.
		steps = append(steps, ev("oms", "CONFIRMED", 30*h).input("o-2", 3), ev("oms", "CONFIRMED", 60*h).input("o-2", 4))
		for i, in := range steps {
			if i == 2 {
				// Restore from the changelog mid-way: the promise and the
				// state go through the binary record.
				restored := NewState()
				for _, c := range changesOf(t, p, steps[:i]) {
					if err := restored.Apply(c); err != nil {
						t.Fatal(err)
					}
				}
				st = restored
			}
			out := p.Process(st, in)
			for _, n := range out.Notices {
				notices = append(notices, n.Value)
			}
			for _, f := range out.Failed {
				if f.Value["viewer"] == "notifications" {
					failed = append(failed, f.Value["reason"].(string))
				}
			}
		}
		return notices, failed
	}

	notices, failed := run(false)
	if len(notices) == 0 || notices[0]["reason"] != "ship_by_missed" || notices[0]["may_cancel"] != true {
		t.Fatalf("notices %v, want a ship_by_missed notice the customer may cancel after", notices)
	}
	if len(failed) != 1 || failed[0] != "delay_not_notified" {
		t.Errorf("failed syncs %v, want one delay_not_notified", failed)
	}
	notices, failed = run(true)
	if len(notices) == 0 || notices[len(notices)-1]["notified"] != true {
		t.Errorf("notices %v, want the last version notified", notices)
	}
	if len(failed) != 0 {
		t.Errorf("failed syncs %v, want none: the customer was told", failed)
	}
}

// changesOf runs inputs through a fresh state and returns the changelog
// records they wrote.
func changesOf(t *testing.T, p *Processor, inputs []Input) []Change {
	t.Helper()
	st := NewState()
	var changes []Change
	for _, in := range inputs {
		out := p.Process(st, in)
		if out.Rejected != nil {
			t.Fatal(out.Rejected)
		}
		changes = append(changes, out.Changes...)
	}
	return changes
}
