package main

// End-to-end tests of the unify stage: crash safety and rebalancing. The
// reference for "an uninterrupted run of the same input" is the unify
// processor itself, run in this test process over the canonical topic
// partition by partition, in offset order: that is exactly the input the
// stage consumed, so whatever the kills and rebalances did, the stored
// timeline must equal it.

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/pipelines"
	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// readTopic returns every committed data record of topic, per partition in
// offset order, reading until each partition's end offset.
func (s *stack) readTopic(topic string) map[int32][]*kgo.Record {
	s.t.Helper()
	ends := s.endOffsets(topic)[topic]
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.svc.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	out := map[int32][]*kgo.Record{}
	reached := map[int32]bool{}
	for p, end := range ends {
		if end == 0 {
			reached[p] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for len(reached) < len(ends) {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			s.t.Fatalf("%s: read only %d of %d partitions to their end", topic, len(reached), len(ends))
		}
		f.EachRecord(func(r *kgo.Record) {
			if r.Offset >= ends[r.Partition]-1 {
				reached[r.Partition] = true
			}
			if !r.Attrs.IsControl() && r.Offset < ends[r.Partition] {
				out[r.Partition] = append(out[r.Partition], r)
			}
		})
	}
	return out
}

// transitionKey identifies a transition and everything it says.
func transitionKey(v map[string]any) string {
	return fmt.Sprintf("%v|%v|%v|%v|%v|%v|%v|%v", v["transition_id"], v["order_id"], v["shipment_id"], v["kind"], v["from_status"], v["to_status"], v["authority"], v["event_time"])
}

// e2eRetention is the unify retention of the runs these tests compare
// with the in-process replay, and of the replay (which evicts by the
// watermark, having no progress records to go by): above the simulated
// backlog's span (refunds come weeks after delivery), so that no eviction
// depends on how far the replay's watermark had got. The determinism
// harness runs with it too (harnessRetention), every condition alike.
const e2eRetention = "2160h"

// replay is what the unify processor, run in-process over the canonical
// topic as the stage runs it, produces: transitions, closed checks and
// failed syncs, each as a sorted list of comparable keys.
type replay struct {
	transitions, checks, failed []string
	// emitted lists, per check ID, every sync_check record the replay
	// emitted (version, retracted, outcome), for diagnostics.
	emitted map[string][]string
	// notices are the delay notices, each at its latest version.
	notices []string
	// tickets are the WISMO tickets with their attribution.
	tickets []string
	// partitionOf maps each order ID to its canonical partition, to tell
	// on a difference which partitions it touches.
	partitionOf map[string]int32
}

// expectedReplay runs the unify processor (viewer checks on) over the
// canonical topic as the stage would: one state per partition, records in
// offset order, holdback records applied. The partitions are independent,
// so they run concurrently (the reference is the slow part of these tests
// under -race).
func (s *stack) expectedReplay() replay {
	s.t.Helper()
	auth, err := unify.DefaultAuthority()
	if err != nil {
		s.t.Fatal(err)
	}
	retention, err := time.ParseDuration(e2eRetention)
	if err != nil {
		s.t.Fatal(err)
	}
	proc, err := unify.New(unify.Config{Authority: auth, SyncChecks: true, Delays: true, Wismo: true, Retention: retention})
	if err != nil {
		s.t.Fatal(err)
	}
	dec := s.decoder()
	transition := schemas.MustLoad("order_transition")
	partitions := s.readTopic(s.topics().Name(topology.Canonical))
	all := replay{partitionOf: map[string]int32{}, emitted: map[string][]string{}}
	for p, recs := range partitions {
		for _, r := range recs {
			all.partitionOf[string(r.Key)] = p
		}
	}
	results := make(chan replay, len(partitions))
	failures := make(chan error, len(partitions))
	for _, recs := range partitions {
		go func() {
			st := unify.NewState()
			out := replay{emitted: map[string][]string{}}
			// The latest version of every record by its ID, as the
			// *_latest views read ClickHouse: corrections (a late event
			// re-emits what it changed) replace, retractions remove.
			latest := map[string]string{}
			keep := func(id string, v map[string]any, key string) {
				if id[0] == 'c' {
					out.emitted[id[2:]] = append(out.emitted[id[2:]], fmt.Sprintf("v%v retracted=%v %v", v["version"], v["retracted"], v["outcome"]))
				}
				if v["retracted"] == true {
					delete(latest, id)
					return
				}
				latest[id] = key
			}
			collect := func(res unify.Output) error {
				for _, t := range res.Transitions {
					native, err := transition.FromJSON(t.Value)
					if err != nil {
						return err
					}
					keep("t|"+t.Value["transition_id"].(string), t.Value, transitionKey(transition.Plain(native)))
				}
				for _, c := range res.Checks {
					keep("c|"+c.Value["check_id"].(string), c.Value, checkKey(c.Value))
				}
				for _, f := range res.Failed {
					keep("f|"+f.Value["check_id"].(string), f.Value, failedKey(f.Value))
				}
				for _, k := range res.Tickets {
					keep(fmt.Sprint("k|", k.Value["ticket_id"], k.Value["ticket_at"]), k.Value, ticketKey(k.Value))
				}
				for _, n := range res.Notices {
					keep("n|"+n.Value["notice_id"].(string), n.Value, noticeKey(n.Value))
				}
				return nil
			}
			for _, r := range recs {
				if pipelines.Marker(r) {
					continue
				}
				d, err := dec.Decode(context.Background(), r.Value)
				if err != nil {
					failures <- err
					return
				}
				if err := collect(proc.Process(st, unify.Input{Plain: d.Plain, Ingested: r.Timestamp})); err != nil {
					failures <- err
					return
				}
			}
			for id, key := range latest {
				switch id[0] {
				case 't':
					out.transitions = append(out.transitions, key)
				case 'c':
					out.checks = append(out.checks, key)
				case 'f':
					out.failed = append(out.failed, key)
				case 'k':
					out.tickets = append(out.tickets, key)
				case 'n':
					out.notices = append(out.notices, key)
				}
			}
			results <- out
		}()
	}
	for range partitions {
		select {
		case r := <-results:
			all.transitions = append(all.transitions, r.transitions...)
			all.checks = append(all.checks, r.checks...)
			all.failed = append(all.failed, r.failed...)
			all.notices = append(all.notices, r.notices...)
			all.tickets = append(all.tickets, r.tickets...)
			maps.Copy(all.emitted, r.emitted)
		case err := <-failures:
			s.t.Fatal(err)
		}
	}
	sort.Strings(all.transitions)
	sort.Strings(all.checks)
	sort.Strings(all.failed)
	sort.Strings(all.notices)
	sort.Strings(all.tickets)
	return all
}

// checkKey identifies a closed check and what it concluded.
func checkKey(v map[string]any) string {
	latency := "-"
	if l, ok := v["latency_ms"].(int64); ok {
		latency = fmt.Sprint(l)
	}
	shown, _ := v["shown_status"].(string)
	return fmt.Sprintf("%v|%v|%v|%v|%v|%s|%s", v["check_id"], v["order_id"], v["viewer"], v["expected_status"], v["outcome"], shown, latency)
}

// noticeKey identifies a delay notice's version and what it says.
func noticeKey(v map[string]any) string {
	return fmt.Sprintf("%v|%v|%v|%v|%v|%v", v["notice_id"], v["order_id"], v["reason"], v["state"], v["outcome"], v["notified"])
}

// ticketKey identifies a WISMO ticket and its attribution.
func ticketKey(v map[string]any) string {
	str := func(f string) string { s, _ := v[f].(string); return s }
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%d", str("ticket_id"), str("order_id"), str("cause"), str("link"), str("viewer"),
		str("check_id"), str("classified_by"), v["ticket_at"].(time.Time).UnixMilli())
}

