package wismo

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

// Record is one output value in baton's JSON form (what
// schemas.Schema.FromJSON accepts: time.Time for timestamps, nil for
// null), keyed by order ID: the same type as the viewer checks' records.
type Record = synccheck.Record

// Attributor classifies an order's help-desk tickets and attributes the
// WISMO ones. It holds no per-order state (that is the caller's Order) and
// is safe for concurrent use on different orders.
type Attributor struct {
	r *Rules
}

// New returns an Attributor for the rules r; nil means the embedded
// defaults.
func New(r *Rules) *Attributor {
	if r == nil {
		d, err := DefaultRules()
		if err != nil {
			panic(err) // the embedded file is tested
		}
		r = d
	}
	return &Attributor{r: r}
}

// Rules returns the rules the Attributor applies.
func (a *Attributor) Rules() *Rules { return a.r }

// Ticket is what the attributor reads of one help-desk canonical event of
// the order.
type Ticket struct {
	ID   string // ticket_id
	Tags []string
	// Subject and Description are the ticket's text, "" when the event
	// does not carry it.
	Subject, Description string
	// At is the event's occurred_at (when the ticket change happened),
	// Unix ms.
	At int64
}

// Output is everything one call caused.
type Output struct {
	// Tickets are wismo_ticket values: at most one, when the call
	// classified a ticket.
	Tickets []Record
}

// Ticket handles one help-desk event of the order. On the first event of
// a ticket it calls facts (at most once per call, never for a ticket seen
// before) and attributes the ticket as of the event's time, whether or not
// the event classifies it: that is when the customer asked. On the first
// event that classifies the ticket as WISMO it emits the ticket's
// wismo_ticket record; every later event of the ticket is ignored. An
// event without a ticket ID (or with one longer than 256 bytes) is
// ignored. facts may be nil (nothing known).
func (a *Attributor) Ticket(o *Order, orderID string, tk Ticket, facts func() Facts) Output {
	if tk.ID == "" || len(tk.ID) > maxString {
		return Output{}
	}
	t := o.find(tk.ID)
	if t == nil {
		var f Facts
		if facts != nil {
			f = facts()
		}
		attr := a.r.Attribute(f, tk.At)
		attr.sanitize()
		t = o.add(ticket{id: tk.ID, at: tk.At, attr: &attr})
	}
	if t.attr == nil {
		return Output{} // classified before
	}
	m, ok := a.r.Classify(tk.Tags, tk.Subject, tk.Description)
	if !ok {
		return Output{}
	}
	rec := ticketRecord(orderID, t.id, t.at, tk.At, m, t.attr)
	t.attr = nil
	return Output{Tickets: []Record{rec}}
}

// sanitize makes a what the binary state can hold, so that a restored
// Order emits the same record: statuses that are not canonical and
// systems that are not known become "", strings are cut to 256 bytes.
func (a *Attribution) sanitize() {
	for _, s := range []*canonical.Status{&a.Shown, &a.Problem, &a.Truth} {
		if !s.Valid() {
			*s = ""
		}
	}
	for _, y := range []*schemas.System{&a.Viewer, &a.Authority} {
		if _, err := schemas.ParseSystem(string(*y)); err != nil {
			*y = ""
		}
	}
	if a.Expected != ExpectedDelayNotice && !canonical.Status(a.Expected).Valid() {
		a.Expected = ""
	}
	if a.Truth == "" {
		a.TruthSince = 0
	}
	a.CheckID, a.DelayReason = clip(a.CheckID), clip(a.DelayReason)
}

// clip cuts s to at most maxString bytes, at a rune boundary.
func clip(s string) string {
	if len(s) <= maxString {
		return s
	}
	n := maxString
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// TicketFromPlain reads a Ticket from a canonical event in the JSON form
// schemas.Schema.Plain produces (times as RFC 3339 strings or time.Time,
// nullable fields nil). subject and description are read when present
// (canonical_event carries both for help-desk events; null elsewhere).
func TicketFromPlain(p map[string]any) (Ticket, error) {
	str := func(f string) string { s, _ := p[f].(string); return s }
	tk := Ticket{ID: str("ticket_id"), Subject: str("subject"), Description: str("description")}
	switch tags := p["tags"].(type) {
	case []any:
		for _, t := range tags {
			if s, ok := t.(string); ok {
				tk.Tags = append(tk.Tags, s)
			}
		}
	case []string:
		tk.Tags = append(tk.Tags, tags...)
	}
	switch at := p["occurred_at"].(type) {
	case time.Time:
		tk.At = at.UnixMilli()
	case string:
		ts, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return Ticket{}, fmt.Errorf("%w: occurred_at %q is not an RFC 3339 time", ErrInvalid, at)
		}
		tk.At = ts.UnixMilli()
	case nil:
		return Ticket{}, fmt.Errorf("%w: occurred_at missing", ErrInvalid)
	default:
		return Ticket{}, fmt.Errorf("%w: occurred_at: %T is not a time", ErrInvalid, at)
	}
	return tk, nil
}

// ErrInvalid is wrapped by the errors of TicketFromPlain.
var ErrInvalid = errors.New("wismo: invalid canonical event")
