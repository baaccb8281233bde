package serve

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// OrderView is GET /api/orders/{id} and what the order page shows: one
// order as the pipeline stored it, with the judgements an agent needs
// spelled out ("text" keys). Keys are stable (README: The order API);
// lists are [] when empty, absent values null.
type OrderView struct {
	OrderID string `json:"order_id"`
	// AsOf is the clock "behind", "past its SLA" and "owed" are measured
	// with: when the answer was made.
	AsOf              time.Time        `json:"as_of"`
	Truth             *TruthView       `json:"truth"` // null until an authority has spoken
	Closed            bool             `json:"closed"`
	PromisedShipBy    *time.Time       `json:"promised_ship_by"`
	PromisedDeliverBy *time.Time       `json:"promised_deliver_by"`
	Systems           []SystemView     `json:"systems"`
	Shipments         []ShipmentView   `json:"shipments"`
	Timeline          []TransitionView `json:"timeline"`
	Checks            []CheckView      `json:"checks"`        // open and failed checks
	ClosedChecks      []ClosedCheck    `json:"closed_checks"` // every closed check
	DelayNotices      []NoticeView     `json:"delay_notices"`
	WismoTickets      []TicketView     `json:"wismo_tickets"`
	HelpdeskTickets   []string         `json:"helpdesk_tickets"` // every ticket ID the help desk filed against the order
}

// TruthView is the order's status by the authority rules and since when.
type TruthView struct {
	Status    string     `json:"status"`
	Authority string     `json:"authority"`
	Since     *time.Time `json:"since"`
	Text      string     `json:"text"`
}

// SystemView is one system's latest word about the order. Role is
// "viewer" (checked against the truth: storefront, helpdesk,
// notifications) or "source". Agrees: a viewer that must show the truth
// shows it (or a status implying it); any other system's word is
// consistent with the truth (the truth includes it or it includes the
// truth). BehindMillis is set for a viewer behind the truth: as_of − the
// truth's since.
type SystemView struct {
	System       string    `json:"system"`
	Role         string    `json:"role"`
	Status       string    `json:"status"`
	SourceStatus string    `json:"source_status"`
	OccurredAt   time.Time `json:"occurred_at"`
	RecordedAt   time.Time `json:"recorded_at"`
	Agrees       bool      `json:"agrees"`
	BehindMillis *int64    `json:"behind_ms"`
	Text         string    `json:"text"`
}

// ShipmentView is one parcel with its own status line.
type ShipmentView struct {
	ShipmentID        string     `json:"shipment_id"`
	TrackingNumber    string     `json:"tracking_number"`
	Carrier           string     `json:"carrier"`
	IsReturn          bool       `json:"is_return"`
	Status            string     `json:"status"`
	Authority         string     `json:"authority"`
	Since             *time.Time `json:"since"`
	EstimatedDelivery *time.Time `json:"estimated_delivery"`
	Text              string     `json:"text"`
}

// TransitionView is one step of the timeline: the system (the authority)
// and its source event that caused it, in that system's own code.
type TransitionView struct {
	At            time.Time `json:"at"`
	ShipmentID    string    `json:"shipment_id"` // "" for the order's own track
	Kind          string    `json:"kind"`        // advance, late, recovery, reopened
	From          string    `json:"from"`
	To            string    `json:"to"`
	Skipped       []string  `json:"skipped"`
	System        string    `json:"system"`
	SourceEventID string    `json:"source_event_id"`
	SourceStatus  string    `json:"source_status"`
	Text          string    `json:"text"`
}

