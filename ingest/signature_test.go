package ingest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerifyHMAC(t *testing.T) {
	secret, body := []byte("hush"), []byte(`{"id":1}`)
	// Reference values computed independently:
	//   printf '%s' '{"id":1}' | openssl dgst -sha256 -hmac hush -binary | base64
	const wantB64 = "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="
	if got := SignBase64(secret, body); got != wantB64 {
		t.Fatalf("SignBase64 = %s, want %s", got, wantB64)
	}
	hexSig := SignHex(secret, body)
	tests := []struct {
		name    string
		sig     string
		enc     Encoding
		secret  []byte
		parts   [][]byte
		wantErr string
	}{
		{"base64 valid", wantB64, Base64, secret, [][]byte{body}, ""},
		{"hex valid", hexSig, Hex, secret, [][]byte{body}, ""},
		{"hex upper case", strings.ToUpper(hexSig), Hex, secret, [][]byte{body}, ""},
		{"parts concatenate", wantB64, Base64, secret, [][]byte{[]byte(`{"id"`), []byte(`:1}`)}, ""},
		{"surrounding space", " " + wantB64 + "\n", Base64, secret, [][]byte{body}, ""},
		{"missing", "", Base64, secret, [][]byte{body}, "X-Sig header missing"},
		{"not base64", "%%%", Base64, secret, [][]byte{body}, "X-Sig is not base64"},
		{"forged", SignBase64([]byte("other"), body), Base64, secret, [][]byte{body}, "X-Sig does not match the body"},
		{"body changed", wantB64, Base64, secret, [][]byte{[]byte(`{"id":2}`)}, "does not match"},
		{"no secret", wantB64, Base64, nil, [][]byte{body}, "no secret configured"},
		{"hex given base64", wantB64, Hex, secret, [][]byte{body}, "X-Sig is not hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyHMAC("X-Sig", tt.sig, tt.enc, tt.secret, tt.parts...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("VerifyHMAC: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("VerifyHMAC error = %v, want it to contain %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("error %v does not wrap ErrSignature", err)
			}
		})
	}
}

func TestCheckFresh(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		ts      time.Time
		wantErr string
	}{
		{now, ""},
		{now.Add(-5 * time.Minute), ""},
		{now.Add(5 * time.Minute), ""},
		{now.Add(-5*time.Minute - time.Second), "old"},
		{now.Add(5*time.Minute + time.Second), "in the future"},
	} {
		err := CheckFresh("X-Ts", tt.ts, now, 5*time.Minute)
		if (err == nil) != (tt.wantErr == "") || (err != nil && (!strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrSignature))) {
			t.Errorf("CheckFresh(%s) = %v, want %q", tt.ts, err, tt.wantErr)
		}
	}
}

func TestDecodeJSONKeepsBigIDsAndRejectsTrailingData(t *testing.T) {
	o, err := DecodeObject([]byte(`{"id": 5940139491234567890, "t": "2008-01-10T11:00:00-05:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.String("id"); got != "5940139491234567890" {
		t.Errorf("id = %s", got)
	}
	ts, key, ok, err := o.Time("order", "missing", "t")
	if err != nil || !ok || key != "t" || ts != "2008-01-10T16:00:00Z" {
		t.Errorf("Time = %q %q %v %v", ts, key, ok, err)
	}
	if ts, err := ParseTime("2013-12-12T05:35Z"); err != nil || !ts.Equal(time.Date(2013, 12, 12, 5, 35, 0, 0, time.UTC)) {
		t.Errorf("minute-precision time: %v, %v", ts, err)
	}
	if _, err := DecodeJSON([]byte(`{} {}`)); err == nil {
		t.Error("trailing data accepted")
	}
	if _, err := DecodeObject([]byte(`[1]`)); err == nil || !strings.Contains(err.Error(), "want a JSON object") {
		t.Errorf("array as object: %v", err)
	}
	if _, _, _, err := (Object{"t": "yesterday"}).Time("x", "t"); err == nil || !strings.Contains(err.Error(), `x.t: want an RFC 3339 time, got "yesterday"`) {
		t.Errorf("bad time: %v", err)
	}
}

func TestDerivedIDIsDeterministic(t *testing.T) {
	a, b := DerivedID("orders/create", "{}"), DerivedID("orders/create", "{}")
	if a != b || !strings.HasPrefix(a, "sha256:") || len(a) != 7+32 {
		t.Fatalf("DerivedID = %s, %s", a, b)
	}
	if DerivedID("ab", "c") == DerivedID("a", "bc") {
		t.Fatal("parts are not separated")
	}
}
