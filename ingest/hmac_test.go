package ingest

import (
	"errors"
	"strings"
	"testing"
)

func TestVerifyHMACSHA256(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"hello":"world"}`)
	for _, enc := range []Encoding{Hex, Base64} {
		sig := SignHMACSHA256(enc, secret, body)
		tests := []struct {
			name    string
			sig     string
			secret  []byte
			body    []byte
			wantErr string
		}{
			{"valid", sig, secret, body, ""},
			{"valid upper-case hex", strings.ToUpper(sig), secret, body, map[Encoding]string{Hex: "", Base64: "does not match"}[enc]},
			{"forged", SignHMACSHA256(enc, []byte("other"), body), secret, body, "does not match"},
			{"altered body", sig, secret, []byte(`{"hello":"World"}`), "does not match"},
			{"missing", "", secret, body, "missing X-Sig"},
			{"not encoded", "%%%", secret, body, "is not " + enc.String()},
			{"no secret configured", sig, nil, body, "no webhook secret"},
		}
		for _, tt := range tests {
			t.Run(enc.String()+"/"+tt.name, func(t *testing.T) {
				err := VerifyHMACSHA256("X-Sig", tt.sig, enc, tt.secret, tt.body)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("want ok, got %v", err)
					}
					return
				}
				if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want ErrSignature containing %q, got %v", tt.wantErr, err)
				}
			})
		}
	}
}

// TestHMACKnownVector pins the primitive to RFC 4231 test case 2.
func TestHMACKnownVector(t *testing.T) {
	got := SignHMACSHA256(Hex, []byte("Jefe"), []byte("what do ya want "), []byte("for nothing?"))
	const want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Fatalf("HMAC-SHA256 RFC 4231 case 2: got %s want %s", got, want)
	}
}
