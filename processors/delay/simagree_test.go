//go:build simagree

package delay_test

import (
	"container/heap"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
	"github.com/baton-pipeline/baton/statusmap"
)

// TestAgreesWithTheSimulator measures how the detector agrees with the
// simulator's delay notices. It is opt-in (build tag simagree: it needs the
// simulator, normalize and unify, and takes a minute):
//
//	go test -tags simagree -run Agrees -v ./processors/delay/   # ORDERS=3000
//
// It runs simulated orders through the real normalize and unify processors
// and the detector, called the way the unify stage will call it (every
// non-duplicate canonical event with the order-level truth after it, Due
// from a timer heap on the watermark, Evict at the end), and logs notices
// by reason and outcome, the failed syncs, how ship_by_missed compares with
// the simulator's own ship delays (its last parcel shipped after the
// promise, not cancelled), and sample timelines of each disagreement. It
// asserts only the records' versions.
func TestAgreesWithTheSimulator(t *testing.T) {
	orders := 3000
	if s := os.Getenv("ORDERS"); s != "" {
		orders, _ = strconv.Atoi(s)
	}
	cfg := simulator.DefaultConfig(orders, 42)
	var events []simulator.Event
	if _, err := simulator.Generate(cfg, func(e simulator.Event) error { events = append(events, e); return nil }); err != nil {
		t.Fatal(err)
	}
	maps, err := statusmap.Default()
	if err != nil {
		t.Fatal(err)
	}
	norm, err := normalize.New(normalize.Config{Maps: maps})
	if err != nil {
		t.Fatal(err)
	}
	uni, err := unify.New(unify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	det, err := delay.New(delay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	nst, ust := normalize.NewState(), unify.NewState()
	canon := schemas.MustLoad("canonical_event")

	type ord struct {
		d         delay.Order
		truth     delay.Truth
		log       []string
		simMsgs   int
		next      int64
		lastShip  time.Time
		shipBy    time.Time
		cancelled bool
	}
	all := map[string]*ord{}
	get := func(id string) *ord {
		o := all[id]
		if o == nil {
			o = &ord{}
			all[id] = o
		}
		return o
	}
	var timers timerHeap
	notices := map[string]map[string]any{} // latest version per notice ID
	var failed []map[string]any
	collect := func(id string, o *ord, out delay.Output) {
		for _, r := range out.Notices {
			v := r.Value
			if prev, ok := notices[v["notice_id"].(string)]; ok && prev["version"].(int64) >= v["version"].(int64) {
				t.Fatalf("notice %s: version %v after %v", v["notice_id"], v["version"], prev["version"])
			}
			notices[v["notice_id"].(string)] = v
			o.log = append(o.log, fmt.Sprintf("   NOTICE v%d %s %s missed=%v revised=%v state=%s outcome=%v notify_by=%v", v["version"], v["reason"], v["promise"],
				tfmt(v["missed_promise"]), tfmt(v["revised_date"]), v["state"], v["outcome"], tfmt(v["notify_by"])))
		}
		for _, r := range out.Failed {
			failed = append(failed, r.Value)
			o.log = append(o.log, fmt.Sprintf("   FAILED %s deadline=%v", r.Value["reason"], tfmt(r.Value["deadline"])))
		}
		if out.NextDue != 0 && out.NextDue != o.next {
			heap.Push(&timers, timer{out.NextDue, id})
		}
		o.next = out.NextDue
	}
	fire := func(w int64) {
		for len(timers) > 0 && timers[0].at < w {
			tm := heap.Pop(&timers).(timer)
			o := all[tm.id]
			if o.next != tm.at {
				continue
			}
			o.log = append(o.log, fmt.Sprintf("  due w=%s", tfmt(schemas.PlainOptionalTime(w))))
			collect(tm.id, o, det.Due(&o.d, tm.id, w))
		}
	}
	simSent := 0
	var w int64
	for _, e := range events {
		src := schemas.MustLoad(e.System.SchemaName())
		native, err := src.FromJSON(e.Value)
		if err != nil {
			t.Fatal(err)
		}
		if e.System == schemas.Notifications && e.Value["status"] == "delay_notice" {
			if ds := e.Value["delivery_status"]; ds == "sent" || ds == "delivered" {
				get(e.Value["order_id"].(string)).simMsgs++
				simSent++
			}
		}
		if id, ok := e.Value["order_id"].(string); ok {
			switch {
			case e.System == schemas.WMS && e.Value["status"] == "shipped":
				o := get(id)
				if at := e.Value["occurred_at"].(time.Time); at.After(o.lastShip) {
					o.lastShip = at
				}
			case e.System == schemas.OMS:
				o := get(id)
				if sb, ok := e.Value["promised_ship_by"].(time.Time); ok {
					o.shipBy = sb
				}
				if e.Value["status"] == "CANCELLED" {
					o.cancelled = true
				}
			}
		}
		queue := []normalize.Input{{System: e.System, Plain: src.Plain(native), Ingested: e.Arrival}}
		for len(queue) > 0 {
			in := queue[0]
			queue = queue[1:]
			out := norm.Process(nst, in)
			for _, l := range out.Links {
				queue = append(queue, normalize.Input{Link: &l, Ingested: in.Ingested})
			}
			for _, ce := range out.Events {
				cn, err := canon.FromJSON(ce.Value)
				if err != nil {
					t.Fatal(err)
				}
				plain := canon.Plain(cn)
				uo := uni.Process(ust, unify.Input{Plain: plain, Ingested: in.Ingested})
				if uo.Rejected != nil {
					t.Fatal(uo.Rejected)
				}
				w = max(w, in.Ingested.UnixMilli())
				fire(w)
				if uo.Duplicate {
					continue
				}
				id := plain["order_id"].(string)
				o := get(id)
				for _, tr := range uo.Transitions {
					v := tr.Value
					if v["order_id"] == id && v["shipment_id"] == nil && v["kind"] != unify.KindLate {
						o.truth = delay.Truth{Status: canonical.Status(v["to_status"].(string)),
							At: v["event_time"].(time.Time).UnixMilli(), TransitionID: v["transition_id"].(string)}
					}
				}
				ev, err := delay.EventFromPlain(plain)
				if err != nil {
					t.Fatal(err)
				}
				o.log = append(o.log, fmt.Sprintf("%s %-13s %-24s %-22s occ=%s rec=%s eta=%s sb=%s db=%s rev=%s ds=%s truth=%s", tfmt(schemas.PlainOptionalTime(in.Ingested.UnixMilli())), ev.System, ev.Status, ev.MessageType,
					tfmt(schemas.PlainOptionalTime(ev.OccurredAt)), tfmt(schemas.PlainOptionalTime(ev.RecordedAt)), tfmt(schemas.PlainOptionalTime(ev.EstimatedDelivery)), tfmt(schemas.PlainOptionalTime(ev.PromisedShipBy)), tfmt(schemas.PlainOptionalTime(ev.PromisedDeliverBy)),
					tfmt(schemas.PlainOptionalTime(ev.RevisedDate)), ev.DeliveryStatus, o.truth.Status))
				collect(id, o, det.Observe(&o.d, id, ev, o.truth, w))
			}
		}
	}
	end := w + (60 * 24 * time.Hour).Milliseconds()
	fire(end)
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := all[id]
		collect(id, o, det.Evict(&o.d, id, end))
	}

	shown := map[string]int{}
	byReason := map[string]map[string]int{}
	told := map[string]bool{}
	for _, v := range notices {
		r := v["reason"].(string)
		if byReason[r] == nil {
			byReason[r] = map[string]int{}
		}
		byReason[r][fmt.Sprint(v["outcome"])]++
		byReason[r]["total"]++
		if v["notified"].(bool) {
			told[v["order_id"].(string)] = true
		}
		if v["refund_due"].(bool) {
			byReason[r]["refund:"+v["refund_due_reason"].(string)]++
		}
		if v["renews"] != nil {
			byReason[r]["renewal"]++
		}
	}
	rs := mapsKeys(byReason)
	slices.Sort(rs)
	for _, r := range rs {
		t.Logf("%-24s %v", r, byReason[r])
	}
	failedBy := map[string]int{}
	for _, f := range failed {
		n := notices[f["check_id"].(string)]
		failedBy[n["reason"].(string)+"/"+fmt.Sprint(n["outcome"])]++
	}
	t.Logf("failed syncs: %d %v", len(failed), failedBy)
	// The simulator's own ship delays: the last parcel shipped after the
	// promised ship-by, not cancelled.
	simShip := map[string]bool{}
	for id, o := range all {
		if !o.shipBy.IsZero() && o.lastShip.After(o.shipBy) && !o.cancelled {
			simShip[id] = true
		}
	}
	agree := map[string]int{}
	for _, v := range notices {
		if v["reason"] != delay.ReasonShipByMissed || v["renews"] != nil {
			continue
		}
		id := v["order_id"].(string)
		agree[fmt.Sprintf("sim=%v outcome=%v simMsg=%v", simShip[id], v["outcome"], all[id].simMsgs > 0)]++
		if v["outcome"] == delay.NotNotified && all[id].simMsgs > 0 && shown["ship-msg"] < 3 {
			shown["ship-msg"]++
			t.Logf("--- ship notice not notified despite a simulator message %s\n%s", id, strings.Join(all[id].log, "\n"))
		}
		if !simShip[id] && shown["ship-nosim"] < 3 {
			shown["ship-nosim"]++
			t.Logf("--- ship notice the simulator has no delay for %s\n%s", id, strings.Join(all[id].log, "\n"))
		}
	}
	noticed := map[string]bool{}
	for _, v := range notices {
		if v["reason"] == delay.ReasonShipByMissed {
			noticed[v["order_id"].(string)] = true
		}
	}
	for id := range simShip {
		if !noticed[id] {
			agree["sim ship delay without notice"]++
			if shown["sim-nonotice"] < 3 {
				shown["sim-nonotice"]++
				t.Logf("--- simulator ship delay without a notice %s\n%s", id, strings.Join(all[id].log, "\n"))
			}
		}
	}
	t.Logf("ship_by_missed vs the simulator's ship delays: %v", agree)
	unmatched := 0
	var unmatchedIDs []string
	for _, id := range ids {
		if all[id].simMsgs > 0 && !told[id] {
			unmatched++
			unmatchedIDs = append(unmatchedIDs, id)
		}
	}
	t.Logf("simulator: %d delay_notice messages sent or delivered; orders with one that told no notice: %d", simSent, unmatched)
	// Samples for inspection.
	for _, f := range failed {
		n := notices[f["check_id"].(string)]
		k := n["reason"].(string) + "/" + fmt.Sprint(n["outcome"])
		if shown[k] >= 2 {
			continue
		}
		shown[k]++
		id := n["order_id"].(string)
		t.Logf("--- %s %s\n%s", k, id, strings.Join(all[id].log, "\n"))
	}
	for i, id := range unmatchedIDs {
		if i >= 3 {
			break
		}
		t.Logf("--- unmatched message %s\n%s", id, strings.Join(all[id].log, "\n"))
	}
}

func mapsKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func tfmt(v any) string {
	t, ok := v.(time.Time)
	if !ok {
		return "-"
	}
	return t.Format("01-02T15:04:05")
}

type timer struct {
	at int64
	id string
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].id < h[j].id)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
