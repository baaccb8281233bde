package devstack

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The dev broker (kfake) keeps two files open for every partition that
// holds records, plus one per sealed segment it has read, and closes them
// only when the topic is deleted. A dev stack that collects topics (every
// test run, every demo prefix) therefore runs out of file descriptors: at
// 19,983 of 20,000 it could no longer accept a connection, and kfake's
// accept loop gives up on the first error, so the process lived on without
// a listener and every client got "connection refused" (a 2-hour soak
// died at minute 123). Three defences, in order: a higher limit
// (setOpenFileLimit), an accept loop that waits for descriptors to come
// back instead of giving up (patientListener), and a warning while the
// broker is close to the limit (watchOpenFiles), naming the way out.

// setOpenFileLimit sets the process's open-file limit (RLIMIT_NOFILE) to
// want, or, when want is 0, to the highest the kernel allows a process
// (fs.nr_open). Raising the hard limit needs privilege; without it the
// limit is the hard limit. It returns the limit in force.
func setOpenFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if want == 0 {
		want = lim.Max
		if n, err := readUint("/proc/sys/fs/nr_open"); err == nil && n > want {
			want = n
		}
	}
	if want > lim.Max {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			return want, nil
		}
		want = lim.Max // not privileged: as high as this process may go
	}
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return want, nil
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// openFiles counts the process's open file descriptors; ok is false where
// /proc/self/fd does not exist.
func openFiles() (n int, ok bool) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	return len(entries), true
}

// Thresholds of watchOpenFiles, as fractions of the limit: it warns above
// fdWarnAbove and says the danger passed below fdClearBelow, so a count
// hovering at the threshold does not log on every check.
const (
	fdWarnAbove  = 0.8
	fdClearBelow = 0.7
)

// watchOpenFiles checks the broker's open file descriptors every interval
// until ctx is done, and logs while they are above fdWarnAbove of limit
// (again every repeat), and once when they fall below fdClearBelow.
func watchOpenFiles(ctx context.Context, limit uint64, interval, repeat time.Duration, logf func(format string, args ...any)) {
	if _, ok := openFiles(); !ok || limit == 0 {
		return
	}
	warned := false
	var lastWarning time.Time
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, _ := openFiles()
		share := float64(n) / float64(limit)
		switch {
		case share > fdWarnAbove && (!warned || time.Since(lastWarning) >= repeat):
			logf("%d of %d file descriptors open: the broker keeps two open per partition holding records "+
				"and runs out at the limit; delete the topics you no longer need, "+
				"or start afresh with make dev-purge && make dev-up", n, limit)
			warned, lastWarning = true, time.Now()
		case warned && share < fdClearBelow:
			logf("%d of %d file descriptors open: below the warning level again", n, limit)
			warned = false
		}
	}
}

// patientListener keeps accepting through errors that pass, as
// net/http.Server does: out of file descriptors (EMFILE, ENFILE) or a
// connection aborted before it was accepted. It waits 5 ms, doubling up to
// a second, and logs at most once per acceptLogEvery. Clients wait in the kernel's
// accept queue meanwhile. kfake's accept loop returns on the first error
// and closes the listener for good. Accept returns only net.ErrClosed (the
// broker shutting down) and connections.
type patientListener struct {
	net.Listener
	logf func(format string, args ...any)

	mu        sync.Mutex // Accept's state; kfake calls it from one loop
	failures  int        // since the last accepted connection
	lastLog   time.Time
	firstFail time.Time
}

// acceptLogEvery bounds patientListener's log to a line per interval.
const acceptLogEvery = 10 * time.Second

func (l *patientListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			if l.failures > 0 {
				l.logf("accepting connections again after %d failed accepts over %s",
					l.failures, time.Since(l.firstFail).Round(time.Millisecond))
				l.failures = 0
			}
			return c, nil
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		if l.failures == 0 {
			l.firstFail = time.Now()
		}
		l.failures++
		if time.Since(l.lastLog) >= acceptLogEvery {
			l.logf("cannot accept a connection (%v; %d failures so far): retrying, clients wait in the queue", err, l.failures)
			l.lastLog = time.Now()
		}
		delay = min(max(2*delay, 5*time.Millisecond), time.Second)
		time.Sleep(delay)
	}
}
