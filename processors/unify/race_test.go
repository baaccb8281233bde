//go:build race

package unify

// The race detector makes sync.Pool drop buffers on purpose, so allocation
// counts through a pool are not exact under -race.
func init() { raceEnabled = true }