// CheckView is an open or failed check of a viewer, in plain words. State
// is "open" (the viewer does not show the truth yet; no failure recorded),
// "failed" (a failed sync recorded, the check still open) or "closed" (it
// failed, then closed with Outcome). PastSLAMillis is how long after the
// deadline the viewer still did not show the truth: until as_of while
// open, until it closed otherwise; null within the SLA.
type CheckView struct {
	CheckID       string     `json:"check_id"` // "" for an open check derived from the systems' views
	Viewer        string     `json:"viewer"`
	State         string     `json:"state"`
	Reason        string     `json:"reason"` // sla_breached, conflict, delay_not_notified, …; "" while open
	Expected      string     `json:"expected_status"`
	Shown         string     `json:"shown_status"`
	TruthAt       time.Time  `json:"truth_at"`
	Deadline      time.Time  `json:"deadline"`
	SLAMillis     int64      `json:"sla_ms"`
	PastSLAMillis *int64     `json:"past_sla_ms"`
	Outcome       string     `json:"outcome"` // of the closed check; "" otherwise
	ClosedAt      *time.Time `json:"closed_at"`
	Text          string     `json:"text"`
}

// ClosedCheck is one closed check as stored in sync_checks.
type ClosedCheck struct {
	CheckID       string    `json:"check_id"`
	Viewer        string    `json:"viewer"`
	Expected      string    `json:"expected_status"`
	Outcome       string    `json:"outcome"`
	Shown         string    `json:"shown_status"`
	TruthAt       time.Time `json:"truth_at"`
	LatencyMillis *int64    `json:"latency_ms"`
}

// NoticeView is a delay notice (the latest version): the FTC mail-order
// rule's revised date and cancel-for-refund option, and whether the
// customer was told ("told"), is still to be told ("due") or should have
// been ("owed").
type NoticeView struct {
	NoticeID         string     `json:"notice_id"`
	Reason           string     `json:"reason"`
	OriginalPromise  *time.Time `json:"original_promise"`
	MissedPromise    *time.Time `json:"missed_promise"`
	RevisedDate      *time.Time `json:"revised_date"`
	NoRevisedDateWhy string     `json:"no_revised_date_reason"`
	MayCancel        bool       `json:"may_cancel_for_refund"`
	RefundDue        bool       `json:"refund_due"`
	NotifyBy         time.Time  `json:"notify_by"`
	Told             string     `json:"told"` // told, due, owed
	NotifiedAt       *time.Time `json:"notified_at"`
	NotifiedVia      string     `json:"notified_via"`
	State            string     `json:"state"`
	Outcome          string     `json:"outcome"`
	Text             string     `json:"text"`
	ShipmentID       string     `json:"shipment_id"`
	CauseAuthority   string     `json:"cause_authority"`
	PromiseIsDefault bool       `json:"promise_is_default"`
	RefundDueReason  string     `json:"refund_due_reason"`
	DetectedAt       time.Time  `json:"detected_at"`
	Renews           string     `json:"renews"`
	Promise          string     `json:"promise"`
}

// TicketView is a WISMO ticket and what it was attributed to.
type TicketView struct {
	TicketID      string    `json:"ticket_id"`
	At            time.Time `json:"ticket_at"`
	ClassifiedBy  string    `json:"classified_by"`
	Matched       string    `json:"matched"`
	Cause         string    `json:"cause"`
	Link          string    `json:"link"`
	Viewer        string    `json:"viewer"`
	CheckID       string    `json:"check_id"`
	ShownStatus   string    `json:"shown_status"`
	TruthStatus   string    `json:"truth_status"`
	ProblemStatus string    `json:"problem_status"`
	DelayReason   string    `json:"delay_reason"`
	Text          string    `json:"text"`
}

// storedView and storedShipment are the order_state's views and shipments
// as the sink stores them (the Avro record's plain JSON form).
type storedView struct {
	System       string    `json:"system"`
	Status       string    `json:"status"`
	SourceStatus string    `json:"source_status"`
	OccurredAt   time.Time `json:"occurred_at"`
	RecordedAt   time.Time `json:"recorded_at"`
}

type storedShipment struct {
	ShipmentID        string     `json:"shipment_id"`
	TrackingNumber    *string    `json:"tracking_number"`
	IsReturn          bool       `json:"is_return"`
	Status            string     `json:"status"`
	Authority         string     `json:"authority"`
	Since             *time.Time `json:"since"`
	EstimatedDelivery *time.Time `json:"estimated_delivery"`
}

