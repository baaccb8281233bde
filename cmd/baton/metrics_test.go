package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsAddressServesProfilesOnlyWhenAsked: the metrics address
// answers Prometheus at /metrics, and Go's profiler at /debug/pprof/ (where
// a stage's CPU goes, without a rebuild) only with --pprof: profiles show
// the process's internals and cost CPU to take.
func TestMetricsAddressServesProfilesOnlyWhenAsked(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		reg := prometheus.NewRegistry()
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_test_total", Help: "a test counter"})
		reg.MustRegister(c)
		stop, err := startMetrics(metricsFlags{addr: addr, pprof: pprof}, reg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		for path, want := range map[string]string{"/metrics": "baton_test_total 0", "/debug/pprof/": "goroutine", "/debug/pprof/heap?debug=1": "heap profile"} {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			served := resp.StatusCode == http.StatusOK && strings.Contains(string(body), want)
			if wantServed := pprof || path == "/metrics"; served != wantServed {
				t.Errorf("--pprof=%v: GET %s: %d, served %v, want %v", pprof, path, resp.StatusCode, served, wantServed)
			}
		}
		stop()
	}
}
