package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/baton-pipeline/baton/devstack"
)

const devUsage = `Usage: baton dev broker   [--port 9092] [--data-dir .dev/kafka]
       baton dev registry [--addr 127.0.0.1:8081] [--data-dir .dev/registry]

Runs one service of the embedded dev stack in the foreground until SIGINT or
SIGTERM, keeping its state in --data-dir across restarts:
  broker    a Kafka-protocol broker (franz-go kfake) on 127.0.0.1; topics are
            never auto-created
  registry  a Confluent-compatible schema registry that enforces Avro
            compatibility (BACKWARD unless configured otherwise)
scripts/dev-up.sh starts both in the background, with ClickHouse.`

// runDev runs `baton dev broker` or `baton dev registry`.
func runDev(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, devUsage)
		return errUsage
	}
	switch args[0] {
	case "broker":
		return runDevBroker(ctx, args[1:])
	case "registry":
		return runDevRegistry(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(os.Stderr, devUsage)
		return flag.ErrHelp
	default:
		fmt.Fprintf(os.Stderr, "baton dev: unknown service %q\n\n%s\n", args[0], devUsage)
		return errUsage
	}
}

func runDevBroker(ctx context.Context, args []string) error {
	fs := devFlagSet("broker")
	port := fs.Int("port", 9092, "TCP port on 127.0.0.1")
	dataDir := fs.String("data-dir", ".dev/kafka", "directory keeping topics, records and committed offsets across restarts")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg := devstack.BrokerConfig{Port: *port, DataDir: *dataDir, Logf: logDev("broker")}
	return devstack.RunBroker(ctx, cfg, func(addr string) {
		logDev("broker")("listening on %s, data in %s", addr, *dataDir)
	})
}

func runDevRegistry(ctx context.Context, args []string) error {
	fs := devFlagSet("registry")
	addr := fs.String("addr", devstack.DefaultRegistryAddr, "listen address host:port")
	dataDir := fs.String("data-dir", ".dev/registry", "directory keeping subjects, versions, schema IDs and compatibility levels across restarts")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	return devstack.ServeRegistry(ctx, *addr, *dataDir, func(a string) {
		logDev("registry")("listening on http://%s, data in %s", a, *dataDir)
	})
}

func devFlagSet(service string) *flag.FlagSet {
	fs := flag.NewFlagSet("dev "+service, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags of baton dev %s:\n", devUsage, service)
		fs.PrintDefaults()
	}
	return fs
}

// logDev returns a printf to stderr prefixed with the service's command name,
// one line per call: the dev scripts keep stderr as the service's log.
func logDev(service string) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "baton dev "+service+": "+format+"\n", args...)
	}
}
