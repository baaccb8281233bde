package procstat

import (
	"os"
	"runtime"
	"testing"
)

// TestPeakFollowsAnAllocation: touching 64 MiB raises this process's RSS
// and peak by about that much, and the peak never falls below the RSS.
func TestPeakFollowsAnAllocation(t *testing.T) {
	before, err := MiB(0, PeakRSS)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	rss, err := MiB(os.Getpid(), RSS)
	if err != nil {
		t.Fatal(err)
	}
	peak, err := MiB(0, PeakRSS)
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(buf)
	if peak < rss || peak < before+48 {
		t.Errorf("peak %.1f MiB (before %.1f), RSS %.1f MiB after touching 64 MiB", peak, before, rss)
	}
}

func TestMiBFailsClearly(t *testing.T) {
	if _, err := MiB(0, "NoSuchField"); err == nil {
		t.Error("no error for a missing field")
	}
	if _, err := MiB(1<<30, RSS); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
