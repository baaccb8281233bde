// Package easypost adapts EasyPost tracker webhooks to baton's carrier
// events.
//
// EasyPost POSTs an Event object to the webhook URL whenever a Tracker
// changes; baton handles the descriptions tracker.created and
// tracker.updated, whose result is the whole Tracker with its full
// tracking_details history. Each entry of tracking_details becomes one
// carrier event, so a redelivery, or a later update carrying a longer
// history, yields events already seen: their event_id is the same, and
// downstream de-duplication keeps the first (see scanKey).
//
// Fields read, from the Event: id, description, updated_at, result; from the
// Tracker (result): id, object, tracking_code, carrier, updated_at,
// est_delivery_date, tracking_details; from each TrackingDetail: status,
// status_detail, message (or description when message is empty), datetime,
// tracking_location{city, state, zip, country}.
//
// Authentication follows EasyPost's client libraries (validate_webhook in
// easypost-python, validateWebhook in easypost-node): the X-Hmac-Signature
// header is "hmac-sha256-hex=" followed by the hex HMAC-SHA256 of the raw
// body under the webhook secret, the secret NFKD-normalized first. baton
// checks the raw bytes it received, never a re-serialization (re-encoding
// the JSON turns "weight": 136.0 into 136 and breaks the signature, a
// failure easypost-node users hit). EasyPost signs no timestamp, so a
// replayed delivery verifies: it is harmless because its events de-duplicate.
package easypost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// Vendor is the adapter's name and URL path segment.
const Vendor = "easypost"

// SignatureHeader carries EasyPost's webhook signature.
const SignatureHeader = "X-Hmac-Signature"

// signaturePrefix precedes the hex digest in SignatureHeader.
const signaturePrefix = "hmac-sha256-hex="

// Adapter is the EasyPost webhook adapter; it implements ingest.Adapter and
// is safe for concurrent use.
type Adapter struct {
	secret []byte
}

var _ ingest.Adapter = (*Adapter)(nil)

// New returns the adapter for webhooks signed with secret, the
// webhook_secret set on the EasyPost Webhook. EasyPost's libraries
// NFKD-normalize the secret before signing; baton uses it as given, which is
// the same for every ASCII secret. A secret with non-ASCII characters must
// be passed here already in NFKD form.
func New(secret string) *Adapter {
	return &Adapter{secret: []byte(secret)}
}

// Vendor returns "easypost".
func (a *Adapter) Vendor() string { return Vendor }

// System returns schemas.Carrier.
func (a *Adapter) System() schemas.System { return schemas.Carrier }

// Verify checks X-Hmac-Signature against the raw body in constant time.
// Errors wrap ingest.ErrSignature.
func (a *Adapter) Verify(req ingest.Request) error {
	sig := req.Header.Get(SignatureHeader)
	if sig != "" {
		hex, ok := strings.CutPrefix(sig, signaturePrefix)
		if !ok {
			return fmt.Errorf("%w: %s does not start with %q", ingest.ErrSignature, SignatureHeader, signaturePrefix)
		}
		sig = hex
	}
	return ingest.VerifyHMAC(SignatureHeader, sig, ingest.Hex, a.secret, req.Body)
}

// Sign returns the X-Hmac-Signature value EasyPost sends for body, for
// tests and load generators.
func Sign(secret string, body []byte) string {
	return signaturePrefix + ingest.SignHex([]byte(secret), body)
}

// event is the part of EasyPost's Event object baton reads.
type event struct {
	ID          string          `json:"id"`
	Description string          `json:"description"`
	UpdatedAt   string          `json:"updated_at"`
	Result      json.RawMessage `json:"result"`
}

// tracker is the part of EasyPost's Tracker object baton reads.
type tracker struct {
	ID              string   `json:"id"`
	Object          string   `json:"object"`
	TrackingCode    string   `json:"tracking_code"`
	Carrier         string   `json:"carrier"`
	UpdatedAt       string   `json:"updated_at"`
	EstDeliveryDate string   `json:"est_delivery_date"`
	TrackingDetails []detail `json:"tracking_details"`
}

type detail struct {
	Status           string   `json:"status"`
	StatusDetail     string   `json:"status_detail"`
	Message          string   `json:"message"`
	Description      string   `json:"description"`
	Datetime         string   `json:"datetime"`
	TrackingLocation location `json:"tracking_location"`
}

type location struct {
	City    string `json:"city"`
	State   string `json:"state"`
	Zip     string `json:"zip"`
	Country string `json:"country"`
}

