package unify

import (
	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/wismo"
	"github.com/baton-pipeline/baton/schemas"
)

// WISMO attribution (package wismo) runs inside the unify stage because a
// ticket is attributed to what the order looked like when the customer
// asked: the truth, the parcels, the viewer checks' lags and the delay
// notices owed, all of which live here, in the same order as they are
// derived. The tickets seen (and, until classified, their attribution)
// are part of the order's changelog record.

// attributeTicket hands a help-desk event that names a ticket to the
// attributor. It runs before the event reaches the viewer checks: the
// facts are those the customer faced, not what the ticket itself shows.
// On a ticket's first event it first runs the order's delay timers the
// watermark has passed (they would run at the end of this very input
// anyway; a help-desk event changes nothing they depend on), so that a
// notice owed before the ticket is known to it.
func (a *applier) attributeTicket(plain map[string]any) {
	at := a.p.attributor
	if at == nil || a.ev.system.system() != schemas.Helpdesk {
		return
	}
	tk, err := wismo.TicketFromPlain(plain)
	if err != nil || tk.ID == "" {
		return // parseEvent accepted the event; a ticket event without a ticket is no ticket
	}
	out := at.Ticket(&a.o.wismo, a.ev.orderID, tk, a.facts)
	a.out.Tickets = append(a.out.Tickets, out.Tickets...)
}

// facts is what the order shows at this moment, for an attribution.
func (a *applier) facts() wismo.Facts {
	o, p := a.o, a.p
	if d := p.detector; d != nil && passed(d.NextDue(&o.delays), a.st.now) {
		addNotices(a.out, d.Due(&o.delays, a.ev.orderID, a.st.now))
	}
	var f wismo.Facts
	if o.truth != 0 {
		f.Truth, f.TruthSince = canonical.Status(o.truth.String()), o.truthSince
	}
	for i := range o.ships {
		sh := &o.ships[i]
		if sh.ret || sh.status == 0 {
			continue
		}
		name := sh.id
		if name == "" {
			name = sh.tracking
		}
		f.Parcels = append(f.Parcels, wismo.Parcel{Shipment: name, Status: canonical.Status(sh.status.String()), Since: sh.since})
	}
	if p.checker != nil {
		f.Viewers = o.checks.AppendLags(nil)
	}
	if p.detector != nil {
		f.Delays = o.delays.AppendUntold(nil)
	}
	return f
}
