package normalize

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestSweepSeenDropsWhatAScanWould: the dedupe sweep pops expired keys off
// per-system heaps instead of scanning every key; over random deliveries,
// redeliveries, changelog deletions and restores it must drop exactly the
// keys a scan of Seen drops (an entry more than the window behind its
// system's dedupe clock), in the same order.
func TestSweepSeenDropsWhatAScanWould(t *testing.T) {
	const window = time.Hour
	systems := []string{"oms", "wms", "carrier"}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		st := NewState()
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for step := range 3000 {
			sys := systems[rng.IntN(len(systems))]
			key := fmt.Sprintf("%s/e-%d", sys, rng.IntN(400))
			at := base.Add(time.Duration(step)*time.Minute/4 - time.Duration(rng.IntN(120))*time.Minute)
			switch r := rng.IntN(100); {
			case r < 80: // a delivery, first or again
				if !st.seen(sys, key, at, window) {
					st.remember(sys, key, at)
				}
			case r < 85: // a tombstone restored from the changelog
				if err := st.Apply(Change{Key: seenPrefix + key}); err != nil {
					t.Fatal(err)
				}
			case r < 90: // an entry restored from the changelog
				if err := st.Apply(Change{Key: seenPrefix + key, Value: mustJSON(seenEntry{At: at})}); err != nil {
					t.Fatal(err)
				}
			default:
				want := scanExpired(st, window)
				got := st.sweepSeen(window)
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d: sweep dropped %q, a scan drops %q", seed, step, got, want)
				}
				for _, k := range want {
					if _, ok := st.Seen[k]; ok {
						t.Fatalf("seed %d step %d: %s dropped but still in Seen", seed, step, k)
					}
				}
			}
		}
	}
}

// scanExpired is the sweep's reference: every Seen key more than window
// behind its system's dedupe clock, sorted.
func scanExpired(st *State, window time.Duration) []string {
	var out []string
	for k, from := range st.Seen {
		if st.expired(seenSystem(k), from, window) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
