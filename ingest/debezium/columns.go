package debezium

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ColumnMap names the OMS order table's columns that feed an oms_event.
// OrderID and Status are required; an empty optional name means the table
// has no such column and the field is null.
type ColumnMap struct {
	OrderID           string
	Status            string
	HoldReason        string
	ReturnID          string
	CustomerID        string
	PromisedShipBy    string
	PromisedDeliverBy string
	// UpdatedAt is the row's last-change time, the event's occurred_at; when
	// the table has none (or it is null) the commit time stands in.
	UpdatedAt string
}

// DefaultColumns fits the example orders table (PostgreSQL; testdata/README.md
// has the MySQL variant):
//
//	CREATE TABLE public.orders (
//	    order_id            text PRIMARY KEY,
//	    status              text NOT NULL,  -- the statuses systems/oms/oms.map maps (testdata/README.md)
//	    hold_reason         text,
//	    return_id           text,           -- the RMA, for return statuses
//	    customer_id         text,
//	    promised_ship_by    timestamptz,
//	    promised_deliver_by timestamptz,
//	    updated_at          timestamptz NOT NULL DEFAULT now()
//	);
//	-- Updates and deletes then carry the whole old row, so previous_status
//	-- is known and a delete still says which status the order had.
//	ALTER TABLE public.orders REPLICA IDENTITY FULL;
var DefaultColumns = ColumnMap{
	OrderID:           "order_id",
	Status:            "status",
	HoldReason:        "hold_reason",
	ReturnID:          "return_id",
	CustomerID:        "customer_id",
	PromisedShipBy:    "promised_ship_by",
	PromisedDeliverBy: "promised_deliver_by",
	UpdatedAt:         "updated_at",
}

// Validate reports a column map that cannot produce events: the order ID
// and status columns are required.
func (c ColumnMap) Validate() error {
	var missing []string
	if strings.TrimSpace(c.OrderID) == "" {
		missing = append(missing, "OrderID")
	}
	if strings.TrimSpace(c.Status) == "" {
		missing = append(missing, "Status")
	}
	if len(missing) > 0 {
		return fmt.Errorf("debezium column map: %s must name a column", strings.Join(missing, " and "))
	}
	return nil
}

// The Kafka Connect schema names Debezium gives temporal columns.
const (
	timestampMillis = "io.debezium.time.Timestamp"              // DATETIME, TIMESTAMP(0-3) without zone: epoch ms
	connectTime     = "org.apache.kafka.connect.data.Timestamp" // time.precision.mode=connect: epoch ms
	timestampMicros = "io.debezium.time.MicroTimestamp"         // TIMESTAMP(4-6) without zone: epoch µs
	timestampNanos  = "io.debezium.time.NanoTimestamp"          // epoch ns
	zonedTimestamp  = "io.debezium.time.ZonedTimestamp"         // timestamptz and MySQL TIMESTAMP: ISO 8601 string
	dateDays        = "io.debezium.time.Date"                   // DATE: days since the epoch
	connectDate     = "org.apache.kafka.connect.data.Date"      // DATE with connect precision: days
)

// text reads a column as a string: strings as they are, numbers (integer
// IDs) in their decimal spelling, booleans as true/false. ok is false for a
// null or absent column.
func text(row map[string]any, col string) (s string, ok bool, err error) {
	if col == "" {
		return "", false, nil
	}
	switch v := row[col].(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	case json.Number:
		return v.String(), true, nil
	case bool:
		return strconv.FormatBool(v), true, nil
	default:
		return "", false, fmt.Errorf("column %s is %s, want text or a number", col, kind(v))
	}
}

// timeColumn reads a temporal column, null when absent or null. semantic is
// the column's Kafka Connect schema name when the event carries its schema
// (exact); without a schema a number's unit is inferred from its size (see
// epochTime) and a string is parsed as ISO 8601.
//
// Debezium writes a zone-less TIMESTAMP/DATETIME as if its wall clock were
// UTC, and baton reads zone-less strings the same way, so such columns
// should hold UTC (or be timestamptz, which Debezium writes with its zone).
func timeColumn(row map[string]any, col, semantic string) (any, error) {
	if col == "" {
		return nil, nil
	}
	v, present := row[col]
	if !present || v == nil {
		return nil, nil
	}
	var t time.Time
	var err error
	switch v := v.(type) {
	case json.Number:
		t, err = epochTime(v, semantic)
	case string:
		t, err = isoTime(v)
	default:
		err = fmt.Errorf("is %s, want a number or an ISO 8601 string", kind(v))
	}
	if err == nil {
		err = plausible(t)
	}
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", col, err)
	}
	return t.UTC(), nil
}

// epochTime converts Debezium's numeric temporal encodings. With the schema
// name the unit is known; without it, the magnitude decides, which is
// unambiguous for dates between 1973 and 4707: below 10^6 days, below 10^14
// milliseconds, below 10^17 microseconds, else nanoseconds.
func epochTime(n json.Number, semantic string) (time.Time, error) {
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not an integer epoch time", n)
	}
	switch semantic {
	case timestampMillis, connectTime:
		return time.UnixMilli(i), nil
	case timestampMicros:
		return time.UnixMicro(i), nil
	case timestampNanos:
		return time.Unix(0, i), nil
	case dateDays, connectDate:
		if i > 1e6 || i < -1e6 {
			return time.Time{}, fmt.Errorf("%d days is out of range", i)
		}
		return time.Unix(i*86400, 0), nil
	}
	abs := i
	if abs < 0 {
		abs = -abs
	}
	switch {
	case abs < 1e6:
		return time.Unix(i*86400, 0), nil
	case abs < 1e14:
		return time.UnixMilli(i), nil
	case abs < 1e17:
		return time.UnixMicro(i), nil
	default:
		return time.Unix(0, i), nil
	}
}

// isoTime parses ZonedTimestamp strings (ISO 8601 with offset) and plain
// ISO strings; a string without an offset is read as UTC.
func isoTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999Z07",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999",
		time.DateOnly,
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date or time", s)
}

// plausible refuses times no order has (a unit mix-up or garbage would
// otherwise overflow the millisecond timestamp downstream).
func plausible(t time.Time) error {
	if y := t.UTC().Year(); y < 1970 || y > 2200 {
		return fmt.Errorf("%s is outside 1970-2200 (wrong unit?)", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// columnSemantics maps each column to its Kafka Connect schema name, from
// the envelope schema of the before/after fields (nil without a schema).
func columnSemantics(schema any) map[string]string {
	s, _ := schema.(map[string]any)
	fields, _ := s["fields"].([]any)
	out := map[string]string{}
	for _, f := range fields {
		fm, _ := f.(map[string]any)
		if name, _ := fm["field"].(string); name != "before" && name != "after" {
			continue
		}
		cols, _ := fm["fields"].([]any)
		for _, c := range cols {
			cm, _ := c.(map[string]any)
			field, _ := cm["field"].(string)
			semantic, _ := cm["name"].(string)
			if field != "" && semantic != "" {
				out[field] = semantic
			}
		}
	}
	return out
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
