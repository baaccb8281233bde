package timers

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPopDueTakesOnlyWhatTheWatermarkPassed(t *testing.T) {
	var h Heap[string]
	for _, e := range []Entry[string]{{30, "c"}, {10, "b"}, {20, "a"}, {10, "a"}, {40, "z"}} {
		h.Push(e.Due, e.Key)
	}
	if e, ok := h.Peek(); !ok || e != (Entry[string]{10, "a"}) {
		t.Fatalf("Peek = %v %v, want {10 a}", e, ok)
	}
	tests := []struct {
		w    int64
		want []Entry[string]
	}{
		{10, nil}, // due < w: an entry due at 10 is not due at watermark 10
		{11, []Entry[string]{{10, "a"}, {10, "b"}}},
		{11, nil},
		{31, []Entry[string]{{20, "a"}, {30, "c"}}},
		{100, []Entry[string]{{40, "z"}}},
		{200, nil},
	}
	for _, tc := range tests {
		got := h.PopDue(tc.w, nil)
		if !slices.Equal(got, tc.want) {
			t.Errorf("PopDue(%d) = %v, want %v", tc.w, got, tc.want)
		}
	}
	if _, ok := h.Peek(); ok || h.Len() != 0 {
		t.Errorf("heap not empty: %d", h.Len())
	}
	if _, ok := h.Pop(); ok {
		t.Error("Pop on an empty heap reports an entry")
	}
}

func TestPopDueAppendsToDst(t *testing.T) {
	var h Heap[int]
	h.Push(1, 7)
	buf := make([]Entry[int], 0, 4)
	buf = append(buf, Entry[int]{Due: -1, Key: -1})
	got := h.PopDue(5, buf)
	if !slices.Equal(got, []Entry[int]{{-1, -1}, {1, 7}}) {
		t.Errorf("got %v", got)
	}
}

// TestHeapOrderMatchesASort pushes, pops and re-inits at random and checks
// every pop against a sorted model.
func TestHeapOrderMatchesASort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Heap[string]
	var model []Entry[string]
	cmpE := func(a, b Entry[string]) int {
		if c := cmp.Compare(a.Due, b.Due); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	}
	for i := range 20000 {
		switch op := r.IntN(10); {
		case op < 6:
			e := Entry[string]{Due: r.Int64N(1000), Key: fmt.Sprint(r.IntN(50))}
			h.Push(e.Due, e.Key)
			model = append(model, e)
		case op < 9:
			w := r.Int64N(1000)
			got := h.PopDue(w, nil)
			slices.SortFunc(model, cmpE)
			n := 0
			for n < len(model) && model[n].Due < w {
				n++
			}
			if !slices.Equal(got, model[:n]) {
				t.Fatalf("step %d: PopDue(%d) = %v, want %v", i, w, got, model[:n])
			}
			model = slices.Delete(model, 0, n)
		default:
			entries := slices.Clone(model)
			r.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
			h.Init(entries)
		}
		if h.Len() != len(model) {
			t.Fatalf("step %d: Len %d, want %d", i, h.Len(), len(model))
		}
		if len(model) > 0 {
			top, _ := h.Peek()
			if m := slices.MinFunc(model, cmpE); top != m {
				t.Fatalf("step %d: Peek %v, want %v", i, top, m)
			}
		}
	}
	h.Reset()
	if h.Len() != 0 {
		t.Error("Reset left entries")
	}
}

// Example shows lazy deletion: the state says when each key is really due;
// a popped entry that disagrees is stale and skipped.
func Example() {
	due := map[string]int64{"order-1": 50, "order-2": 20}
	var h Heap[string]
	for k, d := range due {
		h.Push(d, k)
	}
	// order-1 moves to 10: push the new time, leave the old entry.
	due["order-1"] = 10
	h.Push(10, "order-1")

	for _, e := range h.PopDue(60, nil) {
		if due[e.Key] != e.Due {
			continue // stale
		}
		fmt.Println(e.Key, e.Due)
	}
	// Output:
	// order-1 10
	// order-2 20
}

func BenchmarkPushPopDue(b *testing.B) {
	var h Heap[string]
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("order-%d", i)
	}
	var buf []Entry[string]
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		h.Push(i+1000, keys[i%1024])
		buf = h.PopDue(i, buf[:0])
		i++
	}
}
