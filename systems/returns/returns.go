// Package returns is the returns portal (baton's own format, through the
// generic webhook /webhooks/returns): it follows a return from the RMA to
// the refund. A feed by default, not a viewer; the deployment's authority
// file can make it the authority for return statuses.
package returns

import (
	_ "embed"

	"github.com/baton-pipeline/baton/systems/system"
)

//go:embed returns_event.avsc
var schema string

//go:embed returns.map
var statusMap string

// System is the returns portal's definition.
var System = system.Definition{
	Name: "returns", Title: "Returns portal", SchemaName: "returns_event", Schema: schema, StatusMap: statusMap,
	KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
	StatusField: "status", DetailField: "reason",
}
