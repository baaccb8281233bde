// Package systems registers the source systems. Each lives in a folder of
// its own (systems/<name>/: its Avro schema, its default status map, and a
// Go file stating its key and ID fields, its status columns and its roles),
// and joins the pipeline by one line in All. Everything baton keeps per
// system (source topics, schema registration, the generic webhook, the
// status maps, the source_events columns, the lists of viewers and link
// sources, metric labels) is drawn from All, through package schemas.
//
// A system's authority for statuses is not here: it is the deployment's
// choice (processors/unify/authority.map, --authority-file), as are the
// viewers' sync deadlines (--viewers-file). What a system's events mean
// beyond their status (a carrier scan's estimate, a help-desk ticket's
// WISMO keywords, a Debezium row operation) stays in the stages that use
// it, and so do the vendor adapters (ingest/) and the simulator's model of
// each system (simulator/).
package systems

import (
	"github.com/baton-pipeline/baton/systems/carrier"
	"github.com/baton-pipeline/baton/systems/helpdesk"
	"github.com/baton-pipeline/baton/systems/notifications"
	"github.com/baton-pipeline/baton/systems/oms"
	"github.com/baton-pipeline/baton/systems/returns"
	"github.com/baton-pipeline/baton/systems/storefront"
	"github.com/baton-pipeline/baton/systems/system"
	"github.com/baton-pipeline/baton/systems/wms"
)

// All are the source systems, in the order the stages number them: that
// number is in stored state (the sync checker's views), so a new system is
// added at the end, never in between.
var All = []system.Definition{
	storefront.System,
	oms.System,
	wms.System,
	carrier.System,
	helpdesk.System,
	notifications.System,
	returns.System,
}
