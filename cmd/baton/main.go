// Command baton is the e-commerce order-tracking pipeline: one binary with a
// subcommand per job (dev stack, producing, simulating, running the pipeline,
// reporting). Run `baton help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: a one-line summary and a run function that
// parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

// commands is filled by each subcommand's file in init-free style: the map
// literal lives here so the whole CLI surface is visible in one place.
var commands = map[string]command{
	"dev":       {"run the embedded dev stack's broker or schema registry (dev broker|registry)", runDev},
	"ingest":    {"run the webhook gateway (Shopify, EasyPost, AfterShip, Zendesk, Debezium, generic JSON)", runIngest},
	"produce":   {"produce JSON lines as Avro to a source system's topic", runProduce},
	"simulate":  {"generate realistic order lifecycles across all six systems", runSimulate},
	"statusmap": {"validate status map files (statusmap check [DIR])", runStatusmap},
	"run":       {"run the pipeline: source topics into ClickHouse", runPipeline},
	"serve":     {"serve the order page, the scorecard with charts and the JSON API, from ClickHouse", runServe},
	"report":    {"print events per system and orders seen, from ClickHouse", runReport},
	"topics":    {"create the topics and register the schemas (idempotent)", runTopics},
}

// errUsage marks a command-line mistake: the command printed its usage and
// baton exits 2.
var errUsage = errors.New("usage error")

func main() {
	os.Exit(mainExit(os.Args[1:]))
}

func mainExit(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage()
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "baton: unknown command %q\n\n", args[0])
		usage()
		return 2
	}
	// SIGINT/SIGTERM cancel the context: every command treats that as a
	// request to finish the work in flight and exit cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, args[1:]); err != nil {
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(os.Stderr, "baton %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprintln(os.Stderr, "baton: one shared, trustworthy order status across every system\n\nUsage: baton <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun `baton <command> -h` for a command's flags. Every connection flag also reads a BATON_* environment variable.")
}
