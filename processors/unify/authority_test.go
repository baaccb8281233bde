package unify

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/schemas"
)

func TestDefaultAuthorityFollowsTheDesign(t *testing.T) {
	a, err := DefaultAuthority()
	if err != nil {
		t.Fatal(err)
	}
	want := map[schemas.System][]canonical.Status{
		schemas.Storefront: {canonical.Placed},
		schemas.OMS:        {canonical.Confirmed, canonical.OnHold, canonical.Cancelled, canonical.ReturnRequested, canonical.Refunded},
		schemas.WMS:        {canonical.Released, canonical.Picked, canonical.Packed, canonical.Shipped, canonical.Returned},
		schemas.Carrier: {canonical.InTransit, canonical.OutForDelivery, canonical.DeliveryAttemptFailed, canonical.AvailableForPickup,
			canonical.Delivered, canonical.Exception, canonical.ReturnToSender, canonical.ReturnInTransit},
	}
	n := 0
	for sys, statuses := range want {
		for _, s := range statuses {
			n++
			if got, ok := a.Of(s); !ok || got != sys {
				t.Errorf("authority for %s = %q, want %s", s, got, sys)
			}
		}
	}
	if n != len(canonical.All())-2 {
		t.Errorf("the design names %d statuses, canonical has %d besides the aggregates", n, len(canonical.All())-2)
	}
	if _, ok := a.Of(canonical.PartiallyShipped); ok {
		t.Error("an aggregate has an authority")
	}
	if a.HintSystem() != schemas.OMS {
		t.Errorf("hint system %q, want oms", a.HintSystem())
	}
	// String prints a valid file with the same rules.
	again, err := ParseAuthority("printed", []byte(a.String()))
	if err != nil {
		t.Fatalf("printed rules do not parse: %v\n%s", err, a.String())
	}
	if again.by != a.by || again.hint != a.hint {
		t.Errorf("printed rules differ:\n%s", a.String())
	}
}

func TestLoadAuthorityFromAFile(t *testing.T) {
	text := strings.Replace(string(defaultAuthority), "CANCELLED                oms", "CANCELLED                storefront", 1)
	path := filepath.Join(t.TempDir(), "my.map")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := LoadAuthority(path)
	if err != nil {
		t.Fatal(err)
	}
	if sys, _ := a.Of(canonical.Cancelled); sys != schemas.Storefront || a.Source() != path {
		t.Errorf("CANCELLED by %s from %s", sys, a.Source())
	}
	// The rule takes effect: the storefront now cancels, the OMS no longer.
	p, err := New(Config{Authority: a})
	if err != nil {
		t.Fatal(err)
	}
	r := runSteps(t, p, []step{placed, ev("oms", "CANCELLED", h), ev("storefront", "CANCELLED", 2*h)})
	if got := strings.Join(r.transitions, ", "); got != "order advance ->PLACED, order advance PLACED>CANCELLED" || r.lastState()["truth_authority"] != "storefront" {
		t.Errorf("transitions %s by %v", got, r.lastState()["truth_authority"])
	}
	if _, err := LoadAuthority(filepath.Join(t.TempDir(), "missing.map")); err == nil {
		t.Error("a missing file loads")
	}
}

func TestAuthorityFileErrorsNameFileAndLine(t *testing.T) {
	lineOf := func(text, prefix string) int {
		for i, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no line %q", prefix)
		return 0
	}
	def := string(defaultAuthority)
	itoa := strconv.Itoa
	cases := []struct {
		name string
		text string
		want []string
	}{
		{"unknown status", def + "TELEPORTED carrier\n", []string{"f.map:" + itoa(lineOf(def, "PARTIALLY_SHIPPED")+1) + `: unknown canonical status "TELEPORTED" (valid: CANCELLED, PLACED, `}},
		{"unknown system", strings.Replace(def, "PICKED                   wms", "PICKED                   robots", 1),
			[]string{"f.map:" + itoa(lineOf(def, "PICKED")) + `: unknown system "robots" (valid: storefront, oms, wms, carrier, helpdesk, notifications, returns)`,
				"f.map: no authority for PICKED"}},
		{"duplicate", def + "DELIVERED helpdesk\n",
			[]string{"f.map:" + itoa(lineOf(def, "PARTIALLY_SHIPPED")+1) + ": duplicate status DELIVERED: already given to carrier at f.map:" + itoa(lineOf(def, "DELIVERED "))}},
		{"missing", strings.Replace(def, "REFUNDED                 oms", "", 1), []string{"f.map: no authority for REFUNDED: every status"}},
		{"derived aggregate", def + "PARTIALLY_DELIVERED carrier\n", []string{"PARTIALLY_DELIVERED is derived from the shipments"}},
		{"column count", def + "EXCEPTION carrier extra\n", []string{"wrong column count: want 2"}},
		{"header", strings.Replace(def, "status                   system", "canonical system", 1), []string{`header: want "status system", got "canonical system"`}},
		{"empty", "# nothing\n", []string{"f.map: empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAuthority("f.map", []byte(c.text))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