// failedKey identifies a failed sync.
func failedKey(v map[string]any) string {
	return fmt.Sprintf("%v|%v|%v|%v", v["check_id"], v["order_id"], v["viewer"], v["reason"])
}

// storedChecks reads sync_checks and failed_syncs from ClickHouse, each
// at its latest version (the *_latest views: the sink's re-inserts and
// the corrections collapse, retractions are dropped).
func (s *stack) storedChecks() (checks, failed []string) {
	s.t.Helper()
	rows, err := s.ch.Conn().Query(context.Background(), `SELECT check_id, order_id, viewer, expected_status, outcome, shown_status, latency_ms
		FROM `+s.database+`.sync_checks_latest`)
	if err != nil {
		s.t.Fatal(err)
	}
	for rows.Next() {
		var id, order, viewer, expected, outcome, shown string
		var latency *int64
		if err := rows.Scan(&id, &order, &viewer, &expected, &outcome, &shown, &latency); err != nil {
			s.t.Fatal(err)
		}
		v := map[string]any{"check_id": id, "order_id": order, "viewer": viewer, "expected_status": expected, "outcome": outcome, "shown_status": shown}
		if latency != nil {
			v["latency_ms"] = *latency
		}
		checks = append(checks, checkKey(v))
	}
	rows.Close()
	rows, err = s.ch.Conn().Query(context.Background(), `SELECT check_id, order_id, viewer, reason FROM `+s.database+`.failed_syncs_latest`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, order, viewer, reason string
		if err := rows.Scan(&id, &order, &viewer, &reason); err != nil {
			s.t.Fatal(err)
		}
		failed = append(failed, failedKey(map[string]any{"check_id": id, "order_id": order, "viewer": viewer, "reason": reason}))
	}
	sort.Strings(checks)
	sort.Strings(failed)
	return checks, failed
}

