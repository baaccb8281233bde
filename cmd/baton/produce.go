package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/baton-pipeline/baton/records"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// maxReportedLines caps how many bad lines produce lists before giving up.
const maxReportedLines = 20

func runProduce(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: baton produce --system SYSTEM [flags] [FILE]\n\nReads JSON lines (fields named as in the system's Avro schema, times as RFC 3339)\nfrom FILE or stdin and produces them as Avro to the system's source topic.\nEvery line is validated first: if any line is bad, nothing is produced.\n\nFlags:")
		fs.PrintDefaults()
	}
	var kf kafkaFlags
	kf.register(fs)
	prefix := topicFlag(fs)
	system := fs.String("system", "", "source system: "+schemas.SystemNames())
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	if *system == "" {
		return flagErrorf("--system is required: one of %s", schemas.SystemNames())
	}
	sys, err := schemas.ParseSystem(*system)
	if err != nil {
		return flagErrorf("--system: %v", err)
	}
	in, name := io.Reader(os.Stdin), "stdin"
	if fs.NArg() == 1 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, fs.Arg(0)
	}
	topics := topology.New(*prefix)
	src, err := records.NewSourceRecord(topics)
	if err != nil {
		return err
	}
	values, err := readJSONLines(in, name, func(v map[string]any) (records.Validated, error) {
		return src.Validate(sys, v)
	})
	if err != nil {
		return err
	}
	cl, err := kf.client(kgo.ProducerLinger(0))
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
	recs := make([]*kgo.Record, 0, len(values))
	for _, v := range values {
		r, err := src.Record(v)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce to %s: %w (records may be partly written; producing the file again is safe for the pipeline, which de-duplicates by event_id downstream)", topics.Source(sys).Name, err)
	}
	fmt.Fprintf(os.Stderr, "produced %d %s records from %s to %s\n", len(recs), sys, name, topics.Source(sys).Name)
	return nil
}

// lineErrors lists the bad lines of an input.
type lineErrors struct {
	name  string
	lines []string
	more  int
}

func (e *lineErrors) Error() string {
	msg := fmt.Sprintf("%s: %d bad line(s), nothing produced:\n  %s", e.name, len(e.lines)+e.more, strings.Join(e.lines, "\n  "))
	if e.more > 0 {
		msg += fmt.Sprintf("\n  ... and %d more", e.more)
	}
	return msg
}

// readJSONLines parses and validates every non-blank line, returning all
// values or, if any line fails, an error naming each bad line (up to
// maxReportedLines) with its number and reason.
func readJSONLines[T any](in io.Reader, name string, validate func(map[string]any) (T, error)) ([]T, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	var (
		out  []T
		errs = &lineErrors{name: name}
	)
	bad := func(n int, err error) {
		if len(errs.lines) < maxReportedLines {
			errs.lines = append(errs.lines, fmt.Sprintf("line %d: %v", n, err))
		} else {
			errs.more++
		}
	}
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			bad(n, fmt.Errorf("not a JSON object: %w", err))
			continue
		}
		if dec.More() {
			bad(n, errors.New("trailing data after the JSON object"))
			continue
		}
		val, err := validate(v)
		if err != nil {
			bad(n, err)
			continue
		}
		out = append(out, val)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	if len(errs.lines) > 0 {
		return nil, errs
	}
	return out, nil
}
