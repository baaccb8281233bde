package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
	"github.com/baton-pipeline/baton/simulator/simrules"
	"github.com/baton-pipeline/baton/topology"
)

func runSimulate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var kf kafkaFlags
	kf.register(fs)
	prefix := topicFlag(fs)
	orders := fs.Int("orders", 1000, "number of orders to simulate")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same events")
	start := fs.String("start", "", "first order's placement time, RFC 3339 (default "+simulator.DefaultStart.Format(time.RFC3339)+")")
	progress := fs.String("progress", "auto", "progress bar: auto (on a terminal), always, never")
	faults := fs.String("viewer-faults", "", "switch to the ground-truth profile and inject viewer faults: `spec` is "+
		"viewer=kind:rate[,kind:rate…] joined by ';', viewer storefront, helpdesk, notifications or all, kind delay, drop or conflict, "+
		"rate the share of the orders the viewer shows that get the fault (e.g. 'storefront=delay:0.02,drop:0.01,conflict:0.01;helpdesk=drop:0.05'); "+
		"none: the profile without faults")
	truthFile := fs.String("ground-truth", "", "write what the pipeline's viewer checks must report for this run to `file` (JSON); "+
		"implies the ground-truth profile (without faults unless --viewer-faults)")
	pace := fs.Float64("pace", 0, "produce at a steady `rate` of events per second (0: as fast as possible). A paced run is for measuring "+
		"the pipeline's latency against a running `baton run` (scripts/bench-latency.sh): each record's Kafka timestamp is the wall-clock "+
		"time it is produced (its arrival at baton, as the webhook gateway sets it) instead of the simulated arrival, and records leave "+
		"without producer linger. The payloads keep their simulated times, mostly in the past (those after the real now plus "+
		"--max-future-skew are dead-lettered as future_time), so the run's event-time outcomes (viewer check results, failed syncs, "+
		"update latency) are not those of a real live feed")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *orders < 0 {
		return flagErrorf("--orders %d: want 0 or more orders", *orders)
	}
	if *pace < 0 || math.IsNaN(*pace) || math.IsInf(*pace, 0) {
		return flagErrorf("--pace %v: want events per second, 0 or more", *pace)
	}
	cfg := simulator.DefaultConfig(*orders, *seed)
	if *faults != "" || *truthFile != "" {
		rates, err := simulator.ParseViewerFaults(*faults)
		if err != nil {
			return flagErrorf("--viewer-faults: %v", err)
		}
		rules, err := simrules.Default()
		if err != nil {
			return err
		}
		cfg.ViewerFaults = &simulator.ViewerFaults{Rates: rates, Rules: rules}
	}
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return flagErrorf("--start %q: want an RFC 3339 time", *start)
		}
		cfg.Start = t
	}
	topics := topology.New(*prefix)
	src, err := records.NewSourceRecord(topics)
	if err != nil {
		return err
	}
	var opts []kgo.Opt
	if *pace > 0 {
		// No linger: a paced record leaves as soon as it is produced, so
		// the producer adds no wait to the latency being measured.
		opts = append(opts, kgo.ProducerLinger(0))
	}
	cl, err := kf.client(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	reg, err := kf.registryClient()
	if err != nil {
		return err
	}
	if err := src.Register(ctx, kadm.NewClient(cl), reg); err != nil {
		return err
	}
	producer := records.NewAsyncProducer(cl)
	bar := newProgressBar(os.Stderr, *progress, cfg)
	var pc *pacer
	if *pace > 0 {
		pc = newPacer(*pace)
	}
	stats, err := simulator.Generate(cfg, func(ev simulator.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := src.Validate(ev.System, ev.Value)
		if err != nil {
			return fmt.Errorf("simulated %s event is invalid (a simulator bug): %w", ev.System, err)
		}
		r, err := src.Record(v)
		if err != nil {
			return err
		}
		if pc != nil {
			if err := pc.wait(ctx); err != nil {
				return err
			}
			// Its arrival at baton is now: the pipeline's latency is
			// measured from this timestamp.
			r.Timestamp = time.Now()
		} else {
			// The record's timestamp is when the event reached Kafka in the
			// simulated world, so the topic tells one consistent story.
			r.Timestamp = ev.Arrival
		}
		producer.Produce(ctx, r)
		bar.update(ev.Arrival)
		return producer.Err()
	})
	flushErr := producer.Flush(context.WithoutCancel(ctx))
	bar.done()
	if err != nil {
		return err
	}
	if flushErr != nil {
		return flushErr
	}
	printSimulation(os.Stderr, stats, topics)
	if pc != nil {
		pc.report(os.Stderr)
	}
	if gt := stats.GroundTruth; gt != nil {
		printGroundTruth(os.Stderr, gt)
		if *truthFile != "" {
			if err := writeGroundTruth(*truthFile, gt); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "ground truth written to %s\n", *truthFile)
		}
	}
	return nil
}

