package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/topology"
)

// Defaults of GatewayConfig.
const (
	DefaultMaxBody         = 1 << 20
	DefaultProduceTimeout  = 4 * time.Second
	DefaultRetryAfter      = 10 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
)

// GatewayConfig configures a Gateway.
type GatewayConfig struct {
	// Client produces the source records and dead letters. It must be
	// idempotent (kgo's default; ProducerOpts gives the recommended
	// options) so a retried produce request never duplicates a record.
	Client *kgo.Client
	// Registry is the schema registry the source and dead-letter schemas
	// are registered with.
	Registry *sr.Client
	Topics   topology.Topics
	// Adapters are served at POST /webhooks/{Vendor()}; vendors must be
	// unique.
	Adapters []Adapter
	// Disabled maps vendors that are known but not configured (no secret)
	// to why; their endpoint answers 404 with that reason instead of
	// "unknown vendor", so a misconfiguration is obvious from the sender's
	// delivery log.
	Disabled map[string]string
	// MaxBody is the largest body accepted (413 above it); 0 means
	// DefaultMaxBody.
	MaxBody int64
	// ProduceTimeout bounds how long one delivery waits for Kafka to
	// acknowledge its records before answering 503. Vendors give up on a
	// webhook after a few seconds (Shopify: 5 s), so it must stay below
	// that; 0 means DefaultProduceTimeout.
	ProduceTimeout time.Duration
	// RetryAfter is the Retry-After advertised with a 503; 0 means
	// DefaultRetryAfter.
	RetryAfter time.Duration
	// ShutdownTimeout bounds how long Serve waits for deliveries in flight
	// after its context is done; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Metrics, if nil, are created on a private registry.
	Metrics *Metrics
	Logger  *slog.Logger
	// Now stands in for time.Now in tests.
	Now func() time.Time
	// ConnectInBackground makes NewGateway return without reaching Kafka
	// or the registry: Serve creates the topics and registers the schemas,
	// retrying every ReadyInterval, and until that succeeded every
	// delivery is answered 503 with Retry-After. A gateway (re)started
	// during a Kafka outage then tells vendors to retry instead of
	// refusing their connections (which some count as a failed endpoint
	// and disable). Without it NewGateway does this at once and fails if
	// it cannot.
	ConnectInBackground bool
	// ReadyInterval is how often Serve retries that start, then checks
	// that Kafka answers, for /readyz; 0 means DefaultReadyInterval.
	ReadyInterval time.Duration
}

// DefaultReadyInterval is GatewayConfig.ReadyInterval's default.
const DefaultReadyInterval = 2 * time.Second

// ProducerOpts are the recommended kgo options for the gateway's client:
// idempotent (the default; never disabled here), no lingering because every
// delivery waits for its acknowledgement, records that were never sent
// failing after timeout instead of piling up while Kafka is away, and the
// record limit the gateway checks events and dead letters against
// (records.MaxRecordBytes).
func ProducerOpts(timeout time.Duration) []kgo.Opt {
	if timeout <= 0 {
		timeout = DefaultProduceTimeout
	}
	return []kgo.Opt{
		kgo.ProducerLinger(0),
		kgo.ProducerBatchMaxBytes(records.MaxRecordBytes),
		kgo.RecordDeliveryTimeout(timeout),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ClientID("baton-ingest"),
	}
}

// Gateway is baton's webhook edge. It implements Handler the same way for
// every vendor: verify, adapt, validate against the source schema, produce
// with an idempotent producer and answer only once Kafka acknowledged every
// record; bad input is dead-lettered with its reason, forged input is
// counted and dropped. Handler (HTTP) and Serve expose it over HTTP.
type Gateway struct {
	cfg      GatewayConfig
	source   *records.SourceRecord
	dead     *records.DeadLetters
	metrics  *Metrics
	log      *slog.Logger
	adapters map[string]Adapter
	// started is set once the topics exist and the schemas are
	// registered (source and dead are usable from then on).
	started atomic.Bool
	// kafkaErr is the last readiness check's failure; nil: Kafka answered.
	kafkaMu  sync.Mutex
	kafkaErr error
}

