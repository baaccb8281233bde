// Package system is the shape of a source system's definition: what every
// stage needs to know of a system's records, stated once, in the system's
// own folder (systems/<name>/). It depends on nothing of baton's, so that
// the folders can, and package schemas builds its view of the systems from
// them.
package system

// Definition is one source system: its schema, its status map and what
// the stages must know of its fields and roles.
type Definition struct {
	// Name is the system's name: its source topic is baton.source.<Name>,
	// its generic webhook /webhooks/<Name>, its status map file <Name>.map.
	Name string
	// Title is what agents call it, on the order page ("Warehouse").
	Title string
	// SchemaName names the Avro schema of its source topic's value
	// (<name>_event by convention); Schema is the schema's text.
	SchemaName, Schema string
	// StatusMap is the default status map (see package statusmap), which
	// users can replace with --statusmap-dir.
	StatusMap string
	// KeyFields are the value fields whose first non-empty one is the
	// record key.
	KeyFields []string
	// RequiredIDs are the ID fields without which an event cannot be
	// placed on an order's timeline (normalize dead-letters it
	// missing_id).
	RequiredIDs []string
	// StatusField holds the source's own status code, DetailField its
	// detail code ("" when it has none): the source_events table's status
	// and sub_status columns, and, for a system whose map has no lookup
	// of its own in package statusmap, the map's one key column.
	StatusField, DetailField string
	// Shows says whom the system shows an order's status to. A system
	// that shows it to anyone is a viewer: checked against the truth
	// (package synccheck) and blamed for the WISMO tickets it causes
	// (package wismo). The others are authorities or feeds.
	Shows Audience
	// Links says what the system's events link to their orders, if
	// anything: tracking numbers (so carrier scans find their order) or
	// tickets (so a help desk's order-less events do). Normalize holds the
	// events that wait for a link until every linking system's partitions
	// have moved past them.
	Links LinkKind
}

// IsViewer reports whether the system shows an order's status to anyone.
func (d Definition) IsViewer() bool { return d.Shows != NoOne }

// Audience is whom a viewer shows an order's status to.
type Audience int

const (
	// NoOne: the system is an authority or a feed, not a viewer.
	NoOne Audience = iota
	// Customers: a customer-facing viewer (the storefront's order page,
	// the notifications sent). WISMO attribution blames these first, and
	// only these unless its rules say otherwise.
	Customers
	// Agents: an agent-facing viewer (the help desk's order field).
	Agents
)

// LinkKind is what a system's events link to their orders.
type LinkKind int

const (
	// LinksNothing: the system's events link nothing.
	LinksNothing LinkKind = iota
	// LinksTracking: its shipments carry tracking numbers, which carrier
	// scans are linked to their order by.
	LinksTracking
	// LinksTickets: its events carry ticket IDs with their order, which
	// its later order-less events are linked by.
	LinksTickets
)
