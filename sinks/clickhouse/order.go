package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// The read side of one order (`baton serve`): everything the pipeline stored
// about it, read by order ID. Every table is ordered by order_id first, so
// a read of a table by it is a range read of a few granules, not a scan
// (see migration 0008 and Order).

// ErrNoOrder is returned by Order for an order ID no table knows.
var ErrNoOrder = errors.New("no such order")

// OrderRecord is everything stored about one order. State is nil when the
// unify stage has stored no state for it (only canonical events exist).
type OrderRecord struct {
	State       *OrderState
	Transitions []OrderTransition // by event time
	Checks      []SyncCheck       // closed checks, by truth_at
	Failed      []FailedSync      // by detected_at
	Notices     []DelayNotice     // the latest version of each, by detected_at
	Tickets     []WismoTicket     // the first record of each ticket, by ticket_at
	Events      []CanonicalEvent  // by occurred_at; only the columns Order reads
}

// Order reads everything stored about orderID from order_rows (migration
// 0008) in one query; ErrNoOrder when nothing is. orderID is bound as a
// query parameter (quoted by the driver), never concatenated.
//
// Why one table: the page needs the order's records of seven tables, and
// reading them one by one touched every part of every monthly partition
// of each. Measured on a 20,000-order database with the determinism
// harness loading both cores, 100 orders one after another: the seven
// FINAL reads took 61–127 ms per order (61–79 ms with every table merged
// to a part per partition), the one order_rows read 4–6 ms.
//
// order_rows keeps every version a table received; Order keeps per record
// what the table's FINAL read keeps and then drops the retracted ones, as
// the *_latest views do (see latestRows).
func (c *Client) Order(ctx context.Context, orderID string) (OrderRecord, error) {
	var rows []storedRow
	err := c.scanEach(pointQuery(ctx), "order rows", `SELECT record_kind, record_id, version, retracted, kafka_offset, fields
		FROM `+c.table("order_rows")+` PREWHERE order_id = ?`,
		func(scan func(...any) error) error {
			var r storedRow
			if err := scan(&r.kind, &r.id, &r.version, &r.retracted, &r.offset, &r.fields); err != nil {
				return err
			}
			rows = append(rows, r)
			return nil
		}, orderID)
	if err != nil {
		return OrderRecord{}, fmt.Errorf("order %q: %w", orderID, err)
	}
	rec, err := orderRecord(orderID, latestRows(rows))
	if err != nil {
		return rec, fmt.Errorf("order %q: %w", orderID, err)
	}
	if rec.State == nil && len(rec.Events) == 0 && len(rec.Transitions) == 0 {
		return rec, ErrNoOrder
	}
	return rec, nil
}

