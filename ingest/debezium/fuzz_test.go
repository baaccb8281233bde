package debezium

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/schemas"
)

// FuzzAdapt feeds arbitrary bodies, seeded with the fixtures: Adapt must not
// panic, and every event it returns must fit the oms_event schema and carry
// its record key (ingest.CheckEvents, as the gateway checks).
func FuzzAdapt(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(``))
	f.Add([]byte(`{"schema":null,"payload":null}`))
	f.Add([]byte(`{"op":"d","before":{"order_id":9,"status":"x","updated_at":99999999999999999},"source":{"db":"d","table":"t","file":"f","pos":1,"ts_ms":1}}`))
	a := New("", DefaultColumns)
	received := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := a.Adapt(ingest.Request{Body: body, Received: received, Trusted: true})
		if err != nil {
			return
		}
		if err := ingest.CheckEvents(schemas.OMS, events); err != nil {
			t.Fatalf("%v\nevents: %v\nbody: %q", err, events, body)
		}
	})
}
