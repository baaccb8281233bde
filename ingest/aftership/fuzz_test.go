package aftership

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// FuzzAdapt feeds arbitrary bodies, seeded with the fixtures: Adapt must not
// panic, and every event it returns must fit the carrier_event schema
// and carry its record key (ingest.CheckEvents, as the gateway checks).
func FuzzAdapt(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"event":"tracking_update","ts":1,"msg":{"slug":"dhl","tracking_number":"1","origin_country_iso3":"AUS","destination_country_iso3":"AUS","checkpoints":[{"tag":"Delivered","state":"NSW","checkpoint_time":"2024-02-30T25:00"}]}}`))
	a := New("secret")
	received := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := a.Adapt(ingest.Request{Body: body, Received: received})
		if err != nil {
			return
		}
		if err := ingest.CheckEvents(schemas.Carrier, events); err != nil {
			t.Fatalf("%v\nevents: %v\nbody: %q", err, events, body)
		}
	})
}
