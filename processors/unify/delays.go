package unify

import (
	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/delay"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/schemas"
)

// Delay detection (package delay) runs inside the unify stage for the same
// reasons as the viewer checks: it needs the order's truth after every
// event, and its promises, notices and timers live in the order's
// changelog record. Its clock is the partition's watermark.

// newDetector builds the delay detector, its notification SLA the
// notifications viewer's (so that the two checks of that viewer agree).
func newDetector(viewers *synccheck.Viewers) (*delay.Detector, error) {
	if viewers == nil {
		v, err := synccheck.DefaultViewers()
		if err != nil {
			return nil, err
		}
		viewers = v
	}
	cfg := delay.Config{}
	if v, ok := viewers.Viewer(schemas.Notifications); ok {
		cfg.NotifySLA = v.SLA
	}
	return delay.New(cfg)
}

// observeDelay gives the detector the event just applied (in its plain
// form) and the order's truth after it.
func (a *applier) observeDelay(plain map[string]any) {
	d := a.p.detector
	if d == nil {
		return
	}
	ev, err := delay.EventFromPlain(plain)
	if err != nil {
		return // parseEvent accepted it: nothing here the detector needs
	}
	o := a.o
	if i := o.find(a.ev.shipmentID, a.ev.tracking); i >= 0 {
		ev.ReturnParcel = o.ships[i].ret
	}
	var t delay.Truth
	if o.truth != 0 {
		t = delay.Truth{Status: canonical.Status(o.truth.String()), At: o.truthSince, TransitionID: a.truthMove}
	}
	addNotices(a.out, d.Observe(&o.delays, a.ev.orderID, ev, t, a.st.now))
}

func addNotices(out *Output, d delay.Output) {
	out.Notices = append(out.Notices, d.Notices...)
	out.Failed = append(out.Failed, d.Failed...)
}

// find returns the index of the parcel with shipment ID id or tracking
// number tracking, or -1; unlike locate it changes nothing.
func (o *order) find(id, tracking string) int {
	if id == "" && tracking == "" {
		return -1
	}
	for k := range o.ships {
		if (id != "" && o.ships[k].id == id) || (tracking != "" && o.ships[k].tracking == tracking) {
			return k
		}
	}
	return -1
}
