package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/baton-pipeline/baton/internal/procstat"
	"github.com/baton-pipeline/baton/pipelines"
	"github.com/baton-pipeline/baton/pipelines/stream"
	"github.com/baton-pipeline/baton/processors/normalize"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/processors/wismo"
	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/statusmap"
	"github.com/baton-pipeline/baton/topology"
)

func runPipeline(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var (
		kf  kafkaFlags
		chf clickhouseFlags
		cfg pipelines.SourceSinkConfig
	)
	kf.register(fs)
	chf.register(fs)
	prefix := topicFlag(fs)
	var metricsAt metricsFlags
	metricsAt.register(fs, "BATON_METRICS_ADDR", defaultMetricsAddr)
	appID := fs.String("app-id", envOr("BATON_APP_ID", pipelines.DefaultAppID), "deployment name: every process with the same ID shares the work; the consumer groups are <app-id>-normalize, <app-id>-unify and <app-id>-sink (env BATON_APP_ID)")
	fs.IntVar(&cfg.BatchSize, "batch-size", 20000, "records per ClickHouse insert, at most")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", time.Second, "longest wait before a partial batch is written")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a stop request waits for the batch in flight")
	fs.DurationVar(&cfg.SessionTimeout, "session-timeout", 45*time.Second, "consumer group session timeout: how long a crashed process's partitions wait before moving")
	fs.BoolVar(&cfg.UntilCaughtUp, "until-caught-up", false, "exit 0 once everything in the source topics at start is normalized, unified and stored (the stages run at once, each finishing after the one before it; no idle advance)")
	oneAtATime := fs.Bool("one-stage-at-a-time", false, "with --until-caught-up: run normalize, then unify, then the sink, each to the end, instead of all three at once (about half the peak memory, about twice the time: for small hosts)")
	mapsDir := fs.String("statusmap-dir", envOr("BATON_STATUSMAP_DIR", ""), "directory of status map files overriding the embedded ones (env BATON_STATUSMAP_DIR)")
	var normCfg normalize.Config
	fs.DurationVar(&normCfg.HoldTimeout, "hold-timeout", normalize.DefaultHoldTimeout, "how long, in event time, a carrier scan or a help-desk event without an order waits for its link (its tracking number's, its ticket's) before it is dead-lettered as unlinked")
	fs.DurationVar(&normCfg.DedupeWindow, "dedupe-window", normalize.DefaultDedupeWindow, "how long a source event ID is remembered to drop redeliveries")
	fs.DurationVar(&normCfg.MaxFutureSkew, "max-future-skew", normalize.DefaultMaxFutureSkew, "how far after its arrival an event's own time may lie before it is rejected")
	authorityFile := fs.String("authority-file", envOr("BATON_AUTHORITY_FILE", ""), "authority rules file (which system is the source of truth for which status) overriding the embedded one (env BATON_AUTHORITY_FILE)")
	var unifyCfg unify.Config
	fs.DurationVar(&unifyCfg.Retention, "retention", unify.DefaultRetention, "the allowed lateness, in event time: how long after it closed a closed order takes events into its history, how far behind its source clock (how far its source partition had been processed when normalize read it) an event may be before it is dead-lettered too_late, and how long a tracking number's or ticket's link to its order lives after its last use; raise it above a backfill's span")
	fs.DurationVar(&unifyCfg.IdleTimeout, "idle-timeout", 0, "how long, in event time, an open order without events lives in the unify state (default the larger of 120 days and 4 × --retention)")
	viewersFile := fs.String("viewers-file", envOr("BATON_VIEWERS_FILE", ""), "viewer rules file (which systems are checked against the truth, their SLAs and statuses) overriding the embedded one (env BATON_VIEWERS_FILE)")
	fs.BoolVar(&unifyCfg.SyncChecks, "sync-checks", true, "check the viewers (storefront, help desk, notifications) against the truth (false: off, to measure what they cost)")
	fs.BoolVar(&unifyCfg.Delays, "delay-notices", true, "detect delays (a missed ship-by, an estimate past the promised delivery, a carrier problem), emit FTC-style delay notices and check the customer was told in time")
	fs.BoolVar(&unifyCfg.Wismo, "wismo", true, "classify help-desk tickets as WISMO (\"where is my order?\") and attribute each to the cause visible when the customer asked (a viewer out of sync, a delay not notified, a carrier exception, none)")
	wismoRules := fs.String("wismo-rules", envOr("BATON_WISMO_RULES", ""), "WISMO rules file (tags, keywords, attributable viewers) overriding the embedded wismo.map (env BATON_WISMO_RULES)")
	idleAdvance := fs.Duration("idle-advance", pipelines.DefaultIdleAdvance, "advance a quiet unify partition's watermark by wall-clock time after this long without records, so failed syncs are raised in quiet periods (0: never; off with --until-caught-up)")
	lagInterval := fs.Duration("lag-interval", pipelines.DefaultLagInterval, "how often baton_consumer_lag_records is refreshed from the groups' committed offsets and the end offsets")
	stallAfter := fs.Duration("stall-after", stream.DefaultStallAfter, "how long a partition with records to process (or a state restore) may make no progress before it counts as stalled: logged, in baton_stage_stalled_seconds, and /readyz answers 503")
	maxUnmappedCodes := fs.Int("max-unmapped-codes", pipelines.DefaultMaxUnmappedCodes, "distinct codes baton_unmapped_status_total keeps as labels; later ones count as code \"other\" (each event's dead letter has its code)")
	log, err := parseLogged(fs, args)
	if err != nil {
		return err
	}
	if err := topology.Check(); err != nil {
		return fmt.Errorf("the topology's declarations: %w", err)
	}
	if *oneAtATime && !cfg.UntilCaughtUp {
		return flagErrorf("--one-stage-at-a-time: only with --until-caught-up (a live run's stages never end)")
	}
	if *maxUnmappedCodes < 1 {
		return flagErrorf("--max-unmapped-codes %d: want 1 or more", *maxUnmappedCodes)
	}
	cfg.Logger = log
	cfg.Group = pipelines.StageGroup(*appID, "sink")
	cfg.Brokers = kf.brokerList()
	cfg.Topics = topology.New(*prefix)

	// Metrics, /healthz and /readyz first: a pipeline that waits for its
	// dependencies is alive, says it is not ready, and shows why.
	promReg := processRegistry()
	metrics := pipelines.NewMetrics(promReg)
	stageMetrics := pipelines.NewStageMetrics(promReg)
	stalls := stream.NewStalls(promReg, log)
	stalls.After = *stallAfter
	lag := &pipelines.LagExporter{Metrics: metrics, Stalls: stalls, Interval: *lagInterval, Logger: log}
	health := &runHealth{stalls: stalls, lag: lag, lagInterval: *lagInterval}
	stopMetrics, err := startMetrics(metricsAt, promReg, log, health.routes()...)
	if err != nil {
		return err
	}
	defer stopMetrics()

	ch, err := waitForClickHouse(ctx, log, &chf)
	if err != nil {
		return err
	}
	defer ch.Close()
	reg, err := kf.registryClient()
	if err != nil {
		return err
	}
	producer, err := kf.client()
	if err != nil {
		return err
	}
	defer producer.Close()
	if err := stream.WaitFor(ctx, log, "create topics", func() error {
		return topology.EnsureTopics(ctx, kadm.NewClient(producer), cfg.Topics.All()...)
	}); err != nil {
		return err
	}
	var enc map[string]*schemas.Encoder
	if err := stream.WaitFor(ctx, log, "register schemas", func() (err error) {
		enc, err = topology.RegisterSchemas(ctx, reg, cfg.Topics.All()...)
		return err
	}); err != nil {
		return err
	}
	if normCfg.Maps, err = loadStatusMaps(*mapsDir); err != nil {
		return err
	}
	normCfg.LinkSources = normalize.LinkSourceKeys(cfg.Topics.Partitions)
	unifyCfg.Origins = int(cfg.Topics.Partitions) // every normalize partition announces its progress to every unify partition
	// One allowed lateness: an order's links live as long as the order
	// (and at least as long as an event may wait for its link).
	normCfg.LinkRetention = max(unifyCfg.Retention, normCfg.HoldTimeout)
	// A source system stopped holds unify's evictions back for at most
	// as long as anything stays in its state.
	normCfg.ProgressLag = unify.IdleTimeoutOr(unifyCfg.IdleTimeout, unifyCfg.Retention)
	proc, err := normalize.New(normCfg)
	if err != nil {
		return err
	}
	decoder := schemas.NewDecoder(reg)
	stage := func(name string) pipelines.StageConfig {
		return pipelines.StageConfig{Brokers: cfg.Brokers, Topics: cfg.Topics, Group: pipelines.StageGroup(*appID, name), Encoders: enc, Decoder: decoder,
			Metrics: metrics, StageMetrics: stageMetrics, SessionTimeout: cfg.SessionTimeout, UntilCaughtUp: cfg.UntilCaughtUp, Stalls: stalls, Logger: log}
	}
	normMetrics := pipelines.NewNormalizeMetrics(promReg)
	normMetrics.StartAtZero(metrics)
	if err := normMetrics.BoundUnmappedCodes(promReg, *maxUnmappedCodes); err != nil {
		return err
	}
	norm, err := pipelines.NewNormalize(pipelines.NormalizeConfig{StageConfig: stage("normalize"), Processor: proc, NormMetrics: normMetrics})
	if err != nil {
		return err
	}
	if unifyCfg.Authority, err = loadAuthority(*authorityFile); err != nil {
		return err
	}
	if *viewersFile != "" {
		if unifyCfg.Viewers, err = synccheck.LoadViewers(*viewersFile); err != nil {
			return err
		}
	}
	if *wismoRules != "" {
		if unifyCfg.WismoRules, err = wismo.LoadRules(*wismoRules); err != nil {
			return err
		}
	}
	if *idleAdvance == 0 || cfg.UntilCaughtUp {
		// Off until caught up: a backlog has no quiet periods, only
		// partitions that wait for normalize, and the wall clock must
		// not move a replay's event time.
		*idleAdvance = -1 // UnifyConfig: negative is off, zero the default
	}
	unifier, err := unify.New(unifyCfg)
	if err != nil {
		return err
	}
	// Until caught up, the stages run at once: each takes its target when
	// the one before it has caught up (its inputs stop growing then).
	normalized, unified := make(chan struct{}), make(chan struct{})
	uniStage := stage("unify")
	if cfg.UntilCaughtUp {
		uniStage.Upstream, cfg.Upstream = normalized, unified
	}
	uni, err := pipelines.NewUnify(pipelines.UnifyConfig{StageConfig: uniStage, Processor: unifier, UnifyMetrics: pipelines.NewUnifyMetrics(promReg), IdleAdvance: *idleAdvance})
	if err != nil {
		return err
	}
	cfg.Stalls = stalls
	dead := &records.DeadLetters{Stage: "sink", Topic: cfg.Topics.Name(topology.DeadLetter), Encoder: enc[cfg.Topics.Name(topology.DeadLetter)], Counter: metrics.DeadLetters}
	sink, err := pipelines.NewSourceSink(ctx, cfg, decoder, ch, dead, metrics)
	if err != nil {
		return err
	}
	lagCtx, stopLag := context.WithCancel(ctx)
	defer stopLag()
	lag.Admin, lag.Sources = kadm.NewClient(producer), []pipelines.LagSource{norm.Lag(), uni.Lag(), sink.Lag()}
	go lag.Run(lagCtx)
	log.Info("pipeline running", "brokers", kf.brokers, "clickhouse", chf.addr, "database", chf.database, "app_id", *appID)
	start := time.Now()
	switch {
	case *oneAtATime:
		// Each stage's upstream has closed before it starts, so it takes
		// its target at once.
		err = runInTurn(ctx, closeAfter(norm.Run, normalized), closeAfter(uni.Run, unified), sink.Run)
	case cfg.UntilCaughtUp:
		err = runConcurrently(ctx, closeAfter(norm.Run, normalized), closeAfter(uni.Run, unified), sink.Run)
	default:
		err = runConcurrently(ctx, norm.Run, uni.Run, sink.Run)
	}
	st, elapsed := sink.Stats(), time.Since(start)
	log.Info("pipeline stopped", "rows_stored", st.Rows, "dead_letters", st.DeadLetters, "batches", st.Batches,
		"seconds", fmt.Sprintf("%.2f", elapsed.Seconds()),
		"rows_per_second", fmt.Sprintf("%.0f", float64(st.Rows)/elapsed.Seconds()),
		"peak_rss_mib", fmt.Sprintf("%.1f", peakRSSMiB()))
	return err
}

