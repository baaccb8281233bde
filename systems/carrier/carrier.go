// Package carrier is the carriers' tracking scans (EasyPost and AfterShip,
// ingest/easypost and ingest/aftership, or baton's own format): the
// authority for everything after the hand-off.
package carrier

import (
	_ "embed"

	"github.com/baton-pipeline/baton/systems/system"
)

//go:embed carrier_event.avsc
var schema string

//go:embed carrier.map
var statusMap string

// System is the carrier's definition.
var System = system.Definition{
	Name: "carrier", Title: "Carrier", SchemaName: "carrier_event", Schema: schema, StatusMap: statusMap,
	// Carrier scans are keyed and linked by tracking number: their order
	// ID is usually unknown until resolved.
	KeyFields: []string{"tracking_number"}, RequiredIDs: []string{"event_id", "tracking_number"},
	StatusField: "status", DetailField: "sub_status",
}
