package unify

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Holdbacks. The normalize stage holds a carrier scan until its tracking
// number is linked to an order, and emits it later, after events that
// arrived after it. Every normalize partition therefore tells every
// canonical partition the ingest time of the oldest scan it still holds
// (its holdback; none when nothing is held). With Config.MaxHoldback set,
// the viewer checks judge time only up to the check clock, the watermark
// held back to the oldest holdback (by at most MaxHoldback): a viewer's
// copy of a scan (the storefront's tracking page) is not called ahead of
// the truth, nor a check failed, while the scan that would settle it is
// still held upstream.

// HoldbacksKey is the changelog key of the partition's holdbacks.
const HoldbacksKey = "\x00holdbacks"

// Hold records normalize partition origin's holdback (since: the ingest
// time of the oldest scan it holds; zero: none) and runs the checks a
// lifted holdback lets fall due.
func (p *Processor) Hold(st *State, origin int32, since time.Time) Output {
	var out Output
	p.prepare(st)
	ms := int64(0)
	if !since.IsZero() {
		ms = since.UnixMilli()
	}
	if st.holds[origin] == ms {
		return out
	}
	if ms == 0 {
		delete(st.holds, origin)
	} else {
		st.holds[origin] = ms
	}
	p.finish(st, &out, false, nil)
	out.Changes = append(out.Changes, Change{Key: HoldbacksKey, Value: encodeHoldbacks(st.holds)})
	return out
}

// checkClock is the clock of the viewer checks: the watermark, held back
// to the oldest holdback by at most Config.MaxHoldback (zero: not held).
func (p *Processor) checkClock(s *State) int64 {
	limit := p.cfg.MaxHoldback.Milliseconds()
	if limit <= 0 {
		return s.watermark
	}
	clock := s.watermark
	for _, ms := range s.holds {
		clock = min(clock, ms)
	}
	return max(clock, s.watermark-limit)
}

// encodeHoldbacks writes the holdbacks: the format byte, then a uvarint
// count of (varint origin partition, varint Unix ms) pairs by partition.
func encodeHoldbacks(holds map[int32]int64) []byte {
	b := []byte{changelogFormat}
	b = binary.AppendUvarint(b, uint64(len(holds)))
	for _, origin := range slices.Sorted(maps.Keys(holds)) {
		b = binary.AppendVarint(b, int64(origin))
		b = binary.AppendVarint(b, holds[origin])
	}
	return b
}

func decodeHoldbacks(b []byte) (map[int32]int64, error) {
	if err := checkFormat(b); err != nil {
		return nil, err
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("holdback count unreadable")
	}
	b = b[k:]
	holds := make(map[int32]int64, n)
	for range n {
		origin, k1 := binary.Varint(b)
		if k1 <= 0 {
			return nil, fmt.Errorf("holdback partition truncated")
		}
		ms, k2 := binary.Varint(b[k1:])
		if k2 <= 0 {
			return nil, fmt.Errorf("holdback time truncated")
		}
		holds[int32(origin)] = ms
		b = b[k1+k2:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(b))
	}
	return holds, nil
}
