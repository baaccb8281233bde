package unify

import (
	"cmp"
	"slices"

	"github.com/baton-pipeline/baton/schemas"
)

// transitionRecord builds an order_transition value.
func transitionRecord(ev *event, isShip bool, shipID, tracking, kind string, from, to st, skipped []st) Record {
	sk := make([]any, len(skipped))
	for i, s := range skipped {
		sk[i] = s.String()
	}
	var fromV, shipV any
	if from != 0 {
		fromV = from.String()
	}
	if isShip {
		shipV = shipID
	}
	return Record{Key: ev.orderID, Value: map[string]any{
		"version": int64(0), "retracted": false, // a correction re-emits with a higher version (package unify, "Event time")
		"transition_id":   transitionID(ev.orderID, shipID, ev.system, ev.eventID, kind),
		"order_id":        ev.orderID,
		"shipment_id":     shipV,
		"tracking_number": schemas.PlainOptionalString(tracking),
		"kind":            kind,
		"from_status":     fromV,
		"to_status":       to.String(),
		"skipped":         sk,
		"authority":       ev.system.String(),
		"source_event_id": ev.eventID,
		"source_status":   ev.source,
		"event_time":      schemas.PlainTime(ev.occurred),
		"recorded_at":     schemas.PlainTime(ev.recorded),
		"processed_at":    schemas.PlainTime(ev.ingested),
	}}
}

// stateRecord builds the order's order_state value.
func stateRecord(id string, o *order) Record {
	byName := make([]*view, len(o.views))
	for i := range o.views {
		byName[i] = &o.views[i]
	}
	slices.SortFunc(byName, func(a, b *view) int { return cmp.Compare(a.system.String(), b.system.String()) })
	views := make([]any, len(o.views))
	for i, v := range byName {
		views[i] = map[string]any{"system": v.system.String(), "status": v.status.String(), "source_status": v.source,
			"occurred_at": schemas.PlainTime(v.occurred), "recorded_at": schemas.PlainTime(v.recorded)}
	}
	ships := make([]*shipment, len(o.ships))
	for i := range o.ships {
		ships[i] = &o.ships[i]
	}
	slices.SortFunc(ships, func(a, b *shipment) int { return cmp.Compare(shipmentName(id, a), shipmentName(id, b)) })
	shipVals := make([]any, len(ships))
	for i, sh := range ships {
		shipVals[i] = map[string]any{"shipment_id": shipmentName(id, sh), "tracking_number": schemas.PlainOptionalString(sh.tracking),
			"is_return": sh.ret, "status": sh.status.String(), "authority": sh.auth.String(),
			"since": schemas.PlainTime(sh.since), "estimated_delivery": schemas.PlainOptionalTime(sh.eta)}
	}
	var truth, auth, since any
	if o.truth != 0 {
		truth, auth, since = o.truth.String(), o.truthAuth.String(), schemas.PlainTime(o.truthSince)
	}
	return Record{Key: id, Value: map[string]any{
		"order_id":            id,
		"truth":               truth,
		"truth_authority":     auth,
		"truth_since":         since,
		"views":               views,
		"shipments":           shipVals,
		"promised_ship_by":    schemas.PlainOptionalTime(o.shipBy),
		"promised_deliver_by": schemas.PlainOptionalTime(o.deliverBy),
		"transitions":         o.transitions,
		"closed":              o.closed != 0,
		"updated_at":          schemas.PlainTime(o.updated),
	}}
}
