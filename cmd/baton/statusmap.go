package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/statusmap"
)

const statusmapUsage = `Usage:
  baton statusmap check [DIR]                 validate the map files in DIR (default: the embedded maps)
                                              and list the codes each map expects
  baton statusmap show [--system S] [--dir DIR]
                                              print the rows in effect, as map files

DIR holds one file per system (storefront.map, oms.map, wms.map, carrier.map,
helpdesk.map, notifications.map); see statusmap/README.md for the format.`

func runStatusmap(_ context.Context, args []string) error {
	return statusmapCmd(args, os.Stdout, os.Stderr)
}

// statusmapCmd is `baton statusmap`, writing to the given streams so tests
// can read them.
func statusmapCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, statusmapUsage)
		return errUsage
	}
	switch args[0] {
	case "check":
		return statusmapCheck(args[1:], stdout, stderr)
	case "show":
		return statusmapShow(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, statusmapUsage)
		return flag.ErrHelp
	default:
		fmt.Fprintf(stderr, "baton statusmap: unknown subcommand %q\n\n%s\n", args[0], statusmapUsage)
		return errUsage
	}
}

// statusmapCheck prints OK with the row counts and the codes each map
// expects, or every problem (and fails, so baton exits 1). The codes are
// what an integrator compares with what their systems send: a status
// the list lacks (or has only in another case, where the map matches
// exactly) is dead-lettered, which a row count cannot show.
func statusmapCheck(args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stderr, statusmapUsage)
		return flag.ErrHelp
	}
	if len(args) > 1 || (len(args) == 1 && strings.HasPrefix(args[0], "-")) {
		fmt.Fprintln(stderr, statusmapUsage)
		return errUsage
	}
	dir := ""
	if len(args) == 1 {
		dir = args[0]
	}
	if problems := statusmap.Check(dir); len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		return fmt.Errorf("%d problem(s) in the status maps of %s", len(problems), describeDir(dir))
	}
	set, err := loadMaps(dir)
	if err != nil {
		return err // Check just passed: only a race with an editor gets here
	}
	counts := make([]string, len(schemas.Systems))
	for i, sys := range schemas.Systems {
		counts[i] = fmt.Sprintf("%s %d", sys, len(set.Rows(sys)))
	}
	fmt.Fprintf(stdout, "OK %s: %s rows\n", describeDir(dir), strings.Join(counts, ", "))
	printExpectedCodes(stdout, set)
	return nil
}

// printExpectedCodes writes one line per system: its key columns, how
// codes compare, and the codes its rows match, in the form metrics and
// unmapped_status dead letters name them.
func printExpectedCodes(w io.Writer, set *statusmap.Set) {
	fmt.Fprintln(w, "codes each map expects (anything else is dead-lettered unmapped_status):")
	for _, sys := range schemas.Systems {
		fmt.Fprintf(w, "%s (%s; %s): %s\n", sys, strings.Join(statusmap.Columns(sys), "/"), set.Matching(sys),
			strings.Join(set.Codes(sys), ", "))
	}
}

// statusmapShow prints the rows of one or every system, each system as a
// valid map file (header, then rows), columns aligned.
func statusmapShow(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("statusmap show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	system := fs.String("system", "", "only this system's map ("+schemas.SystemNames()+")")
	dir := fs.String("dir", "", "map directory (default: the embedded maps)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	systems := schemas.Systems
	if *system != "" {
		sys, err := schemas.ParseSystem(*system)
		if err != nil {
			fmt.Fprintf(stderr, "baton statusmap show: --system: %v\n", err)
			return errUsage
		}
		systems = []schemas.System{sys}
	}
	set, err := loadMaps(*dir)
	if err != nil {
		return err
	}
	for i, sys := range systems {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		rows := set.Rows(sys)
		fmt.Fprintf(stdout, "# %s: %d rows, from %s\n", sys, len(rows), describeDir(*dir))
		for _, d := range set.Directives(sys) {
			fmt.Fprintln(stdout, d)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		// The header's last cell is left open so it gets no padding.
		fmt.Fprintln(tw, strings.Join(append(statusmap.Columns(sys), "canonical"), "\t"))
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t# line %d\n", strings.Join(r.Fields(), "\t"), r.Line)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func loadMaps(dir string) (*statusmap.Set, error) {
	if dir == "" {
		return statusmap.Default()
	}
	return statusmap.LoadDir(dir)
}

func describeDir(dir string) string {
	if dir == "" {
		return "the embedded maps"
	}
	return dir
}
