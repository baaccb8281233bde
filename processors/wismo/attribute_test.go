package wismo

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// t0 is the scenarios' origin, Unix ms.
var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).UnixMilli()

const (
	sf    = schemas.Storefront
	hd    = schemas.Helpdesk
	notif = schemas.Notifications
)

// at is t0 plus minutes.
func at(minutes int) int64 { return t0 + int64(minutes)*time.Minute.Milliseconds() }

// lag is a check of viewer v expecting exp since the minute since, with
// a five-minute SLA, set by the carrier.
func lag(v schemas.System, id string, exp canonical.Status, since int) ViewerLag {
	return ViewerLag{Viewer: v, CheckID: id, Expected: exp, Authority: schemas.Carrier, Since: at(since), Deadline: at(since + 5)}
}

// conflict is a conflict of viewer v showing shown against the truth exp.
func conflict(v schemas.System, id string, shown, exp canonical.Status, since int) ViewerLag {
	l := lag(v, id, exp, since)
	l.Conflict, l.Shown, l.Authority = true, shown, schemas.WMS
	return l
}

// until sets the lag's Until to the minute.
func until(l ViewerLag, minute int) ViewerLag { l.Until = at(minute); return l }

// showing sets what the lag's viewer showed.
func showing(l ViewerLag, s canonical.Status) ViewerLag { l.Shown = s; return l }

func delayed(id, reason string, known int) Delay {
	return Delay{NoticeID: id, Reason: reason, KnownAt: at(known), NotifyBy: at(known + 5)}
}

// told sets when the notice was told.
func told(d Delay, minute int) Delay { d.ToldAt = at(minute); return d }