// writeGroundTruth writes gt as indented JSON, through a temporary file so
// that a reader never sees half of it.
func writeGroundTruth(path string, gt *simulator.GroundTruth) error {
	b, err := json.MarshalIndent(gt, "", "  ")
	if err != nil {
		return fmt.Errorf("ground truth: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--ground-truth: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("--ground-truth: %w", err)
	}
	return nil
}

func printGroundTruth(w io.Writer, gt *simulator.GroundTruth) {
	fmt.Fprintf(w, "ground truth (%s): %d orders (%d redrawn for certainty), %d sentinel orders at %s\n",
		gt.Config.ViewerFaults, gt.Orders, gt.RedrawnOrders, gt.SentinelOrders, gt.SentinelsAt.Format(time.RFC3339))
	for _, v := range gt.Viewers {
		c, f, x := v.Checks, v.FailedSyncs, v.Faults
		fmt.Fprintf(w, "  %-14s %5d orders: checks %d in sync, %d late, %d missing, %d conflict, %d superseded; failed syncs %d sla_breached, %d conflict; "+
			"injected %d delays, %d drops, %d conflicts\n", v.Viewer, v.OrdersSeen, c.InSync, c.Late, c.Missing, c.Conflict, c.Superseded,
			f.SLABreached, f.Conflict, x.Delay.Injected, x.Drop.Injected, x.Conflict.Injected)
	}
}

func printSimulation(w io.Writer, st simulator.Stats, topics topology.Topics) {
	fmt.Fprintf(w, "simulated %d orders: %d events (%d duplicate deliveries, %d out of order)\n", st.Orders, st.Events, st.Duplicates, st.OutOfOrder)
	for _, sys := range schemas.Systems {
		fmt.Fprintf(w, "  %-14s %7d events -> %s\n", sys, st.BySystem[sys], topics.Source(sys).Name)
	}
	c := st.Cases
	fmt.Fprintf(w, "  hard cases: %d split, %d held, %d cancelled (%d after shipping), %d returned, %d failed attempts, %d exceptions (%d lost, %d damaged), %d returned to sender, %d tickets (%d WISMO)\n",
		c.SplitOrders, c.HeldOrders, c.CancelledOrders, c.CancelledAfterShip, c.ReturnedOrders, c.FailedAttempts,
		c.Exceptions, c.Lost, c.Damaged, c.ReturnedToSender, c.Tickets, c.WismoTickets)
}

// progressBar draws simulated-clock progress on a terminal: how far the
// simulation's clock has come between the first and the last placement.
// Events of the last orders arrive after that, so it shows 100% a little
// before the end and then waits for the producer's flush.
type progressBar struct {
	w          io.Writer
	on         bool
	from, to   time.Time
	last       time.Time
	lastDrawn  int
	lastWallMs int64
}

func newProgressBar(w io.Writer, mode string, cfg simulator.Config) *progressBar {
	on := mode == "always"
	if mode == "auto" {
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				on = true
			}
		}
	}
	start := cfg.Start
	if start.IsZero() {
		start = simulator.DefaultStart
	}
	interval := cfg.OrderInterval
	if interval == 0 {
		interval = simulator.DefaultOrderInterval
	}
	return &progressBar{w: w, on: on, from: start, to: start.Add(time.Duration(cfg.Orders) * interval), lastDrawn: -1}
}

func (p *progressBar) update(at time.Time) {
	if !p.on || !at.After(p.last) {
		return
	}
	p.last = at
	now := time.Now().UnixMilli()
	if now-p.lastWallMs < 100 {
		return
	}
	p.lastWallMs = now
	p.draw()
}

func (p *progressBar) draw() {
	span := p.to.Sub(p.from)
	pct := 100
	if span > 0 {
		pct = int(min(100, 100*p.last.Sub(p.from)/span))
	}
	if pct == p.lastDrawn {
		return
	}
	p.lastDrawn = pct
	const width = 40
	fill := pct * width / 100
	fmt.Fprintf(p.w, "\r[%s%s] %3d%%  simulated clock %s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, p.last.UTC().Format("2006-01-02 15:04"))
}

func (p *progressBar) done() {
	if p.on {
		p.last = p.to
		p.lastDrawn = -1
		p.draw()
		fmt.Fprintln(p.w)
	}
}

// paceTick is how often a paced simulation releases events: each tick
// releases the events due by then (rate × 10 ms of them on average), so
// the input is steady at the scale the pipeline's latency is measured in.
const paceTick = 10 * time.Millisecond

// paceRelease is when, after the start of a run paced at rate events per
// second, event i (counting from 0) is released: at its due time i/rate
// rounded up to the next tick. Event 0 goes at once; every tick releases
// the events that fell due since the one before.
func paceRelease(i int, rate float64, tick time.Duration) time.Duration {
	due := time.Duration(math.Ceil(float64(i) * float64(time.Second) / rate))
	return (due + tick - 1) / tick * tick
}

// pacer holds each event back until its release time (paceRelease), counted
// from the first event. When the producer falls behind the schedule, the
// late events go at once and report says by how much.
type pacer struct {
	rate   float64
	start  time.Time
	last   time.Time
	n      int           // events released
	behind time.Duration // the most an event was released after its time
}

func newPacer(rate float64) *pacer { return &pacer{rate: rate} }

// wait returns when the next event is due, or with ctx's error.
func (p *pacer) wait(ctx context.Context) error {
	now := time.Now()
	if p.n == 0 {
		p.start = now
	}
	at := p.start.Add(paceRelease(p.n, p.rate, paceTick))
	p.n++
	if d := at.Sub(now); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	} else if -d > p.behind {
		p.behind = -d
	}
	p.last = time.Now()
	return nil
}

// report prints the rate achieved and, when the producer could not keep
// up, how far behind the schedule it fell.
func (p *pacer) report(w io.Writer) {
	if p.n == 0 {
		return
	}
	span := p.last.Sub(p.start)
	got := float64(p.n)
	if span > 0 {
		got = float64(p.n-1) / span.Seconds()
	}
	fmt.Fprintf(w, "paced %d events over %.1f s: %.1f events/s (--pace %g); at most %s behind the schedule\n",
		p.n, span.Seconds(), got, p.rate, p.behind.Round(time.Millisecond))
	if p.behind > time.Second {
		fmt.Fprintf(w, "warning: the producer fell %s behind --pace %g; the late events were sent in bursts, so latency figures for this run are not at a steady rate\n",
			p.behind.Round(time.Millisecond), p.rate)
	}
}
