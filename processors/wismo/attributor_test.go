package wismo

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

// ticketSchema is the wismo_ticket schema (schemas/avro/wismo_ticket.avsc).
var ticketSchema = schemas.MustLoad("wismo_ticket")

// valid checks a record against the schema: every field set, each of its
// type, and it encodes.
func valid(t *testing.T, r Record) {
	t.Helper()
	native, err := ticketSchema.FromJSON(r.Value)
	if err != nil {
		t.Fatalf("record does not fit the schema: %v\n%v", err, r.Value)
	}
	if _, err := ticketSchema.AppendBinary(nil, r.Value); err != nil {
		t.Fatalf("record does not encode: %v", err)
	}
	if len(native) != len(ticketSchema.Root().Fields) || len(r.Value) != len(native) {
		t.Fatalf("record has %d fields, schema %d", len(r.Value), len(ticketSchema.Root().Fields))
	}
}

// factsFn counts its calls.
type factsFn struct {
	f     Facts
	calls int
}

func (x *factsFn) get() Facts { x.calls++; return x.f }

func TestTicketClassifiesOnceAndAttributesAtTheFirstEvent(t *testing.T) {
	a := New(nil)
	var o Order
	facts := &factsFn{f: Facts{Truth: canonical.InTransit, TruthSince: at(0),
		Viewers: []ViewerLag{until(lag(sf, "c1", canonical.InTransit, 0), 90)}}}

	// The customer's ticket arrives untagged, with a subject that matches
	// nothing; the storefront is out of sync then.
	out := a.Ticket(&o, "o-1", Ticket{ID: "t-1", Tags: []string{"vip"}, Subject: "Question", At: at(60)}, facts.get)
	if len(out.Tickets) != 0 || facts.calls != 1 || o.Tickets() != 1 || o.Classified() != 0 {
		t.Fatalf("first event: %v, %d calls, %d tickets", out.Tickets, facts.calls, o.Tickets())
	}
	// By the time an agent tags it, the storefront caught up: the ticket
	// is still attributed to what the customer saw.
	facts.f.Viewers = nil
	out = a.Ticket(&o, "o-1", Ticket{ID: "t-1", Tags: []string{"vip", "wismo"}, At: at(120)}, facts.get)
	if facts.calls != 1 {
		t.Errorf("facts asked again for a known ticket")
	}
	if len(out.Tickets) != 1 {
		t.Fatalf("tagging did not classify: %v", out)
	}
	rec := out.Tickets[0]
	valid(t, rec)
	want := map[string]any{
		"ticket_id": "t-1", "order_id": "o-1", "classified_by": "tag", "matched": "wismo",
		"ticket_at": schemas.PlainTime(at(60)), "classified_at": schemas.PlainTime(at(120)), "cause": "viewer_out_of_sync",
		"link": "carrier->storefront", "viewer": "storefront", "out_of_sync_since": schemas.PlainTime(at(0)), "check_id": "c1",
		"failed_sync_reason": "sla_breached", "expected_status": "IN_TRANSIT", "shown_status": nil, "delay_reason": nil,
		"problem_status": nil, "problem_since": nil, "truth_status": "IN_TRANSIT", "truth_since": schemas.PlainTime(at(0)),
		"version": int64(0), "retracted": false,
	}
	if rec.Key != "o-1" || !reflect.DeepEqual(rec.Value, want) {
		t.Errorf("got  %v\nwant %v", rec.Value, want)
	}
	// Later events of the ticket: nothing.
	for _, tk := range []Ticket{{ID: "t-1", Tags: []string{"wismo"}, At: at(130)}, {ID: "t-1", Subject: "where is my order", At: at(10)}} {
		if out := a.Ticket(&o, "o-1", tk, facts.get); len(out.Tickets) != 0 {
			t.Errorf("classified again: %v", out)
		}
	}
	// A second ticket of the order is a ticket of its own.
	facts.f = Facts{Truth: canonical.Exception, TruthSince: at(200)}
	out = a.Ticket(&o, "o-1", Ticket{ID: "t-2", Subject: "Tracking says exception", At: at(300)}, facts.get)
	if len(out.Tickets) != 1 || facts.calls != 2 {
		t.Fatalf("second ticket: %v, %d calls", out, facts.calls)
	}
	valid(t, out.Tickets[0])
	v := out.Tickets[0].Value
	if v["cause"] != "carrier_exception" || v["problem_status"] != "EXCEPTION" || v["problem_since"] != schemas.PlainTime(at(200)) ||
		v["classified_by"] != "keyword" || v["matched"] != "tracking" || v["link"] != nil || v["viewer"] != nil || v["out_of_sync_since"] != nil {
		t.Errorf("%v", v)
	}
	if o.Tickets() != 2 || o.Classified() != 2 {
		t.Errorf("%d tickets, %d classified", o.Tickets(), o.Classified())
	}
}

