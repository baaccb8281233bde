package canonical

// The causes a WISMO ticket is attributed to (wismo_tickets.cause), in
// precedence order: the vocabulary the attribution (processors/wismo)
// writes and the monthly review (reports/wismoreview) reads, kept here so
// that neither imports the other.
const (
	WISMOViewerOutOfSync  = "viewer_out_of_sync"
	WISMODelayNotNotified = "delay_not_notified"
	WISMOCarrierException = "carrier_exception"
	WISMONoSyncProblem    = "no_sync_problem"
)

// WISMOCauses lists the WISMO causes in precedence order.
func WISMOCauses() []string {
	return []string{WISMOViewerOutOfSync, WISMODelayNotNotified, WISMOCarrierException, WISMONoSyncProblem}
}
