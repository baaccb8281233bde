package unify

import (
	"testing"
	"time"
)

// ticketEvent is a help-desk event of ticket id at `at`, showing no order
// status, with tags and subject.
func ticketEvent(id string, at time.Duration, subject string, tags ...string) step {
	s := ev("helpdesk", "", at).withID(id + "@" + at.String())
	s.ticket, s.subject, s.tags = id, subject, tags
	return s
}

// TestWismoTicketsAreAttributedToWhatTheCustomerFaced runs one order per
// cause through the stage (viewer checks, delay detection and attribution
// on), once straight and once restored from its changelog before every
// input, and checks the wismo_ticket records: one per WISMO ticket, the
// cause and link the package wismo precedence gives for the order's state
// when the ticket was first seen.
func TestWismoTicketsAreAttributedToWhatTheCustomerFaced(t *testing.T) {
	p, err := New(Config{SyncChecks: true, Delays: true, Wismo: true})
	if err != nil {
		t.Fatal(err)
	}
	shipped := func(at time.Duration) step { return ev("wms", "SHIPPED", at).parcel("s-1", "T1") }
	placedBy := ev("storefront", "PLACED", 0)
	placedBy.shipBy = 24 * h
	cases := []struct {
		name  string
		steps []step
		// want: cause, link, viewer, classified_by of each record, in order
		want [][4]string
	}{
		{"storefront never showed the shipment", []step{
			ev("storefront", "PLACED", 0), ev("oms", "CONFIRMED", 10*time.Minute), shipped(2 * h),
			ticketEvent("zd-1", 3*h, "Order 1001", "wismo"),
		}, [][4]string{{"viewer_out_of_sync", "wms->storefront", "storefront", "tag"}}},
		{"a lag still within its SLA is not out of sync", []step{
			ev("storefront", "PLACED", 0), shipped(2 * h),
			ticketEvent("zd-1", 2*h+2*time.Minute, "Where is my order?"),
			ev("storefront", "SHIPPED", 2*h+3*time.Minute),
		}, [][4]string{{"no_sync_problem", "", "", "keyword"}}},
		{"the ship-by passed and nobody told the customer", []step{
			placedBy, ev("oms", "CONFIRMED", 10*time.Minute),
			ticketEvent("zd-2", 30*h, "", "order_status"),
		}, [][4]string{{"delay_not_notified", "delay_notice->notifications", "notifications", "tag"}}},
		{"a carrier exception the storefront shows", []step{
			ev("storefront", "PLACED", 0), shipped(2 * h), ev("storefront", "SHIPPED", 2*h+time.Minute),
			ev("carrier", "EXCEPTION", 5*h).parcel("s-1", "T1"), ev("storefront", "EXCEPTION", 5*h+time.Minute),
			ticketEvent("zd-3", 5*h+3*time.Minute, "Package delayed?", "wismo"),
		}, [][4]string{{"carrier_exception", "", "", "tag"}}},
		{"a genuine question, tagged by an agent later", []step{
			ev("storefront", "PLACED", 0), shipped(2 * h), ev("storefront", "SHIPPED", 2*h+time.Minute),
			ticketEvent("zd-4", 3*h, "Question about my order"),
			// The storefront falls behind after the customer asked: the
			// ticket stays attributed to what the customer saw.
			ev("carrier", "IN_TRANSIT", 4*h).parcel("s-1", "T1"),
			ticketEvent("zd-4", 6*h, "Question about my order", "wismo"),
			ticketEvent("zd-4", 7*h, "Question about my order", "wismo"),
		}, [][4]string{{"no_sync_problem", "", "", "tag"}}},
		{"a return request is no WISMO ticket", []step{
			ev("storefront", "PLACED", 0), ticketEvent("zd-5", time.Hour, "Return request", "return_request"),
		}, nil},
	}
	for _, c := range cases {
		for _, restore := range []bool{false, true} {
			var got [][4]string
			st := NewState()
			var inputs []Input
			for i, s := range c.steps {
				in := s.input("o-1", i)
				if restore {
					st = NewState()
					for _, ch := range changesOf(t, p, inputs) {
						if err := st.Apply(ch); err != nil {
							t.Fatal(err)
						}
					}
				}
				inputs = append(inputs, in)
				out := p.Process(st, in)
				if out.Rejected != nil {
					t.Fatalf("%s: step %d rejected: %v", c.name, i, out.Rejected)
				}
				for _, r := range out.Tickets {
					if _, err := ticketSchema.FromJSON(r.Value); err != nil {
						t.Fatalf("%s: record does not fit wismo_ticket: %v", c.name, err)
					}
					str := func(f string) string { s, _ := r.Value[f].(string); return s }
					got = append(got, [4]string{str("cause"), str("link"), str("viewer"), str("classified_by")})
					if at := r.Value["ticket_at"].(time.Time); !at.Equal(t0.Add(firstTicketAt(c.steps, str("ticket_id")))) {
						t.Errorf("%s: ticket_at %v, want the ticket's first event's time", c.name, at)
					}
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("%s (restored %v): tickets %v, want %v", c.name, restore, got, c.want)
				continue
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("%s (restored %v): ticket %d is %v, want %v", c.name, restore, i, got[i], c.want[i])
				}
			}
		}
	}
}

// firstTicketAt is the time of the first step of ticket id.
func firstTicketAt(steps []step, id string) time.Duration {
	for _, s := range steps {
		if s.ticket == id {
			return s.at
		}
	}
	return -1
}

// TestWismoOffChangesNothing: without Config.Wismo a WISMO ticket emits
// nothing and the order's changelog record is what it was.
func TestWismoOffChangesNothing(t *testing.T) {
	on, err := New(Config{SyncChecks: true, Delays: true, Wismo: true})
	if err != nil {
		t.Fatal(err)
	}
	off, err := New(Config{SyncChecks: true, Delays: true})
	if err != nil {
		t.Fatal(err)
	}
	steps := []step{ev("storefront", "PLACED", 0), ticketEvent("zd-1", time.Hour, "Where is my order?", "wismo")}
	for _, c := range []struct {
		p       *Processor
		tickets int
	}{{on, 1}, {off, 0}} {
		r := runSteps(t, c.p, steps)
		n := 0
		for _, o := range r.outs {
			n += len(o.Tickets)
		}
		if n != c.tickets {
			t.Errorf("wismo %v: %d tickets, want %d", c.p.attributor != nil, n, c.tickets)
		}
	}
}
