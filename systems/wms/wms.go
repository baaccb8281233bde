// Package wms is the warehouse management system, posted in baton's own
// format (ingest/generic): the authority for each parcel from release to
// the hand-off, and for returns checked in. Its shipments carry tracking
// numbers.
package wms

import (
	_ "embed"

	"github.com/baton-pipeline/baton/systems/system"
)

//go:embed wms_event.avsc
var schema string

//go:embed wms.map
var statusMap string

// System is the wms's definition.
var System = system.Definition{
	Name: "wms", Title: "Warehouse", SchemaName: "wms_event", Schema: schema, StatusMap: statusMap,
	KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
	StatusField: "status", Links: system.LinksTracking,
}
