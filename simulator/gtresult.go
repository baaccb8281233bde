package simulator

import (
	"fmt"
	"slices"
	"time"

	"github.com/baton-pipeline/baton/ingest/shopify/view"
	"github.com/baton-pipeline/baton/schemas"
)

// GroundTruth is what the pipeline's viewer checks must report for a run
// in the ground-truth profile: per viewer, the checks by outcome, the
// failed syncs by reason and the latency quantiles, with the faults
// injected and the outcomes the same orders would have had without them.
// Written as JSON by `baton simulate --ground-truth FILE`; the field names
// are the format (GroundTruthFormat) and follow `baton report --format
// json` where they measure the same thing.
type GroundTruth struct {
	Format string            `json:"format"`
	Config GroundTruthConfig `json:"config"`
	// Orders is the number of simulated orders; RedrawnOrders counts the
	// draws rejected because a check's outcome would have depended on the
	// processing order (see GroundTruthSkew), each replaced by another.
	Orders        int `json:"orders"`
	RedrawnOrders int `json:"redrawn_orders"`
	// SentinelOrders are extra orders of a single storefront orders/create
	// event (IDs ORD-FLUSH-nnnn, no checks), placed at SentinelsAt, long
	// after every other event, one on every partition: their events move
	// each partition's watermark past every deadline, so that every check
	// has closed when the pipeline has read them.
	SentinelOrders int           `json:"sentinel_orders"`
	SentinelsAt    time.Time     `json:"sentinels_at"`
	Viewers        []ViewerTruth `json:"viewers"`
	// LatencyByCarrier is the tracking update latency per carrier (the
	// carrier field of the scan that set the truth; "" for checks opened at
	// a viewer's first sight, which name none), like the report's by_carrier.
	LatencyByCarrier []CarrierLatencyTruth `json:"latency_by_carrier"`
	// Wismo is what the WISMO attribution must report: per month, the
	// orders placed and the WISMO tickets by cause and link.
	Wismo WismoTruth `json:"wismo"`
}

// GroundTruthConfig is the run's configuration.
type GroundTruthConfig struct {
	Orders              int                   `json:"orders"`
	Seed                int64                 `json:"seed"`
	Start               time.Time             `json:"start"`
	OrderIntervalMillis int64                 `json:"order_interval_ms"`
	SplitShipmentShare  float64               `json:"split_shipment_share"`
	ReturnShare         float64               `json:"return_share"`
	FailedAttemptShare  float64               `json:"failed_attempt_share"`
	CancelShare         float64               `json:"cancel_share"`
	ExceptionShare      float64               `json:"exception_share"`
	WismoTicketShare    float64               `json:"wismo_ticket_share"`
	HoldShare           float64               `json:"hold_share"`
	DuplicateShare      float64               `json:"duplicate_share"`
	OutOfOrderShare     float64               `json:"out_of_order_share"`
	ViewerFaults        string                `json:"viewer_faults"` // in the --viewer-faults syntax
	MissingAfterMillis  int64                 `json:"missing_after_ms"`
	SkewMillis          int64                 `json:"skew_tolerance_ms"` // GroundTruthSkew
	Bounds              GroundTruthLagBounds  `json:"lag_bounds_ms"`
	Rates               map[string]FaultRates `json:"rates"`
}

// GroundTruthLagBounds are the profile's lag bounds, in milliseconds.
type GroundTruthLagBounds struct {
	Record    int64 `json:"authority_record"`
	Viewer    int64 `json:"viewer"`
	Transport int64 `json:"transport"`
}

// ViewerTruth is one viewer's expected checks.
type ViewerTruth struct {
	Viewer    string `json:"viewer"`
	SLAMillis int64  `json:"sla_ms"`
	// OrdersSeen counts the orders the viewer showed at all (its first
	// sight) before any injected WISMO ticket: fault rates apply to them.
	OrdersSeen int `json:"orders_seen"`
	// OrdersSeenOnWismoTickets counts the orders the viewer (the help
	// desk) saw first on an injected WISMO ticket: they are checked too,
	// from that first sight, but got no fault.
	OrdersSeenOnWismoTickets int          `json:"orders_seen_on_wismo_tickets"`
	Checks                   CheckCounts  `json:"checks"`
	FailedSyncs              FailedCounts `json:"failed_syncs"`
	// Latency is the report's tracking update latency: checks whose truth
	// a carrier scan set, closed IN_SYNC or LATE, latency_ms = the viewer's
	// time − the scan's time (0 if negative); quantiles as quantilesExact,
	// the value at index floor(level × n) of the sorted latencies.
	Latency LatencyTruth `json:"latency_ms"`
	// LatencyAllAuthorities is the same over every IN_SYNC and LATE check.
	LatencyAllAuthorities LatencyTruth `json:"latency_ms_all_authorities"`
	// WithoutFaults is what the same orders would report without the
	// injected faults (the natural failures of the profile: statuses a
	// viewer cannot show, a help desk that only shows status on tickets).
	WithoutFaults struct {
		Checks      CheckCounts  `json:"checks"`
		FailedSyncs FailedCounts `json:"failed_syncs"`
	} `json:"without_faults"`
	Faults FaultTruth `json:"faults"`
}

