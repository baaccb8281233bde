package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Encoding is how a vendor writes an HMAC digest in its signature header.
type Encoding int

// The digest encodings vendors use: EasyPost writes hex, Shopify, AfterShip
// and Zendesk write standard base64.
const (
	Hex Encoding = iota
	Base64
)

func (e Encoding) String() string {
	switch e {
	case Hex:
		return "hex"
	case Base64:
		return "base64"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// Encode writes a digest in this encoding (hex in lower case, base64 with
// padding, as the vendors send them).
func (e Encoding) Encode(mac []byte) string {
	if e == Base64 {
		return base64.StdEncoding.EncodeToString(mac)
	}
	return hex.EncodeToString(mac)
}

// Decode reads a digest written in this encoding. Hex is accepted in either
// case, so the comparison is of digest bytes, not of spellings.
func (e Encoding) Decode(s string) ([]byte, error) {
	if e == Base64 {
		return base64.StdEncoding.DecodeString(s)
	}
	return hex.DecodeString(s)
}

// HMACSHA256 is HMAC-SHA256 under secret of the concatenation of parts
// (vendors sign the raw body, some a timestamp or message ID before it).
func HMACSHA256(secret []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// SignHMACSHA256 returns the signature a vendor would send for parts: the
// HMAC-SHA256 digest in the vendor's encoding. Tests and load generators use
// it to sign what they post.
func SignHMACSHA256(enc Encoding, secret []byte, parts ...[]byte) string {
	return enc.Encode(HMACSHA256(secret, parts...))
}

// VerifyHMACSHA256 authenticates a delivery whose header (named for the
// error message) carries sig, the HMAC-SHA256 under secret of parts in
// encoding enc. The digests are compared in constant time, so the time taken
// tells an attacker nothing about how much of a forgery was right. An empty
// secret never verifies: a gateway started without its secret must refuse
// everything, not accept everything. Errors wrap ErrSignature and say which
// check failed, never the expected digest.
func VerifyHMACSHA256(header, sig string, enc Encoding, secret []byte, parts ...[]byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no webhook secret is configured, so %s cannot be checked", ErrSignature, header)
	}
	if sig == "" {
		return fmt.Errorf("%w: missing %s header", ErrSignature, header)
	}
	got, err := enc.Decode(sig)
	if err != nil {
		return fmt.Errorf("%w: %s is not %s: %v", ErrSignature, header, enc, err)
	}
	if !hmac.Equal(got, HMACSHA256(secret, parts...)) {
		return fmt.Errorf("%w: %s does not match the body (forged, altered, or signed with another secret)", ErrSignature, header)
	}
	return nil
}
