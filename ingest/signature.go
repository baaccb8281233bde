package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Vendors sign webhooks the same way and differ only in what they sign and
// how they spell the result: HMAC-SHA256 with a shared secret over the raw
// body (Shopify, AfterShip, generic JSON) or over a timestamp plus the body
// (Zendesk), written as base64 or hex, sometimes behind a "sha256=" prefix.
// These helpers are the one implementation every adapter uses, so the
// constant-time comparison and the error wording live in one place.

// HMACSHA256 returns the HMAC-SHA256 of the concatenation of parts under
// secret. Passing parts avoids copying a timestamp and a body into one slice.
func HMACSHA256(secret []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// Encoding is how a vendor writes a signature in its header.
type Encoding int

const (
	// Base64 is standard base64 with padding (Shopify, Zendesk, AfterShip).
	Base64 Encoding = iota
	// Hex is lowercase or uppercase hexadecimal (generic JSON, EasyPost).
	Hex
)

func (e Encoding) String() string {
	if e == Hex {
		return "hex"
	}
	return "base64"
}

func (e Encoding) decode(s string) ([]byte, error) {
	if e == Hex {
		return hex.DecodeString(s)
	}
	return base64.StdEncoding.DecodeString(s)
}

// VerifyHMAC checks that got, the signature a request carried in header
// (named for the error message) written in enc, is the HMAC-SHA256 of the
// concatenated parts under secret. The comparison is constant-time. An empty
// secret never verifies: an adapter without a secret must not accept
// anything. Errors wrap ErrSignature and say which header failed and why,
// never what the expected signature was.
func VerifyHMAC(header, got string, enc Encoding, secret []byte, parts ...[]byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no secret configured to check %s", ErrSignature, header)
	}
	got = strings.TrimSpace(got)
	if got == "" {
		return fmt.Errorf("%w: %s header missing", ErrSignature, header)
	}
	sig, err := enc.decode(got)
	if err != nil {
		return fmt.Errorf("%w: %s is not %s: %v", ErrSignature, header, enc, err)
	}
	if !hmac.Equal(sig, HMACSHA256(secret, parts...)) {
		return fmt.Errorf("%w: %s does not match the body", ErrSignature, header)
	}
	return nil
}

// SignBase64 and SignHex produce signatures the way vendors do; tests, the
// load generator and anything that forwards webhooks use them.
func SignBase64(secret []byte, parts ...[]byte) string {
	return base64.StdEncoding.EncodeToString(HMACSHA256(secret, parts...))
}

// SignHex is SignBase64 in lowercase hexadecimal.
func SignHex(secret []byte, parts ...[]byte) string {
	return hex.EncodeToString(HMACSHA256(secret, parts...))
}

// CheckFresh rejects a signed timestamp further than tolerance from now in
// either direction. Signing a timestamp only stops replays if old (and
// far-future) ones are refused. Errors wrap ErrSignature.
func CheckFresh(header string, ts, now time.Time, tolerance time.Duration) error {
	switch d := now.Sub(ts); {
	case d > tolerance:
		return fmt.Errorf("%w: %s %s is %s old, more than the %s tolerance", ErrSignature, header, ts.Format(time.RFC3339), d.Round(time.Second), tolerance)
	case -d > tolerance:
		return fmt.Errorf("%w: %s %s is %s in the future, more than the %s tolerance", ErrSignature, header, ts.Format(time.RFC3339), (-d).Round(time.Second), tolerance)
	}
	return nil
}
