package wismo_test

import (
	"slices"
	"testing"

	"github.com/baton-pipeline/baton/processors/wismo"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
)

// TestSimulatorsTicketsAreClassifiedWhenTheCustomerAsks: with the default
// rules, every "where is my order" ticket the simulator opens (those it
// tags wismo, sooner or later; the scorecard's definition) is classified
// by the first of its events baton receives — the untagged ones by their
// order_status tag — and no other ticket (return requests) ever is.
func TestSimulatorsTicketsAreClassifiedWhenTheCustomerAsks(t *testing.T) {
	type seen struct {
		wismo      bool // any event tagged wismo
		events     int
		firstAt    int64 // occurred_at of the first event received
		earliestAt int64 // the earliest occurred_at
		byFirst    bool  // the first event received classifies it
		classified bool  // some event classifies it
	}
	rules := wismo.New(nil).Rules()
	tickets := map[string]*seen{}
	var order []string
	cfg := simulator.DefaultConfig(400, 11)
	cfg.WismoTicketShare = 0.3
	if _, err := simulator.Generate(cfg, func(ev simulator.Event) error {
		if ev.System != schemas.Helpdesk {
			return nil
		}
		tk, err := wismo.TicketFromPlain(ev.Value)
		if err != nil {
			return err
		}
		_, ok := rules.Classify(tk.Tags, tk.Subject, tk.Description)
		s := tickets[tk.ID]
		if s == nil {
			s = &seen{firstAt: tk.At, earliestAt: tk.At, byFirst: ok}
			tickets[tk.ID] = s
			order = append(order, tk.ID)
		}
		s.events++
		s.wismo = s.wismo || slices.Contains(tk.Tags, "wismo")
		s.classified = s.classified || ok
		s.earliestAt = min(s.earliestAt, tk.At)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wismoTickets, others, created int
	for _, id := range order {
		s := tickets[id]
		switch {
		case s.wismo && !s.byFirst:
			t.Errorf("ticket %s: a WISMO ticket not classified by its first event", id)
		case !s.wismo && s.classified:
			t.Errorf("ticket %s: classified, but the simulator never tagged it wismo", id)
		}
		if s.wismo {
			wismoTickets++
			if s.firstAt == s.earliestAt {
				created++
			}
		} else {
			others++
		}
	}
	if wismoTickets < 50 || others == 0 {
		t.Fatalf("%d WISMO tickets, %d others: too few to say anything", wismoTickets, others)
	}
	// ticket_at is the creation time unless the ticket's events arrived
	// out of order (the simulator's delivery quirks): nearly always.
	if created < wismoTickets*95/100 {
		t.Errorf("ticket_at is the earliest event's time for only %d of %d tickets", created, wismoTickets)
	}
	t.Logf("%d WISMO tickets (%d with ticket_at at creation), %d others", wismoTickets, created, others)
}