// newOrderView builds the view of rec as of now.
func newOrderView(id string, rec clickhouse.OrderRecord, viewers *synccheck.Viewers, now time.Time) (OrderView, error) {
	v := OrderView{OrderID: id, AsOf: now.UTC(), Systems: []SystemView{}, Shipments: []ShipmentView{}, Timeline: []TransitionView{},
		Checks: []CheckView{}, ClosedChecks: []ClosedCheck{}, DelayNotices: []NoticeView{}, WismoTickets: []TicketView{}, HelpdeskTickets: []string{}}
	var views []storedView
	var shipments []storedShipment
	if st := rec.State; st != nil {
		if st.Truth != "" {
			v.Truth = &TruthView{Status: st.Truth, Authority: st.TruthAuthority, Since: st.TruthSince}
			v.Truth.Text = truthText(*v.Truth)
		}
		v.Closed, v.PromisedShipBy, v.PromisedDeliverBy = st.Closed, st.PromisedShipBy, st.PromisedDeliverBy
		if err := json.Unmarshal([]byte(st.ViewsJSON), &views); err != nil {
			return v, fmt.Errorf("order %q: stored views: %w", id, err)
		}
		if err := json.Unmarshal([]byte(st.ShipmentsJSON), &shipments); err != nil {
			return v, fmt.Errorf("order %q: stored shipments: %w", id, err)
		}
	}
	for _, sv := range views {
		v.Systems = append(v.Systems, systemView(sv, v.Truth, viewers, v.AsOf))
	}
	v.Shipments = shipmentViews(shipments, rec.Events)
	v.Timeline = timeline(rec.Transitions, rec.Events)
	v.Checks = checkViews(rec, v.Systems, v.Truth, viewers, v.AsOf)
	for _, c := range rec.Checks {
		v.ClosedChecks = append(v.ClosedChecks, ClosedCheck{c.CheckID, c.Viewer, c.ExpectedStatus, c.Outcome, c.ShownStatus, c.TruthAt, c.LatencyMillis})
	}
	for _, n := range rec.Notices {
		v.DelayNotices = append(v.DelayNotices, noticeView(n, v.AsOf))
	}
	for _, t := range rec.Tickets {
		v.WismoTickets = append(v.WismoTickets, ticketView(t))
	}
	seen := map[string]bool{}
	for _, e := range rec.Events {
		if e.TicketID != "" && !seen[e.TicketID] {
			seen[e.TicketID] = true
			v.HelpdeskTickets = append(v.HelpdeskTickets, e.TicketID)
		}
	}
	sort.Strings(v.HelpdeskTickets)
	return v, nil
}

// systemView judges one system's word against the truth (see SystemView).
func systemView(sv storedView, truth *TruthView, viewers *synccheck.Viewers, now time.Time) SystemView {
	out := SystemView{System: sv.System, Role: "source", Status: sv.Status, SourceStatus: sv.SourceStatus,
		OccurredAt: sv.OccurredAt.UTC(), RecordedAt: sv.RecordedAt.UTC(), Agrees: true}
	sys := schemas.System(sv.System)
	_, isViewer := viewers.Viewer(sys)
	if isViewer {
		out.Role = "viewer"
	}
	if truth == nil {
		out.Text = fmt.Sprintf("%s: %s", systemName(sv.System), sv.Status)
		return out
	}
	shown, want := canonical.Status(sv.Status), canonical.Status(truth.Status)
	switch {
	case isViewer && viewers.Expects(sys, want):
		out.Agrees = synccheck.Reflects(shown, want)
	default:
		out.Agrees = synccheck.Reflects(shown, want) || synccheck.Reflects(want, shown)
	}
	switch {
	case out.Agrees:
		out.Text = fmt.Sprintf("%s: %s, in sync", systemName(sv.System), sv.Status)
	case isViewer && truth.Since != nil && synccheck.Reflects(want, shown):
		behind := now.Sub(*truth.Since).Milliseconds()
		out.BehindMillis = &behind
		out.Text = fmt.Sprintf("%s: %s, %s behind", systemName(sv.System), sv.Status, words(time.Duration(behind)*time.Millisecond))
	default:
		out.Text = fmt.Sprintf("%s: %s, contradicts the truth (%s)", systemName(sv.System), sv.Status, truth.Status)
	}
	return out
}

