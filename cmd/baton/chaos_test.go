package main

// The chaos suite: `baton run` against a broker, a schema registry and a
// ClickHouse server of the test's own (processes it stops, kills and
// restarts), never against the shared dev stack. `make test` runs the
// short version; `make chaos` the long one (BATON_CHAOS_LONG=1: the
// outages of issue 19 at full length, more orders).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/ingest/generic"
	"github.com/baton-pipeline/baton/internal/procstat"
	"github.com/baton-pipeline/baton/internal/testenv"
	"github.com/baton-pipeline/baton/schemas"
)

// service is a dependency the test runs as a process of its own, so it
// can stop or kill it and start it again on the same address and data.
type service struct {
	t     *testing.T
	name  string
	path  string
	args  []string
	cred  *syscall.Credential // run as this user (ClickHouse refuses root)
	ready func() bool
	log   *os.File
	cmd   *exec.Cmd
	// exited is closed when the running process has exited.
	exited chan struct{}
}

// start starts the process and waits up to 60 s until it answers.
func (s *service) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.path, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.name, err)
	}
	cmd, exited := s.cmd, make(chan struct{})
	s.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(time.Minute)
	for !s.ready() {
		select {
		case <-exited:
			s.t.Fatalf("%s exited before answering; its log is %s", s.name, s.log.Name())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s does not answer a minute after its start; its log is %s", s.name, s.log.Name())
		}
	}
	s.t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
}

// stop sends sig and waits for the process to exit.
func (s *service) stop(sig syscall.Signal) {
	s.t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		s.t.Fatalf("%s still runs a minute after %v", s.name, sig)
	}
}

// ownServices starts a dev broker, a dev registry and a ClickHouse server
// on free ports with data in the test's temporary directory.
func ownServices(t *testing.T) (svc services, broker, registry, ch *service) {
	t.Helper()
	dir := t.TempDir()
	logFile := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			f.Close()
			if t.Failed() {
				b, _ := os.ReadFile(f.Name())
				t.Logf("last lines of the %s log:\n%s", name, lastLines(string(b), 30))
			}
		})
		return f
	}
	port := func() int {
		_, p, _ := net.SplitHostPort(testenv.FreeAddr(t))
		n, _ := strconv.Atoi(p)
		return n
	}
	answers := func(addr string) func() bool {
		return func() bool {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err == nil
		}
	}
	httpOK := func(url string) func() bool {
		return func() bool {
			resp, err := http.Get(url)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}
	}

	brokerPort := port()
	svc.brokers = []string{fmt.Sprintf("127.0.0.1:%d", brokerPort)}
	broker = &service{t: t, name: "broker", path: batonFastBin, log: logFile("broker"), ready: answers(svc.brokers[0]),
		args: []string{"dev", "broker", "--port", strconv.Itoa(brokerPort), "--data-dir", filepath.Join(dir, "kafka")}}
	registryAddr := fmt.Sprintf("127.0.0.1:%d", port())
	svc.registry = "http://" + registryAddr
	registry = &service{t: t, name: "registry", path: batonFastBin, log: logFile("registry"), ready: httpOK(svc.registry + "/subjects"),
		args: []string{"dev", "registry", "--addr", registryAddr, "--data-dir", filepath.Join(dir, "registry")}}

	chDir := filepath.Join(dir, "clickhouse")
	for _, d := range []string{"data/tmp", "data/user_files", "data/format_schemas"} {
		if err := os.MkdirAll(filepath.Join(chDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// ClickHouse will not run as root: as its package's user, who
		// must own the data and be able to reach it.
		u, err := user.Lookup("clickhouse")
		if err != nil {
			t.Fatalf("ClickHouse's user: %v (scripts/install-deps.sh installs clickhouse-server)", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for p := chDir; p != filepath.Dir(p) && p != os.TempDir(); p = filepath.Dir(p) {
			os.Chmod(p, 0o755) // t.TempDir's directories are 0700
		}
		filepath.Walk(chDir, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, gid) })
	}
	tcp, httpPort := port(), port()
	svc.chNative, svc.chHTTP = fmt.Sprintf("127.0.0.1:%d", tcp), fmt.Sprintf("127.0.0.1:%d", httpPort)
	ch = &service{t: t, name: "clickhouse", path: "/usr/sbin/clickhouse-server", cred: cred, log: logFile("clickhouse"),
		ready: httpOK("http://" + svc.chHTTP + "/?query=SELECT%201"),
		args: []string{"--config-file=/etc/clickhouse-server/config.xml", "--",
			"--path=" + chDir + "/data/", "--tmp_path=" + chDir + "/data/tmp/", "--user_files_path=" + chDir + "/data/user_files/",
			"--format_schema_path=" + chDir + "/data/format_schemas/", "--logger.log=" + chDir + "/ch.log", "--logger.errorlog=" + chDir + "/ch.err.log",
			"--listen_host=127.0.0.1", "--tcp_port=" + strconv.Itoa(tcp), "--http_port=" + strconv.Itoa(httpPort),
			"--interserver_http_port=" + strconv.Itoa(port())}}
	for _, s := range []*service{broker, registry, ch} {
		s.start()
	}
	return svc, broker, registry, ch
}

// startLiveRun starts `baton run` (the harness's flags and these) with
// its log kept on failure; exited receives its end. The log may be read
// only once the process has exited.
func (s *stack) startLiveRun(t *testing.T, flags ...string) (run *exec.Cmd, log *bytes.Buffer, exited chan error) {
	t.Helper()
	run = s.harnessRun(nil, flags...)
	log = &bytes.Buffer{}
	run.Stdout, run.Stderr = log, log
	keepLogsOnFailure(t, map[string]*bytes.Buffer{"baton run": log})
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- run.Wait() }()
	return run, log, exited
}

