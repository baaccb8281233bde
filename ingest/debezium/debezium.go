// Package debezium adapts Debezium change events of the OMS order table to
// baton's oms events, and consumes them from Kafka (RunConsumer).
//
// Events arrive in Kafka Connect's JSON form, with the schema/payload
// wrapper (value.converter.schemas.enable=true, Debezium Server's default)
// or without it: an envelope {before, after, source, op, ts_ms}. Ops c
// (insert), u (update) and r (snapshot read) describe the after image; d
// (delete) the before image, with op "d". Truncate (t) and message (m)
// events are refused as unsupported. Tombstones, the empty or null value
// Debezium writes after a delete for log compaction, yield no events and no
// error. Events flattened by the ExtractNewRecordState SMT lack op and
// source and are refused as malformed: baton needs the envelope.
//
// Fields read: op, ts_ms, before, after, the schema's before/after column
// schema names (for temporal units), and from source: ts_ms, db, schema,
// table, and the connector's position (lsn for PostgreSQL; file, pos, row
// for MySQL; change_lsn and event_serial_no for SQL Server; scn for Oracle).
// Which row columns are read is configured by a ColumnMap.
//
// Times: occurred_at is the row's updated_at column (when the OMS changed
// the order), falling back to the commit time; recorded_at is source.ts_ms,
// when the database committed the change, falling back to the envelope's
// ts_ms and then the arrival time.
//
// Over HTTP (Debezium Server's http sink posts one event per request),
// requests are authenticated with Standard Webhooks, the signing scheme the
// http sink implements natively (debezium.sink.http.authentication.type=
// standard-webhooks, debezium.sink.http.authentication.webhook.secret=
// whsec_<base64 key>): headers webhook-id, webhook-timestamp (Unix seconds)
// and webhook-signature ("v1,<base64 HMAC-SHA256 of id.timestamp.body>",
// several space-separated allowed). The http sink cannot send arbitrary
// static headers (its headers come from record headers, prefixed
// X-DEBEZIUM-), so a bearer token is not an option; a signature also
// covers the body and, with the timestamp, stops replays. Events consumed
// from Kafka arrive over an authenticated channel and are Trusted.
package debezium

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// Vendor is the adapter's name and URL path segment.
const Vendor = "debezium"

// The Standard Webhooks headers Debezium Server's http sink sends.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Tolerance is how far webhook-timestamp may be from the arrival time (the
// Standard Webhooks recommendation). Debezium signs each attempt afresh, so
// its retries are never stale.
const Tolerance = 5 * time.Minute

// secretPrefix marks a Standard Webhooks secret; the rest is the base64 key.
const secretPrefix = "whsec_"

// Adapter is the Debezium adapter; it implements ingest.Adapter and is safe
// for concurrent use.
type Adapter struct {
	key    []byte
	keyErr error
	cols   ColumnMap
}

var _ ingest.Adapter = (*Adapter)(nil)

// New returns the adapter. secret is the Standard Webhooks secret given to
// Debezium Server (whsec_ followed by the base64 key; the prefix is
// optional); it is only needed for HTTP deliveries, so a Kafka-only
// deployment may pass "". A secret that does not decode makes every HTTP
// delivery fail verification with the reason; CheckSecret reports it at
// start-up. cols maps the order table's columns; the zero ColumnMap means
// DefaultColumns. Check cols.Validate() at start-up: Adapt refuses every
// event while the order ID or status column is unnamed.
func New(secret string, cols ColumnMap) *Adapter {
	if cols == (ColumnMap{}) {
		cols = DefaultColumns
	}
	key, err := decodeSecret(secret)
	return &Adapter{key: key, keyErr: err, cols: cols}
}

// CheckSecret reports whether secret is a usable Standard Webhooks secret.
func CheckSecret(secret string) error {
	_, err := decodeSecret(secret)
	return err
}

func decodeSecret(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("no Debezium webhook secret is configured")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("the Debezium webhook secret is not %s followed by a base64 key", secretPrefix)
	}
	return key, nil
}

// Vendor returns "debezium".
func (a *Adapter) Vendor() string { return Vendor }

// System returns schemas.OMS.
func (a *Adapter) System() schemas.System { return schemas.OMS }

