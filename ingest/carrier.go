package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Helpers the carrier-tracking adapters (EasyPost, AfterShip) share. Both
// aggregators POST a shipment's whole scan history on every update, so each
// scan becomes one carrier event whose event_id must come out the same in
// every delivery that repeats it.

// CarrierScan is one tracking scan as a carrier aggregator reports it, with
// the shipment-wide fields filled in: the input of one carrier_event.
type CarrierScan struct {
	// IDKey is what identifies the scan across deliveries, the vendor
	// first (see Event for how the event ID is built from it). Each
	// adapter documents its choice.
	IDKey []string
	// Provider is the adapter's vendor name.
	Provider       string
	TrackingNumber string
	Carrier        string
	// Optional fields: "" is written as null.
	OrderID     string
	Status      string
	SubStatus   string
	Description string
	Location    string
	// EstimatedDelivery is null when zero.
	EstimatedDelivery time.Time
	OccurredAt        time.Time
	RecordedAt        time.Time
}

// Event returns the scan as a carrier event in the JSON form
// (*schemas.Schema).FromJSON accepts. Its event_id is IDKey joined with ":",
// followed by a digest of Description and Location, so two different scans
// that share a key (the same status in the same minute) stay apart while a
// redelivered scan keeps its ID. OrderID, SubStatus, Description and
// Location are null when empty, EstimatedDelivery when zero; shipment_id is
// always null (aggregators know the tracking number, not baton's shipment).
// Times are passed through as given.
func (s CarrierScan) Event() map[string]any {
	var estimate any
	if !s.EstimatedDelivery.IsZero() {
		estimate = s.EstimatedDelivery
	}
	sum := sha256.Sum256([]byte(s.Description + "\x00" + s.Location))
	id := strings.Join(append(append([]string(nil), s.IDKey...), hex.EncodeToString(sum[:6])), ":")
	return map[string]any{
		"event_id":           id,
		"tracking_number":    s.TrackingNumber,
		"carrier":            s.Carrier,
		"provider":           s.Provider,
		"order_id":           Nullable(s.OrderID),
		"shipment_id":        nil,
		"status":             s.Status,
		"sub_status":         Nullable(s.SubStatus),
		"description":        Nullable(s.Description),
		"location":           Nullable(s.Location),
		"estimated_delivery": estimate,
		"occurred_at":        s.OccurredAt,
		"recorded_at":        s.RecordedAt,
	}
}

// ParseShipmentTime reads a time as carrier aggregators write their own:
// RFC 3339 with an offset (or Z), fractional seconds optional. It returns
// the time in UTC, or an error naming s when it does not parse or is not
// plausible (see PlausibleShipmentTime).
func ParseShipmentTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return PlausibleShipmentTime(s, t)
}

// PlausibleShipmentTime returns t, read from s, in UTC, or an error naming s
// when t's year is outside 1970-2200: no shipment has such a time, and a
// garbled year would otherwise overflow the millisecond timestamp
// downstream.
func PlausibleShipmentTime(s string, t time.Time) (time.Time, error) {
	if y := t.UTC().Year(); y < 1970 || y > 2200 {
		return time.Time{}, fmt.Errorf("%q is outside 1970-2200", s)
	}
	return t.UTC(), nil
}

// JoinNonEmpty joins the parts that are not blank, each trimmed of
// surrounding white space, with sep: a location from its optional parts
// ("BOSTON, MA, US" when the zip is missing).
func JoinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}