// stopLiveRun stops a run started by startLiveRun with SIGTERM, as a
// service manager does, and fails t unless it exits cleanly within a
// minute: a stop finishes the batches in flight and leaves its groups.
func stopLiveRun(t *testing.T, run *exec.Cmd, exited chan error) {
	t.Helper()
	run.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("baton run after SIGTERM: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("baton run did not stop within a minute of SIGTERM")
	}
}

// startFast starts a baton command (the binary without the race
// detector) in the background; exited receives its end, after which its
// output may be read.
func (s *stack) startFast(t *testing.T, args ...string) (output *bytes.Buffer, exited chan error) {
	t.Helper()
	cmd := s.command(args...)
	cmd.Path = batonFastBin
	output = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return output, exited
}

// chaosLong reports whether the long version runs (make chaos).
func chaosLong() bool { return os.Getenv("BATON_CHAOS_LONG") != "" }

// TestRunRidesThroughOutages is issue 19's on-call drill: `baton run`
// starts before ClickHouse (it waits, alive but not ready); then, while
// orders arrive at a steady pace, ClickHouse stops (60 s in the long version),
// the broker is SIGKILLed and restarted, and the registry stops. `baton
// run` must never exit, must say it is not ready while it cannot make
// progress and ready again after, must store every source record exactly
// once, and must end with the tables a clean replay of the same records
// gives.
func TestRunRidesThroughOutages(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts its own broker, registry and ClickHouse")
	}
	svc, broker, registry, ch := ownServices(t)
	orders, pace := "400", "200" // about 70 s of events: every outage falls inside
	chOutage, brokerOutage, registryOutage := 15*time.Second, 5*time.Second, 5*time.Second
	if chaosLong() {
		orders, pace = "3000", "600"
		chOutage, brokerOutage, registryOutage = 60*time.Second, 30*time.Second, 30*time.Second
	}
	s := newStackOn(t, svc)
	s.mustRunFast("topics")
	// baton run starts before ClickHouse: it waits for it.
	ch.stop(syscall.SIGTERM)
	metrics := freeAddr(t)
	run, runLog, runExited := s.startLiveRun(t, "--flush-interval", "100ms", "--lag-interval", "1s", "--stall-after", "5s", "--metrics-addr", metrics)
	alive := func(when string) {
		t.Helper()
		select {
		case err := <-runExited:
			t.Fatalf("baton run exited %s: %v\n%s", when, err, lastLines(runLog.String(), 40))
		default:
		}
	}
	ready := func() (bool, string) {
		resp, err := http.Get("http://" + metrics + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK, string(b)
	}
	waitFor(t, 30*time.Second, "baton run to serve /healthz while it waits for ClickHouse", func() bool {
		resp, err := http.Get("http://" + metrics + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	time.Sleep(2 * time.Second)
	alive("while ClickHouse was not there yet")
	if ok, body := ready(); ok || !strings.Contains(body, "no stage is running yet") {
		t.Errorf("/readyz before ClickHouse answered: ready %v, %s; want 503, no stage running yet", ok, body)
	}
	ch.start()
	waitFor(t, time.Minute, "baton run to be ready", func() bool { ok, _ := ready(); return ok })

	simLog, simExited := s.startFast(t, "simulate", "--orders", orders, "--seed", "5", "--start", "2026-09-28T06:00:00Z",
		"--viewer-faults", groundTruthFaults, "--pace", pace)
	waitFor(t, time.Minute, "the first rows in ClickHouse", func() bool { return s.rowsIn("source_events") > 0 })
	progress := func(what string) {
		t.Helper()
		select {
		case <-simExited:
			t.Fatalf("the simulation ended before %s: the outages must fall inside it (slower --pace)", what)
		default:
		}
		t.Logf("%s: %d source records produced, %d stored", what, s.totalProduced(), s.rowsIn("source_events"))
	}

	// outage stops svc with sig for d and starts it again, and checks
	// meanwhile that the run stays up.
	outage := func(svc *service, sig syscall.Signal, d time.Duration, during func()) {
		t.Helper()
		progress(fmt.Sprintf("%s stopped (%v) for %s", svc.name, sig, d))
		svc.stop(sig)
		time.Sleep(d)
		alive("while " + svc.name + " was down")
		if during != nil {
			during()
		}
		svc.start()
	}
	// ClickHouse stops: the sink retries its batch, says it is stalled.
	outage(ch, syscall.SIGTERM, chOutage, func() {
		if ok, body := ready(); ok || !strings.Contains(body, "sink partition") {
			t.Errorf("/readyz with ClickHouse stopped for %s: ready %v, %s; want 503 naming the sink's stalled partitions", chOutage, ok, body)
		}
	})
	waitFor(t, 2*time.Minute, "/readyz to answer 200 after ClickHouse came back", func() bool { ok, _ := ready(); return ok })
	// The broker is SIGKILLed and restarted on the same data.
	outage(broker, syscall.SIGKILL, brokerOutage, nil)
	waitFor(t, 3*time.Minute, "/readyz to answer 200 after the broker came back", func() bool { ok, _ := ready(); return ok })
	// The registry stops: whatever is decoded already is cached.
	outage(registry, syscall.SIGTERM, registryOutage, nil)

	select {
	case err := <-simExited:
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, simLog.String())
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("simulate did not finish:\n%s", simLog.String())
	}
	waitFor(t, 3*time.Minute, "the run to store every source record", func() bool {
		return s.rowsIn("source_events") >= uint64(s.totalProduced())
	})
	alive("before the stop")
	retries := metricValue(t, metrics, `baton_stage_retries_total{stage="sink"}`)
	stopLiveRun(t, run, runExited)
	t.Logf("baton run: %d restarts on a new session, sink retries %v", strings.Count(runLog.String(), "starting over on a new session"), retries)
	if retries < 1 {
		t.Errorf("baton_stage_retries_total{stage=\"sink\"} = %v after a ClickHouse outage, want at least 1", retries)
	}
	s.runUntilCaughtUp(nil) // whatever the stop left in flight
	s.assertExactlyStored()

	replay := newStackOn(t, svc)
	replay.copySources(s, false, false)
	replay.runUntilCaughtUp(nil)
	assertSameSnapshot(t, "the run through outages against a clean replay", replay.snapshot(), s.snapshot())
}

// TestIngestBurstThroughABrokerKill: vendors post a burst of signed
// webhooks to `baton ingest` while the broker is SIGKILLed and restarted.
// The gateway never exits; it answers 503 with Retry-After while it
// cannot produce, and each sender retries a refused delivery as vendors
// do. Every delivery answered 200 is in the topic, and after the pipeline
// ran each event is stored once, however often it was retried.
func TestIngestBurstThroughABrokerKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts its own broker, registry and ClickHouse")
	}
	svc, broker, _, _ := ownServices(t)
	senders, outage := 4, 5*time.Second
	if chaosLong() {
		senders, outage = 16, 30*time.Second
	}
	s := newStackOn(t, svc)
	s.mustRunFast("topics")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	listen := freeAddr(t)
	gateway, stderr, exited := startIngest(t, ctx, listen, []string{"--metrics-addr", "", "--retry-after", "1s"},
		"BATON_BROKERS="+strings.Join(svc.brokers, ","), "BATON_REGISTRY_URL="+svc.registry, "BATON_TOPIC_PREFIX="+s.prefix)
	base := "http://" + listen
	waitReady(t, ctx, base, stderr)

	// Each sender delivers its own events until told to stop, retrying a
	// refused one after a pause, as a vendor would.
	var (
		mu      sync.Mutex
		acked   []string
		refused int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("burst-%d-%d", i, n)
				body := []byte(`{"event_id":"` + id + `","order_id":"o-` + strconv.Itoa(n%50) + `","warehouse_id":"DC1","status":"picked","items":[],"occurred_at":"2026-11-01T10:00:00Z"}`)
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/wms", bytes.NewReader(body))
					req.Header.Set(generic.SignatureHeader, generic.Sign("generic-shh", body))
					resp, err := client.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							mu.Lock()
							acked = append(acked, id)
							mu.Unlock()
							break
						}
						if resp.StatusCode != http.StatusServiceUnavailable {
							t.Errorf("delivery %s: %d, want 200 or 503", id, resp.StatusCode)
							return
						}
					}
					mu.Lock()
					refused++
					mu.Unlock()
					time.Sleep(200 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	broker.stop(syscall.SIGKILL)
	time.Sleep(outage)
	select {
	case err := <-exited:
		t.Fatalf("baton ingest exited while the broker was down: %v\n%s", err, stderr.String())
	default:
	}
	broker.start()
	waitReady(t, ctx, base, stderr)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	mu.Lock()
	t.Logf("%d senders: %d deliveries answered 200, %d refused and retried (broker down %s)", senders, len(acked), refused, outage)
	mu.Unlock()
	if refused == 0 {
		t.Errorf("no delivery was refused while the broker was down: the outage missed the burst")
	}

	for _, id := range missingEventsOn(t, ctx, svc, s.topics().Source(schemas.WMS).Name, acked) {
		t.Errorf("delivery %s was answered 200 but is not in the topic", id)
	}
	gateway.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Errorf("baton ingest after SIGTERM: %v", err)
	}
	s.runUntilCaughtUp(nil)
	rows, distinct := s.count("SELECT count() FROM "+s.database+".canonical_events WHERE source_system = 'wms'"),
		s.count("SELECT uniqExact(source_event_id) FROM "+s.database+".canonical_events WHERE source_system = 'wms'")
	if rows != distinct || distinct < uint64(len(acked)) {
		t.Errorf("canonical_events: %d rows for %d distinct WMS events; want each of the %d acknowledged events once", rows, distinct, len(acked))
	}
}

