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

// command is one subcommand: a one-line summary, the summaries of its own
// subcommands (listed in the help too) and a run function that parses its
// own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
	subs    []subcommand
}

// subcommand is a second word of a command, e.g. `report wismo`.
type subcommand struct{ name, summary string }

// commands is filled by each subcommand's file in init-free style: the map
// literal lives here so the whole CLI surface is visible in one place.
var commands = map[string]command{
	"dev": {"run one service of the embedded dev stack", runDev, []subcommand{
		{"broker", "the Kafka-protocol broker (kfake)"}, {"registry", "the schema registry"}}},
	"ingest":   {"run the webhook gateway (Shopify, EasyPost, AfterShip, Zendesk, Debezium, generic JSON)", runIngest, nil},
	"produce":  {"produce JSON lines as Avro to a source system's topic", runProduce, nil},
	"simulate": {"generate realistic order lifecycles across all seven systems", runSimulate, nil},
	"statusmap": {"the per-system status maps", runStatusmap, []subcommand{
		{"check [DIR]", "validate status map files (every problem with file:line) and list the codes each map expects"}, {"show", "print the rows in effect"}}},
	"run":   {"run the pipeline: source topics into ClickHouse", runPipeline, nil},
	"serve": {"serve the order page, the scorecard with charts and the JSON API, from ClickHouse", runServe, nil},
	"report": {"print the report and the scorecard from ClickHouse", runReport, []subcommand{
		{"wismo", "the monthly WISMO review (--month YYYY-MM)"}}},
	"topics": {"create the topics and register the schemas (idempotent)", runTopics, nil},
}

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
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			if err != errUsage {
				fmt.Fprintf(os.Stderr, "baton %s: %v\n", args[0], err)
			}
			return 2
		case ctx.Err() != nil && errors.Is(err, context.Canceled):
			// Stopped while it waited (for a dependency at start-up,
			// say): what was asked, not a failure.
			fmt.Fprintf(os.Stderr, "baton %s: stopped before it was done: %v\n", args[0], err)
			return 0
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
		fmt.Fprintf(os.Stderr, "  %-22s %s\n", n, commands[n].summary)
		for _, s := range commands[n].subs {
			fmt.Fprintf(os.Stderr, "  %-22s %s\n", n+" "+s.name, s.summary)
		}
	}
	fmt.Fprintln(os.Stderr, "\nRun `baton <command> -h` for a command's flags. Every connection flag also reads a BATON_* environment variable.")
}