// Verify authenticates an HTTP delivery by its Standard Webhooks signature,
// refusing a timestamp more than Tolerance from the arrival time. Trusted
// deliveries (consumed from Kafka) pass. Errors wrap ingest.ErrSignature.
func (a *Adapter) Verify(req ingest.Request) error {
	if req.Trusted {
		return nil
	}
	if a.keyErr != nil {
		return fmt.Errorf("%w: %v", ingest.ErrSignature, a.keyErr)
	}
	id, stamp, sigs := req.Header.Get(HeaderID), req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature)
	for name, v := range map[string]string{HeaderID: id, HeaderTimestamp: stamp, HeaderSignature: sigs} {
		if v == "" {
			return fmt.Errorf("%w: %s header missing", ingest.ErrSignature, name)
		}
	}
	sec, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ingest.ErrSignature, HeaderTimestamp, stamp)
	}
	now := req.Received
	if now.IsZero() {
		now = time.Now()
	}
	if err := ingest.CheckFresh(HeaderTimestamp, time.Unix(sec, 0), now, Tolerance); err != nil {
		return err
	}
	parts := [][]byte{[]byte(id), []byte("."), []byte(stamp), []byte("."), req.Body}
	for _, s := range strings.Fields(sigs) {
		version, sig, _ := strings.Cut(s, ",")
		if version != "v1" {
			continue
		}
		if ingest.VerifyHMAC(HeaderSignature, sig, ingest.Base64, a.key, parts...) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature in %s matches the body (forged, altered, or signed with another secret)", ingest.ErrSignature, HeaderSignature)
}

// Sign returns the Standard Webhooks headers Debezium Server sends for body,
// for tests and load generators.
func Sign(secret, msgID string, at time.Time, body []byte) (http.Header, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return nil, err
	}
	stamp := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, stamp)
	h.Set(HeaderSignature, "v1,"+ingest.SignBase64(key, []byte(msgID), []byte("."), []byte(stamp), []byte("."), body))
	return h, nil
}

// Adapt turns one change event into one oms event (none for a tombstone).
// Errors name the failing field and the event's table and position; t and m
// events wrap ingest.ErrUnsupported.
func (a *Adapter) Adapt(req ingest.Request) ([]map[string]any, error) {
	if err := a.cols.Validate(); err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 || string(body) == "null" {
		return nil, nil // tombstone
	}
	top, err := ingest.DecodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("debezium: %w", err)
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("debezium: change event is %s, want an object", kind(top))
	}
	env, semantics := obj, map[string]string(nil)
	if payload, wrapped := obj["payload"]; wrapped && obj["op"] == nil {
		if payload == nil {
			return nil, nil // tombstone in the schema/payload wrapper
		}
		if env, ok = payload.(map[string]any); !ok {
			return nil, fmt.Errorf("debezium: payload is %s, want the change event envelope", kind(payload))
		}
		semantics = columnSemantics(obj["schema"])
	}
	return a.adaptEnvelope(env, semantics, req.Received)
}

