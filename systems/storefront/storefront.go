// Package storefront is the shop customers order in (Shopify orders and
// fulfillments, adapted by ingest/shopify): the authority for PLACED, and a
// customer-facing viewer. Its shipments carry tracking numbers.
package storefront

import (
	_ "embed"

	"github.com/baton-pipeline/baton/systems/system"
)

//go:embed storefront_event.avsc
var schema string

//go:embed storefront.map
var statusMap string

// System is the storefront's definition.
var System = system.Definition{
	Name: "storefront", Title: "Storefront", SchemaName: "storefront_event", Schema: schema, StatusMap: statusMap,
	KeyFields: []string{"order_id"}, RequiredIDs: []string{"event_id", "order_id"},
	// status_type says which of Shopify's status fields the status came
	// from.
	StatusField: "status", DetailField: "status_type",
	Shows: system.Customers, Links: system.LinksTracking,
}
