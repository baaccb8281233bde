package debezium

import (
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/schemas"
)

// FuzzAdapt feeds arbitrary bodies, seeded with the fixtures: Adapt must not
// panic, and every event it returns must fit the oms_event schema and carry
// its record key (ingest.CheckEvents, as the gateway checks). Deliveries are
// trusted, as those consumed from Kafka are.
func FuzzAdapt(f *testing.F) {
	seeds := append(ingesttest.Fixtures(f, "*.json"),
		[]byte(``),
		[]byte(`{"schema":null,"payload":null}`),
		[]byte(`{"op":"d","before":{"order_id":9,"status":"x","updated_at":99999999999999999},"source":{"db":"d","table":"t","file":"f","pos":1,"ts_ms":1}}`),
	)
	received := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ingesttest.FuzzAdapter(f, New("", DefaultColumns), schemas.OMS, ingest.Request{Received: received, Trusted: true}, seeds...)
}
