// Package procstat reads a process's memory figures from Linux's
// /proc/PID/status, the one source that means the same for baton's own log
// line, the benchmarks and the soak test.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The /proc/PID/status fields baton reads.
const (
	// PeakRSS is VmHWM, the peak resident set size since the process's
	// last exec. getrusage's maxrss is not used: it survives exec, so a
	// child counts the memory of the process that started it.
	PeakRSS = "VmHWM"
	// RSS is VmRSS, the resident set size now.
	RSS = "VmRSS"
)

// MiB returns field (PeakRSS, RSS) of process pid in MiB; pid 0 is the
// calling process. It fails when the file cannot be read (the process has
// gone, not Linux) or has no such field.
func MiB(pid int, field string) (float64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", path, field, err)
		}
		return kb / 1024, nil
	}
	return 0, fmt.Errorf("%s: no %s", path, field)
}
