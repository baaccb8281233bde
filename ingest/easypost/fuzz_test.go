package easypost

import (
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/ingesttest"
	"github.com/baton-pipeline/baton/schemas"
)

// FuzzAdapt feeds arbitrary bodies, seeded with the fixtures: Adapt must not
// panic, and every event it returns must fit the carrier_event schema
// and carry its record key (ingest.CheckEvents, as the gateway checks).
func FuzzAdapt(f *testing.F) {
	seeds := append(ingesttest.Fixtures(f, "*.json"),
		[]byte(`{"description":"tracker.updated","result":{"object":"Tracker","id":"t","tracking_code":"c","carrier":"UPS","tracking_details":[{"status":"s","datetime":"2024-01-01T00:00:00+14:00"}]}}`),
		[]byte(`null`),
	)
	received := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ingesttest.FuzzAdapter(f, New("secret"), schemas.Carrier, ingest.Request{Received: received}, seeds...)
}