// Outcome labels of baton_webhook_requests_total.
const (
	OutcomeAccepted      = "accepted"       // 200: every event acknowledged by Kafka
	OutcomeUnauthorized  = "unauthorized"   // 401: signature missing, forged or stale
	OutcomeMalformed     = "malformed"      // 400: unreadable payload, dead-lettered
	OutcomeInvalid       = "invalid"        // 400: an event fails the schema, dead-lettered
	OutcomeUnsupported   = "unsupported"    // 422: a kind baton does not handle, dead-lettered
	OutcomeTooLarge      = "too_large"      // 413: body over the limit, or an event too large for a Kafka record (dead-lettered)
	OutcomeUnavailable   = "unavailable"    // 503: Kafka did not acknowledge in time
	OutcomePanic         = "panic"          // 500: the adapter panicked, dead-lettered
	OutcomeError         = "error"          // 500: any other internal failure
	OutcomeNotConfigured = "not_configured" // 404: known vendor without a secret
	OutcomeUnknownVendor = "unknown_vendor" // 404: no such vendor
	OutcomeBadRequest    = "bad_request"    // 400: the body could not be read
)

// NewGateway creates the topics it writes to when missing, registers their
// schemas (so a bad registry fails at start, not on the first webhook) and
// returns the gateway.
func NewGateway(ctx context.Context, cfg GatewayConfig) (*Gateway, error) {
	if cfg.Client == nil || cfg.Registry == nil {
		return nil, errors.New("ingest gateway: a Kafka client and a schema registry client are required")
	}
	if cfg.Topics.Prefix == "" {
		cfg.Topics = topology.New("")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.ProduceTimeout <= 0 {
		cfg.ProduceTimeout = DefaultProduceTimeout
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(prometheus.NewRegistry(), nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReadyInterval <= 0 {
		cfg.ReadyInterval = DefaultReadyInterval
	}
	g := &Gateway{cfg: cfg, metrics: cfg.Metrics, log: cfg.Logger, adapters: make(map[string]Adapter, len(cfg.Adapters))}
	for _, a := range cfg.Adapters {
		v := a.Vendor()
		if _, dup := g.adapters[v]; dup {
			return nil, fmt.Errorf("ingest gateway: two adapters for vendor %q", v)
		}
		g.adapters[v] = a
		// Counters start at zero, so an alert's rate sees the first failure.
		for _, outcome := range []string{OutcomeAccepted, OutcomeUnauthorized, OutcomeUnavailable, OutcomeMalformed, OutcomeInvalid} {
			g.metrics.Requests.WithLabelValues(v, outcome)
		}
		g.metrics.SignatureFailures.WithLabelValues(v)
	}
	src, err := records.NewSourceRecord(cfg.Topics)
	if err != nil {
		return nil, err
	}
	g.source = src
	g.metrics.KafkaReady.Set(0)
	if cfg.ConnectInBackground {
		g.setKafkaState(errNotStarted)
		return g, nil
	}
	if err := g.start(ctx); err != nil {
		return nil, err
	}
	g.setKafkaState(nil)
	return g, nil
}

// errNotStarted is the Kafka state before the gateway's start succeeded.
var errNotStarted = errors.New("not reached yet since the gateway started")

// start creates the topics and registers the schemas: records cannot be
// encoded before their schema IDs are known. It runs once successfully.
func (g *Gateway) start(ctx context.Context) error {
	if err := g.source.Register(ctx, kadm.NewClient(g.cfg.Client), g.cfg.Registry); err != nil {
		return fmt.Errorf("ingest gateway: register source schemas: %w", err)
	}
	enc, err := topology.RegisterSchemas(ctx, g.cfg.Registry, g.cfg.Topics.Topic(topology.DeadLetter))
	if err != nil {
		return fmt.Errorf("ingest gateway: register dead-letter schema: %w", err)
	}
	g.dead = newDeadLetters(g.cfg.Topics, enc, g.metrics)
	g.started.Store(true)
	return nil
}

// watchKafka keeps the Kafka state /readyz reports until ctx is done:
// every ReadyInterval it retries the start until it succeeds, then pings.
func (g *Gateway) watchKafka(ctx context.Context) {
	tick := time.NewTicker(g.cfg.ReadyInterval)
	defer tick.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, g.cfg.ReadyInterval+g.cfg.ProduceTimeout)
		var err error
		if g.started.Load() {
			err = g.cfg.Client.Ping(cctx)
		} else {
			err = g.start(cctx)
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		g.setKafkaState(err)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// setKafkaState records a readiness check, logging each change.
func (g *Gateway) setKafkaState(err error) {
	g.kafkaMu.Lock()
	was := g.kafkaErr
	g.kafkaErr = err
	g.kafkaMu.Unlock()
	switch {
	case err == nil && was != nil:
		g.log.Info("Kafka is reachable: accepting deliveries")
	case err != nil && err != errNotStarted && (was == nil || was == errNotStarted):
		g.log.Warn("Kafka is unreachable: deliveries get 503 until it is back", "err", err)
	}
	ready := 0.0
	if err == nil {
		ready = 1
	}
	g.metrics.KafkaReady.Set(ready)
}

// KafkaState is the last readiness check's result: nil when Kafka
// answered and the gateway has started.
func (g *Gateway) KafkaState() error {
	g.kafkaMu.Lock()
	defer g.kafkaMu.Unlock()
	return g.kafkaErr
}

// Adapter returns the adapter serving vendor.
func (g *Gateway) Adapter(vendor string) (Adapter, bool) {
	a, ok := g.adapters[vendor]
	return a, ok
}

// Vendors lists the configured vendors, sorted.
func (g *Gateway) Vendors() []string {
	out := make([]string, 0, len(g.adapters))
	for v := range g.adapters {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// Handle takes one delivery end to end (see Handler). It never panics and
// never returns 2xx before Kafka acknowledged every event of the delivery.
// ctx bounds nothing but the wait for Kafka (ProduceTimeout bounds that
// too); a caller going away does not cancel records other deliveries may
// share a batch with.
func (g *Gateway) Handle(ctx context.Context, a Adapter, req Request) Outcome {
	vendor := a.Vendor()
	out, label := g.handle(ctx, a, req)
	g.metrics.Requests.WithLabelValues(vendor, label).Inc()
	if out.Status >= 500 {
		g.log.Warn("webhook not accepted", "vendor", vendor, "status", out.Status, "err", out.Err)
	}
	return out
}

func (g *Gateway) handle(ctx context.Context, a Adapter, req Request) (Outcome, string) {
	ctx = context.WithoutCancel(ctx)
	vendor, sys := a.Vendor(), a.System()
	if !g.started.Load() {
		return Outcome{Status: http.StatusServiceUnavailable, Err: fmt.Errorf("%s: Kafka %w; retry later", vendor, errNotStarted)}, OutcomeUnavailable
	}
	if req.Received.IsZero() {
		req.Received = g.cfg.Now()
	}
	if !req.Trusted {
		err := callSafely(func() error { return a.Verify(req) })
		if p := (*panicError)(nil); errors.As(err, &p) {
			g.log.Error("webhook signature check panicked", "vendor", vendor, "panic", p.value, "stack", string(p.stack))
		}
		if err != nil {
			// Forged traffic is counted, never dead-lettered: it must not
			// be able to fill the dead-letter topic.
			g.metrics.SignatureFailures.WithLabelValues(vendor).Inc()
			if !errors.Is(err, ErrSignature) {
				err = fmt.Errorf("%w: %v", ErrSignature, err)
			}
			return Outcome{Status: http.StatusUnauthorized, Err: fmt.Errorf("%s: %w", vendor, err)}, OutcomeUnauthorized
		}
	}
	var events []map[string]any
	err := callSafely(func() error {
		var err error
		events, err = a.Adapt(req)
		return err
	})
	var p *panicError
	switch {
	case errors.As(err, &p):
		g.log.Error("webhook adapter panicked", "vendor", vendor, "panic", p.value, "stack", string(p.stack))
		return g.rejectWithDeadLetter(ctx, vendor, req, http.StatusInternalServerError, ReasonAdapterPanic,
			fmt.Errorf("%s adapter failed on this payload (a bug in baton): %w", vendor, err)), OutcomePanic
	case errors.Is(err, ErrUnsupported):
		return g.rejectWithDeadLetter(ctx, vendor, req, http.StatusUnprocessableEntity, ReasonUnsupported,
			fmt.Errorf("%s: %w", vendor, err)), OutcomeUnsupported
	case err != nil:
		return g.rejectWithDeadLetter(ctx, vendor, req, http.StatusBadRequest, ReasonMalformed,
			fmt.Errorf("malformed %s payload: %w", vendor, err)), OutcomeMalformed
	}

	// Validate every event before producing any, so a delivery is all or
	// nothing as far as baton can make it.
	recs := make([]*kgo.Record, 0, len(events))
	for i, ev := range events {
		v, err := g.source.Validate(sys, ev)
		if id, _ := v.Native["event_id"].(string); err == nil && id == "" {
			err = errors.New("event_id: empty (it is the de-duplication key)")
		}
		if err != nil {
			return g.rejectWithDeadLetter(ctx, vendor, req, http.StatusBadRequest, ReasonInvalidEvent,
				fmt.Errorf("%s event %d of %d does not fit the %s schema: %w", vendor, i+1, len(events), sys, err)), OutcomeInvalid
		}
		rec, err := g.source.Record(v)
		if err != nil {
			return g.rejectWithDeadLetter(ctx, vendor, req, http.StatusInternalServerError, ReasonEncode,
				fmt.Errorf("%s event %d of %d could not be encoded: %w", vendor, i+1, len(events), err)), OutcomeError
		}
		// Kafka would refuse it (MESSAGE_TOO_LARGE) however often the
		// vendor retried: a 503 would never end.
		if n := records.RecordBytes(rec); n > records.MaxRecordBytes {
			return g.rejectWithDeadLetter(ctx, vendor, req, http.StatusRequestEntityTooLarge, ReasonTooLarge,
				fmt.Errorf("%s event %d of %d is %d bytes as a Kafka record, above the %d-byte record limit: it cannot be kept", vendor, i+1, len(events), n, records.MaxRecordBytes)), OutcomeTooLarge
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		// Nothing to keep (e.g. a Debezium tombstone): acknowledged as is.
		return Outcome{Status: http.StatusOK}, OutcomeAccepted
	}
	start := time.Now()
	err = g.produce(ctx, recs)
	g.metrics.ProduceSeconds.WithLabelValues(vendor).Observe(time.Since(start).Seconds())
	if err != nil {
		return Outcome{Status: http.StatusServiceUnavailable, Err: fmt.Errorf("%s: %w; retry later", vendor, err)}, OutcomeUnavailable
	}
	return Outcome{Status: http.StatusOK, Events: len(recs)}, OutcomeAccepted
}

// produce hands recs to the idempotent producer and waits until Kafka
// acknowledged every one, or ProduceTimeout passed. It does not use
// ProduceSync: an idempotent producer cannot fail a record that is in a
// request already sent (it cannot know whether the broker wrote it), so
// ProduceSync may wait for a broker that is gone for as long as it is gone.
// Giving up here answers the sender in time; a record still in flight may
// land later, which is safe because the sender retries and events are
// de-duplicated downstream by event ID. Unsent records are failed by the
// context (and RecordDeliveryTimeout) rather than kept.
func (g *Gateway) produce(ctx context.Context, recs []*kgo.Record) error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.ProduceTimeout)
	defer cancel()
	results := make(chan error, len(recs))
	for _, r := range recs {
		g.cfg.Client.Produce(ctx, r, func(r *kgo.Record, err error) {
			if err != nil {
				err = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
			results <- err
		})
	}
	for acked := 0; acked < len(recs); acked++ {
		select {
		case err := <-results:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("Kafka acknowledged %d of %d records within %s", acked, len(recs), g.cfg.ProduceTimeout)
		}
	}
	return nil
}

// panicError is a recovered adapter panic.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// callSafely runs f, turning a panic into a *panicError: an adapter bug
// must cost one delivery, never the process.
func callSafely(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return f()
}
