package ingest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// DeadLetterStage is the stage label of the gateway's dead letters.
const DeadLetterStage = "ingest"

// Dead-letter reasons of the gateway: label values of
// baton_dead_letters_total{stage="ingest"}, so the set stays small.
const (
	ReasonUnsupported  = "unsupported_payload" // well-formed, of a kind baton does not handle (422)
	ReasonMalformed    = "malformed_payload"   // the adapter could not read it (400)
	ReasonInvalidEvent = "invalid_event"       // adapted, but an event fails the source schema (400)
	ReasonAdapterPanic = "adapter_panic"       // the adapter panicked on it (500): a bug, the body is kept to reproduce it
	ReasonEncode       = "encode_failed"       // validated but could not be encoded (500): a bug
	ReasonTooLarge     = "event_too_large"     // an event larger than a Kafka record may be (413)
)

// WebhookTopic is the source_topic a dead letter of an HTTP delivery names:
// not a Kafka topic, but where the body came from.
func WebhookTopic(vendor string) string { return "webhook:" + vendor }

// Record headers a webhook dead letter carries besides the dead-letter
// value, so a replay can rebuild the Request: the vendor and the HTTP
// headers the adapter may read (topic, event ID, signature timestamp).
const (
	HeaderVendor     = "baton.vendor"
	HeaderReceived   = "baton.received"
	headerHTTPPrefix = "http."
)

// droppedHeaders are never copied into a dead letter: credentials of the
// hop, not of the payload.
var droppedHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Proxy-Authorization": true}

// deadLetter builds the dead-letter record of a rejected delivery. The body
// is kept byte for byte in value (its first bytes, with its size and hash,
// when it would not fit in a record: see records.DeadLetters.Record); a
// consumed (trusted) delivery names its Kafka origin, an HTTP one the
// pseudo-topic webhook:<vendor>.
func (g *Gateway) deadLetter(vendor string, req Request, reason string, cause error) (*kgo.Record, error) {
	in := &kgo.Record{Topic: WebhookTopic(vendor), Partition: -1, Offset: -1, Value: req.Body}
	if req.Origin != nil {
		in = &kgo.Record{Topic: req.Origin.Topic, Partition: req.Origin.Partition, Offset: req.Origin.Offset, Key: req.Origin.Key, Value: req.Body}
	}
	if in.Value == nil {
		in.Value = []byte{} // an empty body is still a body: keep it non-null
	}
	headers := []kgo.RecordHeader{
		{Key: HeaderVendor, Value: []byte(vendor)},
		{Key: HeaderReceived, Value: []byte(FormatTime(req.Received))},
	}
	for _, name := range slices.Sorted(maps.Keys(req.Header)) {
		if droppedHeaders[http.CanonicalHeaderKey(name)] {
			continue
		}
		headers = append(headers, kgo.RecordHeader{Key: headerHTTPPrefix + strings.ToLower(name), Value: []byte(strings.Join(req.Header[name], ", "))})
	}
	return g.dead.Record(in, reason, cause, headers...)
}

// rejectWithDeadLetter dead-letters a delivery and returns the outcome the
// sender gets: status with cause, or 503 when the dead letter itself could
// not be written, so the sender retries and nothing is lost.
func (g *Gateway) rejectWithDeadLetter(ctx context.Context, vendor string, req Request, status int, reason string, cause error) Outcome {
	rec, err := g.deadLetter(vendor, req, reason, cause)
	if err != nil {
		return Outcome{Status: http.StatusInternalServerError, Err: fmt.Errorf("%w; and its dead letter could not be built: %v", cause, err)}
	}
	if err := g.produce(ctx, []*kgo.Record{rec}); err != nil {
		return Outcome{Status: http.StatusServiceUnavailable, Err: fmt.Errorf("%w; and the dead-letter topic is unavailable, retry later: %v", cause, err)}
	}
	return Outcome{Status: status, Err: fmt.Errorf("%w (the body was kept in dead-letter topic %s with reason %s)", cause, g.dead.Topic, reason)}
}

// newDeadLetters is the dead-letter builder (package records) for the gateway,
// counting into the gateway's dead-letter counter.
func newDeadLetters(topics topology.Topics, enc map[string]*schemas.Encoder, m *Metrics) *records.DeadLetters {
	t := topics.Name(topology.DeadLetter)
	return &records.DeadLetters{Stage: DeadLetterStage, Topic: t, Encoder: enc[t], Counter: m.DeadLetters}
}