// storedNotices reads delay_notices from ClickHouse, each notice at its
// latest version (delay_notices_latest).
func (s *stack) storedNotices() []string {
	s.t.Helper()
	rows, err := s.ch.Conn().Query(context.Background(), `SELECT notice_id, order_id, reason, state, outcome, notified, version
		FROM `+s.database+`.delay_notices_latest`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, order, reason, state, outcome string
		var notified uint8
		var version uint64
		if err := rows.Scan(&id, &order, &reason, &state, &outcome, &notified, &version); err != nil {
			s.t.Fatal(err)
		}
		v := map[string]any{"notice_id": id, "order_id": order, "reason": reason, "state": state, "outcome": nilIfEmpty(outcome),
			"notified": notified == 1, "version": int64(version)}
		out = append(out, noticeKey(v))
	}
	sort.Strings(out)
	return out
}

// storedTickets reads wismo_tickets from ClickHouse (wismo_tickets_latest).
func (s *stack) storedTickets() []string {
	s.t.Helper()
	rows, err := s.ch.Conn().Query(context.Background(), `SELECT ticket_id, order_id, cause, link, viewer, check_id, classified_by, ticket_at_ms
		FROM `+s.database+`.wismo_tickets_latest`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, order, cause, link, viewer, check, by string
		var at int64
		if err := rows.Scan(&id, &order, &cause, &link, &viewer, &check, &by, &at); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, ticketKey(map[string]any{"ticket_id": id, "order_id": order, "cause": cause, "link": link, "viewer": viewer,
			"check_id": check, "classified_by": by, "ticket_at": time.UnixMilli(at)}))
	}
	sort.Strings(out)
	return out
}

// producedTransitions reads the transitions topic: the latest record of
// each transition ID, retracted ones dropped (a correction follows what it
// corrects in the order's partition).
func (s *stack) producedTransitions() []string {
	s.t.Helper()
	dec := s.decoder()
	latest := map[string]string{}
	for _, recs := range s.readTopic(s.topics().Name(topology.Transitions)) {
		for _, r := range recs {
			d, err := dec.Decode(context.Background(), r.Value)
			if err != nil {
				s.t.Fatal(err)
			}
			v := d.Plain
			if id := v["transition_id"].(string); v["retracted"] == true {
				delete(latest, id)
			} else {
				latest[id] = transitionKey(v)
			}
		}
	}
	return slices.Sorted(maps.Values(latest))
}