func TestTicketIgnores(t *testing.T) {
	a := New(nil)
	var o Order
	called := false
	facts := func() Facts { called = true; return Facts{} }
	for _, tk := range []Ticket{{Tags: []string{"wismo"}, At: at(1)}, {ID: strings.Repeat("x", maxString+1), Tags: []string{"wismo"}, At: at(1)}} {
		if out := a.Ticket(&o, "o-1", tk, facts); len(out.Tickets) != 0 {
			t.Errorf("%q: %v", tk.ID, out)
		}
	}
	if called || !o.Empty() {
		t.Error("a ticket without a usable ID was remembered")
	}
	// nil facts: nothing known.
	out := a.Ticket(&o, "o-1", Ticket{ID: "t", Tags: []string{"wismo"}, At: at(1)}, nil)
	if len(out.Tickets) != 1 || out.Tickets[0].Value["cause"] != CauseNoSyncProblem || out.Tickets[0].Value["truth_status"] != nil {
		t.Errorf("%v", out)
	}
	valid(t, out.Tickets[0])
}

func TestRecordsOfEveryCauseFitTheSchema(t *testing.T) {
	a := New(nil)
	for i, f := range []Facts{
		{Truth: canonical.Shipped, TruthSince: at(0), Viewers: []ViewerLag{conflict(notif, "c", canonical.Cancelled, canonical.Shipped, 0)}},
		{Truth: canonical.Shipped, TruthSince: at(0), Delays: []Delay{delayed("n", "ship_by_missed", 0)}},
		{Truth: canonical.ReturnToSender, TruthSince: at(0)},
		{Truth: canonical.Delivered, TruthSince: at(0)},
		{},
	} {
		var o Order
		out := a.Ticket(&o, "o", Ticket{ID: fmt.Sprint(i), Tags: []string{"wismo"}, At: at(60)}, func() Facts { return f })
		if len(out.Tickets) != 1 {
			t.Fatal(out)
		}
		valid(t, out.Tickets[0])
		if got, want := out.Tickets[0].Value["cause"], Causes()[min(i, 3)]; got != want {
			t.Errorf("%d: cause %v, want %v", i, got, want)
		}
	}
}