// EachOrder calls fn with every order's record in order_rows, as Order
// reads each, in no particular order: what `baton serve` would show for
// every order. The determinism harness compares it between runs.
//
// It reads the table in eachOrderChunks scans, each of the orders whose ID
// hashes to it, grouped in memory, not in one scan sorted by order ID: on
// ClickHouse 18.16 that sort of the whole table (1.9 million rows for
// 20,000 orders) stalled past the 30 s read timeout on a loaded machine.
func (c *Client) EachOrder(ctx context.Context, fn func(id string, rec OrderRecord) error) error {
	for chunk := range eachOrderChunks {
		byOrder := map[string][]storedRow{}
		err := c.scanEach(ctx, "order rows", fmt.Sprintf(`SELECT order_id, record_kind, record_id, version, retracted, kafka_offset, fields
			FROM %s WHERE cityHash64(order_id) %% %d = %d`, c.table("order_rows"), eachOrderChunks, chunk),
			func(scan func(...any) error) error {
				var id string
				var r storedRow
				if err := scan(&id, &r.kind, &r.id, &r.version, &r.retracted, &r.offset, &r.fields); err != nil {
					return err
				}
				byOrder[id] = append(byOrder[id], r)
				return nil
			})
		if err != nil {
			return err
		}
		for id, rows := range byOrder {
			rec, err := orderRecord(id, latestRows(rows))
			if err != nil {
				return fmt.Errorf("order %q: %w", id, err)
			}
			if err := fn(id, rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// eachOrderChunks is how many scans EachOrder splits order_rows into.
const eachOrderChunks = 16

// pointQuery is the context of a one-order query: one thread (a range read
// of a few granules gains nothing from more, and many run at once), small
// blocks, and ClickHouse's uncompressed-block cache, which keeps hot
// granules decompressed.
func pointQuery(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings{"max_threads": 1, "max_block_size": 1024, "use_uncompressed_cache": 1}))
}

// storedRow is one row of order_rows: one version of one record.
type storedRow struct {
	kind, id  string
	version   uint64
	retracted uint8
	offset    int64
	fields    []string
}

// newer reports whether r supersedes o, another version of the same record,
// in its table's FINAL read: the higher version (order_states and
// delay_notices collapse by it; the others' corrections carry a higher
// one too), then the one written last, which is the higher offset (a
// record's versions travel one Kafka partition, in order).
func (r storedRow) newer(o storedRow) bool {
	if r.version != o.version {
		return r.version > o.version
	}
	return r.offset > o.offset
}

// latestRows keeps the newest version of each record and drops the
// records whose newest version retracts them.
func latestRows(rows []storedRow) []storedRow {
	type key struct{ kind, id string }
	latest := map[key]int{}
	for i, r := range rows {
		k := key{r.kind, r.id}
		if j, ok := latest[k]; !ok || r.newer(rows[j]) {
			latest[k] = i
		}
	}
	out := make([]storedRow, 0, len(latest))
	for _, i := range latest {
		if rows[i].retracted == 0 {
			out = append(out, rows[i])
		}
	}
	return out
}

// orderRecord parses rows (one current version per record) into the
// record, each list in the order the page shows it.
func orderRecord(id string, rows []storedRow) (OrderRecord, error) {
	var rec OrderRecord
	firstTicket := map[string]int{} // ticket ID → index in rec.Tickets
	for _, r := range rows {
		f := &fieldReader{fields: r.fields}
		switch r.kind {
		case "state":
			s := OrderState{OrderID: id, Truth: f.str(), TruthAuthority: f.str(), TruthSince: f.optMillis(), ViewsJSON: f.str(), ShipmentsJSON: f.str(),
				ShipmentCount: int(f.int()), PromisedShipBy: f.optMillis(), PromisedDeliverBy: f.optMillis(), Transitions: int(f.int()),
				Closed: f.flag(), UpdatedAt: f.millis()}
			rec.State = &s
		case "event":
			rec.Events = append(rec.Events, CanonicalEvent{OrderID: id, ShipmentID: f.str(), TrackingNumber: f.str(), SourceSystem: f.str(),
				SourceEventID: f.str(), SourceStatus: f.str(), CanonicalStatus: f.str(), Carrier: f.str(), TicketID: f.str(),
				OccurredAt: f.millis(), RecordedAt: f.millis()})
		case "transition":
			rec.Transitions = append(rec.Transitions, OrderTransition{TransitionID: r.id, OrderID: id, ShipmentID: f.str(), Kind: f.str(),
				FromStatus: f.str(), ToStatus: f.str(), Skipped: f.list(), Authority: f.str(), SourceEventID: f.str(),
				EventTime: f.millis(), RecordedAt: f.millis(), ProcessedAt: f.millis()})
		case "check":
			rec.Checks = append(rec.Checks, SyncCheck{CheckID: r.id, OrderID: id, Viewer: f.str(), ExpectedStatus: f.str(), OpenedBy: f.str(),
				TruthAt: f.millis(), Deadline: f.millis(), TruthAuthority: f.str(), Carrier: f.str(), Outcome: f.str(), ShownStatus: f.str(),
				ShownAt: f.optMillis(), LatencyMillis: f.optInt(), ClosedAt: f.millis()})
		case "failed":
			rec.Failed = append(rec.Failed, FailedSync{CheckID: r.id, OrderID: id, Viewer: f.str(), Reason: f.str(), ExpectedStatus: f.str(),
				ShownStatus: f.str(), TruthAt: f.millis(), Deadline: f.millis(), DetectedAt: f.millis(), TruthAuthority: f.str(), Carrier: f.str()})
		case "notice":
			rec.Notices = append(rec.Notices, DelayNotice{NoticeID: r.id, OrderID: id, Reason: f.str(), Promise: f.str(), Renews: f.str(),
				OriginalPromise: f.optSeconds(), PromiseIsDefault: f.flag(), MissedPromise: f.optSeconds(), RevisedDate: f.optSeconds(),
				NoRevisedDateReason: f.str(), ShipmentID: f.str(), Carrier: f.str(), CauseAuthority: f.str(), KnownAt: f.seconds(),
				NotifyBy: f.millis(), DetectedAt: f.seconds(), MayCancel: f.flag(), RefundDue: f.flag(), RefundDueReason: f.str(),
				State: f.str(), Outcome: f.str(), Notified: f.flag(), NotifiedAt: f.optSeconds(), NotifiedVia: f.str(),
				ClosedAt: f.optSeconds(), Version: r.version})
		case "ticket":
			w := WismoTicket{OrderID: id, TicketID: f.str(), ClassifiedBy: f.str(), Matched: f.str(), TicketAt: f.millis(), Cause: f.str(),
				Link: f.str(), Viewer: f.str(), OutOfSyncSince: f.optSeconds(), CheckID: f.str(), FailedSyncReason: f.str(),
				ExpectedStatus: f.str(), ShownStatus: f.str(), DelayReason: f.str(), ProblemStatus: f.str(), ProblemSince: f.optSeconds(),
				TruthStatus: f.str(), TruthSince: f.optSeconds()}
			// A ticket counts once, with its earliest record (migration
			// 0006: a repeat is attributed without the order's history).
			if i, seen := firstTicket[w.TicketID]; !seen {
				firstTicket[w.TicketID] = len(rec.Tickets)
				rec.Tickets = append(rec.Tickets, w)
			} else if w.TicketAt.Before(rec.Tickets[i].TicketAt) {
				rec.Tickets[i] = w
			}
		default:
			f.err = fmt.Errorf("unknown kind %q", r.kind)
		}
		if err := f.done(); err != nil {
			return rec, fmt.Errorf("order_rows %s %q: %w", r.kind, r.id, err)
		}
	}
	sortRecord(&rec)
	return rec, nil
}

// sortRecord puts each list of rec in the page's order: by time, then by
// the record's ID, so the order never depends on how rows were stored.
// Events have no ID of their own (one source event may yield several):
// ties fall back to their content.
func sortRecord(rec *OrderRecord) {
	byTimeThenID(rec.Transitions, func(t OrderTransition) (time.Time, string) { return t.EventTime, t.TransitionID })
	byTimeThenID(rec.Checks, func(c SyncCheck) (time.Time, string) { return c.TruthAt, c.CheckID })
	byTimeThenID(rec.Failed, func(f FailedSync) (time.Time, string) { return f.DetectedAt, f.CheckID })
	byTimeThenID(rec.Notices, func(n DelayNotice) (time.Time, string) { return n.DetectedAt, n.NoticeID })
	byTimeThenID(rec.Tickets, func(w WismoTicket) (time.Time, string) { return w.TicketAt, w.TicketID })
	byTimeThenID(rec.Events, func(e CanonicalEvent) (time.Time, string) {
		return e.OccurredAt, strings.Join([]string{e.SourceEventID, e.SourceSystem, e.ShipmentID, e.TrackingNumber, e.SourceStatus,
			e.CanonicalStatus, e.Carrier, e.TicketID, strconv.FormatInt(e.RecordedAt.UnixMilli(), 10)}, "\x00")
	})
}

// byTimeThenID sorts s by the time, then the ID, that key gives.
func byTimeThenID[T any](s []T, key func(T) (time.Time, string)) {
	slices.SortFunc(s, func(a, b T) int {
		ta, ia := key(a)
		tb, ib := key(b)
		if c := ta.Compare(tb); c != 0 {
			return c
		}
		return strings.Compare(ia, ib)
	})
}

// fieldReader parses an order_rows row's fields, in order, as encoded by
// migration 0008; the first failure sticks and done reports it.
type fieldReader struct {
	fields []string
	next   int
	err    error
}

func (f *fieldReader) str() string {
	if f.next >= len(f.fields) {
		if f.err == nil {
			f.err = fmt.Errorf("%d fields, want more", len(f.fields))
		}
		return ""
	}
	f.next++
	return f.fields[f.next-1]
}

func (f *fieldReader) int() int64 {
	s := f.str()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("field %d: %w", f.next, err)
	}
	return n
}

// optInt is a nullable integer: "" is NULL.
func (f *fieldReader) optInt() *int64 {
	if f.next < len(f.fields) && f.fields[f.next] == "" {
		f.next++
		return nil
	}
	n := f.int()
	return &n
}

func (f *fieldReader) flag() bool { return f.int() == 1 }

func (f *fieldReader) millis() time.Time { return fromMillis(f.int()) }

func (f *fieldReader) optMillis() *time.Time { return optFromMillis(f.optInt()) }

func (f *fieldReader) seconds() time.Time { return time.Unix(f.int(), 0).UTC() }

func (f *fieldReader) optSeconds() *time.Time {
	s := f.optInt()
	if s == nil {
		return nil
	}
	t := time.Unix(*s, 0).UTC()
	return &t
}

// list is an array of statuses joined by commas.
func (f *fieldReader) list() []string {
	s := f.str()
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// done reports the first failure, or fields left over (a layout this
// version does not know).
func (f *fieldReader) done() error {
	if f.err == nil && f.next != len(f.fields) {
		f.err = fmt.Errorf("%d fields, want %d", len(f.fields), f.next)
	}
	return f.err
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func optFromMillis(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := fromMillis(*ms)
	return &t
}

// SearchHit is one order a search found, and what matched.
type SearchHit struct {
	OrderID string `json:"order_id"`
	// Field is what q matched: order_id, tracking_number, shipment_id or
	// ticket_id.
	Field string `json:"matched"`
}

// MaxSearchHits bounds a search's answer.
const MaxSearchHits = 20

// Search finds the orders whose ID, or one of whose events' tracking
// number, shipment ID or help-desk ticket ID, equals q exactly. q is bound,
// never concatenated. The lookup by tracking number, shipment or ticket
// reads the canonical events' columns without their order key: a scan of
// three columns, fine for an agent's search, not for a hot path.
func (c *Client) Search(ctx context.Context, q string) ([]SearchHit, error) {
	hits := []SearchHit{}
	err := c.scanEach(ctx, "search", `SELECT order_id, multiIf(order_id = ?, 'order_id', tracking_number = ?, 'tracking_number',
			shipment_id = ?, 'shipment_id', 'ticket_id') AS field
		FROM `+c.table("canonical_events")+`
		WHERE order_id != '' AND (order_id = ? OR tracking_number = ? OR shipment_id = ? OR ticket_id = ?)
		GROUP BY order_id, field ORDER BY order_id, field LIMIT `+fmt.Sprint(MaxSearchHits),
		func(scan func(...any) error) error {
			var h SearchHit
			if err := scan(&h.OrderID, &h.Field); err != nil {
				return err
			}
			hits = append(hits, h)
			return nil
		}, q, q, q, q, q, q, q)
	return hits, err
}