func (a *Adapter) adaptEnvelope(env map[string]any, semantics map[string]string, received time.Time) ([]map[string]any, error) {
	op, _ := env["op"].(string)
	src, _ := env["source"].(map[string]any)
	if op == "" || src == nil {
		return nil, errors.New("debezium: no op or source: not a Debezium change event envelope (flattened by ExtractNewRecordState? baton needs the full envelope)")
	}
	table, err := tableName(src)
	if err != nil {
		return nil, err
	}
	pos := position(src)
	where := fmt.Sprintf("debezium: %s at %s op %s", table, pos, op)
	switch op {
	case "c", "u", "r", "d":
	case "t", "m":
		return nil, fmt.Errorf("%w: %s: baton handles row changes (c, u, r, d), not truncates or messages", ingest.ErrUnsupported, where)
	default:
		return nil, fmt.Errorf("%s: unknown op", where)
	}
	before, err := rowImage(env, "before")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	after, err := rowImage(env, "after")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	image, imageName := after, "after"
	if op == "d" {
		image, imageName = before, "before"
	}
	if image == nil {
		hint := ""
		if op == "d" {
			hint = " (set REPLICA IDENTITY FULL on the table so deletes carry the old row)"
		}
		return nil, fmt.Errorf("%s: no %s image%s", where, imageName, hint)
	}

	c := a.cols
	orderID, ok, err := text(image, c.OrderID)
	if err == nil && (!ok || orderID == "") {
		err = fmt.Errorf("%s image has no %s (order ID column)", imageName, c.OrderID)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	where += " order " + orderID
	status, ok, err := text(image, c.Status)
	if err == nil && (!ok || status == "") {
		hint := ""
		if op == "d" {
			hint = " (set REPLICA IDENTITY FULL on the table so deletes carry the old row)"
		}
		err = fmt.Errorf("%s image has no %s (status column)%s", imageName, c.Status, hint)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}

	ev := map[string]any{
		"event_id":        table + ":" + pos + ":" + op + ":" + orderID,
		"order_id":        orderID,
		"op":              op,
		"status":          status,
		"previous_status": nil,
	}
	if before != nil {
		prev, ok, err := text(before, c.Status)
		if err != nil {
			return nil, fmt.Errorf("%s: before image: %w", where, err)
		}
		if ok {
			ev["previous_status"] = prev
		}
	}
	for field, col := range map[string]string{"hold_reason": c.HoldReason, "return_id": c.ReturnID, "customer_id": c.CustomerID} {
		s, ok, err := text(image, col)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		ev[field] = nil
		if ok {
			ev[field] = s
		}
	}
	for field, col := range map[string]string{"promised_ship_by": c.PromisedShipBy, "promised_deliver_by": c.PromisedDeliverBy} {
		if ev[field], err = timeColumn(image, col, semantics[col]); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}

	committed, err := commitTime(src, env, received)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	ev["recorded_at"] = committed
	updated, err := timeColumn(image, c.UpdatedAt, semantics[c.UpdatedAt])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	ev["occurred_at"] = committed
	if updated != nil {
		ev["occurred_at"] = updated
	}
	return []map[string]any{ev}, nil
}

// rowImage returns the before or after row, nil when absent or null.
func rowImage(env map[string]any, name string) (map[string]any, error) {
	v := env[name]
	if v == nil {
		return nil, nil
	}
	row, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s, want a row object", name, kind(v))
	}
	return row, nil
}

// tableName is db[.schema].table from the source block.
func tableName(src map[string]any) (string, error) {
	db, _ := src["db"].(string)
	table, _ := src["table"].(string)
	if db == "" || table == "" {
		return "", fmt.Errorf("debezium: source block has no db or table (db %q, table %q)", db, table)
	}
	if schema, _ := src["schema"].(string); schema != "" {
		return db + "." + schema + "." + table, nil
	}
	return db + "." + table, nil
}

// position is the change's place in the database log, from the connector's
// source fields. With the table, op and order ID it makes the event_id:
// a redelivered event (Kafka at-least-once, an http sink retry, a connector
// restart replaying from its last offset) carries the same position, so it
// gets the same ID and de-duplicates downstream, while two different changes
// never share one. The order ID is part of the ID because snapshot reads (op
// r) of all rows share the snapshot's position, and MySQL's row index
// because one binlog event can change many rows.
func position(src map[string]any) string {
	field := func(name string) string {
		switch v := src[name].(type) {
		case json.Number:
			return v.String()
		case string:
			return v
		}
		return ""
	}
	switch {
	case field("lsn") != "": // PostgreSQL
		return field("lsn")
	case field("file") != "": // MySQL, MariaDB: binlog file, position, row in the event
		row := field("row")
		if row == "" {
			row = "0"
		}
		return field("file") + ":" + field("pos") + ":" + row
	case field("change_lsn") != "": // SQL Server
		return field("change_lsn") + ":" + field("event_serial_no")
	case field("scn") != "": // Oracle
		return field("scn")
	case field("commit_lsn") != "":
		return field("commit_lsn")
	}
	return "ts" + field("ts_ms") // no log position: the commit time is the best there is
}

// commitTime is source.ts_ms, else the envelope's ts_ms, else the arrival.
func commitTime(src, env map[string]any, received time.Time) (time.Time, error) {
	for _, m := range []map[string]any{src, env} {
		n, ok := m["ts_ms"].(json.Number)
		if !ok {
			continue
		}
		ms, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("ts_ms %s is not epoch milliseconds", n)
		}
		t := time.UnixMilli(ms)
		if err := plausible(t); err != nil {
			return time.Time{}, fmt.Errorf("ts_ms: %w", err)
		}
		return t.UTC(), nil
	}
	if received.IsZero() {
		return time.Time{}, errors.New("no source.ts_ms, no ts_ms and no arrival time")
	}
	return received.UTC(), nil
}
