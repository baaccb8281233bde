package pipelines

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// releasedTrackingLink is the links topic's schema as first released:
// records it wrote may still be in a links topic when a newer baton
// starts, and the embedded schema must register after it.
const releasedTrackingLink = `{
  "type": "record",
  "name": "TrackingLink",
  "namespace": "io.baton.normalize",
  "fields": [
    {"name": "tracking_number", "type": ["null", "string"], "default": null},
    {"name": "order_id", "type": ["null", "string"], "default": null},
    {"name": "shipment_id", "type": ["null", "string"], "default": null},
    {"name": "source_system", "type": "string"},
    {"name": "source_partition", "type": "int"},
    {"name": "source_event_id", "type": ["null", "string"], "default": null},
    {"name": "occurred_at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null},
    {"name": "watermark", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]
}`

// linksTestStage is a normalize stage with just what encoding and reading
// links-topic records needs, the links schema registered under a subject
// of its own in the dev registry after the released one. It returns the
// stage, a decoder, and an encoder of the released schema.
func linksTestStage(t *testing.T) (*Normalize, *schemas.Decoder, *schemas.Encoder) {
	t.Helper()
	testenv.Require(t, "registry")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := sr.NewClient(sr.URLs(testenv.RegistryURL()))
	if err != nil {
		t.Fatal(err)
	}
	topics := topology.New(testenv.Unique("links") + ".")
	subject := schemas.Subject(topics.Name(topology.Links))
	released, err := schemas.Parse("tracking_link", releasedTrackingLink)
	if err != nil {
		t.Fatal(err)
	}
	old, err := schemas.NewEncoder(ctx, cl, subject, released)
	if err != nil {
		t.Fatal(err)
	}
	// The registry enforces BACKWARD compatibility: it refuses a change
	// that cannot read what the released schema wrote …
	broken := strings.Replace(releasedTrackingLink, `{"name": "watermark"`, `{"name": "required_later", "type": "string"}, {"name": "watermark"`, 1)
	if bad, err := schemas.Parse("tracking_link", broken); err != nil {
		t.Fatal(err)
	} else if _, err := schemas.NewEncoder(ctx, cl, subject, bad); err == nil {
		t.Fatal("the registry accepted a new required field: the compatibility check below would prove nothing")
	}
	// … and takes the embedded one.
	cur, err := schemas.NewEncoder(ctx, cl, subject, schemas.MustLoad("tracking_link"))
	if err != nil {
		t.Fatalf("the links schema is not backward compatible with the released one: %v", err)
	}
	n := &Normalize{cfg: NormalizeConfig{StageConfig: StageConfig{Topics: topics, Encoders: map[string]*schemas.Encoder{topics.Name(topology.Links): cur}}}}
	return n, schemas.NewDecoder(cl), old
}

// readLinks decodes a links-topic value as the stage reads it.
func readLinks(t *testing.T, dec *schemas.Decoder, value []byte) normalize.Input {
	t.Helper()
	d, err := dec.Decode(context.Background(), value)
	if err != nil {
		t.Fatal(err)
	}
	in, err := linksInput(d.Plain)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestLinkSourceProgressKeepsItsIdleFlag: a progress announcement reaches
// the links partitions with its time and its idle flag (an empty source
// partition announced idle must stop holding the link clock back), and a
// watermark written by the released schema, without the flag, reads as
// not idle.
func TestLinkSourceProgressKeepsItsIdleFlag(t *testing.T) {
	n, dec, old := linksTestStage(t)
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	sent := map[normalize.SourceWatermark]bool{
		{Source: "wms", Partition: 2, Idle: true}:         true, // never had a record
		{Source: "storefront", Partition: 1, At: at}:      true,
		{Source: "wms", Partition: 3, At: at, Idle: true}: true,
	}
	var recs []*kgo.Record
	if err := n.announce(sent, func(r *kgo.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(sent)*int(n.cfg.Topics.Topic(topology.Links).Partitions) {
		t.Fatalf("%d records for %d announcements", len(recs), len(sent))
	}
	got := map[normalize.SourceWatermark]bool{}
	for _, r := range recs {
		in := readLinks(t, dec, r.Value)
		if in.Watermark == nil || in.Link != nil {
			t.Fatalf("announcement read as %+v", in)
		}
		got[*in.Watermark] = true
	}
	if len(got) != len(sent) {
		t.Fatalf("read %v, want %v", got, sent)
	}
	for w := range sent {
		if !got[w] {
			t.Errorf("announced %+v, read %v", w, got)
		}
	}
	b, err := old.EncodePlain(map[string]any{"source_system": "wms", "source_partition": 4, "watermark": at})
	if err != nil {
		t.Fatal(err)
	}
	if in := readLinks(t, dec, b); in.Watermark == nil || in.Watermark.Idle || !in.Watermark.At.Equal(at) {
		t.Errorf("a released-schema watermark read as %+v", in.Watermark)
	}
}

// TestTicketLinksTravelTheLinksTopic: a ticket link and a tracking link
// read back from the links topic as they were sent, and a record of each
// kind is keyed by what it links.
func TestTicketLinksTravelTheLinksTopic(t *testing.T) {
	n, dec, _ := linksTestStage(t)
	enc := n.cfg.Encoders[n.cfg.Topics.Name(topology.Links)]
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	for _, l := range []normalize.Link{
		{TicketID: "35436", OrderID: "1001", SourceSystem: "helpdesk", SourcePartition: 2, SourceEventID: "zd-1", OccurredAt: at, RecordedAt: at.Add(time.Second)},
		{TrackingNumber: "1Z", OrderID: "o-1", ShipmentID: "s-1", SourceSystem: "wms", SourcePartition: 5, SourceEventID: "w-1", OccurredAt: at, RecordedAt: at.Add(time.Minute)},
		// A link whose source had been processed a day further: its source
		// clock travels with it (see normalize.Link.SourceClock).
		{TrackingNumber: "1Z-LATE", OrderID: "o-2", SourceSystem: "storefront", SourcePartition: 1, SourceEventID: "s-9", OccurredAt: at, RecordedAt: at.Add(time.Minute),
			SourceClock: at.Add(25 * time.Hour)},
	} {
		b, err := enc.EncodePlain(linkValue(l))
		if err != nil {
			t.Fatal(err)
		}
		in := readLinks(t, dec, b)
		if in.Link == nil || in.Watermark != nil || *in.Link != l {
			t.Errorf("sent %+v, read %+v", l, in)
		}
	}
	if k := (normalize.Link{TicketID: "35436", OrderID: "1001"}).Key(); k != "35436" {
		t.Errorf("a ticket link is keyed %q, want its ticket ID", k)
	}
}
