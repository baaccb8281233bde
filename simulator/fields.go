package simulator

import "time"

// Field helpers shared by the systems' event bodies. Every field of a
// schema is always set, to nil when null, so each system's values have one
// shape.

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// setParcel sets shipment_id, tracking_number and carrier from parcel ship,
// or to null when ship is -1.
func setParcel(v map[string]any, o *order, ship int) {
	if ship < 0 {
		v["shipment_id"], v["tracking_number"], v["carrier"] = nil, nil, nil
		return
	}
	s := o.ships[ship]
	v["shipment_id"], v["tracking_number"], v["carrier"] = s.id, s.tracking, s.carrier
}

// setOrderFields sets the order columns the storefront and the OMS share:
// the customer and the promised dates.
func setOrderFields(v map[string]any, o *order) {
	v["customer_id"] = o.customer
	v["promised_ship_by"] = timeOrNil(o.shipBy)
	v["promised_deliver_by"] = timeOrNil(o.deliverBy)
}

// items renders parcel items as the schema's array of records.
func items(its []item) []any {
	out := make([]any, len(its))
	for i, it := range its {
		out[i] = map[string]any{"sku": it.sku, "quantity": it.qty}
	}
	return out
}
