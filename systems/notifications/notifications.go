// Package notifications is the system that emails and texts customers
// (baton's own format, ingest/generic): a customer-facing viewer, and the
// one a delay must be told through.
package notifications

import (
	_ "embed"

	"github.com/baton-pipeline/baton/systems/system"
)

//go:embed notification_event.avsc
var schema string

//go:embed notifications.map
var statusMap string

// System is the notifications's definition.
var System = system.Definition{
	Name: "notifications", Title: "Notifications", SchemaName: "notification_event", Schema: schema, StatusMap: statusMap,
	KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
	StatusField: "status", DetailField: "delivery_status",
	Shows: system.Customers,
}
