package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// batonExit runs the race-built binary with args and no services needed
// (the defaults point nowhere the command gets to), and returns its exit
// code and what it printed.
func batonExit(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(batonBin, args...)
	cmd.Env = append(cmd.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("baton %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// TestCLIMessagesAndExitCodes: -h exits 0 everywhere; an argument a
// command does not take, a bad flag value or a missing required flag
// exits 2 and names it.
func TestCLIMessagesAndExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Usage: baton <command>"},
		{[]string{"help"}, 0, "report wismo"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"report", "-h"}, 0, "Usage: baton report"},
		{[]string{"report", "wismo", "-h"}, 0, "Usage: baton report wismo"},
		{[]string{"run", "-h"}, 0, "-log-format"},
		{[]string{"ingest", "-h"}, 0, "-log-level"},
		{[]string{"produce", "-h"}, 0, "Usage: baton produce"},
		{[]string{"simulate", "-h"}, 0, "-orders"},
		{[]string{"topics", "-h"}, 0, "-topic-prefix"},
		{[]string{"statusmap", "-h"}, 0, "baton statusmap show"},
		{[]string{"statusmap", "show", "-h"}, 0, "-system"},
		{[]string{"statusmap", "check", "-h"}, 0, "baton statusmap check [DIR]"},
		{[]string{"statusmap", "check", "a", "b"}, 2, "baton statusmap check [DIR]"},
		{[]string{"dev", "-h"}, 0, "baton dev broker"},
		{[]string{"dev", "broker", "-h"}, 0, "-data-dir"},
		{[]string{"report", "extra-arg"}, 2, `unexpected argument "extra-arg"`},
		{[]string{"report", "--format", "xml"}, 2, `baton report: --format "xml": want table or json`},
		{[]string{"report", "--since", "yesterday"}, 2, `--since "yesterday"`},
		{[]string{"run", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"run", "--log-format", "xml"}, 2, `baton run: --log-format "xml": want text or json`},
		{[]string{"run", "--log-level", "loud"}, 2, `--log-level "loud"`},
		{[]string{"run", "--one-stage-at-a-time"}, 2, "baton run: --one-stage-at-a-time: only with --until-caught-up"},
		{[]string{"ingest", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"topics", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"simulate", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"simulate", "--orders", "-5"}, 2, "baton simulate: --orders -5: want 0 or more orders"},
		{[]string{"simulate", "--orders", "many"}, 2, `invalid value "many" for flag -orders`},
		{[]string{"produce", "--system", "wms", "a", "b"}, 2, `unexpected argument "b"`},
		{[]string{"produce"}, 2, "--system is required"},
		{[]string{"produce", "--system", "bogus"}, 2, `baton produce: --system: unknown system "bogus"`},
		{[]string{"ingest", "--debezium-columns", "colour=red"}, 2, `--debezium-columns: "colour=red" is not field=column`},
		{[]string{"statusmap", "show", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"dev", "broker", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		code, out := batonExit(t, nil, c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("baton %s: exit %d, want %d and output containing %q; output:\n%s", strings.Join(c.args, " "), code, c.code, c.want, out)
		}
	}
}

// TestHelpListsEveryCommand: the top-level help names every command and
// every second word (report wismo, statusmap show, …).
func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	_, out := batonExit(t, nil, "help")
	for name, c := range commands {
		if !strings.Contains(out, "\n  "+name+" ") {
			t.Errorf("help does not list %q:\n%s", name, out)
		}
		for _, s := range c.subs {
			if !strings.Contains(out, "\n  "+name+" "+s.name+" ") {
				t.Errorf("help does not list %q:\n%s", name+" "+s.name, out)
			}
		}
	}
}

// TestLogFormatsAndLevels: JSON logs are one object a line; the level
// filters; text logs print partition assignments readably, not as a Go map.
func TestLogFormatsAndLevels(t *testing.T) {
	t.Parallel()
	assigned := map[string][]int32{"baton.canonical": {2, 0, 1}, "baton.changelog": {3}}
	var buf bytes.Buffer
	log, err := (&logFlags{format: "json", level: "warn"}).logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("partitions assigned", "assigned", assigned)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "partitions assigned" || strings.Contains(buf.String(), "hidden") {
		t.Errorf("json at warn: %v\n%s", err, buf.String())
	}
	buf.Reset()
	log, err = (&logFlags{format: "text", level: "debug"}).logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("partitions assigned", "assigned", assigned)
	if want := `assigned="baton.canonical:0,1,2 baton.changelog:3"`; !strings.Contains(buf.String(), want) {
		t.Errorf("text log %q lacks %s", buf.String(), want)
	}
}

// TestREADMEDocumentsEveryEnvironmentVariable: every BATON_* variable the
// commands read is named in README's configuration table.
func TestREADMEDocumentsEveryEnvironmentVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(readme, []byte("## Configuration"))
	end := bytes.Index(readme, []byte("## Architecture"))
	if start < 0 || end < start {
		t.Fatal("README.md: no Configuration section before Architecture")
	}
	table := string(readme[start:end])
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range regexp.MustCompile(`"(BATON_[A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
			seen++
			if !strings.Contains(table, "`"+v[1]+"`") {
				t.Errorf("%s reads %s, which README's Configuration table does not name", f, v[1])
			}
		}
	}
	if seen < 20 {
		t.Errorf("found only %d BATON_* variables in the commands: is the pattern still right?", seen)
	}
}

// TestASIGTERMWhileWaitingForADependencyIsACleanStop: `baton run` asked to
// stop while it waits at start-up for a registry that does not answer
// exits 0, as a stop while running does (a service manager, or the
// harness, reads anything else as a crash).
func TestASIGTERMWhileWaitingForADependencyIsACleanStop(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	hung, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	cmd := s.command("run", "--session-timeout", "6s")
	cmd.Env = append(cmd.Env, "BATON_REGISTRY_URL=http://"+hung.Addr().String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	stopWithin(t, cmd, "baton run waiting for the registry", 30*time.Second) // exit 0 within 30 s
	if !strings.Contains(out.String(), "stopped before it was done") || t.Failed() {
		t.Errorf("want a word of the stop:\n%s", out.String())
	}
}
