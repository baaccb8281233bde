package simulator

import (
	"github.com/baton-pipeline/baton/schemas"
)

// wmsEvent is a warehouse event about one parcel.
//
// Vocabulary (status): released, picked, packed, shipped (with the
// tracking number, carrier and items: the link from a tracking number to
// the order), return_received (a customer return or a returned-to-sender
// parcel checked in, with its tracking number and items).
type wmsEvent struct {
	status string
	ship   int
	link   bool // carries tracking number, carrier and items
}

func (*wmsEvent) system() schemas.System { return schemas.WMS }
func (*wmsEvent) idPrefix(*order) string { return "wms" }
func (*wmsEvent) key(o *order) string    { return o.id }

func (e *wmsEvent) fill(v map[string]any, o *order) {
	s := o.ships[e.ship]
	v["order_id"] = o.id
	v["warehouse_id"] = s.warehouse
	v["status"] = e.status
	setParcel(v, o, e.ship)
	v["items"] = []any{}
	if e.link {
		v["items"] = items(s.items)
	} else {
		v["tracking_number"], v["carrier"] = nil, nil
	}
}

// wmsStatus names the WMS's own facts.
var wmsStatus = map[factKind]string{
	kReleased: "released", kPicked: "picked", kPacked: "packed", kShipped: "shipped", kReturnReceived: "return_received",
}

// projectWMS: the WMS is the authority for its operations and records
// them within seconds (wmsRecordLag).
func projectWMS(rc *recorder, facts []fact) {
	for _, f := range facts {
		status, ok := wmsStatus[f.kind]
		if !ok {
			continue
		}
		link := f.kind == kShipped || f.kind == kReturnReceived
		rc.add(&wmsEvent{status: status, ship: f.ship, link: link}, f.at, f.known)
	}
}