// CheckCounts counts closed checks by outcome.
type CheckCounts struct {
	InSync     int `json:"IN_SYNC"`
	Late       int `json:"LATE"`
	Missing    int `json:"MISSING"`
	Conflict   int `json:"CONFLICT"`
	Superseded int `json:"SUPERSEDED"`
	Total      int `json:"total"`
}

// FailedCounts counts failed syncs by reason.
type FailedCounts struct {
	SLABreached int `json:"sla_breached"`
	Conflict    int `json:"conflict"`
	Total       int `json:"total"`
}

// LatencyTruth is a latency distribution's size and quantiles.
type LatencyTruth struct {
	Checks    int   `json:"checks"`
	P50Millis int64 `json:"p50_ms"`
	P95Millis int64 `json:"p95_ms"`
	P99Millis int64 `json:"p99_ms"`
}

// CarrierLatencyTruth is the tracking update latency of one carrier's
// scans, over every viewer.
type CarrierLatencyTruth struct {
	Carrier string `json:"carrier"`
	LatencyTruth
}

// FaultTruth is what was injected into one viewer.
type FaultTruth struct {
	Rates    FaultRates     `json:"rates"`
	Delay    FaultKindTruth `json:"delay"`
	Drop     FaultKindTruth `json:"drop"`
	Conflict FaultKindTruth `json:"conflict"`
}

// FaultKindTruth counts one fault kind: Drawn orders (of OrdersSeen, at
// the rate), of which Injected got it and Skipped did not (no place in the
// order where the fault has exactly one certain effect); Checks is what the
// injected ones caused: LATE checks (delay), MISSING checks (drop),
// CONFLICT checks (conflict), each with its one failed sync.
type FaultKindTruth struct {
	Drawn    int `json:"drawn"`
	Injected int `json:"injected"`
	Skipped  int `json:"skipped"`
	Checks   int `json:"checks"`
}

// add accumulates one order: natural is its result without faults, final
// with them; seen says which viewers showed it before any WISMO ticket.
func (st *gtState) add(natural, final *gtResult, faults []faultDone, seen []bool) {
	for vi := range st.acc {
		a := &st.acc[vi]
		switch {
		case seen[vi]:
			a.ordersSeen++
		case natural.seen[vi]:
			a.seenOnTickets++
		}
		o, f := natural.counts(vi)
		for i := range o {
			a.natural[i] += o[i]
		}
		for i := range f {
			a.natReasons[i] += f[i]
		}
		o, f = final.counts(vi)
		for i := range o {
			a.outcomes[i] += o[i]
		}
		for i := range f {
			a.reasons[i] += f[i]
		}
	}
	for _, c := range final.out {
		if c.outcome != oInSync && c.outcome != oLate {
			continue
		}
		a := &st.acc[c.viewer]
		a.latAll = append(a.latAll, c.latency)
		if c.auth == schemas.Carrier {
			a.latCarrier = append(a.latCarrier, c.latency)
			st.byCarrier[c.carrier] = append(st.byCarrier[c.carrier], c.latency)
		}
	}
	for _, d := range faults {
		k := &st.acc[d.viewer].faults[d.kind]
		k.Injected++
		k.Checks += d.checks
	}
}

