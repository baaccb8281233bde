package wismo

import (
	"cmp"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

// The causes a WISMO ticket is attributed to (wismo_ticket.cause), in
// precedence order (see the package doc, "Attribution"); the vocabulary is
// canonical's, shared with the monthly review.
const (
	CauseViewerOutOfSync  = canonical.WISMOViewerOutOfSync
	CauseDelayNotNotified = canonical.WISMODelayNotNotified
	CauseCarrierException = canonical.WISMOCarrierException
	CauseNoSyncProblem    = canonical.WISMONoSyncProblem
)

// Causes lists the causes in precedence order.
func Causes() []string { return canonical.WISMOCauses() }

// The failed_sync reasons an attribution points at
// (wismo_ticket.failed_sync_reason): those of package synccheck and
// package delay.
const (
	ReasonSLABreached      = "sla_breached"
	ReasonConflict         = "conflict"
	ReasonDelayNotNotified = "delay_not_notified"
)

// ExpectedDelayNotice is expected_status of a delay_not_notified
// attribution, as in the delay package's failed syncs.
const ExpectedDelayNotice = "delay_notice"

// LinkDelayNotice is the integration link of a delay_not_notified
// attribution: the delay notice baton raised did not reach the customer
// through the notifications system.
const LinkDelayNotice = "delay_notice->notifications"

// Facts is what baton knows of an order when one of its tickets is first
// seen; the unify stage fills it (see the package doc, "What the unify
// stage calls"). Times are Unix ms. The zero value is an order nothing is
// known of: its tickets are no_sync_problem.
type Facts struct {
	// Truth is the order's truth (package unify), "" when none yet, and
	// TruthSince when it reached it (the authoritative event's time).
	Truth      canonical.Status
	TruthSince int64
	// Parcels are the order's outbound parcels (not customers' returns)
	// with their own status: a split order's truth (PARTIALLY_DELIVERED,
	// PARTIALLY_SHIPPED) hides a parcel's carrier problem. May be empty
	// for an order with one parcel.
	Parcels []Parcel
	// Viewers are the viewers' lags, synccheck.Order.AppendLags: every
	// open check and pending conflict of the order, and its latest
	// failures closed since (a check closed LATE or MISSING, a confirmed
	// conflict), with when the viewer showed the truth again. Attribute
	// picks those that were failing at the ticket's time; listing more is
	// harmless.
	Viewers []ViewerLag
	// Delays are the order's delay notices not told in time,
	// delay.Order.AppendUntold: open and untold, closed NOT_NOTIFIED, or
	// told late (ToldAt after NotifyBy). Attribute picks those owed and
	// untold at the ticket's time.
	Delays []Delay
}

// Parcel is one outbound parcel's status.
type Parcel struct {
	Shipment string // its shipment ID, else tracking number
	Status   canonical.Status
	Since    int64 // when it reached Status
}

// ViewerLag is one way a viewer was behind or against the truth: a check
// (the viewer must show Expected by Deadline) or a conflict (the viewer
// showed Shown, which the truth contradicts, and the SLA for it to be a
// race ended at Deadline). It is synccheck.Lag, which
// synccheck.Order.AppendLags lists (see its fields): Viewer, CheckID (the
// check's check_id), Conflict, Expected, Shown, Authority
// (truth_authority), Since (truth_at; a conflict's first contradicting
// report), Deadline (Since plus the viewer's SLA) and Until (when the
// viewer showed the truth again; 0: it has not).
type ViewerLag = synccheck.Lag

// Delay is one delay notice the customer was owed. It is delay.Untold,
// which delay.Order.AppendUntold lists (see its fields): NoticeID (the
// check_id of its failed sync), Reason, KnownAt (when the delay became
// knowable), NotifyBy (the deadline to tell the customer) and ToldAt (when
// a message told the customer; 0: never, yet).
type Delay = delay.Untold

// Attribution is the cause of a WISMO ticket.
type Attribution struct {
	Cause string // one of Causes()
	// For viewer_out_of_sync and delay_not_notified: the failed sync the
	// ticket is attributed to. Viewer is the viewer out of sync
	// (notifications for a delay), Since since when (a delay's KnownAt),
	// CheckID its check_id (a delay's notice_id), Reason its failed_sync
	// reason, Expected what the viewer should have shown (a status, or
	// delay_notice), Shown what it showed, Authority the system whose
	// truth it missed (viewer_out_of_sync only), DelayReason the notice's
	// reason (delay_not_notified only).
	Viewer      schemas.System
	Authority   schemas.System
	Since       int64
	CheckID     string
	Reason      string
	Expected    string
	Shown       canonical.Status
	DelayReason string
	// For carrier_exception: the carrier problem in force and since when
	// (the order's truth, or one parcel's status).
	Problem      canonical.Status
	ProblemSince int64
	// Always: the order's truth when the ticket was attributed ("" when
	// none) and since when. TruthSince after the ticket's time means the
	// truth moved between the customer's question and baton seeing it.
	Truth      canonical.Status
	TruthSince int64
}

// Link names the integration link the ticket is attributed to, for the
// monthly review's ranking: "<authority>-><viewer>" for a viewer out of
// sync (the viewer did not follow what that system said; just the viewer
// when the authority is unknown), LinkDelayNotice for a delay not
// notified, "" for a carrier exception or no sync problem, which no
// integration fix removes.
func (a Attribution) Link() string {
	switch a.Cause {
	case CauseViewerOutOfSync:
		if a.Authority == "" {
			return string(a.Viewer)
		}
		return string(a.Authority) + "->" + string(a.Viewer)
	case CauseDelayNotNotified:
		return LinkDelayNotice
	}
	return ""
}

// carrierProblem reports whether s is a carrier problem a customer asks
// about.
func carrierProblem(s canonical.Status) bool {
	return s == canonical.Exception || s == canonical.DeliveryAttemptFailed || s == canonical.ReturnToSender
}

// Attribute returns the cause of a WISMO ticket asked at `at` (Unix ms),
// given the facts baton had then. The first that applies, in this order:
//
//  1. viewer_out_of_sync: a viewer of attribute_viewers was failing at
//     at: a lag with Deadline < at (past the SLA, as the checks' Due
//     judges it) and not caught up by then (Until == 0 or Until > at).
//     Of several, the one out of sync longest (least Since); ties go to
//     the viewer listed first in attribute_viewers, then to the earlier
//     Deadline, then to the lower CheckID.
//  2. delay_not_notified: a delay notice owed and untold at at: NotifyBy
//     < at and not told by then (ToldAt == 0 or ToldAt > at). Of several,
//     the least KnownAt, then NotifyBy, then NoticeID.
//  3. carrier_exception: the truth, or a parcel, was in EXCEPTION,
//     DELIVERY_ATTEMPT_FAILED or RETURN_TO_SENDER since at or before at.
//     Of several, the least since, the truth first on a tie, then the
//     lower Shipment.
//  4. no_sync_problem.
//
// The result does not depend on the order of the facts' slices.
func (r *Rules) Attribute(f Facts, at int64) Attribution {
	a := Attribution{Cause: CauseNoSyncProblem, Truth: f.Truth, TruthSince: f.TruthSince}
	if a.Truth == "" {
		a.TruthSince = 0
	}
	var lag *ViewerLag
	for i := range f.Viewers {
		l := &f.Viewers[i]
		if !r.attributes(l.Viewer) || l.Since > at || l.Deadline >= at || (l.Until != 0 && l.Until <= at) {
			continue
		}
		if lag == nil || r.lagBefore(l, lag) {
			lag = l
		}
	}
	if lag != nil {
		a.Cause, a.Viewer, a.Authority, a.Since, a.CheckID = CauseViewerOutOfSync, lag.Viewer, lag.Authority, lag.Since, lag.CheckID
		a.Reason, a.Expected, a.Shown = ReasonSLABreached, string(lag.Expected), lag.Shown
		if lag.Conflict {
			a.Reason = ReasonConflict
		}
		return a
	}
	var owed *Delay
	for i := range f.Delays {
		d := &f.Delays[i]
		if d.NotifyBy >= at || (d.ToldAt != 0 && d.ToldAt <= at) {
			continue
		}
		if owed == nil || cmp.Or(cmp.Compare(d.KnownAt, owed.KnownAt), cmp.Compare(d.NotifyBy, owed.NotifyBy), cmp.Compare(d.NoticeID, owed.NoticeID)) < 0 {
			owed = d
		}
	}
	if owed != nil {
		a.Cause, a.Viewer, a.Since, a.CheckID = CauseDelayNotNotified, schemas.Notifications, owed.KnownAt, owed.NoticeID
		a.Reason, a.Expected, a.DelayReason = ReasonDelayNotNotified, ExpectedDelayNotice, owed.Reason
		return a
	}
	var problem *Parcel
	truth := Parcel{Status: f.Truth, Since: f.TruthSince}
	if carrierProblem(truth.Status) && truth.Since <= at {
		problem = &truth
	}
	for i := range f.Parcels {
		p := &f.Parcels[i]
		if !carrierProblem(p.Status) || p.Since > at {
			continue
		}
		// The truth (problem == &truth) wins a tie with a parcel.
		if problem == nil || cmp.Or(cmp.Compare(p.Since, problem.Since), boolCmp(problem == &truth),
			cmp.Compare(p.Shipment, problem.Shipment), cmp.Compare(p.Status, problem.Status)) < 0 {
			problem = p
		}
	}
	if problem != nil {
		a.Cause, a.Problem, a.ProblemSince = CauseCarrierException, problem.Status, problem.Since
	}
	return a
}

// boolCmp orders a candidate after the current choice when the current
// choice must win ties.
func boolCmp(currentWins bool) int {
	if currentWins {
		return 1
	}
	return 0
}

// lagBefore reports whether lag l wins over the current choice c.
func (r *Rules) lagBefore(l, c *ViewerLag) bool {
	return cmp.Or(cmp.Compare(l.Since, c.Since), cmp.Compare(r.viewerRank(l.Viewer), r.viewerRank(c.Viewer)),
		cmp.Compare(l.Deadline, c.Deadline), cmp.Compare(l.CheckID, c.CheckID)) < 0
}