func TestAttribute(t *testing.T) {
	r := defaults(t)
	inTransit := Facts{Truth: canonical.InTransit, TruthSince: at(0)}
	with := func(f Facts, mod func(*Facts)) Facts { mod(&f); return f }
	ask := 60 // the ticket's minute
	for _, c := range []struct {
		name  string
		facts Facts
		want  Attribution
	}{
		{"nothing known", Facts{}, Attribution{Cause: CauseNoSyncProblem}},
		{"genuine question", inTransit, Attribution{Cause: CauseNoSyncProblem, Truth: canonical.InTransit, TruthSince: at(0)}},

		// viewer_out_of_sync
		{"storefront behind past its SLA", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{showing(lag(sf, "c1", canonical.InTransit, 0), canonical.Shipped)}
		}), Attribution{Cause: CauseViewerOutOfSync, Viewer: sf, Authority: schemas.Carrier, Since: at(0), CheckID: "c1",
			Reason: ReasonSLABreached, Expected: "IN_TRANSIT", Shown: canonical.Shipped, Truth: canonical.InTransit, TruthSince: at(0)}},
		{"confirmed conflict", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{conflict(notif, "c2", canonical.Cancelled, canonical.InTransit, 10)}
		}), Attribution{Cause: CauseViewerOutOfSync, Viewer: notif, Authority: schemas.WMS, Since: at(10), CheckID: "c2",
			Reason: ReasonConflict, Expected: "IN_TRANSIT", Shown: canonical.Cancelled, Truth: canonical.InTransit, TruthSince: at(0)}},
		{"the viewer out of sync longest", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{lag(sf, "late", canonical.InTransit, 30), lag(notif, "early", canonical.Shipped, 20), lag(sf, "mid", canonical.Shipped, 25)}
		}), Attribution{Cause: CauseViewerOutOfSync, Viewer: notif, Authority: schemas.Carrier, Since: at(20), CheckID: "early",
			Reason: ReasonSLABreached, Expected: "SHIPPED", Truth: canonical.InTransit, TruthSince: at(0)}},
		{"tie: storefront before notifications", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{lag(notif, "n", canonical.InTransit, 0), lag(sf, "s", canonical.InTransit, 0)}
		}), Attribution{Cause: CauseViewerOutOfSync, Viewer: sf, Authority: schemas.Carrier, Since: at(0), CheckID: "s",
			Reason: ReasonSLABreached, Expected: "IN_TRANSIT", Truth: canonical.InTransit, TruthSince: at(0)}},
		{"within its SLA: not out of sync", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{lag(sf, "c", canonical.InTransit, ask-5)} // deadline == the ticket's time
		}), Attribution{Cause: CauseNoSyncProblem, Truth: canonical.InTransit, TruthSince: at(0)}},
		{"pending conflict, still racing", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{conflict(sf, "c", canonical.Delivered, canonical.InTransit, ask-2)}
		}), Attribution{Cause: CauseNoSyncProblem, Truth: canonical.InTransit, TruthSince: at(0)}},
		{"caught up before the ticket", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{until(lag(sf, "c", canonical.InTransit, 0), ask)}
		}), Attribution{Cause: CauseNoSyncProblem, Truth: canonical.InTransit, TruthSince: at(0)}},
		{"caught up after the ticket", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{until(lag(sf, "c", canonical.InTransit, 0), ask+1)}
		}), Attribution{Cause: CauseViewerOutOfSync, Viewer: sf, Authority: schemas.Carrier, Since: at(0), CheckID: "c",
			Reason: ReasonSLABreached, Expected: "IN_TRANSIT", Truth: canonical.InTransit, TruthSince: at(0)}},
		{"lag that began after the ticket", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{{Viewer: sf, CheckID: "c", Since: at(ask + 1), Deadline: at(ask - 10)}} // malformed deadline: since still rules
		}), Attribution{Cause: CauseNoSyncProblem, Truth: canonical.InTransit, TruthSince: at(0)}},
		{"help desk not attributed by default", with(inTransit, func(f *Facts) {
			f.Viewers = []ViewerLag{lag(hd, "c", canonical.InTransit, 0)}
		}), Attribution{Cause: CauseNoSyncProblem, Truth: canonical.InTransit, TruthSince: at(0)}},
		{"unknown authority: link is the viewer", with(inTransit, func(f *Facts) {
			l := lag(sf, "c", canonical.InTransit, 0)
			l.Authority = ""
			f.Viewers = []ViewerLag{l}
		}), Attribution{Cause: CauseViewerOutOfSync, Viewer: sf, Since: at(0), CheckID: "c",
			Reason: ReasonSLABreached, Expected: "IN_TRANSIT", Truth: canonical.InTransit, TruthSince: at(0)}},

		// delay_not_notified
		{"delay not told", with(inTransit, func(f *Facts) {
			f.Delays = []Delay{delayed("n1", "eta_past_promise", 10)}
		}), Attribution{Cause: CauseDelayNotNotified, Viewer: notif, Since: at(10), CheckID: "n1", Reason: ReasonDelayNotNotified,
			Expected: ExpectedDelayNotice, DelayReason: "eta_past_promise", Truth: canonical.InTransit, TruthSince: at(0)}},
		{"the delay owed longest", with(inTransit, func(f *Facts) {
			f.Delays = []Delay{delayed("n2", "eta_past_promise", 30), delayed("n1", "ship_by_missed", 20)}
		}), Attribution{Cause: CauseDelayNotNotified, Viewer: notif, Since: at(20), CheckID: "n1", Reason: ReasonDelayNotNotified,
			Expected: ExpectedDelayNotice, DelayReason: "ship_by_missed", Truth: canonical.InTransit, TruthSince: at(0)}},
		{"delay told late, after the ticket", with(inTransit, func(f *Facts) {
			f.Delays = []Delay{told(delayed("n1", "exception", 10), ask+30)}
		}), Attribution{Cause: CauseDelayNotNotified, Viewer: notif, Since: at(10), CheckID: "n1", Reason: ReasonDelayNotNotified,
			Expected: ExpectedDelayNotice, DelayReason: "exception", Truth: canonical.InTransit, TruthSince: at(0)}},
		{"delay told before the ticket", with(inTransit, func(f *Facts) {
			f.Delays = []Delay{told(delayed("n1", "eta_past_promise", 10), 40)}
		}), Attribution{Cause: CauseNoSyncProblem, Truth: canonical.InTransit, TruthSince: at(0)}},
		{"delay still within notify_by", with(inTransit, func(f *Facts) {
			f.Delays = []Delay{delayed("n1", "eta_past_promise", ask-5)}
		}), Attribution{Cause: CauseNoSyncProblem, Truth: canonical.InTransit, TruthSince: at(0)}},

		// carrier_exception
		{"exception in the truth", Facts{Truth: canonical.Exception, TruthSince: at(5)},
			Attribution{Cause: CauseCarrierException, Problem: canonical.Exception, ProblemSince: at(5), Truth: canonical.Exception, TruthSince: at(5)}},
		{"failed attempt", Facts{Truth: canonical.DeliveryAttemptFailed, TruthSince: at(5)},
			Attribution{Cause: CauseCarrierException, Problem: canonical.DeliveryAttemptFailed, ProblemSince: at(5), Truth: canonical.DeliveryAttemptFailed, TruthSince: at(5)}},
		{"return to sender", Facts{Truth: canonical.ReturnToSender, TruthSince: at(5)},
			Attribution{Cause: CauseCarrierException, Problem: canonical.ReturnToSender, ProblemSince: at(5), Truth: canonical.ReturnToSender, TruthSince: at(5)}},
		{"one parcel's problem under a split order's truth", Facts{Truth: canonical.PartiallyDelivered, TruthSince: at(20),
			Parcels: []Parcel{{"p1", canonical.Delivered, at(20)}, {"p2", canonical.Exception, at(10)}}},
			Attribution{Cause: CauseCarrierException, Problem: canonical.Exception, ProblemSince: at(10), Truth: canonical.PartiallyDelivered, TruthSince: at(20)}},
		{"the truth wins a tie with its parcel", Facts{Truth: canonical.Exception, TruthSince: at(10),
			Parcels: []Parcel{{"p1", canonical.DeliveryAttemptFailed, at(10)}}},
			Attribution{Cause: CauseCarrierException, Problem: canonical.Exception, ProblemSince: at(10), Truth: canonical.Exception, TruthSince: at(10)}},
		{"the earliest problem", Facts{Truth: canonical.PartiallyShipped, TruthSince: at(1),
			Parcels: []Parcel{{"b", canonical.ReturnToSender, at(30)}, {"a", canonical.DeliveryAttemptFailed, at(20)}}},
			Attribution{Cause: CauseCarrierException, Problem: canonical.DeliveryAttemptFailed, ProblemSince: at(20), Truth: canonical.PartiallyShipped, TruthSince: at(1)}},
		{"problem after the ticket", Facts{Truth: canonical.Exception, TruthSince: at(ask + 1)},
			Attribution{Cause: CauseNoSyncProblem, Truth: canonical.Exception, TruthSince: at(ask + 1)}},
		{"not a carrier problem: pickup, hold", Facts{Truth: canonical.OnHold, TruthSince: at(1),
			Parcels: []Parcel{{"a", canonical.AvailableForPickup, at(2)}}},
			Attribution{Cause: CauseNoSyncProblem, Truth: canonical.OnHold, TruthSince: at(1)}},

		// Precedence.
		{"viewer before delay and exception", Facts{Truth: canonical.Exception, TruthSince: at(5),
			Viewers: []ViewerLag{showing(lag(sf, "c", canonical.Exception, 5), canonical.InTransit)},
			Delays:  []Delay{delayed("n", "exception", 5)}},
			Attribution{Cause: CauseViewerOutOfSync, Viewer: sf, Authority: schemas.Carrier, Since: at(5), CheckID: "c", Reason: ReasonSLABreached,
				Expected: "EXCEPTION", Shown: canonical.InTransit, Truth: canonical.Exception, TruthSince: at(5)}},
		{"a younger viewer lag still beats an older delay", Facts{Truth: canonical.InTransit, TruthSince: at(0),
			Viewers: []ViewerLag{lag(notif, "c", canonical.OutForDelivery, 40)},
			Delays:  []Delay{delayed("n", "ship_by_missed", 0)}},
			Attribution{Cause: CauseViewerOutOfSync, Viewer: notif, Authority: schemas.Carrier, Since: at(40), CheckID: "c", Reason: ReasonSLABreached,
				Expected: "OUT_FOR_DELIVERY", Truth: canonical.InTransit, TruthSince: at(0)}},
		{"delay before exception", Facts{Truth: canonical.Exception, TruthSince: at(5),
			Viewers: []ViewerLag{lag(sf, "c", canonical.Exception, ask-3)}, // within SLA
			Delays:  []Delay{delayed("n", "exception", 5)}},
			Attribution{Cause: CauseDelayNotNotified, Viewer: notif, Since: at(5), CheckID: "n", Reason: ReasonDelayNotNotified,
				Expected: ExpectedDelayNotice, DelayReason: "exception", Truth: canonical.Exception, TruthSince: at(5)}},
		{"exception told and shown: the carrier's", Facts{Truth: canonical.Exception, TruthSince: at(5),
			Viewers: []ViewerLag{until(lag(sf, "c", canonical.Exception, 5), 8)},
			Delays:  []Delay{told(delayed("n", "exception", 5), 7)}},
			Attribution{Cause: CauseCarrierException, Problem: canonical.Exception, ProblemSince: at(5), Truth: canonical.Exception, TruthSince: at(5)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := r.Attribute(c.facts, at(ask))
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			// Order of the facts does not matter.
			rng := rand.New(rand.NewPCG(1, 2))
			for range 5 {
				f := c.facts
				f.Viewers, f.Delays, f.Parcels = shuffled(rng, f.Viewers), shuffled(rng, f.Delays), shuffled(rng, f.Parcels)
				if again := r.Attribute(f, at(ask)); again != got {
					t.Fatalf("shuffled facts: %+v", again)
				}
			}
		})
	}
}

