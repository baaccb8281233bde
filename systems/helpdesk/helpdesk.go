// Package helpdesk is the help desk (Zendesk tickets, ingest/zendesk): an
// agent-facing viewer (the order status a ticket shows) and the source of
// WISMO tickets. Its events that carry their order link the ticket's later
// ones.
package helpdesk

import (
	_ "embed"

	"github.com/baton-pipeline/baton/systems/system"
)

//go:embed helpdesk_event.avsc
var schema string

//go:embed helpdesk.map
var statusMap string

// System is the helpdesk's definition.
var System = system.Definition{
	Name: "helpdesk", Title: "Help desk", SchemaName: "helpdesk_event", Schema: schema, StatusMap: statusMap,
	// Help-desk tickets without an order reference fall back to the
	// ticket ID (normalize requires one of the two).
	KeyFields: []string{"order_id", "ticket_id"}, RequiredIDs: []string{"event_id"},
	StatusField: "ticket_status", DetailField: "order_status_shown",
	Shows: system.Agents, Links: system.LinksTickets,
}