// rssMiB is a process's resident set size, from /proc.
func rssMiB(t *testing.T, pid int) float64 {
	t.Helper()
	mib, err := procstat.MiB(pid, procstat.RSS)
	if err != nil {
		t.Logf("RSS of process %d: %v", pid, err)
	}
	return mib
}

// TestSoak runs `baton run` live under a steady pace (BATON_SOAK_PACE
// events/s, default 300; `make soak` 1,500) for BATON_SOAK_MINUTES (1 in
// `make test`, 120 for `make soak`), sampling its resident memory, and
// requires every source record stored once and the tables of a clean
// replay. Memory must level off: the last quarter's peak at most 10% (and
// 32 MiB) above the third quarter's.
//
// The soak keeps the default allowed lateness (--retention, 30 days):
// the simulator holds some events back past their key's next one, up to
// 24 days of event time behind their partition (20,000 orders, seed 7),
// and an event later than the allowed lateness is too late, which a live
// run and its replay can judge differently (their batches differ). With
// --retention 240h a one-minute soak dead-lettered one notification
// event too_late that the replay took. So the state's bounds are the
// defaults' in event time: a closed order's state about 60 days (30 of
// life, 30 of lateness), an open one's --idle-timeout (40 days here)
// plus 30. The simulator covers about 16 days of event time per hour at
// 300 events/s, 80 at 1,500: at `make soak`'s pace the state is full
// after about 55 minutes, and a 2-hour soak shows whether it levels off.
// Held scans keep their default day: a 10-minute hold timeout (2 s of
// wall time at 300 events/s, less than the partitions' arrival skew)
// dead-lettered 6 carrier scans live that the replay placed. Dedupe keys
// are bounded to 10 minutes: their window runs on delivery time (the
// records' timestamps, the same in the replay), so the default day keeps
// every key of a 2-hour soak (1.8 million normalize entries and a
// growing RSS at minute 100). The samples are logged for the note.
func TestSoak(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a soak")
	}
	minutes := 1.0
	if v := os.Getenv("BATON_SOAK_MINUTES"); v != "" {
		var err error
		if minutes, err = strconv.ParseFloat(v, 64); err != nil || minutes <= 0 {
			t.Fatalf("BATON_SOAK_MINUTES=%q: want minutes", v)
		}
	}
	pace := 300.0 // events per second
	if v := os.Getenv("BATON_SOAK_PACE"); v != "" {
		var err error
		if pace, err = strconv.ParseFloat(v, 64); err != nil || pace <= 0 {
			t.Fatalf("BATON_SOAK_PACE=%q: want events per second", v)
		}
	}
	const eventsPerOrder = 35 // about, in the ground-truth profile
	orders := int(minutes * 60 * pace / eventsPerOrder)
	s := newStack(t)
	s.mustRunFast("topics")
	metrics := freeAddr(t)
	// The default retention (30 days), not the harness's: the soak's
	// memory is what a production default holds.
	bounded := []string{"--dedupe-window", "10m", "--idle-timeout", "960h", "--retention", "720h"}
	run, runLog, runExited := s.startLiveRun(t, append([]string{"--flush-interval", "200ms", "--metrics-addr", metrics}, bounded...)...)
	simLog, simExited := s.startFast(t, "simulate", "--orders", strconv.Itoa(orders), "--seed", "8", "--start", "2026-06-01T06:00:00Z",
		"--pace", strconv.FormatFloat(pace, 'f', -1, 64))
	start := time.Now()
	var samples []float64
	// Beside each RSS sample, what the state holds: why memory grows, or
	// that it has stopped growing (evictions keeping pace).
	var states []string
	sampleState := func() {
		states = append(states, fmt.Sprintf("%s: RSS %.0f MiB, heap %.0f MiB, normalize %.0f entries, unify %.0f orders, %.0f closed evicted",
			time.Since(start).Round(time.Second), samples[len(samples)-1], metricValue(t, metrics, "go_memstats_heap_alloc_bytes")/(1<<20),
			metricValue(t, metrics, `baton_state_entries{stage="normalize"}`), metricValue(t, metrics, `baton_state_entries{stage="unify"}`),
			metricValue(t, metrics, `baton_unify_evicted_orders_total{reason="closed"}`)))
	}
	every := max(5*time.Second, time.Duration(minutes*float64(time.Minute))/24)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for simDone := false; !simDone; {
		select {
		case err := <-simExited:
			if err != nil {
				t.Fatalf("simulate: %v\n%s", err, simLog.String())
			}
			simDone = true
		case err := <-runExited:
			t.Fatalf("baton run exited during the soak: %v\n%s", err, lastLines(runLog.String(), 40))
		case <-tick.C:
			samples = append(samples, rssMiB(t, run.Process.Pid))
			sampleState()
		}
	}
	waitFor(t, 5*time.Minute, "the run to store every source record", func() bool {
		return s.rowsIn("source_events") >= uint64(s.totalProduced())
	})
	samples = append(samples, rssMiB(t, run.Process.Pid))
	sampleState()
	t.Logf("%d orders at %v events/s for %s: RSS MiB every %s: %.0f\n%s", orders, pace, time.Since(start).Round(time.Second), every, samples, strings.Join(states, "\n"))
	stopLiveRun(t, run, runExited)
	if q := len(samples) / 4; minutes >= 10 && q > 0 {
		third, last := slices.Max(samples[2*q:3*q]), slices.Max(samples[3*q:])
		if last > third*1.1 && last > third+32 {
			t.Errorf("RSS does not level off: peak %.0f MiB in the third quarter of the run, %.0f MiB in the last", third, last)
		}
	}
	s.runUntilCaughtUp(nil, bounded...) // whatever the stop left in flight
	s.assertExactlyStored()
	replay := newStack(t)
	replay.copySources(s, false, false)
	replay.runUntilCaughtUp(nil, bounded...)
	assertSameTables(t, "the soak against a clean replay", replay, s)
}
