// Command promquantile computes quantiles of a Prometheus histogram from
// two scrapes of a /metrics page: the histogram of the observations made
// between them (the second scrape minus the first) and, per value of a
// label, its quantiles by linear interpolation within buckets, as
// Prometheus' histogram_quantile does. scripts/bench-latency.sh uses it so
// that a fresh machine needs neither Prometheus nor Python.
//
//	go run ./scripts/promquantile [-metric NAME] [-by LABEL] [-q 0.5,0.95,0.99] [-order a,b,c] BEFORE AFTER
//
// BEFORE and AFTER are files in the Prometheus text exposition format. It
// prints one row per label value: the number of observations between the
// scrapes, their mean and the quantiles. It fails when a series went backwards (the
// process restarted between the scrapes).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	metric := flag.String("metric", "baton_pipeline_latency_seconds", "histogram `name` (without _bucket)")
	by := flag.String("by", "stage", "one row per value of this `label`; the histogram's other labels are summed")
	qs := flag.String("q", "0.5,0.95,0.99", "comma-separated `quantiles`")
	order := flag.String("order", "", "comma-separated label `values` to print first, in this order (default: sorted)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: promquantile [flags] BEFORE AFTER")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	var quantiles []float64
	for _, s := range strings.Split(*qs, ",") {
		q, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || q < 0 || q > 1 {
			fmt.Fprintf(os.Stderr, "promquantile: -q %q: want quantiles between 0 and 1\n", s)
			os.Exit(2)
		}
		quantiles = append(quantiles, q)
	}
	var snaps [2]map[string]*histogram
	for i, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fail(err)
		}
		snaps[i], err = parse(f, *metric, *by)
		f.Close()
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
	}
	diff, err := subtract(snaps[1], snaps[0])
	if err != nil {
		fail(err)
	}
	if len(diff) == 0 {
		fail(fmt.Errorf("no %s histogram in %s", *metric, flag.Arg(1)))
	}
	var first []string
	if *order != "" {
		first = strings.Split(*order, ",")
	}
	printTable(os.Stdout, diff, *by, quantiles, first)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "promquantile:", err)
	os.Exit(1)
}

// bucket is one cumulative bucket: the observations at most upper.
type bucket struct {
	upper float64
	count float64
}

// histogram is one label value's histogram, summed over its other labels.
type histogram struct {
	buckets map[float64]float64 // upper bound → cumulative count
	sum     float64
	count   float64
}

// sorted are the buckets by upper bound.
func (h *histogram) sorted() []bucket {
	out := make([]bucket, 0, len(h.buckets))
	for le, c := range h.buckets {
		out = append(out, bucket{le, c})
	}
	slices.SortFunc(out, func(a, b bucket) int {
		switch {
		case a.upper < b.upper:
			return -1
		case a.upper > b.upper:
			return 1
		}
		return 0
	})
	return out
}

// parse reads the samples of the histogram metric from r, summed per value
// of the label by.
func parse(r io.Reader, metric, by string) (map[string]*histogram, error) {
	out := map[string]*histogram{}
	get := func(key string) *histogram {
		h := out[key]
		if h == nil {
			h = &histogram{buckets: map[float64]float64{}}
			out[key] = h
		}
		return h
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch name {
		case metric + "_bucket":
			le, err := parseFloat(labels["le"])
			if err != nil {
				return nil, fmt.Errorf("line %d: le=%q: %w", n, labels["le"], err)
			}
			get(labels[by]).buckets[le] += value
		case metric + "_sum":
			get(labels[by]).sum += value
		case metric + "_count":
			get(labels[by]).count += value
		}
	}
	return out, sc.Err()
}

