package canonical

import (
	"strings"
	"testing"
	"time"
)

// mainLine is the ordered lifecycle, written out independently of infos.
var mainLine = []Status{Placed, Confirmed, Released, Picked, Packed, Shipped, InTransit, OutForDelivery, Delivered}

func TestMainLineRanksStrictlyIncrease(t *testing.T) {
	for i := 1; i < len(mainLine); i++ {
		if mainLine[i-1].Rank() >= mainLine[i].Rank() {
			t.Errorf("%s (rank %d) is not before %s (rank %d)", mainLine[i-1], mainLine[i-1].Rank(), mainLine[i], mainLine[i].Rank())
		}
	}
	for _, s := range mainLine {
		if s.Info().Kind != Stage {
			t.Errorf("%s: kind %s, want stage", s, s.Info().Kind)
		}
	}
}

func TestRank(t *testing.T) {
	for _, tc := range []struct {
		a, b Status
		cmp  int // sign of a.Rank() - b.Rank()
	}{
		{OnHold, Placed, 0},             // held before confirmation
		{OnHold, Confirmed, -1},         //
		{PartiallyShipped, Packed, 1},   // some parcels left…
		{PartiallyShipped, Shipped, -1}, // …not all
		{Exception, InTransit, 0},       // the parcel had shipped; no progress past transit
		{ReturnToSender, InTransit, 0},  //
		{DeliveryAttemptFailed, OutForDelivery, 0},
		{AvailableForPickup, OutForDelivery, 1},
		{AvailableForPickup, Delivered, -1},
		{PartiallyDelivered, AvailableForPickup, 1},
		{PartiallyDelivered, Delivered, -1},
		{ReturnRequested, Delivered, 1},
		{ReturnInTransit, ReturnRequested, 1},
		{Returned, ReturnInTransit, 1},
		{Refunded, Returned, 1},
		{Cancelled, Placed, -1}, // rank 0: implies nothing
		{"NOPE", Cancelled, 0},  // unknown: zero rank
	} {
		d := tc.a.Rank() - tc.b.Rank()
		if sign(d) != tc.cmp {
			t.Errorf("%s rank %d vs %s rank %d: want sign %d", tc.a, tc.a.Rank(), tc.b, tc.b.Rank(), tc.cmp)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestAtLeast(t *testing.T) {
	for _, tc := range []struct {
		s, stage Status
		want     bool
	}{
		{Placed, Placed, true},
		{Confirmed, Placed, true},
		{Placed, Confirmed, false},
		{Delivered, Shipped, true},
		{Shipped, Delivered, false},
		{InTransit, Shipped, true},
		{Exception, Shipped, true},         // an exception happens after hand-off
		{Exception, InTransit, true},       // same rank
		{Exception, OutForDelivery, false}, //
		{ReturnToSender, Shipped, true},    //
		{DeliveryAttemptFailed, OutForDelivery, true},
		{DeliveryAttemptFailed, Delivered, false},
		{AvailableForPickup, OutForDelivery, true},
		{AvailableForPickup, Delivered, false},
		{PartiallyShipped, Packed, true},
		{PartiallyShipped, Shipped, false},
		{PartiallyDelivered, Delivered, false},
		{PartiallyDelivered, OutForDelivery, true},
		{OnHold, Placed, true},
		{OnHold, Confirmed, false},
		{Returned, Delivered, true},
		{Refunded, Returned, true},
		{ReturnRequested, ReturnInTransit, false},
		{Cancelled, Cancelled, true},
		{Cancelled, Placed, false},    // a cancelled order has reached nothing
		{Delivered, Cancelled, false}, // nothing implies CANCELLED
		{Refunded, Cancelled, false},
		{"SHIPPED_ISH", Placed, false}, // unknown statuses answer false
		{Delivered, "NOPE", false},
		{"", "", false},
	} {
		if got := tc.s.AtLeast(tc.stage); got != tc.want {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", tc.s, tc.stage, got, tc.want)
		}
	}
}

func TestEveryStatusAtLeastItself(t *testing.T) {
	for _, in := range All() {
		if !in.Status.AtLeast(in.Status) {
			t.Errorf("%s is not at least itself", in.Status)
		}
	}
}

func TestParseAndValid(t *testing.T) {
	for _, in := range All() {
		s, err := Parse(string(in.Status))
		if err != nil || s != in.Status || !s.Valid() {
			t.Errorf("Parse(%q) = %q, %v", in.Status, s, err)
		}
		if in.Doc == "" {
			t.Errorf("%s has no doc", in.Status)
		}
	}
	for _, bad := range []string{"", "shipped", "SHIPPED ", "LOST"} {
		if s, err := Parse(bad); err == nil || s != "" || Status(bad).Valid() {
			t.Errorf("Parse(%q) = %q, %v; want an error", bad, s, err)
		} else if !strings.Contains(err.Error(), bad) {
			t.Errorf("Parse(%q) error %q does not name the input", bad, err)
		}
	}
}

func TestAllIsInRankOrderAndComplete(t *testing.T) {
	all := All()
	if len(all) != 21 {
		t.Errorf("All() has %d statuses, want 21", len(all))
	}
	seen := map[Status]bool{}
	for i, in := range all {
		if seen[in.Status] {
			t.Errorf("%s listed twice", in.Status)
		}
		seen[in.Status] = true
		if i > 0 && all[i-1].Rank > in.Rank {
			t.Errorf("All() out of rank order at %s", in.Status)
		}
	}
	if names := Names(); !strings.HasPrefix(names, "CANCELLED, PLACED, ") || strings.Count(names, ", ") != 20 {
		t.Errorf("Names() = %q", names)
	}
}

func TestForShipment(t *testing.T) {
	for s, want := range map[Status]bool{
		Placed: false, Confirmed: false, OnHold: false, Released: false, Picked: false,
		Packed: true, Shipped: true, InTransit: true, Exception: true, ReturnToSender: true,
		OutForDelivery: true, DeliveryAttemptFailed: true, AvailableForPickup: true, Delivered: true,
		PartiallyShipped: false, PartiallyDelivered: false,
		ReturnRequested: false, ReturnInTransit: true, Returned: true, Refunded: false, Cancelled: false,
		"NOPE": false,
	} {
		if got := s.ForShipment(); got != want {
			t.Errorf("%s.ForShipment() = %v, want %v", s, got, want)
		}
	}
}

func TestClassSortsEveryStatus(t *testing.T) {
	want := map[Class][]Status{
		ClassStage:     {Placed, Confirmed, Released, Picked, Packed, Shipped, InTransit, OutForDelivery, Delivered},
		ClassProblem:   {OnHold, Exception, ReturnToSender, DeliveryAttemptFailed, AvailableForPickup},
		ClassReturn:    {ReturnRequested, ReturnInTransit, Returned, Refunded},
		ClassAggregate: {PartiallyShipped, PartiallyDelivered},
		ClassBranch:    {Cancelled},
	}
	n := 0
	for class, statuses := range want {
		for _, s := range statuses {
			n++
			if got := s.Info().Class(); got != class {
				t.Errorf("%s is class %d, want %d", s, got, class)
			}
		}
	}
	if n != len(All()) {
		t.Errorf("the table sorts %d statuses, there are %d", n, len(All()))
	}
	if (Info{}).Class() != ClassNone {
		t.Error("an unknown status has a class")
	}
}

func TestPlainTime(t *testing.T) {
	at := time.Date(2026, 11, 1, 10, 0, 0, 250e6, time.UTC)
	for _, c := range []struct {
		v        any
		required bool
		want     int64
		err      bool
	}{
		{"2026-11-01T10:00:00.25Z", true, at.UnixMilli(), false},
		{at, true, at.UnixMilli(), false},
		{nil, false, 0, false},
		{nil, true, 0, true},
		{"yesterday", false, 0, true},
		{int64(5), false, 0, true},
	} {
		got, err := PlainTime(c.v, c.required)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("PlainTime(%v, %v) = %d, %v; want %d, error %v", c.v, c.required, got, err, c.want, c.err)
		}
	}
}
