// Package oms is the order management system, read as Debezium change
// events of its orders table (ingest/debezium): the authority for
// confirmation, holds, cancellation, the RMA and refunds.
package oms

import (
	_ "embed"

	"github.com/baton-pipeline/baton/systems/system"
)

//go:embed oms_event.avsc
var schema string

//go:embed oms.map
var statusMap string

// System is the oms's definition.
var System = system.Definition{
	Name: "oms", Title: "Order management", SchemaName: "oms_event", Schema: schema, StatusMap: statusMap,
	KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
	// op is the row operation.
	StatusField: "status", DetailField: "op",
}
