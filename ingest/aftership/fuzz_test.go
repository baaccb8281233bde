package aftership

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
		[]byte(`{"event":"tracking_update","ts":1,"msg":{"slug":"dhl","tracking_number":"1","origin_country_iso3":"AUS","destination_country_iso3":"AUS","checkpoints":[{"tag":"Delivered","state":"NSW","checkpoint_time":"2024-02-30T25:00"}]}}`),
	)
	received := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ingesttest.FuzzAdapter(f, New("secret"), schemas.Carrier, ingest.Request{Received: received}, seeds...)
}
