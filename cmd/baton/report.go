package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

func runReport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	var chf clickhouseFlags
	chf.register(fs)
	format := fs.String("format", "table", "output format: table or json")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("--format %q: want table or json", *format)
	}
	ch, err := chf.open(ctx)
	if err != nil {
		return err
	}
	defer ch.Close()
	rep, err := ch.Report(ctx)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printReport(os.Stdout, rep)
}

func printReport(w io.Writer, rep clickhouse.Report) error {
	fmt.Fprintln(w, "Source events in ClickHouse, per system")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tevents\tunique events\tduplicates\torders\ttracking numbers\tfirst occurred (UTC)\tlast occurred (UTC)\t")
	const ts = "2006-01-02 15:04"
	for _, s := range rep.Systems {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", s.System, s.Events, s.UniqueEvents, s.Events-s.UniqueEvents,
			s.Orders, s.TrackingNumbers, s.FirstOccurred.UTC().Format(ts), s.LastOccurred.UTC().Format(ts))
	}
	fmt.Fprintf(tw, "total\t%d\t\t\t\t\t\t\t\n", rep.TotalEvents)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nOrders seen across all systems: %d\n", rep.OrdersSeen)

	fmt.Fprintf(w, "\nCanonical events (normalize output): %d, per canonical status\n", rep.CanonicalEvents)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "canonical status\tevents\torders\t")
	for _, s := range rep.Statuses {
		status := s.Status
		if status == "" {
			status = "(no order status)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", status, s.Events, s.Orders)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nOrders by truth (the authority rules' current status)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "truth\torders\t")
	for _, t := range rep.Truths {
		truth := t.Truth
		if truth == "" {
			truth = "(no authority yet)"
		}
		fmt.Fprintf(tw, "%s\t%d\t\n", truth, t.Orders)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nTransitions per hour (event time, latest %d hours with any)\n", clickhouse.ReportHours)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "hour (UTC)\ttransitions\t")
	for _, h := range rep.TransitionsPerHour {
		fmt.Fprintf(tw, "%s\t%d\t\n", h.Hour.UTC().Format("2006-01-02 15:00"), h.Transitions)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nDead letters, per stage and reason")
	if len(rep.DeadLetters) == 0 {
		_, err := fmt.Fprintln(w, "none")
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\treason\trecords\t")
	for _, d := range rep.DeadLetters {
		fmt.Fprintf(tw, "%s\t%s\t%d\t\n", d.Stage, d.Reason, d.Records)
	}
	return tw.Flush()
}
