// Package aftership adapts AfterShip Tracking webhooks to baton's carrier
// events.
//
// AfterShip POSTs {event, event_id, is_tracking_first_tag, msg, ts}, where
// msg is the whole Tracking with its checkpoints. baton handles event
// "tracking_update"; edd_revise and tracking_pending_time carry no scan and
// are refused as unsupported. Each checkpoint becomes one carrier event, so
// every webhook repeats the history and the repeated checkpoints keep their
// event IDs (see scanKey) for downstream de-duplication.
//
// Fields read: ts; from msg: slug, tracking_number, order_id, updated_at,
// expected_delivery and latest_estimated_delivery.datetime (newer webhook
// versions), origin_country_iso3, destination_country_iso3, checkpoints; from
// each checkpoint: tag, subtag, message, location, city, state, zip,
// country_iso3, country_name, checkpoint_time, created_at, slug.
//
// Times: see zones.go for checkpoint_time, which AfterShip writes in the
// checkpoint's local time, often without an offset. recorded_at is the
// checkpoint's created_at ("the date and time of the checkpoint event was
// added to AfterShip", UTC): the moment the aggregator recorded that scan,
// which stays the same in every later webhook; without it the webhook's ts,
// then msg.updated_at, then the arrival time stand in. A delivery date
// without a time (expected_delivery "2021-05-17") becomes midnight UTC of
// that date, as EasyPost writes its estimates.
//
// Authentication: the aftership-hmac-sha256 header is the base64
// HMAC-SHA256 of the raw body under the webhook secret (AfterShip "Webhook
// Signature" docs), compared in constant time. No timestamp is signed, so a
// replay verifies and then de-duplicates downstream.
package aftership

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// Vendor is the adapter's name and URL path segment.
const Vendor = "aftership"

// SignatureHeader carries AfterShip's webhook signature.
const SignatureHeader = "aftership-hmac-sha256"

// Adapter is the AfterShip webhook adapter; it implements ingest.Adapter and
// is safe for concurrent use.
type Adapter struct {
	secret []byte
}

var _ ingest.Adapter = (*Adapter)(nil)

// New returns the adapter for webhooks signed with secret, the webhook
// secret shown in AfterShip's admin (Settings > Webhooks), used as is.
func New(secret string) *Adapter {
	return &Adapter{secret: []byte(secret)}
}

// Vendor returns "aftership".
func (a *Adapter) Vendor() string { return Vendor }

// System returns schemas.Carrier.
func (a *Adapter) System() schemas.System { return schemas.Carrier }

// Verify checks aftership-hmac-sha256 against the raw body in constant
// time. Errors wrap ingest.ErrSignature.
func (a *Adapter) Verify(req ingest.Request) error {
	return ingest.VerifyHMAC(SignatureHeader, req.Header.Get(SignatureHeader), ingest.Base64, a.secret, req.Body)
}

// Sign returns the aftership-hmac-sha256 value AfterShip sends for body, for
// tests and load generators.
func Sign(secret string, body []byte) string {
	return ingest.SignBase64([]byte(secret), body)
}

type webhook struct {
	Event   string      `json:"event"`
	EventID string      `json:"event_id"`
	TS      json.Number `json:"ts"`
	Msg     *tracking   `json:"msg"`
}

type tracking struct {
	Slug             string `json:"slug"`
	TrackingNumber   string `json:"tracking_number"`
	OrderID          string `json:"order_id"`
	UpdatedAt        string `json:"updated_at"`
	ExpectedDelivery string `json:"expected_delivery"`
	LatestEstimate   *struct {
		Datetime string `json:"datetime"`
	} `json:"latest_estimated_delivery"`
	OriginCountry      string       `json:"origin_country_iso3"`
	DestinationCountry string       `json:"destination_country_iso3"`
	Checkpoints        []checkpoint `json:"checkpoints"`
}

type checkpoint struct {
	Tag            string `json:"tag"`
	Subtag         string `json:"subtag"`
	Message        string `json:"message"`
	Location       string `json:"location"`
	City           string `json:"city"`
	State          string `json:"state"`
	Zip            string `json:"zip"`
	CountryISO3    string `json:"country_iso3"`
	CountryName    string `json:"country_name"`
	CheckpointTime string `json:"checkpoint_time"`
	CreatedAt      string `json:"created_at"`
	Slug           string `json:"slug"`
}