// TestReplayThroughState: the same calls give the same records when the
// Order goes through AppendBinary and DecodeOrder between every two calls.
func TestReplayThroughState(t *testing.T) {
	a := New(nil)
	type call struct {
		tk Ticket
		f  Facts
	}
	calls := []call{
		{Ticket{ID: "r-1", Tags: []string{"return_request"}, Subject: "Return request for order 7", At: at(0)}, Facts{Truth: canonical.Delivered, TruthSince: at(-60)}},
		{Ticket{ID: "w-1", Tags: []string{"order_status"}, At: at(5)}, Facts{Truth: canonical.Exception, TruthSince: at(-30),
			Viewers: []ViewerLag{showing(conflict(sf, "cf", canonical.Delivered, canonical.Exception, -20), canonical.Delivered)},
			Delays:  []Delay{delayed("n", "exception", -30)}}},
		{Ticket{ID: "w-2", Subject: "hello", At: at(6)}, Facts{Truth: canonical.Exception, TruthSince: at(-30), Delays: []Delay{delayed("n", "exception", -30)},
			Parcels: []Parcel{{"p", canonical.Exception, at(-30)}}}},
		{Ticket{ID: "w-3", Subject: "nothing", At: at(7)}, Facts{Truth: "NOT_A_STATUS", TruthSince: at(1), Viewers: []ViewerLag{
			{Viewer: sf, Authority: "fax", CheckID: strings.Repeat("é", 200), Expected: "BOGUS", Shown: "ALSO_BOGUS", Since: at(0), Deadline: at(1)}}}},
		{Ticket{ID: "w-2", Tags: []string{"wismo"}, At: at(8)}, Facts{}},
		{Ticket{ID: "w-3", Subject: "Where’s my order??", At: at(9)}, Facts{}},
		{Ticket{ID: "r-1", Tags: []string{"return_request"}, At: at(10)}, Facts{}},
		{Ticket{ID: "w-1", Tags: []string{"wismo"}, At: at(11)}, Facts{}},
	}
	run := func(roundTrip bool) []Record {
		var o Order
		var recs []Record
		for _, c := range calls {
			if roundTrip {
				b := o.AppendBinary([]byte("prefix"))
				got, rest, err := DecodeOrder(append(b[len("prefix"):], "tail"...))
				if err != nil || string(rest) != "tail" {
					t.Fatalf("decode: %v, rest %q", err, rest)
				}
				if !bytes.Equal(got.AppendBinary(nil), b[len("prefix"):]) {
					t.Fatal("re-encoding differs")
				}
				o = got
			}
			f := c.f
			recs = append(recs, a.Ticket(&o, "o-7", c.tk, func() Facts { return f }).Tickets...)
		}
		return recs
	}
	plain, replayed := run(false), run(true)
	if len(plain) != 3 {
		t.Fatalf("%d records, want 3 (w-1, w-2, w-3)", len(plain))
	}
	if !reflect.DeepEqual(plain, replayed) {
		t.Errorf("replay through the state differs:\n%v\n%v", plain, replayed)
	}
	for _, r := range plain {
		valid(t, r)
	}
	// w-3's garbage facts were sanitized to what the state holds.
	w3 := plain[2].Value
	if w3["ticket_id"] != "w-3" || w3["truth_status"] != nil || w3["expected_status"] != nil || w3["shown_status"] != nil ||
		w3["link"] != "storefront" || len(w3["check_id"].(string)) > maxString {
		t.Errorf("w-3: %v", w3)
	}
	if c := plain[0].Value; c["ticket_id"] != "w-1" || c["cause"] != CauseViewerOutOfSync || c["failed_sync_reason"] != ReasonConflict ||
		c["link"] != "wms->storefront" || c["shown_status"] != "DELIVERED" || c["classified_by"] != "tag" || c["matched"] != "order_status" {
		t.Errorf("w-1: %v", c)
	}
	if c := plain[1].Value; c["ticket_id"] != "w-2" || c["cause"] != CauseDelayNotNotified || c["delay_reason"] != "exception" ||
		c["ticket_at"] != schemas.PlainTime(at(6)) || c["classified_at"] != schemas.PlainTime(at(8)) {
		t.Errorf("w-2: %v", c)
	}
}

func TestOrderRemembersAtMost16Tickets(t *testing.T) {
	a := New(nil)
	var o Order
	// One WISMO ticket, then 20 others that are not.
	a.Ticket(&o, "o", Ticket{ID: "wismo", Tags: []string{"wismo"}, At: at(0)}, nil)
	for i := range 20 {
		a.Ticket(&o, "o", Ticket{ID: fmt.Sprint("other-", i), At: at(i + 1)}, nil)
	}
	if o.Tickets() != maxTickets || o.Classified() != 1 {
		t.Fatalf("%d tickets, %d classified", o.Tickets(), o.Classified())
	}
	// The unclassified went first: the WISMO ticket is still known.
	if out := a.Ticket(&o, "o", Ticket{ID: "wismo", Tags: []string{"wismo"}, At: at(30)}, nil); len(out.Tickets) != 0 {
		t.Error("the classified ticket was forgotten")
	}
	if o.find("other-0") != nil || o.find("other-4") != nil || o.find("other-5") == nil || o.find("other-19") == nil {
		t.Error("not the oldest unclassified forgotten")
	}
	// All classified: the oldest goes.
	var p Order
	for i := range maxTickets + 1 {
		a.Ticket(&p, "o", Ticket{ID: fmt.Sprint(i), Tags: []string{"wismo"}, At: at(i)}, nil)
	}
	if p.Tickets() != maxTickets || p.find("0") != nil || p.find("1") == nil {
		t.Errorf("%d tickets", p.Tickets())
	}
	if _, _, err := DecodeOrder(o.AppendBinary(nil)); err != nil {
		t.Error(err)
	}
}

