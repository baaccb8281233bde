package records

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// SourceRecord turns a source system's value in JSON form into a Kafka
// record for its source topic: validated against the system's schema, keyed
// by the system's key field, encoded in Confluent wire format. It needs no
// broker, so callers can validate a whole input before producing any of it.
type SourceRecord struct {
	topics  topology.Topics
	schemas map[schemas.System]*schemas.Schema
	// encoders are set once the schemas are registered (Connect).
	encoders map[string]*schemas.Encoder
}

// NewSourceRecord loads the source schemas for a topic set.
func NewSourceRecord(topics topology.Topics) (*SourceRecord, error) {
	out := &SourceRecord{topics: topics, schemas: make(map[schemas.System]*schemas.Schema)}
	for _, s := range schemas.Systems {
		sch, err := schemas.Load(s.SchemaName())
		if err != nil {
			return nil, err
		}
		out.schemas[s] = sch
	}
	return out, nil
}

// Validated is a source value checked against its schema, with its key.
type Validated struct {
	System schemas.System
	Key    string
	Native map[string]any
}

// Validate checks a JSON-form value against the system's schema and finds
// its key. The error says which field is wrong and why.
func (s *SourceRecord) Validate(sys schemas.System, value map[string]any) (Validated, error) {
	sch, ok := s.schemas[sys]
	if !ok {
		return Validated{}, fmt.Errorf("unknown system %q", sys)
	}
	native, err := sch.FromJSON(value)
	if err != nil {
		return Validated{}, err
	}
	key, err := sys.Key(sch.Plain(native))
	if err != nil {
		return Validated{}, err
	}
	return Validated{System: sys, Key: key, Native: native}, nil
}

// Register registers the source schemas (and creates the topics they need
// if missing) so Record can encode.
func (s *SourceRecord) Register(ctx context.Context, adm *kadm.Client, reg *sr.Client) error {
	if err := topology.EnsureTopics(ctx, adm, s.topics.All()...); err != nil {
		return err
	}
	enc, err := topology.RegisterSchemas(ctx, reg, s.topics.Sources()...)
	if err != nil {
		return err
	}
	s.encoders = enc
	return nil
}

// Record encodes a validated value into a record for its source topic.
func (s *SourceRecord) Record(v Validated) (*kgo.Record, error) {
	topic := s.topics.Source(v.System).Name
	enc := s.encoders[topic]
	if enc == nil {
		return nil, fmt.Errorf("schema for %s not registered: call Register first", topic)
	}
	b, err := enc.Encode(v.Native)
	if err != nil {
		return nil, err
	}
	return &kgo.Record{Topic: topic, Key: []byte(v.Key), Value: b}, nil
}

// AsyncProducer produces records without waiting for each acknowledgement
// and remembers the first failure, for bulk loads (simulate, produce,
// benchmarks). Flush waits for every record and returns that failure.
type AsyncProducer struct {
	cl    *kgo.Client
	mu    sync.Mutex
	first error
}

// NewAsyncProducer wraps an (idempotent, the kgo default) producer client.
func NewAsyncProducer(cl *kgo.Client) *AsyncProducer { return &AsyncProducer{cl: cl} }

// Produce queues r; it blocks only when the client's buffer is full.
func (p *AsyncProducer) Produce(ctx context.Context, r *kgo.Record) {
	p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		if err != nil {
			p.mu.Lock()
			if p.first == nil {
				p.first = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
			p.mu.Unlock()
		}
	})
}

// Err is the first failure seen so far.
func (p *AsyncProducer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first
}

// Flush waits until every queued record is acknowledged or failed.
func (p *AsyncProducer) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return err
	}
	return p.Err()
}