// Adapt turns a tracking_update webhook into one carrier event per
// checkpoint, in AfterShip's order. Other events, and checkpoints whose
// local time cannot be placed in a time zone, wrap ingest.ErrUnsupported;
// anything that is not an AfterShip tracking webhook is malformed. A
// tracking without checkpoints yet yields no events.
func (a *Adapter) Adapt(req ingest.Request) ([]map[string]any, error) {
	var w webhook
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("aftership: body is not a webhook object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("aftership: trailing data after the webhook object")
	}
	switch w.Event {
	case "tracking_update":
	case "":
		return nil, errors.New("aftership: webhook has no event")
	default:
		return nil, fmt.Errorf("%w: aftership event %q (%s): baton handles tracking_update", ingest.ErrUnsupported, w.Event, w.EventID)
	}
	m := w.Msg
	if m == nil {
		return nil, fmt.Errorf("aftership: tracking_update %s has no msg", w.EventID)
	}
	if m.TrackingNumber == "" || m.Slug == "" {
		return nil, fmt.Errorf("aftership: tracking_update %s: msg needs tracking_number and slug, got %q and %q", w.EventID, m.TrackingNumber, m.Slug)
	}
	what := m.Slug + " " + m.TrackingNumber

	fallback, err := webhookTime(w.TS, m.UpdatedAt, req.Received)
	if err != nil {
		return nil, fmt.Errorf("aftership: %s: %w", what, err)
	}
	estimate, err := m.estimate()
	if err != nil {
		return nil, fmt.Errorf("aftership: %s: %w", what, err)
	}
	// A checkpoint without a country inherits the shipment's when the
	// shipment is domestic.
	domestic := ""
	if strings.EqualFold(m.OriginCountry, m.DestinationCountry) {
		domestic = m.OriginCountry
	}

	out := make([]map[string]any, 0, len(m.Checkpoints))
	for i, c := range m.Checkpoints {
		if c.Tag == "" {
			return nil, fmt.Errorf("aftership: %s: checkpoints[%d] has no tag", what, i)
		}
		country := c.CountryISO3
		if country == "" {
			country = domestic
		}
		occurred, err := checkpointTime(c.CheckpointTime, place{country: country, state: c.State, words: []string{c.Location, c.City}})
		if err != nil {
			return nil, fmt.Errorf("aftership: %s: checkpoints[%d].checkpoint_time: %w", what, i, err)
		}
		recorded := fallback
		if c.CreatedAt != "" {
			if recorded, err = ingest.ParseShipmentTime(c.CreatedAt); err != nil {
				return nil, fmt.Errorf("aftership: %s: checkpoints[%d].created_at: %w", what, i, err)
			}
		}
		loc := strings.TrimSpace(c.Location)
		if loc == "" {
			country := c.CountryName
			if country == "" {
				country = c.CountryISO3
			}
			loc = ingest.JoinNonEmpty(", ", c.City, c.State, c.Zip, country)
		}
		out = append(out, ingest.CarrierScan{
			IDKey:             scanKey(m, c),
			Provider:          Vendor,
			TrackingNumber:    m.TrackingNumber,
			Carrier:           m.Slug,
			OrderID:           m.OrderID,
			Status:            c.Tag,
			SubStatus:         c.Subtag,
			Description:       c.Message,
			Location:          loc,
			EstimatedDelivery: estimate,
			OccurredAt:        occurred,
			RecordedAt:        recorded,
		}.Event())
	}
	return out, nil
}

// scanKey identifies one checkpoint (ingest.CarrierScan.IDKey). AfterShip's
// event_id names the webhook, not the scan, and every webhook repeats all
// checkpoints, so the key is what identifies the scan and stays the same
// across deliveries and webhook versions: courier slug and tracking number
// (not msg.id, whose format changed between API versions), checkpoint_time
// as AfterShip wrote it (not the parsed instant, which would move if the
// zone table changed), tag and subtag. The event ID adds a digest of message
// and location, so two different scans in the same minute with the same
// subtag stay apart.
func scanKey(m *tracking, c checkpoint) []string {
	return []string{Vendor, m.Slug, m.TrackingNumber, c.CheckpointTime, c.Tag, c.Subtag}
}

// estimate is the tracking's estimated delivery, or the zero time for none:
// the newer latest_estimated_delivery.datetime, else expected_delivery. A
// local time without offset has no place to resolve it and is left out
// (zero), not guessed: the estimate is optional, the scan is not.
func (m *tracking) estimate() (time.Time, error) {
	s := m.ExpectedDelivery
	if m.LatestEstimate != nil && m.LatestEstimate.Datetime != "" {
		s = m.LatestEstimate.Datetime
	}
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.UTC); err == nil {
		return ingest.PlausibleShipmentTime(s, t)
	}
	if _, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return time.Time{}, nil
	}
	t, err := ingest.ParseShipmentTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("estimated delivery: %w", err)
	}
	return t, nil
}

// checkpointTime reads checkpoint_time: with an offset (or Z) it is exact;
// without one it is the local time of the place (see zones.go).
func checkpointTime(s string, p place) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return ingest.PlausibleShipmentTime(s, t)
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", time.DateOnly} {
		if _, err := time.Parse(layout, s); err != nil {
			continue
		}
		zone := p.zone()
		if zone == nil {
			return time.Time{}, fmt.Errorf("%w: %q has no UTC offset and the checkpoint's place (country %q, state %q) does not determine a time zone; baton does not guess one",
				ingest.ErrUnsupported, s, p.country, p.state)
		}
		t, _ := time.ParseInLocation(layout, s, zone)
		return ingest.PlausibleShipmentTime(s, t)
	}
	return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DDTHH:mm:ss with or without an offset", s)
}

// webhookTime is the record time used when a checkpoint has no created_at:
// the webhook's ts (Unix seconds), else the tracking's updated_at, else the
// arrival time.
func webhookTime(ts json.Number, updatedAt string, received time.Time) (time.Time, error) {
	if ts != "" {
		sec, err := strconv.ParseInt(string(ts), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("ts %s is not Unix seconds", ts)
		}
		return ingest.PlausibleShipmentTime(string(ts), time.Unix(sec, 0))
	}
	if updatedAt != "" {
		t, err := ingest.ParseShipmentTime(updatedAt)
		if err != nil {
			return time.Time{}, fmt.Errorf("updated_at: %w", err)
		}
		return t, nil
	}
	if received.IsZero() {
		return time.Time{}, errors.New("no ts, no updated_at and no arrival time")
	}
	return received.UTC(), nil
}