func TestDecodeOrderRejectsCorruptState(t *testing.T) {
	var o Order
	if b := o.AppendBinary(nil); len(b) != 1 {
		t.Errorf("empty order is %d bytes", len(b))
	}
	New(nil).Ticket(&o, "o", Ticket{ID: "t", At: at(0)}, func() Facts {
		return Facts{Truth: canonical.Exception, TruthSince: at(0), Viewers: []ViewerLag{lag(sf, "c", canonical.Exception, -10)}}
	})
	good := o.AppendBinary(nil)
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in the state", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	for name, b := range map[string][]byte{
		"nothing":           nil,
		"format":            {0x7e},
		"no tickets":        {headerFull, 0},
		"too many tickets":  {headerFull, maxTickets + 1},
		"truncated":         good[:len(good)-1],
		"unknown status":    replace("EXCEPTION", "EXCEPTIOX"),
		"unknown system":    replace("storefront", "storefrunt"),
		"bad pending flag":  {headerFull, 1, 1, 't', 0, 7},
		"cause code":        bytes.Replace(good, []byte{1, causeCodes[CauseViewerOutOfSync]}, []byte{1, 9}, 1),
		"repeated ticket":   {headerFull, 2, 1, 't', 0, 0, 1, 't', 0, 0},
		"empty ticket id":   {headerFull, 1, 0, 0, 0},
		"string too long":   append([]byte{headerFull, 1, 0x81, 0x02}, make([]byte, 257)...),
		"bad varint":        {headerFull, 1, 1, 't', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"unknown reason":    replace(ReasonSLABreached, "sla_breachex"),
		"unknown expected":  bytes.Replace(good, []byte("\x09EXCEPTION"), []byte("\x09EXPECTION"), 1),
		"ticket count only": {headerFull},
	} {
		if _, _, err := DecodeOrder(b); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecodeOrder: DecodeOrder never panics, and what it accepts
// re-encodes to a state that decodes to the same Order.
func FuzzDecodeOrder(f *testing.F) {
	var o Order
	a := New(nil)
	a.Ticket(&o, "o", Ticket{ID: "a", Tags: []string{"wismo"}, At: at(0)}, nil)
	a.Ticket(&o, "o", Ticket{ID: "b", At: at(1)}, func() Facts {
		return Facts{Truth: canonical.Shipped, TruthSince: at(0), Delays: []Delay{delayed("n", "ship_by_missed", -10)}}
	})
	f.Add(o.AppendBinary(nil))
	f.Add([]byte{headerEmpty})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, _, err := DecodeOrder(b)
		if err != nil {
			return
		}
		enc := o.AppendBinary(nil)
		again, rest, err := DecodeOrder(enc)
		if err != nil || len(rest) != 0 {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if !reflect.DeepEqual(o, again) {
			t.Fatalf("decoded %+v, again %+v", o, again)
		}
	})
}

func TestTicketFromPlain(t *testing.T) {
	canon := schemas.MustLoad("canonical_event")
	ts := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	native, err := canon.FromJSON(map[string]any{
		"order_id": "o-1", "shipment_id": nil, "tracking_number": nil, "source_system": "helpdesk",
		"source_event_id": "z-1", "source_status": "Shipped", "canonical_status": "SHIPPED", "linked_by": "event",
		"occurred_at": ts, "recorded_at": ts.Add(time.Second), "ingested_at": ts.Add(2 * time.Second),
		"carrier": nil, "estimated_delivery": nil, "promised_ship_by": nil, "promised_deliver_by": nil,
		"ticket_id": "200014", "tags": []any{"wismo", "order_status"}, "message_type": nil, "delivery_status": nil, "revised_date": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	plain := canon.Plain(native)
	tk, err := TicketFromPlain(plain)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Ticket{ID: "200014", Tags: []string{"wismo", "order_status"}, At: ts.UnixMilli()}); !reflect.DeepEqual(tk, want) {
		t.Errorf("got  %+v\nwant %+v", tk, want)
	}
	// The subject, once the canonical event carries it.
	plain["subject"], plain["occurred_at"] = "Where is my order?", ts
	if tk, err := TicketFromPlain(plain); err != nil || tk.Subject != "Where is my order?" || tk.At != ts.UnixMilli() {
		t.Errorf("%+v %v", tk, err)
	}
	if tk, err := TicketFromPlain(map[string]any{"ticket_id": "t", "tags": []string{"a"}, "occurred_at": ts}); err != nil || tk.Tags[0] != "a" {
		t.Errorf("%+v %v", tk, err)
	}
	for _, bad := range []map[string]any{{"ticket_id": "t"}, {"occurred_at": "yesterday"}, {"occurred_at": 42}} {
		if _, err := TicketFromPlain(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