// shipmentViews adds to each stored parcel its carrier and, when the
// state did not name it, its tracking number, from the order's events.
func shipmentViews(stored []storedShipment, events []clickhouse.CanonicalEvent) []ShipmentView {
	carrier, tracking := map[string]string{}, map[string]string{}
	for _, e := range events {
		for _, key := range []string{e.ShipmentID, e.TrackingNumber} {
			if key == "" {
				continue
			}
			if e.Carrier != "" {
				carrier[key] = e.Carrier
			}
			if e.TrackingNumber != "" {
				tracking[key] = e.TrackingNumber
			}
		}
	}
	out := []ShipmentView{}
	for _, s := range stored {
		sh := ShipmentView{ShipmentID: s.ShipmentID, IsReturn: s.IsReturn, Status: s.Status, Authority: s.Authority,
			Since: utcPtr(s.Since), EstimatedDelivery: utcPtr(s.EstimatedDelivery), TrackingNumber: tracking[s.ShipmentID]}
		if s.TrackingNumber != nil {
			sh.TrackingNumber = *s.TrackingNumber
		}
		sh.Carrier = carrier[s.ShipmentID]
		if sh.Carrier == "" {
			sh.Carrier = carrier[sh.TrackingNumber]
		}
		sh.Text = shipmentText(sh)
		out = append(out, sh)
	}
	return out
}

// timeline pairs each transition with its source event's own code.
func timeline(ts []clickhouse.OrderTransition, events []clickhouse.CanonicalEvent) []TransitionView {
	code := map[string]string{}
	for _, e := range events {
		code[e.SourceSystem+"\x00"+e.SourceEventID] = e.SourceStatus
	}
	out := []TransitionView{}
	for _, t := range ts {
		tv := TransitionView{At: t.EventTime, ShipmentID: t.ShipmentID, Kind: t.Kind, From: t.FromStatus, To: t.ToStatus,
			Skipped: nonNil(t.Skipped), System: t.Authority, SourceEventID: t.SourceEventID, SourceStatus: code[t.Authority+"\x00"+t.SourceEventID]}
		tv.Text = transitionText(tv)
		out = append(out, tv)
	}
	return out
}

func noticeView(n clickhouse.DelayNotice, now time.Time) NoticeView {
	nv := NoticeView{NoticeID: n.NoticeID, Reason: n.Reason, OriginalPromise: n.OriginalPromise, MissedPromise: n.MissedPromise,
		RevisedDate: n.RevisedDate, NoRevisedDateWhy: n.NoRevisedDateReason, MayCancel: n.MayCancel, RefundDue: n.RefundDue,
		NotifyBy: n.NotifyBy, NotifiedAt: n.NotifiedAt, NotifiedVia: n.NotifiedVia, State: n.State, Outcome: n.Outcome,
		ShipmentID: n.ShipmentID, CauseAuthority: n.CauseAuthority, PromiseIsDefault: n.PromiseIsDefault, RefundDueReason: n.RefundDueReason,
		DetectedAt: n.DetectedAt, Renews: n.Renews, Promise: n.Promise}
	switch {
	case n.Notified:
		nv.Told = "told"
	case now.After(n.NotifyBy):
		nv.Told = "owed"
	default:
		nv.Told = "due"
	}
	nv.Text = noticeText(nv)
	return nv
}

func ticketView(t clickhouse.WismoTicket) TicketView {
	tv := TicketView{TicketID: t.TicketID, At: t.TicketAt, ClassifiedBy: t.ClassifiedBy, Matched: t.Matched, Cause: t.Cause, Link: t.Link,
		Viewer: t.Viewer, CheckID: t.CheckID, ShownStatus: t.ShownStatus, TruthStatus: t.TruthStatus, ProblemStatus: t.ProblemStatus, DelayReason: t.DelayReason}
	tv.Text = ticketText(tv)
	return tv
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