// parseSample splits a sample line: name{l="v",…} value [timestamp].
func parseSample(line string) (name string, labels map[string]string, value float64, err error) {
	labels = map[string]string{}
	i := strings.IndexAny(line, "{ \t")
	if i < 0 {
		return "", nil, 0, errors.New("no value")
	}
	name, rest := line[:i], line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " \t,")
			if rest == "" {
				return "", nil, 0, errors.New("unterminated labels")
			}
			if rest[0] == '}' {
				rest = rest[1:]
				break
			}
			eq := strings.IndexByte(rest, '=')
			if eq < 0 || len(rest) < eq+2 || rest[eq+1] != '"' {
				return "", nil, 0, errors.New("bad label")
			}
			key := strings.TrimSpace(rest[:eq])
			rest = rest[eq+2:]
			var val strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(rest[j])
					}
					continue
				}
				if c == '"' {
					rest = rest[j+1:]
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return "", nil, 0, errors.New("unterminated label value")
			}
			labels[key] = val.String()
		}
	}
	fields := strings.Fields(rest)
	if len(fields) < 1 {
		return "", nil, 0, errors.New("no value")
	}
	value, err = parseFloat(fields[0])
	return name, labels, value, err
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "+Inf", "Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// subtract is after − before, per label value and bucket: the observations
// made between the two scrapes.
func subtract(after, before map[string]*histogram) (map[string]*histogram, error) {
	out := map[string]*histogram{}
	for key, a := range after {
		d := &histogram{buckets: map[float64]float64{}, sum: a.sum, count: a.count}
		b := before[key]
		if b == nil {
			b = &histogram{buckets: map[float64]float64{}}
		}
		d.sum -= b.sum
		d.count -= b.count
		for le, c := range a.buckets {
			d.buckets[le] = c - b.buckets[le]
			if d.buckets[le] < 0 {
				return nil, fmt.Errorf("%q: bucket le=%g went from %g to %g: the process restarted between the scrapes", key, le, b.buckets[le], c)
			}
		}
		if d.count < 0 {
			return nil, fmt.Errorf("%q: count went from %g to %g: the process restarted between the scrapes", key, b.count, a.count)
		}
		out[key] = d
	}
	return out, nil
}

// quantile is the q-quantile of the cumulative buckets (sorted by upper
// bound, the last +Inf), by Prometheus' histogram_quantile rules: the rank
// q × total is found in its bucket and interpolated linearly between the
// bucket's bounds, the first bucket's lower bound being 0 (if its upper
// bound is positive). A rank in the +Inf bucket gives the largest finite
// upper bound. NaN without observations or without a +Inf bucket.
func quantile(q float64, buckets []bucket) float64 {
	switch {
	case math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(1)
	}
	if len(buckets) < 2 || !math.IsInf(buckets[len(buckets)-1].upper, 1) {
		return math.NaN()
	}
	// Cumulative counts may dip by float noise (or a scrape racing an
	// observation); Prometheus evens them out the same way.
	cum := make([]float64, len(buckets))
	for i, b := range buckets {
		cum[i] = b.count
		if i > 0 && cum[i] < cum[i-1] {
			cum[i] = cum[i-1]
		}
	}
	total := cum[len(cum)-1]
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	b := sort.SearchFloat64s(cum, rank) // first bucket with cum >= rank
	if b == len(buckets)-1 {
		return buckets[len(buckets)-2].upper
	}
	if b == 0 && buckets[0].upper <= 0 {
		return buckets[0].upper
	}
	start, end, count := 0.0, buckets[b].upper, cum[b]
	if b > 0 {
		start = buckets[b-1].upper
		count -= cum[b-1]
		rank -= cum[b-1]
	}
	if count == 0 { // rank 0 (q = 0) in an empty first bucket
		return start
	}
	return start + (end-start)*(rank/count)
}

func printTable(w io.Writer, hs map[string]*histogram, by string, qs []float64, first []string) {
	keys := make([]string, 0, len(hs))
	for k := range hs {
		keys = append(keys, k)
	}
	rankOf := func(k string) int {
		if i := slices.Index(first, k); i >= 0 {
			return i
		}
		return len(first)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rankOf(a), rankOf(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	width := len(by)
	for _, k := range keys {
		width = max(width, len(k))
	}
	fmt.Fprintf(w, "%-*s %10s %10s", width, by, "observed", "mean")
	for _, q := range qs {
		fmt.Fprintf(w, " %10s", "p"+strconv.FormatFloat(q*100, 'f', -1, 64))
	}
	fmt.Fprintln(w)
	for _, k := range keys {
		h := hs[k]
		bs := h.sorted()
		mean := math.NaN()
		if h.count > 0 {
			mean = h.sum / h.count
		}
		fmt.Fprintf(w, "%-*s %10.0f %10s", width, k, h.count, seconds(mean))
		for _, q := range qs {
			v := seconds(quantile(q, bs))
			if len(bs) >= 2 && quantileInInf(q, bs) {
				v = ">" + v
			}
			fmt.Fprintf(w, " %10s", v)
		}
		fmt.Fprintln(w)
	}
}

// quantileInInf reports whether the q-quantile falls in the +Inf bucket,
// above every finite bound (quantile then returns that bound).
func quantileInInf(q float64, bs []bucket) bool {
	total := bs[len(bs)-1].count
	return total > 0 && q*total > bs[len(bs)-2].count
}

// seconds formats a duration in seconds for people: ms below 10 s.
func seconds(s float64) string {
	switch {
	case math.IsNaN(s):
		return "-"
	case s < 0.1:
		return strconv.FormatFloat(s*1000, 'f', 1, 64) + "ms"
	case s < 10:
		return strconv.FormatFloat(s*1000, 'f', 0, 64) + "ms"
	default:
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	}
}
