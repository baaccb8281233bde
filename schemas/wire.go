package schemas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/twmb/franz-go/pkg/sr"
)

// ErrUndecodable marks a record value that can never be decoded, however
// often it is retried: not in Confluent wire format, a schema ID the registry
// does not know, or bytes that do not match their schema. Such records go to
// the dead-letter topic. Any other decode error (the registry unreachable)
// is transient and must be retried, never dead-lettered.
var ErrUndecodable = errors.New("undecodable record value")

// Subject is the registry subject of a topic's value schema
// (TopicNameStrategy).
func Subject(topic string) string { return topic + "-value" }

// Register registers the schema under the subject, or finds it if already
// there, and returns its registry ID. The registry rejects a schema that is
// not compatible with the subject's earlier versions.
func Register(ctx context.Context, cl *sr.Client, subject string, s *Schema) (int, error) {
	ss, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: s.Text, Type: sr.TypeAvro})
	if err != nil {
		return 0, fmt.Errorf("register %s under subject %s: %w", s.Name, subject, err)
	}
	return ss.ID, nil
}

var header sr.ConfluentHeader

// Encoder writes values of one registered schema in Confluent wire format:
// magic byte 0, the 4-byte big-endian schema ID, then the Avro binary body.
type Encoder struct {
	ID     int
	Schema *Schema
}

// NewEncoder registers s under subject and returns an encoder for it.
func NewEncoder(ctx context.Context, cl *sr.Client, subject string, s *Schema) (*Encoder, error) {
	id, err := Register(ctx, cl, subject, s)
	if err != nil {
		return nil, err
	}
	return &Encoder{ID: id, Schema: s}, nil
}

// AppendEncode appends the wire-format encoding of native to b.
func (e *Encoder) AppendEncode(b []byte, native map[string]any) ([]byte, error) {
	b, err := header.AppendEncode(b, e.ID, nil)
	if err != nil {
		return nil, err
	}
	b, err = e.Schema.Codec.BinaryFromNative(b, native)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", e.Schema.Name, err)
	}
	return b, nil
}

// Encode returns the wire-format encoding of native.
func (e *Encoder) Encode(native map[string]any) ([]byte, error) {
	return e.AppendEncode(make([]byte, 0, 256), native)
}

// AppendPlain appends the wire-format encoding of plain, a value in baton's
// JSON form (what FromJSON takes), to b: the header AppendEncode writes,
// then Schema.AppendBinary's body. It is FromJSON plus AppendEncode in one
// pass and without the intermediate native value, and the way outputs
// should be encoded. Errors are "encode <schema name>: <FromJSON's
// message>"; on error b is returned unchanged.
func (e *Encoder) AppendPlain(b []byte, plain map[string]any) ([]byte, error) {
	out, err := header.AppendEncode(b, e.ID, nil)
	if err != nil {
		return b, err
	}
	out, err = e.Schema.AppendBinary(out, plain)
	if err != nil {
		return b, fmt.Errorf("encode %s: %w", e.Schema.Name, err)
	}
	return out, nil
}

// EncodePlain returns the wire-format encoding of plain (see AppendPlain)
// in a new buffer.
func (e *Encoder) EncodePlain(plain map[string]any) ([]byte, error) {
	return e.AppendPlain(make([]byte, 0, 256), plain)
}

// Decoder reads Confluent wire-format values written with any schema ID,
// fetching (and caching) writer schemas from the registry. It decodes with
// the writer's schema, so records written by older schema versions stay
// readable. Safe for concurrent use.
type Decoder struct {
	cl   *sr.Client
	mu   sync.RWMutex
	byID map[int]*Schema
}

// NewDecoder returns a decoder backed by the registry client.
func NewDecoder(cl *sr.Client) *Decoder {
	return &Decoder{cl: cl, byID: make(map[int]*Schema)}
}

// Decoded is one decoded record value.
type Decoded struct {
	SchemaID int
	Schema   *Schema // the writer's
	// Plain is the value in baton's JSON form (see Schema.DecodePlain).
	Plain map[string]any
}

// Decode decodes a wire-format value. Errors wrapping ErrUndecodable are
// permanent; others (registry unavailable) are worth a retry.
func (d *Decoder) Decode(ctx context.Context, value []byte) (Decoded, error) {
	id, body, err := header.DecodeID(value)
	if err != nil {
		return Decoded{}, fmt.Errorf("%w: not Confluent wire format (%d bytes): %v", ErrUndecodable, len(value), err)
	}
	s, err := d.schema(ctx, id)
	if err != nil {
		return Decoded{}, err
	}
	if s.root.Kind != KindRecord {
		return Decoded{}, fmt.Errorf("%w: schema %d is not a record schema", ErrUndecodable, id)
	}
	plain, rest, err := s.DecodePlain(body)
	if err != nil {
		return Decoded{}, fmt.Errorf("%w: body does not match schema %d (%s): %v", ErrUndecodable, id, s.FullName, err)
	}
	if len(rest) != 0 {
		return Decoded{}, fmt.Errorf("%w: %d trailing bytes after a %s (schema %d)", ErrUndecodable, len(rest), s.FullName, id)
	}
	return Decoded{SchemaID: id, Schema: s, Plain: plain}, nil
}

func (d *Decoder) schema(ctx context.Context, id int) (*Schema, error) {
	d.mu.RLock()
	s := d.byID[id]
	d.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	text, err := d.cl.SchemaByID(ctx, id)
	if err != nil {
		var re *sr.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%w: schema ID %d is not in the registry", ErrUndecodable, id)
		}
		return nil, fmt.Errorf("fetch schema %d from registry: %w", id, err)
	}
	s, err = Parse(fmt.Sprintf("id-%d", id), text.Schema)
	if err != nil {
		return nil, fmt.Errorf("%w: schema %d: %v", ErrUndecodable, id, err)
	}
	d.mu.Lock()
	d.byID[id] = s
	d.mu.Unlock()
	return s, nil
}
