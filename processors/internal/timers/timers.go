// Package timers is a min-heap of due times for stateful processors: an
// entry says "look at key once the watermark passes due". Processors keep
// one heap per partition, push an entry whenever a key's due time changes
// and pop what the watermark has passed.
//
// Deletion is lazy: an entry is never removed or updated in place. When a
// key's due time moves, push the new time and leave the old entry; when an
// entry is popped, the caller re-validates it against its state (is the key
// still there, is this still its due time?) and skips stale ones. That
// keeps the heap a plain slice, with no per-key index to maintain.
//
// Entries are ordered by (due, key), so entries that fall due together pop
// in key order: the same pushes give the same pops, which is what keeps a
// processor deterministic across a restore.
package timers

import "cmp"

// Entry is one timer: key is due once the watermark passes Due.
type Entry[K cmp.Ordered] struct {
	Due int64
	Key K
}

func (a Entry[K]) less(b Entry[K]) bool {
	return a.Due < b.Due || (a.Due == b.Due && a.Key < b.Key)
}

// Heap is a min-heap of entries by (due, key). The zero value is an empty
// heap ready to use. A Heap is not safe for concurrent use.
type Heap[K cmp.Ordered] struct {
	q []Entry[K]
}

// Len is the number of entries, stale ones included.
func (h *Heap[K]) Len() int { return len(h.q) }

// Push adds an entry.
func (h *Heap[K]) Push(due int64, key K) {
	h.q = append(h.q, Entry[K]{Due: due, Key: key})
	h.up(len(h.q) - 1)
}

// Peek returns the earliest entry without removing it; ok is false when the
// heap is empty.
func (h *Heap[K]) Peek() (e Entry[K], ok bool) {
	if len(h.q) == 0 {
		return e, false
	}
	return h.q[0], true
}

// Pop removes and returns the earliest entry; ok is false when the heap is
// empty.
func (h *Heap[K]) Pop() (e Entry[K], ok bool) {
	if len(h.q) == 0 {
		return e, false
	}
	e = h.q[0]
	last := len(h.q) - 1
	h.q[0] = h.q[last]
	h.q[last] = Entry[K]{} // release the key (a string) to the collector
	h.q = h.q[:last]
	if last > 0 {
		h.down(0)
	}
	return e, true
}

// PopDue removes every entry whose due time the watermark w has passed
// (Due < w) and appends them to dst in (due, key) order. Entries pushed
// while the caller works through the result are not in it, so rescheduling
// a key from inside the loop is safe.
func (h *Heap[K]) PopDue(w int64, dst []Entry[K]) []Entry[K] {
	for len(h.q) > 0 && h.q[0].Due < w {
		e, _ := h.Pop()
		dst = append(dst, e)
	}
	return dst
}

// Init replaces the heap's content with entries (which the heap then owns)
// in O(n): the way to rebuild the heap after restoring a state.
func (h *Heap[K]) Init(entries []Entry[K]) {
	h.q = entries
	for i := len(h.q)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// Reset empties the heap, keeping its capacity.
func (h *Heap[K]) Reset() {
	clear(h.q)
	h.q = h.q[:0]
}

func (h *Heap[K]) up(i int) {
	q := h.q
	for i > 0 {
		parent := (i - 1) / 2
		if !q[i].less(q[parent]) {
			return
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *Heap[K]) down(i int) {
	q := h.q
	n := len(q)
	for {
		m := i
		if l := 2*i + 1; l < n && q[l].less(q[m]) {
			m = l
		}
		if r := 2*i + 2; r < n && q[r].less(q[m]) {
			m = r
		}
		if m == i {
			return
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
}
