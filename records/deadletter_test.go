package records_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/records"
)

// TestRecordBytesAgreesWithTheProducer produces records whose RecordBytes
// is exactly MaxRecordBytes and a few bytes more through a producer
// limited to MaxRecordBytes: the first is kept, the second refused. A
// check that counted fewer bytes than franz-go would let through records
// the producer then refuses however often they are retried (a webhook
// answered 503 for ever); one that counted many more would refuse records
// Kafka keeps. (franz-go counts a byte less once it knows the broker
// speaks the flexible produce versions: RecordBytes counts the larger.)
func TestRecordBytesAgreesWithTheProducer(t *testing.T) {
	testenv.Require(t, "kafka")
	topic := testenv.Unique("record-bytes")
	testenv.DeleteTopicsAtCleanup(t, testenv.Brokers(), topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(testenv.Brokers()...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchMaxBytes(records.MaxRecordBytes))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for _, headers := range [][]kgo.RecordHeader{nil, {{Key: "baton.vendor", Value: []byte("wms")}, {Key: "http.x-signature", Value: []byte(strings.Repeat("s", 300))}}} {
		r := &kgo.Record{Key: []byte("o-1"), Headers: headers}
		r.Value = make([]byte, records.MaxRecordBytes-records.RecordBytes(r))
		r.Value = r.Value[:len(r.Value)-(records.RecordBytes(r)-records.MaxRecordBytes)] // the length varints grew
		if got := records.RecordBytes(r); got != records.MaxRecordBytes {
			t.Fatalf("padded record is %d bytes, want %d", got, records.MaxRecordBytes)
		}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Errorf("a record of exactly MaxRecordBytes (%d headers) was refused: %v", len(headers), err)
		}
		over := &kgo.Record{Key: r.Key, Headers: headers, Value: append(r.Value, "xxxx"...)}
		if err := cl.ProduceSync(ctx, over).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
			t.Errorf("a record 4 bytes over MaxRecordBytes (%d headers): %v, want MESSAGE_TOO_LARGE", len(headers), err)
		}
	}
}
