// Package statusmap translates each source system's own status codes into
// baton's shared language (package canonical). The translation is
// configuration, not code: one plain-text map file per system, shipped in
// the system's folder (systems/<name>/<name>.map) as the default and
// overridable with a directory of files in the same format (LoadDir).
// README.md beside this file is the analysts' guide: the format, the keys
// per system and every mapping choice with its reason.
//
// # Contract
//
// Resolve looks an event's code up and returns its canonical status, or
// HasStatus false for events that carry no order status (a help-desk
// ticket without the order-status field, a row mapped to "-"). A code no
// row maps is an error wrapping ErrUnmapped, naming system and code: the
// normalize stage dead-letters and counts it. Nothing is ever guessed:
// there is no default row, no prefix or fuzzy matching; the only
// flexibility is the carrier's sub_status wildcard, the help desk's case
// and blank folding, and the case folding a map declares with "@case
// insensitive" (the OMS, whose codes are the integrator's own), all
// spelled out in the maps.
//
// # File format
//
// A map file is a table: '#' starts a comment, blank lines are ignored,
// the first line is a header naming the key columns and "canonical", and
// every other line is one mapping: the key values, then a canonical
// status name or "-" (carries no order status). Values are separated by
// blanks; a value with blanks is written in double quotes. Lines before
// the header starting with '@' are directives for the whole map: "@case
// exact" (the default) or "@case insensitive", allowed where no vendor
// fixes the codes' case (not in the storefront or carrier maps; the help
// desk always folds).
//
//	provider    status        sub_status        canonical
//	easypost    in_transit    *                 IN_TRANSIT
//	easypost    in_transit    weather_delay     EXCEPTION
//
// # Checks
//
// Check (and `baton statusmap check [DIR]`) reports every problem with
// file and line: a missing or unreadable system file, a .map file that
// names no system, a wrong header, a wrong column count, bad quoting, an
// empty value, a wildcard outside the carrier's sub_status column, an
// unknown canonical status (listing the valid ones), a duplicate key
// (naming the first line; keys compare as they match: help-desk keys
// folded, a case-insensitive map's in any case), a bad or misplaced
// directive, and an unreachable row. When the maps are valid, `baton
// statusmap check` lists the codes each map expects (Set.Codes) and how
// it compares them (Set.Matching).
//
// A row is unreachable when no event of its system can ever have its key,
// because a key column has a closed vocabulary and the row's value is
// outside it: a storefront status_type other than order,
// financial_status, fulfillment_status, fulfillment, fulfillment_event,
// refund; a carrier
// provider other than direct, easypost, aftership; an EasyPost status
// outside EasyPost's tracker status enum; an AfterShip tag outside its
// tag enum, or an AfterShip subtag that does not start with its own tag
// (AfterShip subtags are always <Tag>_NNN); an OMS "op=<op>" row for an op
// that carries a row image (c, u, r: those are looked up by status); an
// empty help-desk key. Open vocabularies (WMS and notification codes,
// EasyPost status_detail, help-desk text) have no such table. Shadowing
// cannot happen: a specific carrier row always wins over the wildcard row,
// whatever their order, and two rows with the same key are a duplicate.
package statusmap