// storedTransitions reads order_transitions from ClickHouse
// (order_transitions_latest).
func (s *stack) storedTransitions() []string {
	s.t.Helper()
	rows, err := s.ch.Conn().Query(context.Background(), `SELECT transition_id, order_id, shipment_id, kind, from_status, to_status, authority, event_time_ms
		FROM `+s.database+`.order_transitions_latest`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, order, shipment, kind, from, to, authority string
		var ms int64
		if err := rows.Scan(&id, &order, &shipment, &kind, &from, &to, &authority, &ms); err != nil {
			s.t.Fatal(err)
		}
		v := map[string]any{"transition_id": id, "order_id": order, "shipment_id": nilIfEmpty(shipment), "kind": kind, "from_status": nilIfEmpty(from),
			"to_status": to, "authority": authority, "event_time": time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)}
		out = append(out, transitionKey(v))
	}
	sort.Strings(out)
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// assertSameTimeline checks the transitions topic and ClickHouse's
// transitions — and, withChecks, its sync checks, failed syncs, delay
// notices and WISMO tickets — against the in-process reference: same
// sets, nothing doubled, nothing missing. A check that differs is shown
// with what the replay, the sync_checks topic and ClickHouse hold for it.
func (s *stack) assertSameTimeline(withChecks bool) {
	s.t.Helper()
	want := s.expectedReplay()
	if len(want.transitions) == 0 || len(want.checks) == 0 || len(want.failed) == 0 || len(want.notices) == 0 || len(want.tickets) == 0 {
		s.t.Fatalf("the reference run produced %d transitions, %d checks, %d failed syncs, %d delay notices, %d WISMO tickets",
			len(want.transitions), len(want.checks), len(want.failed), len(want.notices), len(want.tickets))
	}
	type comparison struct {
		name      string
		want, got []string
		checks    bool // show each differing check's records
	}
	comparisons := []comparison{
		{"transitions topic", want.transitions, s.producedTransitions(), false},
		{"ClickHouse order_transitions", want.transitions, s.storedTransitions(), false},
	}
	if withChecks {
		// ClickHouse keeps one row per check ID (ReplacingMergeTree, read
		// with FINAL), and one per WISMO ticket and time, so the replay's
		// records are compared as sets (a ticket repeated after its order
		// was evicted, or a check closed twice with the same content —
		// fixed in the checker, but a set is what the table holds — is
		// one row).
		checks, failed := s.storedChecks()
		comparisons = append(comparisons, comparison{"ClickHouse sync_checks", slices.Compact(slices.Clone(want.checks)), checks, true},
			comparison{"ClickHouse failed_syncs", slices.Compact(slices.Clone(want.failed)), failed, true},
			comparison{"ClickHouse delay_notices", want.notices, s.storedNotices(), false},
			comparison{"ClickHouse wismo_tickets", slices.Compact(slices.Clone(want.tickets)), s.storedTickets(), false})
	}
	for _, c := range comparisons {
		diff := diffSorted(c.want, c.got)
		if diff == "" {
			continue
		}
		histories := ""
		if c.checks {
			histories = s.checkHistories(diff, want.emitted)
		}
		s.t.Errorf("%s differs from an uninterrupted run (%d, want %d; by canonical partition, missing/extra: %s):\n%s%s",
			c.name, len(c.got), len(c.want), differencesByPartition(c.want, c.got, want.partitionOf), diff, histories)
	}
}