// Adapt turns a tracker.created or tracker.updated Event into one carrier
// event per tracking detail, oldest first as EasyPost lists them. Other
// Event descriptions wrap ingest.ErrUnsupported; anything that is not an
// EasyPost Event with a Tracker result is malformed. A tracker without
// tracking details yet yields no events.
func (a *Adapter) Adapt(req ingest.Request) ([]map[string]any, error) {
	var ev event
	if err := decode(req.Body, &ev); err != nil {
		return nil, fmt.Errorf("easypost: body is not an Event object: %w", err)
	}
	switch ev.Description {
	case "tracker.created", "tracker.updated":
	case "":
		return nil, errors.New("easypost: Event has no description")
	default:
		return nil, fmt.Errorf("%w: easypost Event %q (%s): baton handles tracker.created and tracker.updated", ingest.ErrUnsupported, ev.Description, ev.ID)
	}
	var tr tracker
	if len(ev.Result) == 0 || string(ev.Result) == "null" {
		return nil, fmt.Errorf("easypost: %s Event %s has no result", ev.Description, ev.ID)
	}
	if err := decode(ev.Result, &tr); err != nil {
		return nil, fmt.Errorf("easypost: %s Event %s: result is not a Tracker: %w", ev.Description, ev.ID, err)
	}
	if tr.Object != "Tracker" {
		return nil, fmt.Errorf("easypost: %s Event %s: result object is %q, want \"Tracker\"", ev.Description, ev.ID, tr.Object)
	}
	for name, v := range map[string]string{"id": tr.ID, "tracking_code": tr.TrackingCode, "carrier": tr.Carrier} {
		if v == "" {
			return nil, fmt.Errorf("easypost: Tracker of Event %s has no %s", ev.ID, name)
		}
	}

	recorded, err := recordTime(req.Received, tr.UpdatedAt, ev.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("easypost: Tracker %s: %w", tr.ID, err)
	}
	var estimate time.Time
	if tr.EstDeliveryDate != "" {
		if estimate, err = parseTime(tr.EstDeliveryDate); err != nil {
			return nil, fmt.Errorf("easypost: Tracker %s: est_delivery_date: %w", tr.ID, err)
		}
	}

	out := make([]map[string]any, 0, len(tr.TrackingDetails))
	for i, d := range tr.TrackingDetails {
		if d.Status == "" {
			return nil, fmt.Errorf("easypost: Tracker %s: tracking_details[%d] has no status", tr.ID, i)
		}
		occurred, err := parseTime(d.Datetime)
		if err != nil {
			return nil, fmt.Errorf("easypost: Tracker %s: tracking_details[%d].datetime: %w", tr.ID, i, err)
		}
		msg := d.Message
		if msg == "" {
			msg = d.Description
		}
		l := d.TrackingLocation
		out = append(out, ingest.CarrierScan{
			IDKey:             scanKey(tr.ID, d),
			Provider:          Vendor,
			TrackingNumber:    tr.TrackingCode,
			Carrier:           tr.Carrier,
			Status:            d.Status,
			SubStatus:         d.StatusDetail,
			Description:       msg,
			Location:          ingest.JoinNonEmpty(", ", l.City, l.State, l.Zip, l.Country),
			EstimatedDelivery: estimate,
			OccurredAt:        occurred,
			RecordedAt:        recorded,
		}.Event())
	}
	return out, nil
}

// scanKey identifies one tracking detail (ingest.CarrierScan.IDKey).
// EasyPost gives details no ID of their own, and each webhook repeats the
// tracker's whole history, so the key is what makes a scan unique and never
// changes between deliveries: the tracker (EasyPost's trk_ ID rather than
// the tracking code, which carriers recycle), the scan time as EasyPost
// wrote it, the status with its detail. The event ID adds a digest of
// message and location, so two different scans in the same second with the
// same status stay apart.
func scanKey(trackerID string, d detail) []string {
	return []string{Vendor, trackerID, d.Datetime, d.Status, d.StatusDetail}
}

// recordTime is when EasyPost recorded the update: the Tracker's updated_at,
// else the Event's, else the webhook's arrival.
func recordTime(received time.Time, candidates ...string) (time.Time, error) {
	for _, c := range candidates {
		if c != "" {
			t, err := parseTime(c)
			if err != nil {
				return time.Time{}, fmt.Errorf("updated_at: %w", err)
			}
			return t, nil
		}
	}
	if received.IsZero() {
		return time.Time{}, errors.New("no updated_at and no arrival time")
	}
	return received.UTC(), nil
}

// parseTime reads an EasyPost time: RFC 3339 with an offset (EasyPost writes
// UTC, or the scan's local offset when it knows the location).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("time is empty")
	}
	return ingest.ParseShipmentTime(s)
}

// decode unmarshals exactly one JSON value into v.
func decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
