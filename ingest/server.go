package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Handler returns the gateway's HTTP API:
//
//	POST /webhooks/{vendor}  one delivery for that vendor's adapter
//	GET  /healthz            200 while the process serves (liveness), with
//	                         Kafka's state for information
//	GET  /readyz             200 while deliveries can be produced to Kafka,
//	                         503 with Retry-After otherwise (readiness)
//
// Responses are JSON: {"events": n} on 200, {"error": "..."} otherwise.
// Liveness never depends on Kafka: an orchestrator must not restart a
// gateway that answers 503 correctly during an outage, only stop routing
// to it.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/{vendor}", g.serveWebhook)
	mux.HandleFunc("GET /healthz", g.serveHealth)
	mux.HandleFunc("GET /readyz", g.serveReady)
	return mux
}

func (g *Gateway) serveWebhook(w http.ResponseWriter, r *http.Request) {
	vendor := r.PathValue("vendor")
	defer func() {
		// Handle already recovers adapter panics; this guards the rest.
		if v := recover(); v != nil {
			g.log.Error("webhook handler panicked", "vendor", vendor, "panic", v)
			g.metrics.Requests.WithLabelValues(g.vendorLabel(vendor), OutcomeError).Inc()
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "internal error"})
		}
	}()
	a, ok := g.adapters[vendor]
	if !ok {
		if why, disabled := g.cfg.Disabled[vendor]; disabled {
			g.metrics.Requests.WithLabelValues(vendor, OutcomeNotConfigured).Inc()
			writeJSON(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("webhook vendor %q is not configured on this gateway: %s", vendor, why)})
			return
		}
		g.metrics.Requests.WithLabelValues("unknown", OutcomeUnknownVendor).Inc()
		writeJSON(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("no webhook vendor %q; configured: %s", vendor, strings.Join(g.Vendors(), ", "))})
		return
	}
	body, err := g.readBody(w, r)
	if err != nil {
		status, label := http.StatusBadRequest, OutcomeBadRequest
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			status, label = http.StatusRequestEntityTooLarge, OutcomeTooLarge
		}
		g.metrics.Requests.WithLabelValues(vendor, label).Inc()
		writeJSON(w, status, map[string]any{"error": fmt.Sprintf("%s webhook: %v", vendor, err)})
		return
	}
	out := g.Handle(r.Context(), a, Request{Header: r.Header, Body: body, Received: g.cfg.Now()})
	if out.Status == http.StatusServiceUnavailable {
		g.setRetryAfter(w)
	}
	if out.Status >= 200 && out.Status < 300 {
		writeJSON(w, out.Status, map[string]any{"events": out.Events})
		return
	}
	msg := http.StatusText(out.Status)
	if out.Err != nil {
		msg = out.Err.Error()
	}
	writeJSON(w, out.Status, map[string]any{"error": msg})
}

// readBody reads the whole body up to MaxBody. A declared Content-Length
// over the limit is refused before reading anything.
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := g.cfg.MaxBody
	if r.ContentLength > limit {
		return nil, fmt.Errorf("body of %d bytes is over the %d-byte limit: %w", r.ContentLength, limit, &http.MaxBytesError{Limit: limit})
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("body larger than the %d-byte limit: %w", limit, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	return body, nil
}

func (g *Gateway) vendorLabel(vendor string) string {
	if _, ok := g.adapters[vendor]; ok {
		return vendor
	}
	return "unknown"
}

// setRetryAfter advertises RetryAfter, in whole seconds rounded up.
func (g *Gateway) setRetryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int((g.cfg.RetryAfter+time.Second-1)/time.Second)))
}

// kafkaText is Kafka's state for /healthz and /readyz.
func (g *Gateway) kafkaText() (state string, ready bool) {
	switch err := g.KafkaState(); {
	case err == nil:
		return "ok", true
	case !g.started.Load():
		return "connecting: " + err.Error(), false
	default:
		return "unreachable: " + err.Error(), false
	}
}

func (g *Gateway) serveHealth(w http.ResponseWriter, _ *http.Request) {
	disabled := make([]string, 0, len(g.cfg.Disabled))
	for v := range g.cfg.Disabled {
		disabled = append(disabled, v)
	}
	kafka, _ := g.kafkaText()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "kafka": kafka, "vendors": g.Vendors(), "disabled": disabled})
}

func (g *Gateway) serveReady(w http.ResponseWriter, _ *http.Request) {
	kafka, ready := g.kafkaText()
	if !ready {
		g.setRetryAfter(w)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "kafka": kafka})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ready": true, "kafka": kafka})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Serve serves Handler on ln, and keeps Kafka's state for /readyz (starting
// the gateway first if ConnectInBackground), until ctx is done, then stops accepting
// deliveries and waits (up to ShutdownTimeout) for those in flight to be
// answered: a delivery Kafka is acknowledging is never cut off, so a stop
// never turns an acknowledged webhook into one the sender thinks failed or
// vice versa. It returns nil after a clean stop.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Vendors send a few short headers; the dead letter of a rejected
		// delivery keeps them, and must fit in a Kafka record.
		MaxHeaderBytes: 64 << 10,
		// A body of MaxBody must arrive in this time; slow senders must
		// not hold connections forever.
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30*time.Second + g.cfg.ProduceTimeout,
		IdleTimeout:  2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go g.watchKafka(watchCtx)
	select {
	case err := <-served:
		return fmt.Errorf("ingest gateway: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("ingest gateway: deliveries still in flight after %s: %w", g.cfg.ShutdownTimeout, err)
	}
	<-served
	return nil
}