// checkHistories describes, for each check a diff names, every record of
// it the replay emitted, the sync_checks topic holds and ClickHouse
// stored (which of the three first differs tells where a result went
// wrong), then the stored check, its order's canonical events and its
// transitions.
func (s *stack) checkHistories(diff string, emitted map[string][]string) string {
	inTopic := map[string][]string{}
	dec := s.decoder()
	for p, recs := range s.readTopic(s.topics().Name(topology.SyncChecks)) {
		for _, r := range recs {
			d, err := dec.Decode(context.Background(), r.Value)
			if err != nil {
				continue
			}
			v := d.Plain
			id, _ := v["check_id"].(string)
			inTopic[id] = append(inTopic[id], fmt.Sprintf("p%d@%d v%v retracted=%v %v", p, r.Offset, v["version"], v["retracted"], v["outcome"]))
		}
	}
	var b strings.Builder
	for _, line := range strings.Split(diff, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		id := strings.Split(f[1], "|")[0]
		var stored []string
		rows, err := s.ch.Conn().Query(context.Background(), "SELECT toString(version), toString(retracted), outcome, toString(kafka_partition), toString(kafka_offset) FROM "+s.database+".sync_checks WHERE check_id = ?", id)
		if err != nil {
			stored = []string{err.Error()}
		} else {
			for rows.Next() {
				var version, retracted, outcome, p, off string
				if err := rows.Scan(&version, &retracted, &outcome, &p, &off); err == nil {
					stored = append(stored, fmt.Sprintf("p%s@%s v%s retracted=%s %s", p, off, version, retracted, outcome))
				}
			}
			rows.Close()
		}
		fmt.Fprintf(&b, "  check %s: replay emitted %q; topic %q; ClickHouse %q\n", id, emitted[id], inTopic[id], stored)
		// The stored check, its order's canonical events and transitions.
		for _, q := range []string{
			"SELECT concat(order_id, ' opened_by=', opened_by, ' truth_at=', toString(truth_at_ms), ' deadline=', toString(deadline_ms), ' closed_at=', toString(closed_at_ms)) FROM " + s.database + ".sync_checks WHERE check_id = '" + id + "'",
			"SELECT concat(source_system, ' ', canonical_status, ' rec=', toString(recorded_at_ms), ' p', toString(kafka_partition), '@', toString(kafka_offset), ' ', source_event_id) FROM " + s.database + ".canonical_events WHERE order_id IN (SELECT order_id FROM " + s.database + ".sync_checks WHERE check_id = '" + id + "') ORDER BY recorded_at_ms",
			"SELECT concat(toString(kafka_partition), '@', toString(kafka_offset), ' v', toString(version), ' ', from_status, '->', to_status, ' at=', toString(event_time_ms), ' rec=', toString(recorded_at_ms), ' ', kind, ' r', toString(retracted)) FROM " + s.database + ".order_transitions WHERE order_id IN (SELECT order_id FROM " + s.database + ".sync_checks WHERE check_id = '" + id + "') ORDER BY kafka_offset",
		} {
			rows, err := s.ch.Conn().Query(context.Background(), q)
			if err != nil {
				fmt.Fprintf(&b, "    %v\n", err)
				continue
			}
			for rows.Next() {
				var line string
				rows.Scan(&line)
				fmt.Fprintf(&b, "    %s\n", line)
			}
			rows.Close()
		}
	}
	return b.String()
}

// differencesByPartition counts, per canonical partition, the keys (whose
// second field is the order ID) missing from got and extra in it.
func differencesByPartition(want, got []string, partitionOf map[string]int32) string {
	count := map[string]int{}
	for _, k := range want {
		count[k]++
	}
	for _, k := range got {
		count[k]--
	}
	missing, extra := map[int32]int{}, map[int32]int{}
	for k, n := range count {
		p := partitionOf[strings.Split(k, "|")[1]]
		if n > 0 {
			missing[p] += n
		} else if n < 0 {
			extra[p] -= n
		}
	}
	var b strings.Builder
	for p := int32(0); p < 64; p++ {
		if missing[p]+extra[p] > 0 {
			fmt.Fprintf(&b, "p%d %d/%d ", p, missing[p], extra[p])
		}
	}
	return strings.TrimSpace(b.String())
}

// diffSorted describes the first differences between two sorted lists.
func diffSorted(want, got []string) string {
	var b strings.Builder
	i, j, shown := 0, 0, 0
	for (i < len(want) || j < len(got)) && shown < 10 {
		switch {
		case j >= len(got) || (i < len(want) && want[i] < got[j]):
			fmt.Fprintf(&b, "  missing: %s\n", want[i])
			i++
			shown++
		case i >= len(want) || got[j] < want[i]:
			fmt.Fprintf(&b, "  extra:   %s\n", got[j])
			j++
			shown++
		default:
			i++
			j++
		}
	}
	return b.String()
}

