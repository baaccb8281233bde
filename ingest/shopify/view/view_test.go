package view

import "testing"

func TestOrderShows(t *testing.T) {
	delivered := Fulfillment{Status: "success", ShipmentStatus: "delivered"}
	for _, tt := range []struct {
		name  string
		order Order
		want  Shown
	}{
		{"new order: its payment", Order{Financial: "pending"}, Shown{TypeFinancial, "pending"}},
		{"no financial_status: the order's own status", Order{}, Shown{TypeOrder, "open"}},
		{"archived, nothing else said", Order{Closed: true}, Shown{TypeOrder, "closed"}},
		{"cancelled, authorization voided", Order{Cancelled: true, Closed: true, Financial: "voided"}, Shown{TypeOrder, "cancelled"}},
		{"cancelled and refunded: the refund", Order{Cancelled: true, Financial: "refunded"}, Shown{TypeFinancial, "refunded"}},
		{"cancelled, partly refunded: the cancellation", Order{Cancelled: true, Financial: "partially_refunded"}, Shown{TypeOrder, "cancelled"}},
		{"cancelled and restocked: the cancellation", Order{Cancelled: true, Financial: "voided", Fulfillment: "restocked"}, Shown{TypeOrder, "cancelled"}},
		{"refunded after delivery: the refund", Order{Financial: "refunded", Fulfillment: "fulfilled", Fulfillments: []Fulfillment{delivered}}, Shown{TypeFinancial, "refunded"}},
		{"partly refunded after delivery: the delivery", Order{Financial: "partially_refunded", Fulfillment: "fulfilled", Fulfillments: []Fulfillment{delivered}}, Shown{TypeShipment, "delivered"}},
		{"paid after shipping: the fulfilment", Order{Financial: "paid", Fulfillment: "fulfilled"}, Shown{TypeFulfillment, "fulfilled"}},
		{"fulfilled, no tracking yet", Order{Financial: "paid", Fulfillment: "fulfilled", Fulfillments: []Fulfillment{{Status: "success"}}}, Shown{TypeFulfillment, "fulfilled"}},
		{"fulfilled and delivered", Order{Financial: "paid", Fulfillment: "fulfilled", Fulfillments: []Fulfillment{delivered}}, Shown{TypeShipment, "delivered"}},
		{"two parcels delivered", Order{Fulfillment: "fulfilled", Fulfillments: []Fulfillment{delivered, delivered}}, Shown{TypeShipment, "delivered"}},
		{"parcels at different stages: fulfilled", Order{Fulfillment: "fulfilled", Fulfillments: []Fulfillment{delivered, {Status: "success", ShipmentStatus: "in_transit"}}}, Shown{TypeFulfillment, "fulfilled"}},
		{"one parcel without tracking: fulfilled", Order{Fulfillment: "fulfilled", Fulfillments: []Fulfillment{delivered, {Status: "success"}}}, Shown{TypeFulfillment, "fulfilled"}},
		{"a cancelled fulfillment does not count", Order{Fulfillment: "fulfilled", Fulfillments: []Fulfillment{{Status: "cancelled", ShipmentStatus: "label_printed"}, delivered}}, Shown{TypeShipment, "delivered"}},
		{"only failed fulfillments: fulfilled", Order{Fulfillment: "fulfilled", Fulfillments: []Fulfillment{{Status: "failure", ShipmentStatus: "in_transit"}}}, Shown{TypeFulfillment, "fulfilled"}},
		{"a problem shared by all parcels", Order{Fulfillment: "fulfilled", Fulfillments: []Fulfillment{{Status: "success", ShipmentStatus: "attempted_delivery"}}}, Shown{TypeShipment, "attempted_delivery"}},
		{"partial, the shipped parcel delivered: partial", Order{Financial: "paid", Fulfillment: "partial", Fulfillments: []Fulfillment{delivered}}, Shown{TypeFulfillment, "partial"}},
		{"restocked without cancellation: as it is", Order{Financial: "paid", Fulfillment: "restocked"}, Shown{TypeFulfillment, "restocked"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.order.Shows(); got != tt.want {
				t.Errorf("%+v shows %v, want %v", tt.order, got, tt.want)
			}
		})
	}
}

func TestFulfillmentShows(t *testing.T) {
	for _, tt := range []struct {
		f    Fulfillment
		want Shown
	}{
		{Fulfillment{Status: "pending"}, Shown{TypeFulfillmentObject, "pending"}},
		{Fulfillment{Status: "open"}, Shown{TypeFulfillmentObject, "open"}},
		{Fulfillment{Status: "success"}, Shown{TypeFulfillmentObject, "success"}},
		{Fulfillment{Status: "success", ShipmentStatus: "in_transit"}, Shown{TypeShipment, "in_transit"}},
		{Fulfillment{Status: "success", ShipmentStatus: "failure"}, Shown{TypeShipment, "failure"}},
		{Fulfillment{Status: "cancelled", ShipmentStatus: "in_transit"}, Shown{TypeFulfillmentObject, "cancelled"}},
		{Fulfillment{Status: "error", ShipmentStatus: "label_printed"}, Shown{TypeFulfillmentObject, "error"}},
		{Fulfillment{Status: "failure"}, Shown{TypeFulfillmentObject, "failure"}},
	} {
		if got := tt.f.Shows(); got != tt.want {
			t.Errorf("%+v shows %v, want %v", tt.f, got, tt.want)
		}
	}
}
