package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/baton-pipeline/baton/internal/testenv"
)

// tool finds one of the names of a Debian package's binary; a missing one
// fails the test (scripts/install-deps.sh installs them).
func tool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("none of %v on PATH: run scripts/install-deps.sh (Debian packages prometheus, prometheus-alertmanager)", names)
	return ""
}

// alertmanagerConfig is deploy/alertmanager/alertmanager.yml for a test:
// the receivers' url_file (which Debian's Alertmanager 0.25 predates)
// becomes url, and the first notification waits 1 s instead of 30 s.
// Routes, grouping and inhibition are the file's.
func alertmanagerConfig(t *testing.T, url string) string {
	t.Helper()
	b, err := os.ReadFile("alertmanager/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, repl := range map[string]string{"url_file: /run/secrets/alert_webhook_url": "url: " + url, "group_wait: 30s": "group_wait: 1s"} {
		if !strings.Contains(s, old) {
			t.Fatalf("alertmanager.yml no longer has %q: update this test", old)
		}
		s = strings.ReplaceAll(s, old, repl)
	}
	p := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs a server process until the test ends.
func start(t *testing.T, bin string, args ...string) *bytes.Buffer {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &out
}

// TestAlertRoutes: critical alerts go to baton-critical, the rest to baton.
func TestAlertRoutes(t *testing.T) {
	amtool := tool(t, "amtool")
	cfg := alertmanagerConfig(t, "http://127.0.0.1:1/")
	if out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	for labels, want := range map[string]string{
		"alertname=BatonDown severity=critical":          "baton-critical",
		"alertname=BatonUnmappedStatus severity=warning": "baton",
	} {
		out, err := exec.Command(amtool, append([]string{"config", "routes", "test", "--config.file=" + cfg}, strings.Fields(labels)...)...).Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s routes to %q (%v), want %s", labels, out, err, want)
		}
	}
}

// TestFiringRuleReachesTheWebhook runs the alert path for real: Prometheus
// with deploy/prometheus/rules scrapes a target showing an unmapped status
// code, BatonUnmappedStatus fires, Alertmanager with this repository's
// routing sends it to a local webhook receiver.
func TestFiringRuleReachesTheWebhook(t *testing.T) {
	prom, am := tool(t, "prometheus"), tool(t, "alertmanager", "prometheus-alertmanager")
	type alert struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	}
	got := make(chan struct {
		receiver string
		alert    alert
	}, 64)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Receiver string  `json:"receiver"`
			Alerts   []alert `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err == nil {
			for _, a := range msg.Alerts {
				got <- struct {
					receiver string
					alert    alert
				}{msg.Receiver, a}
			}
		}
	}))
	defer receiver.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `baton_unmapped_status_total{system="carrier",code="lost_in_space"} 3`)
	}))
	defer target.Close()

	amAddr, promAddr, dir := testenv.FreeAddr(t), testenv.FreeAddr(t), t.TempDir()
	amOut := start(t, am, "--config.file="+alertmanagerConfig(t, receiver.URL+"/alerts"), "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	rules, err := filepath.Abs("prometheus/rules/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	promCfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
alerting: {alertmanagers: [{static_configs: [{targets: [%q]}]}]}
rule_files: [%q]
scrape_configs: [{job_name: baton, static_configs: [{targets: [%q]}]}]
`, amAddr, rules, strings.TrimPrefix(target.URL, "http://"))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promOut := start(t, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)

	deadline := time.After(90 * time.Second)
	for {
		select {
		case m := <-got:
			if m.alert.Labels["alertname"] != "BatonUnmappedStatus" {
				continue
			}
			if m.receiver != "baton" || m.alert.Status != "firing" || m.alert.Labels["code"] != "lost_in_space" ||
				m.alert.Labels["system"] != "carrier" || m.alert.Labels["severity"] != "warning" {
				t.Errorf("webhook got %+v from receiver %q, want a firing BatonUnmappedStatus for carrier/lost_in_space via baton", m.alert, m.receiver)
			}
			return
		case <-deadline:
			t.Fatalf("no BatonUnmappedStatus at the webhook within 90 s\nprometheus:\n%s\nalertmanager:\n%s", promOut, amOut)
		}
	}
}