// keepLogsOnFailure writes the named process logs to files when the test
// fails (they are too long for the test output) and names the files.
func keepLogsOnFailure(t testing.TB, logs map[string]*bytes.Buffer) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// A subtest's name holds a slash, which a temp pattern may not.
		dir, err := os.MkdirTemp("", "baton-"+strings.ReplaceAll(t.Name(), "/", "_")+"-")
		if err != nil {
			t.Log(err)
			return
		}
		for name, buf := range logs {
			if err := os.WriteFile(filepath.Join(dir, name+".log"), buf.Bytes(), 0o644); err != nil {
				t.Log(err)
			}
		}
		t.Logf("process logs kept in %s", dir)
	})
}

// waitJoinedAlone waits until each consumer group of baton run is stable
// with one member, not one of gone (the members of runs killed before),
// and adds that member to gone: the run started last has joined all
// three groups and the killed runs' members have timed out. A kill before
// then lands in a join, which the group sits out for up to a rebalance
// timeout (a minute); the dev broker chains such waits, so that kills
// within a few seconds of their starts once kept the next run in joins
// for more than five minutes. That tests the broker's group protocol, not
// exactly-once; the kills here are meant for the work.
func (s *stack) waitJoinedAlone(gone map[string]bool) {
	s.t.Helper()
	var groups []string
	for _, stage := range []string{"normalize", "unify", "sink"} {
		groups = append(groups, pipelines.StageGroup(s.appID, stage))
	}
	alone := func() (members []string, states string) {
		described, err := s.adm.DescribeGroups(context.Background(), groups...)
		if err != nil {
			return nil, err.Error()
		}
		var each []string
		for _, g := range described.Sorted() {
			each = append(each, fmt.Sprintf("%s %s with %d members", g.Group, g.State, len(g.Members)))
			if g.Err == nil && g.State == "Stable" && len(g.Members) == 1 && !gone[g.Members[0].MemberID] {
				members = append(members, g.Members[0].MemberID)
			}
		}
		return members, strings.Join(each, ", ")
	}
	const limit = 3 * time.Minute
	for deadline := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		members, states := alone()
		if len(members) == len(groups) {
			for _, m := range members {
				gone[m] = true
			}
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("baton run not alone in its consumer groups after %s: %s", limit, states)
		}
	}
}

// startRun starts `baton run` in the background with small batches; its
// log goes to logBuf.
func (s *stack) startRun(bin string, logBuf *bytes.Buffer) *exec.Cmd {
	s.t.Helper()
	// No idle advance: it is the one wall-clock input of the checks, and
	// the reference replays records only.
	cmd := s.command("run", "--batch-size", "2000", "--flush-interval", "100ms", "--session-timeout", "6s", "--idle-advance", "0", "--retention", harnessRetention())
	cmd.Path = bin
	cmd.Stderr = logBuf
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	return cmd
}

func TestUnifyTimelineSurvivesFiveSIGKILLsExactlyOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	// 5,000 orders (about 180,000 source records) in make test, so that
	// five kills land in a run long enough to have every stage busy;
	// BATON_CHAOS_ORDERS=20000 for the long variant.
	s.mustRunFast("simulate", "--orders", cmpOr(os.Getenv("BATON_CHAOS_ORDERS"), "5000"), "--seed", "31")
	rng := rand.New(rand.NewPCG(31, 7))
	for kill := 0; kill < 5; kill++ {
		cmd := s.startRun(batonFastBin, &bytes.Buffer{})
		// A random moment once this run has stored new transitions: every
		// kill lands mid-run, with transactions and batches in flight.
		before := s.rowsIn("order_transitions")
		waitFor(t, 3*time.Minute, "new transitions in ClickHouse", func() bool { return s.rowsIn("order_transitions") > before })
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
	}
	beforeLast := s.rowsIn("order_transitions")
	cmd := s.command("run", "--until-caught-up", "--flush-interval", "100ms", "--session-timeout", "6s", "--idle-advance", "0", "--retention", e2eRetention)
	cmd.Path = batonFastBin
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("baton run --until-caught-up: %v\n%s", err, out)
	}
	// Kills 1 to 4 landed mid-run by construction (the run after each
	// stored new transitions); the fifth did too unless the last run
	// found nothing left. A fast machine can finish the backlog within
	// five short runs, so that is logged, not failed: the timeline
	// comparison below is the test.
	t.Logf("the last run stored %d transitions after the fifth kill", s.rowsIn("order_transitions")-beforeLast)
	s.assertSameTimeline(true)
}

