// Package ingest is baton's edge: the webhook gateway (`baton ingest`) and
// the adapters that turn vendor payloads (Shopify, EasyPost, AfterShip,
// Zendesk, Debezium, generic JSON) into source events for the source topics.
//
// Each vendor's adapter lives in its own sub-package and implements Adapter;
// the gateway does the rest the same way for every vendor: body limits,
// signature verification, validation against the source schema, producing
// with an idempotent producer and answering only after Kafka acknowledged,
// dead letters and metrics.
package ingest

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/schemas"
)

// ErrSignature is wrapped by Verify errors: the request is not
// authenticated (missing, malformed, forged or stale signature). The
// gateway answers 401 and produces nothing.
var ErrSignature = errors.New("webhook signature invalid")

// ErrUnsupported is wrapped by Adapt errors for a well-formed payload of a
// kind baton does not handle (e.g. a Shopify topic it does not subscribe
// to). The gateway answers 422 and dead-letters the body with the reason.
var ErrUnsupported = errors.New("unsupported webhook payload")

// Request is one webhook delivery as the gateway received it.
type Request struct {
	Header http.Header
	// Body is the raw body, exactly as received: signatures are computed
	// over these bytes.
	Body []byte
	// Received is when the gateway received it; it stands in for the
	// record time of payloads that carry none.
	Received time.Time
	// Trusted marks a delivery that arrived over an already authenticated
	// channel (a Debezium change event consumed from Kafka): Verify is
	// skipped for it. HTTP deliveries are never trusted.
	Trusted bool
	// Origin, if set, is the Kafka record a trusted delivery was consumed
	// from: its dead letters name that topic, partition and offset as
	// their source instead of the pseudo-topic webhook:<vendor>.
	Origin *kgo.Record
}

// Outcome is what became of one delivery, as an HTTP status: 2xx the
// events are in Kafka (acknowledged); 401 not authenticated, nothing
// produced; 400/413/422 bad input, dead-lettered with the reason; 503 Kafka
// unavailable, nothing acknowledged, the sender must retry.
type Outcome struct {
	Status int
	// Events is how many source events were produced.
	Events int
	// Err explains a non-2xx outcome.
	Err error
}

// Handler takes one delivery for an adapter end to end: verify, adapt,
// validate, produce (or dead-letter) and report the outcome. The gateway
// implements it for HTTP; the Debezium Kafka consumer uses the same one.
type Handler interface {
	Handle(ctx context.Context, a Adapter, req Request) Outcome
}

// Adapter adapts one vendor's webhooks to one source system's schema.
type Adapter interface {
	// Vendor is the adapter's name and URL path segment, e.g. "shopify".
	Vendor() string
	// System is the source system (and so the topic and schema) the
	// adapter's events are for.
	System() schemas.System
	// Verify authenticates the request; errors wrap ErrSignature.
	Verify(req Request) error
	// Adapt turns the payload into zero or more source events in the JSON
	// form (*schemas.Schema).FromJSON accepts for System's schema. Any
	// error other than ErrUnsupported means the payload is malformed (the
	// gateway answers 400 and dead-letters it). Adapt must never panic.
	Adapt(req Request) ([]map[string]any, error)
}