// runConcurrently runs the stages until ctx ends or one fails, then stops
// the others and returns the first failure.
func runConcurrently(ctx context.Context, stages ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(stages))
	for _, run := range stages {
		go func() { errs <- run(ctx) }()
	}
	var first error
	for range stages {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// runInTurn runs the stages one after another, each to its end, and stops
// at the first failure.
func runInTurn(ctx context.Context, stages ...func(context.Context) error) error {
	for _, run := range stages {
		if err := run(ctx); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// closeAfter is run that closes done when it returns.
func closeAfter(run func(context.Context) error, done chan<- struct{}) func(context.Context) error {
	return func(ctx context.Context) error {
		defer close(done)
		return run(ctx)
	}
}

// loadStatusMaps returns the embedded status maps, or those in dir.
func loadStatusMaps(dir string) (*statusmap.Set, error) {
	if dir == "" {
		return statusmap.Default()
	}
	return statusmap.LoadDir(dir)
}

// loadAuthority returns the embedded authority rules, or those in file.
func loadAuthority(file string) (*unify.Authority, error) {
	if file == "" {
		return unify.DefaultAuthority()
	}
	return unify.LoadAuthority(file)
}

// peakRSSMiB is this process's peak resident set size since it started
// (procstat.PeakRSS); 0 when it cannot be read.
func peakRSSMiB() float64 {
	mib, _ := procstat.MiB(0, procstat.PeakRSS)
	return mib
}

// processRegistry is a fresh registry with the Go runtime's and the
// process's collectors, which every command serving metrics exposes.
func processRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// route is one more handler on the metrics address.
type route struct {
	pattern string
	handler http.HandlerFunc
}

// metricsFlags say where a command serves its metrics, and whether Go's
// profiler is served there too.
type metricsFlags struct {
	addr  string
	pprof bool
}

// register adds --metrics-addr (default from env, then dflt) and --pprof
// to fs.
func (m *metricsFlags) register(fs *flag.FlagSet, env, dflt string) {
	fs.StringVar(&m.addr, "metrics-addr", envOr(env, dflt), "serve Prometheus metrics on this address at /metrics; empty disables (env "+env+")")
	fs.BoolVar(&m.pprof, "pprof", false, "also serve Go's profiler at /debug/pprof/ on the metrics address (off by default: profiles show the process's internals, and taking one costs CPU)")
}

// startMetrics serves reg at /metrics on m's address, and the routes,
// until the returned stop is called; an empty address serves nothing (stop
// does nothing then).
func startMetrics(m metricsFlags, reg *prometheus.Registry, log *slog.Logger, routes ...route) (stop func(), err error) {
	if m.addr == "" {
		return func() {}, nil
	}
	if m.pprof {
		routes = append(routes, profilerRoutes()...)
	}
	if stop, err = serveMetrics(m.addr, reg, routes...); err != nil {
		return nil, err
	}
	log.Info("serving metrics", "url", "http://"+m.addr+"/metrics", "pprof", m.pprof)
	return stop, nil
}

// profilerRoutes serve Go's profiles (go tool pprof
// http://ADDR/debug/pprof/profile): where a stage's CPU goes is the first
// question of a throughput problem, answered without a rebuild.
func profilerRoutes() []route {
	return []route{
		{"/debug/pprof/", pprof.Index},
		{"/debug/pprof/cmdline", pprof.Cmdline},
		{"/debug/pprof/profile", pprof.Profile},
		{"/debug/pprof/symbol", pprof.Symbol},
		{"/debug/pprof/trace", pprof.Trace},
	}
}

// serveMetrics serves reg at /metrics, and the routes, until the returned
// stop is called.
func serveMetrics(addr string, reg *prometheus.Registry, routes ...route) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	for _, r := range routes {
		mux.Handle(r.pattern, r.handler)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			newLogger().Error("metrics server", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// waitForClickHouse opens baton's database and migrates it, waiting for a
// server that does not answer yet.
func waitForClickHouse(ctx context.Context, log *slog.Logger, chf *clickhouseFlags) (*clickhouse.Client, error) {
	var ch *clickhouse.Client
	err := stream.WaitFor(ctx, log, "open ClickHouse at "+chf.addr, func() (err error) {
		if ch, err = chf.open(ctx); err != nil {
			return err
		}
		if err = ch.Migrate(ctx); err != nil {
			ch.Close()
		}
		return err
	})
	return ch, err
}

// runHealth answers /healthz and /readyz on the metrics address of `baton
// run`.
type runHealth struct {
	stalls      *stream.Stalls
	lag         *pipelines.LagExporter
	lagInterval time.Duration
}

func (h *runHealth) routes() []route {
	return []route{{"GET /healthz", h.serveHealth}, {"GET /readyz", h.serveReady}}
}

// serveHealth is liveness: 200 while the process serves. A dependency
// that is away does not make baton unhealthy (it waits for it; a restart
// would not help), so an orchestrator never restarts it for that.
func (h *runHealth) serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeHealthJSON(w, http.StatusOK, map[string]any{"status": "ok", "running": h.stalls.RunningStages()})
}

// serveReady is 200 while every running stage makes progress: a stage
// runs, Kafka answered the last lag refresh (within three intervals), and
// no partition is stalled (see stream.Stalls). Otherwise 503, with
// what is wrong.
func (h *runHealth) serveReady(w http.ResponseWriter, _ *http.Request) {
	var problems []string
	running := h.stalls.RunningStages()
	if len(running) == 0 {
		problems = append(problems, "no stage is running yet (waiting for ClickHouse, Kafka or the registry; see the log)")
	}
	refreshed := h.lag.Refreshed()
	if len(running) > 0 && (refreshed.IsZero() || time.Since(refreshed) > 3*cmp.Or(h.lagInterval, pipelines.DefaultLagInterval)) {
		problems = append(problems, "Kafka did not answer the consumer lag refresh lately")
	}
	problems = append(problems, h.stalls.Stalled()...)
	body := map[string]any{"ready": len(problems) == 0, "running": running}
	if len(problems) > 0 {
		body["problems"] = problems
		writeHealthJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeHealthJSON(w, http.StatusOK, body)
}

func writeHealthJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
