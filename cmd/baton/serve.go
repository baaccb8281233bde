package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/serve"
)

// defaultServeMetricsAddr differs from run's and ingest's metrics ports so
// all three run on one host with their defaults.
const defaultServeMetricsAddr = "127.0.0.1:9466"

const serveUsage = `Usage: baton serve [flags]

Serves what the pipeline stored in ClickHouse to people: the order page for
agents (/, /orders/{id}), the scorecard with charts for analysts
(/scorecard), and the JSON API (/api/orders/{id}, /api/search?q=,
/api/scorecard, /api/wismo?month=); see README "baton serve".

Without --token it listens on loopback only; on any other address every
request needs the token (Authorization: Bearer, or the login page's cookie).

Flags:`

// runServe is `baton serve`.
func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), serveUsage)
		fs.PrintDefaults()
	}
	var chf clickhouseFlags
	chf.register(fs)
	listen := fs.String("listen", envOr("BATON_SERVE_LISTEN", serve.DefaultListen), "address to serve on; anything but loopback needs --token (env BATON_SERVE_LISTEN)")
	token := fs.String("token", envOr("BATON_SERVE_TOKEN", ""), "token every request must carry; prefer the environment variable, flags show in process listings (env BATON_SERVE_TOKEN)")
	zendesk := fs.String("zendesk-subdomain", envOr("BATON_ZENDESK_SUBDOMAIN", ""), "the Zendesk subdomain (acme for acme.zendesk.com) whose ticket sidebar may frame the pages; empty: no framing (env BATON_ZENDESK_SUBDOMAIN)")
	viewersFile := fs.String("viewers-file", envOr("BATON_VIEWERS_FILE", ""), "viewer rules file (SLAs, statuses each viewer must show), as baton run's; default: the embedded one (env BATON_VIEWERS_FILE)")
	var metricsAt metricsFlags
	metricsAt.register(fs, "BATON_SERVE_METRICS_ADDR", defaultServeMetricsAddr)
	log, err := parseLogged(fs, args)
	if err != nil {
		return err
	}
	// Refuse an exposed listener before connecting to anything.
	if err := serve.CheckAccess(*listen, *token); err != nil {
		return usageError{err.Error()}
	}
	viewers, err := loadViewers(*viewersFile)
	if err != nil {
		return err
	}
	ch, err := chf.openExisting(ctx)
	if err != nil {
		return err
	}
	defer ch.Close()
	promReg := processRegistry()
	srv, err := serve.New(serve.Config{Store: ch, Listen: *listen, Token: *token, ZendeskSubdomain: *zendesk,
		Viewers: viewers, Metrics: serve.NewMetrics(promReg), Logger: log})
	if err != nil {
		return err
	}
	stopMetrics, err := startMetrics(metricsAt, promReg, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("serve listener %s: %w", *listen, err)
	}
	log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "clickhouse", chf.addr, "database", chf.database,
		"token", *token != "", "zendesk_subdomain", *zendesk)
	return serveUntilDone(ctx, ln, srv)
}

// loadViewers reads the viewer rules file, or the embedded rules.
func loadViewers(path string) (*synccheck.Viewers, error) {
	if path == "" {
		return synccheck.DefaultViewers()
	}
	return synccheck.LoadViewers(path)
}

// serveUntilDone serves h on ln until ctx is cancelled, then lets the
// requests in flight finish (5 s at most).
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
