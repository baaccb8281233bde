// Package deploy_test checks the production-like stack's configuration
// without a container engine: docker-compose.yml against the Compose
// specification, and the alert path from a Prometheus rule to a webhook.
package deploy_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads the compose files as `docker compose config` does:
// schema validation, interpolation, merging, references between services,
// secrets and volumes. Env files are not read (deploy/baton-ingest.env
// holds secrets and is not in the repository).
func loadCompose(t *testing.T, files ...string) *types.Project {
	t.Helper()
	for i, f := range files {
		files[i] = filepath.Join("..", f)
	}
	opts, err := cli.NewProjectOptions(files, cli.WithWorkingDirectory(".."), cli.WithName("baton"),
		cli.WithEnv([]string{"BATON_ALERT_WEBHOOK_URL=http://alerts.example/hook"}), cli.WithoutEnvironmentResolution)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("%v: %v", files, err)
	}
	return p
}

// TestComposeFileIsValid: docker-compose.yml (alone and with the offline
// override) is a valid Compose project, and what issue 17 asked of it
// holds: a gateway whose secrets come from an env file, scraped by
// Prometheus; grace periods above baton's 30 s shutdown timeout;
// Alertmanager reads its webhook URL from a secret.
func TestComposeFileIsValid(t *testing.T) {
	p := loadCompose(t, "docker-compose.yml")
	for _, name := range []string{"kafka", "schema-registry", "clickhouse", "baton-topics", "baton-run", "baton-ingest", "prometheus", "alertmanager", "grafana"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	for _, name := range []string{"baton-run", "baton-ingest"} {
		s, _ := p.GetService(name)
		if s.StopGracePeriod == nil || *s.StopGracePeriod <= types.Duration(30e9) {
			t.Errorf("%s: stop_grace_period %v, want above the 30s shutdown timeout", name, s.StopGracePeriod)
		}
	}
	ingest, _ := p.GetService("baton-ingest")
	if len(ingest.EnvFiles) != 1 || filepath.Base(ingest.EnvFiles[0].Path) != "baton-ingest.env" || !ingest.EnvFiles[0].Required {
		t.Errorf("baton-ingest env_file = %+v, want the required deploy/baton-ingest.env", ingest.EnvFiles)
	}
	if v := ingest.Environment["BATON_INGEST_METRICS_ADDR"]; v == nil || *v != "0.0.0.0:9465" {
		t.Errorf("baton-ingest metrics address %v: Prometheus cannot reach 127.0.0.1", v)
	}
	am, _ := p.GetService("alertmanager")
	if len(am.Secrets) != 1 || am.Secrets[0].Source != "alert_webhook_url" || p.Secrets["alert_webhook_url"].Environment != "BATON_ALERT_WEBHOOK_URL" {
		t.Errorf("alertmanager secrets %+v, project secrets %+v", am.Secrets, p.Secrets)
	}

	off := loadCompose(t, "docker-compose.yml", "deploy/compose.offline.yml")
	g, _ := off.GetService("grafana")
	if v := g.Environment["GF_PLUGINS_PREINSTALL_SYNC"]; v == nil || *v != "" {
		t.Errorf("offline grafana still preinstalls %v", v)
	}
	found := false
	for _, v := range g.Volumes {
		found = found || (v.Target == "/var/lib/grafana/plugins" && filepath.Base(filepath.Dir(v.Source)) == "grafana")
	}
	if !found {
		t.Errorf("offline grafana does not mount deploy/grafana/plugins: %+v", g.Volumes)
	}
}