func shuffled[T any](rng *rand.Rand, s []T) []T {
	out := append([]T(nil), s...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestAttributeViewersConfigured(t *testing.T) {
	r, err := ParseRules("h.map", []byte("tag wismo\nattribute_viewers helpdesk notifications\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := Facts{Viewers: []ViewerLag{lag(sf, "s", canonical.Shipped, 0), lag(notif, "n", canonical.Shipped, 10), lag(hd, "h", canonical.Shipped, 10)}}
	// The storefront is not listed; the help desk wins the tie, listed first.
	if a := r.Attribute(f, at(60)); a.Viewer != hd || a.CheckID != "h" {
		t.Errorf("%+v", a)
	}
	// Same viewer, same since: the earlier deadline, then the lower check ID.
	x, y := lag(hd, "b", canonical.Shipped, 0), lag(hd, "a", canonical.InTransit, 0)
	x.Deadline = at(2)
	if a := r.Attribute(Facts{Viewers: []ViewerLag{y, x}}, at(60)); a.CheckID != "b" {
		t.Errorf("earlier deadline: %+v", a)
	}
	x.Deadline = y.Deadline
	if a := r.Attribute(Facts{Viewers: []ViewerLag{x, y}}, at(60)); a.CheckID != "a" {
		t.Errorf("lower check ID: %+v", a)
	}
}

func TestLink(t *testing.T) {
	for _, c := range []struct {
		a    Attribution
		want string
	}{
		{Attribution{Cause: CauseViewerOutOfSync, Viewer: sf, Authority: schemas.Carrier}, "carrier->storefront"},
		{Attribution{Cause: CauseViewerOutOfSync, Viewer: notif}, "notifications"},
		{Attribution{Cause: CauseDelayNotNotified, Viewer: notif}, LinkDelayNotice},
		{Attribution{Cause: CauseCarrierException, Problem: canonical.Exception}, ""},
		{Attribution{Cause: CauseNoSyncProblem}, ""},
	} {
		if got := c.a.Link(); got != c.want {
			t.Errorf("%s: %q, want %q", c.a.Cause, got, c.want)
		}
	}
	if fmt.Sprint(Causes()) != "[viewer_out_of_sync delay_not_notified carrier_exception no_sync_problem]" {
		t.Errorf("precedence %v", Causes())
	}
}
