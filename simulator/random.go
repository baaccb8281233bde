package simulator

import (
	"math"
	"math/rand/v2"
	"time"
)

// rng is the generator's randomness with the few distributions a lifecycle
// needs. Every draw for an order comes from that order's own PCG stream
// (seeded from the run seed and the order's index), so an order's content
// depends only on the seed and its index, never on wall-clock time or map
// iteration.
type rng struct{ *rand.Rand }

// splitmix64 scrambles a seed so that neighbouring indexes start unrelated
// PCG streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// chance reports true with probability p.
func (r rng) chance(p float64) bool { return p > 0 && r.Float64() < p }

// between is uniform in [lo, hi] at millisecond resolution.
func (r rng) between(lo, hi time.Duration) time.Duration {
	lo = lo.Truncate(time.Millisecond)
	span := (hi - lo).Milliseconds()
	if span <= 0 {
		return lo
	}
	return lo + time.Duration(r.Int64N(span+1))*time.Millisecond
}

// around draws a log-normal duration with the given median, clipped to
// [lo, hi]. Log-normal is the usual shape of processing and propagation
// delays: mostly near the median, with a long right tail; sigma is its
// spread (0.5 tight, 1 wide).
func (r rng) around(median time.Duration, sigma float64, lo, hi time.Duration) time.Duration {
	d := time.Duration(float64(median) * math.Exp(sigma*r.NormFloat64()))
	return min(max(d, lo), hi).Truncate(time.Millisecond)
}

// pick returns one element of xs, uniformly.
func (r rng) pick(xs []string) string { return xs[r.IntN(len(xs))] }

// weighted returns i with probability w[i] / sum(w).
func (r rng) weighted(w ...int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := r.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}

// lagProfile is how long a system takes to record, show or deliver
// something: a log-normal body, a slow tail (for viewers, beyond the
// 5-minute sync target), and a share that never does it at all.
type lagProfile struct {
	median         time.Duration
	sigma          float64
	lo, hi         time.Duration
	slowShare      float64
	slowLo, slowHi time.Duration
	neverShare     float64
}

// draw returns the lag, or ok=false when the system never reflects the
// change.
func (p lagProfile) draw(r rng) (d time.Duration, ok bool) {
	u := r.Float64()
	switch {
	case u < p.neverShare:
		return 0, false
	case u < p.neverShare+p.slowShare:
		return r.between(p.slowLo, p.slowHi), true
	default:
		return r.around(p.median, p.sigma, p.lo, p.hi), true
	}
}

// capped draws from the body alone, clipped to at most hi: no slow tail and
// no "never". The ground-truth profile draws lags this way.
func (p lagProfile) capped(r rng, hi time.Duration) time.Duration {
	return r.around(p.median, p.sigma, p.lo, min(p.hi, hi))
}

// must is draw for profiles without a "never" share.
func (p lagProfile) must(r rng) time.Duration {
	d, _ := p.draw(r)
	return d
}

// Viewer lags: each viewer system reflects the truth with its own delay.
var (
	// The storefront shows fulfillment and order changes seconds to
	// minutes after they happen (webhooks from the WMS integration and the
	// tracking app); a few lag beyond 5 minutes, a few never arrive.
	storefrontLag = lagProfile{median: 20 * time.Second, sigma: 0.9, lo: time.Second, hi: 4 * time.Minute,
		slowShare: 0.03, slowLo: 5 * time.Minute, slowHi: 90 * time.Minute,
		neverShare: 0.008}
	// The help desk's order-status field is refreshed by an integration that
	// polls: minutes to hours.
	helpdeskLag = lagProfile{median: 12 * time.Minute, sigma: 1.0, lo: 30 * time.Second, hi: 2 * time.Hour,
		slowShare: 0.08, slowLo: 2 * time.Hour, slowHi: 12 * time.Hour,
		neverShare: 0.02}
	// Customer messages go out seconds after their trigger.
	notifyLag = lagProfile{median: 6 * time.Second, sigma: 0.8, lo: 500 * time.Millisecond, hi: 3 * time.Minute,
		slowShare: 0.02, slowLo: 5 * time.Minute, slowHi: 45 * time.Minute,
		neverShare: 0.01}
)

// Recording lags of the authorities (never "never": an authority records
// what it did).
var (
	omsImportLag = lagProfile{median: 15 * time.Second, sigma: 0.8, lo: time.Second, hi: 3 * time.Minute,
		slowShare: 0.01, slowLo: 5 * time.Minute, slowHi: 30 * time.Minute}
	// The OMS learns of WMS shipments through an integration.
	omsMirrorLag = lagProfile{median: 90 * time.Second, sigma: 0.8, lo: 5 * time.Second, hi: 10 * time.Minute,
		slowShare: 0.02, slowLo: 10 * time.Minute, slowHi: 2 * time.Hour}
	// Handheld scanners sync within seconds; a few upload in batches.
	wmsRecordLag = lagProfile{median: 3 * time.Second, sigma: 0.8, lo: 200 * time.Millisecond, hi: time.Minute,
		slowShare: 0.03, slowLo: 5 * time.Minute, slowHi: 30 * time.Minute}
	// Carriers publish scans and aggregators relay them: within a minute or
	// two mostly, sometimes hours after the checkpoint.
	carrierPublishLag = lagProfile{median: 45 * time.Second, sigma: 1.0, lo: 5 * time.Second, hi: 5 * time.Minute,
		slowShare: 0.04, slowLo: 5 * time.Minute, slowHi: 3 * time.Hour}
	// A database commit or a storefront write.
	commitLag = lagProfile{median: 150 * time.Millisecond, sigma: 0.8, lo: 5 * time.Millisecond, hi: time.Second}
)

// dayStart is midnight UTC of t's day. Times of day (carrier pickups,
// delivery rounds) are simulated in UTC as the merchant's local time.
func dayStart(t time.Time) time.Time { return t.Truncate(24 * time.Hour) }

// nextDayAt is midnight of the day after t plus offset.
func nextDayAt(t time.Time, offset time.Duration) time.Time {
	return dayStart(t).Add(24*time.Hour + offset)
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earlier is the earlier of a and b.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
