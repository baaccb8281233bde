// Package binfmt holds the pieces the processors' per-order binary state
// formats share: appending strings and booleans, and a Decoder that reads
// varints, bytes and length-prefixed strings back while tracking the first
// error, so a format's decoder reads field after field and checks for an
// error only where it must.
//
// The encoding primitives are fixed: a string is a uvarint length and the
// bytes, a boolean one byte (0 or 1), a fixed 64-bit value eight bytes
// little-endian, and varints are those of encoding/binary. Each format
// (synccheck, delay, wismo) defines its own layout, version byte and
// sentinel error on top; this package changes none of their bytes.
//
// Decoder contract:
//
//   - The first error wins: a read that fails records an error wrapping
//     the decoder's sentinel (Corrupt) and naming what was read; later
//     failures (and later Fail calls) leave it unchanged.
//   - After an error, every read returns its zero value (0, false, nil or
//     "") and consumes nothing, so a caller can read a whole record and
//     check Err once.
//   - No read panics: truncated or oversized input is an error.
//   - Bytes aliases the input; every other read copies.
package binfmt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// AppendString appends s as a uvarint length and its bytes, and returns
// the extended buffer.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBool appends v as one byte, 1 for true and 0 for false (what
// Decoder.Bool reads), and returns the extended buffer.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// ErrCorrupt is wrapped by a Decoder's errors when it has no Corrupt
// sentinel of its own.
var ErrCorrupt = errors.New("binfmt: corrupt input")

// Decoder reads the primitives of a binary format from B. Its zero value
// reads nothing; set B to the input and Corrupt to the format's sentinel:
//
//	d := binfmt.Decoder{B: b, Corrupt: errCorrupt}
//
// A format embeds it in its own decoder type to add reads of its own
// (statuses by name, records). See the package comment for the contract.
type Decoder struct {
	// B is the input not read yet; reads advance it.
	B []byte
	// Err is the first error, nil while every read succeeded.
	Err error
	// Corrupt is the sentinel every error wraps (errors.Is); nil means
	// ErrCorrupt.
	Corrupt error
}

// Fail records the error "<Corrupt>: <format with args>" unless an error
// is recorded already.
func (d *Decoder) Fail(format string, args ...any) {
	if d.Err == nil {
		sentinel := d.Corrupt
		if sentinel == nil {
			sentinel = ErrCorrupt
		}
		d.Err = fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
	}
}

// Header reads a format's first byte, which must be empty (the whole
// state, no body follows) or full (a body follows), and reports whether a
// body follows. Anything else is an error naming both; so is no byte
// ("header: truncated"). Check Err before the result.
func (d *Decoder) Header(empty, full byte) (body bool) {
	switch h := d.Byte("header"); {
	case d.Err != nil:
		return false
	case h == full:
		return true
	case h != empty:
		d.Fail("format byte 0x%02x, want 0x%02x or 0x%02x", h, empty, full)
	}
	return false
}

// Uvarint reads an unsigned varint ("<what>: bad uvarint").
func (d *Decoder) Uvarint(what string) uint64 {
	if d.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.B)
	if n <= 0 {
		d.Fail("%s: bad uvarint", what)
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Varint reads a signed varint ("<what>: bad varint").
func (d *Decoder) Varint(what string) int64 {
	if d.Err != nil {
		return 0
	}
	v, n := binary.Varint(d.B)
	if n <= 0 {
		d.Fail("%s: bad varint", what)
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Byte reads one byte ("<what>: truncated").
func (d *Decoder) Byte(what string) byte {
	if d.Err != nil {
		return 0
	}
	if len(d.B) == 0 {
		d.Fail("%s: truncated", what)
		return 0
	}
	c := d.B[0]
	d.B = d.B[1:]
	return c
}

// ByteMax reads one byte that must be at most limit ("<what>: <byte> out
// of range"); a byte over it is consumed and read as 0.
func (d *Decoder) ByteMax(what string, limit byte) byte {
	c := d.Byte(what)
	if d.Err == nil && c > limit {
		d.Fail("%s: %d out of range", what, c)
		return 0
	}
	return c
}

// Bool reads a byte written by AppendBool: 0 or 1, anything else is an
// error as ByteMax's.
func (d *Decoder) Bool(what string) bool {
	return d.ByteMax(what, 1) == 1
}

// Uint64 reads eight bytes, little-endian ("<what>: truncated").
func (d *Decoder) Uint64(what string) uint64 {
	if d.Err == nil && len(d.B) < 8 {
		d.Fail("%s: truncated", what)
	}
	if d.Err != nil {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.B)
	d.B = d.B[8:]
	return v
}

// Bytes reads a string of at most limit bytes written by AppendString and
// returns its bytes, aliasing the input (no allocation: convert or copy
// what must outlive the input). A length over limit or over what is left
// is an error ("<what>: length <n> out of range").
func (d *Decoder) Bytes(what string, limit int) []byte {
	n := d.Uvarint(what)
	if d.Err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(d.B)) {
		d.Fail("%s: length %d out of range", what, n)
		return nil
	}
	s := d.B[:n:n]
	d.B = d.B[n:]
	return s
}

// String reads a string of at most limit bytes written by AppendString,
// as Bytes, and returns a copy.
func (d *Decoder) String(what string, limit int) string {
	return string(d.Bytes(what, limit))
}

// Count reads the count of a list of at most limit items of at least
// minSize (≥ 1) bytes each: a count over limit, or over what the input
// left can hold, is an error ("<what> <n> out of range"). It bounds an
// allocation by the input.
func (d *Decoder) Count(what string, limit, minSize int) int {
	n := d.Uvarint(what)
	if d.Err == nil && (n > uint64(limit) || n > uint64(len(d.B)/minSize)) {
		d.Fail("%s %d out of range", what, n)
	}
	if d.Err != nil {
		return 0
	}
	return int(n)
}