func TestUnifyTwoProcessesShareTheWorkWithTheSameTimeline(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.mustRunFast("simulate", "--orders", "4000", "--seed", "32")
	var firstLog, secondLog, lastLog bytes.Buffer
	keepLogsOnFailure(t, map[string]*bytes.Buffer{"first": &firstLog, "second": &secondLog, "last": &lastLog})
	first := s.startRun(batonFastBin, &firstLog)
	waitFor(t, 3*time.Minute, "transitions in ClickHouse", func() bool { return s.rowsIn("order_transitions") > 0 })
	second := s.startRun(batonFastBin, &secondLog) // joins: the groups rebalance
	time.Sleep(4 * time.Second)
	// A stop must finish the batch in flight and leave; one that hangs
	// (a sink stopped while it waited for the registry did, in leaving its
	// group) fails with every goroutine in the process's log.
	stopWithin(t, first, "first", time.Minute) // leaves: they rebalance again
	stopWithin(t, second, "second", time.Minute)
	cmd := s.command("run", "--until-caught-up", "--flush-interval", "100ms", "--session-timeout", "6s", "--idle-advance", "0", "--retention", e2eRetention)
	cmd.Path = batonFastBin
	cmd.Stdout, cmd.Stderr = &lastLog, &lastLog
	if err := cmd.Run(); err != nil {
		t.Fatalf("baton run --until-caught-up: %v", err)
	}
	// Under load a join and a leave once left help-desk RETURNED checks
	// stored MISSING that the uninterrupted replay lacked: the batches a
	// process sorts by event time decided it (see unify's
	// TestACheckDueBehindTheHorizonSurvivesALateEvent).
	s.assertSameTimeline(true)
}

// Orders are evicted once every normalize partition's announced progress
// passes the end of their life plus the allowed lateness (see
// unify.Config.Origins): were progress never announced, `baton run` would
// evict nothing and its state would grow for good. Over a simulated
// backlog with a one-day retention, every normalize partition announces
// its progress on the canonical topic, and the unify changelog
// tombstones closed orders.
func TestOrdersAreEvictedByTheNormalizePartitionsProgress(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.mustRunFast("simulate", "--orders", "300", "--seed", "5", "--start", "2026-09-28T06:00:00Z")
	s.runUntilCaughtUp(nil, "--retention", "24h")
	origins := map[int32]bool{}
	for _, recs := range s.readTopic(s.topics().Name(topology.Canonical)) {
		for _, r := range recs {
			if origin, _, ok := pipelines.Progress(r); ok {
				origins[origin] = true
			}
		}
	}
	if len(origins) != int(s.topics().Partitions) {
		t.Errorf("progress records from normalize partitions %v, want all %d", slices.Sorted(maps.Keys(origins)), s.topics().Partitions)
	}
	evicted := 0
	for _, recs := range s.readTopic(s.topics().Name(topology.UnifyChangelog)) {
		for _, r := range recs {
			if r.Value == nil && !strings.HasPrefix(string(r.Key), "\x00") { // an order's tombstone, not its history's
				evicted++
			}
		}
	}
	if evicted == 0 {
		t.Error("no order was evicted with a one-day retention over weeks of events")
	}
	t.Logf("%d progress origins, %d orders evicted", len(origins), evicted)
}