func quantiles(xs []int64) LatencyTruth {
	q := LatencyTruth{Checks: len(xs)}
	if len(xs) == 0 {
		return q
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(level float64) int64 { return s[min(len(s)-1, int(level*float64(len(s))))] }
	q.P50Millis, q.P95Millis, q.P99Millis = at(0.5), at(0.95), at(0.99)
	return q
}

func checkCounts(o [nOutcomes]int) CheckCounts {
	c := CheckCounts{InSync: o[oInSync], Late: o[oLate], Missing: o[oMissing], Conflict: o[oConflict], Superseded: o[oSuperseded]}
	c.Total = c.InSync + c.Late + c.Missing + c.Conflict + c.Superseded
	return c
}

func failedCounts(f [nReasons]int) FailedCounts {
	return FailedCounts{SLABreached: f[rSLABreached], Conflict: f[rConflict], Total: f[rSLABreached] + f[rConflict]}
}

// result builds the run's ground truth.
func (st *gtState) result(cfg *Config, orders int) *GroundTruth {
	gt := &GroundTruth{
		Format: GroundTruthFormat,
		Config: GroundTruthConfig{
			Orders: cfg.Orders, Seed: cfg.Seed, Start: cfg.Start, OrderIntervalMillis: cfg.OrderInterval.Milliseconds(),
			SplitShipmentShare: cfg.SplitShipmentShare, ReturnShare: cfg.ReturnShare, FailedAttemptShare: cfg.FailedAttemptShare,
			CancelShare: cfg.CancelShare, ExceptionShare: cfg.ExceptionShare, WismoTicketShare: cfg.WismoTicketShare,
			HoldShare: cfg.HoldShare, DuplicateShare: cfg.DuplicateShare, OutOfOrderShare: cfg.OutOfOrderShare,
			ViewerFaults:       FormatViewerFaults(cfg.ViewerFaults.Rates),
			MissingAfterMillis: st.r.missingAfter,
			SkewMillis:         GroundTruthSkew.Milliseconds(),
			Bounds: GroundTruthLagBounds{Record: gtRecordLagCap.Milliseconds(), Viewer: gtViewerLagCap.Milliseconds(),
				Transport: gtTransportCap.Milliseconds()},
			Rates: map[string]FaultRates{},
		},
		Orders:         orders,
		RedrawnOrders:  st.redrawn,
		SentinelOrders: st.sentinels,
		SentinelsAt:    st.sentinelsAt,
	}
	for vi, v := range st.r.viewers {
		a := &st.acc[vi]
		gt.Config.Rates[string(v.sys)] = st.rates[vi]
		vt := ViewerTruth{Viewer: string(v.sys), SLAMillis: v.sla, OrdersSeen: a.ordersSeen, OrdersSeenOnWismoTickets: a.seenOnTickets,
			Checks: checkCounts(a.outcomes), FailedSyncs: failedCounts(a.reasons),
			Latency: quantiles(a.latCarrier), LatencyAllAuthorities: quantiles(a.latAll)}
		vt.WithoutFaults.Checks, vt.WithoutFaults.FailedSyncs = checkCounts(a.natural), failedCounts(a.natReasons)
		vt.Faults = FaultTruth{Rates: st.rates[vi], Delay: a.faults[fDelay], Drop: a.faults[fDrop], Conflict: a.faults[fConflict]}
		gt.Viewers = append(gt.Viewers, vt)
	}
	gt.Wismo = st.wismoResult(cfg.Start)
	carriers := make([]string, 0, len(st.byCarrier))
	for c := range st.byCarrier {
		carriers = append(carriers, c)
	}
	slices.Sort(carriers)
	for _, c := range carriers {
		gt.LatencyByCarrier = append(gt.LatencyByCarrier, CarrierLatencyTruth{Carrier: c, LatencyTruth: quantiles(st.byCarrier[c])})
	}
	return gt
}

// addSentinels queues the sentinel orders: one storefront orders/create
// each, well after every other event (2 × missing_after + an hour after the
// last), keyed so that every partition of a topic with up to
// gtSentinelPartitions partitions gets one under Kafka's default key
// hashing. Reading them moves every partition's watermark past every
// check's deadline and missing_after.
func (g *generator) addSentinels() {
	st := g.gt
	at := st.lastArrival
	if at.IsZero() {
		at = g.cfg.Start
	}
	at = at.Add(2*time.Duration(st.r.missingAfter)*time.Millisecond + time.Hour).Truncate(time.Second)
	st.sentinelsAt = at
	ids := sentinelIDs(gtSentinelPartitions)
	st.sentinels = len(ids)
	for i, id := range ids {
		o := &order{idx: 100_000_000 + i, id: id, number: fmt.Sprintf("#FLUSH-%d", i+1), customer: "CUS-000000",
			placed: at, payment: "paid"}
		rc := &recorder{o: o, r: g.r, cfg: &g.cfg}
		ev := &storefrontEvent{eventType: "orders/create", ship: -1, orderFields: true}
		ev.shows(view.Order{Financial: "paid"})
		rc.add(ev, at, at)
		rec := rc.recs[0]
		rec.arrival = at.Add(time.Duration(i) * time.Millisecond)
		g.enqueue(rec, rec.arrival)
	}
}

// sentinelIDs picks order IDs ORD-FLUSH-nnnn until every partition of
// every partition count up to n is hit by one (Kafka's murmur2 key
// hashing, as the producer's default partitioner uses).
func sentinelIDs(n int) []string {
	covered := make([][]bool, n+1)
	left := 0
	for k := 1; k <= n; k++ {
		covered[k] = make([]bool, k)
		left += k
	}
	var ids []string
	for i := 1; left > 0; i++ {
		id := fmt.Sprintf("ORD-FLUSH-%04d", i)
		h := murmur2([]byte(id)) & 0x7fffffff
		useful := false
		for k := 1; k <= n; k++ {
			if p := h % uint32(k); !covered[k][p] {
				covered[k][p] = true
				left--
				useful = true
			}
		}
		if useful {
			ids = append(ids, id)
		}
	}
	return ids
}

// murmur2 is Kafka's key hash (the Java client's Utils.murmur2).
func murmur2(data []byte) uint32 {
	const seed, m, r = uint32(0x9747b28c), uint32(0x5bd1e995), 24
	n := len(data)
	h := seed ^ uint32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n&^3:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
