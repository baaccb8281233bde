package unify

import (
	"github.com/baton-pipeline/baton/schemas"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// binaryInputs encodes the simulated canonical events as Avro binary, the
// form they have on the canonical topic.
func binaryInputs(b *testing.B, run simRun) (bins [][]byte, ingested []time.Time) {
	for _, in := range run.inputs {
		native, err := canonicalSchema.FromJSON(in.Plain)
		if err != nil {
			b.Fatal(err)
		}
		bin, err := canonicalSchema.Codec.BinaryFromNative(nil, native)
		if err != nil {
			b.Fatal(err)
		}
		bins = append(bins, bin)
		ingested = append(ingested, in.Ingested)
	}
	return bins, ingested
}

// BenchmarkUnify measures the whole unify step per canonical event as the
// stage runs it: Avro decode (schemas.DecodePlain), Process, Avro encode (schemas.AppendBinary,
// the stage's encoder) of every transition, order state, sync check and
// failed sync; the changelog records are encoded by Process itself. The
// simulated stream (2,000 orders) is replayed with fresh order IDs and
// shifted ingest times on each pass, so no pass is a duplicate of the last
// and closed orders are evicted as they would be. Sub-benchmarks run with
// the viewer checks off, on, and with everything `baton run` turns on by
// default (checks, delay notices, WISMO attribution).
func BenchmarkUnify(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"checks=off", Config{}},
		{"checks=on", Config{SyncChecks: true}},
		{"checks+delays+wismo", Config{SyncChecks: true, Delays: true, Wismo: true}},
	} {
		b.Run(c.name, func(b *testing.B) { benchmarkUnify(b, c.cfg) })
	}
}

func benchmarkUnify(b *testing.B, cfg Config) {
	run := sharedRun(b)
	bins, ingested := binaryInputs(b, run)
	span := ingested[len(ingested)-1].Sub(ingested[0]) + time.Hour
	p, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	st := NewState()
	buf := make([]byte, 0, 2048)
	encode := func(s *schemas.Schema, v map[string]any) {
		var err error
		if buf, err = s.AppendBinary(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
	var transitions, checks int
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k, pass := i%len(bins), i/len(bins)
		plain, _, err := canonicalSchema.DecodePlain(bins[k])
		if err != nil {
			b.Fatal(err)
		}
		if pass > 0 {
			plain["order_id"] = plain["order_id"].(string) + "/" + strconv.Itoa(pass)
		}
		out := p.Process(st, Input{Plain: plain, Ingested: ingested[k].Add(time.Duration(pass) * span)})
		if out.Rejected != nil {
			b.Fatal(out.Rejected)
		}
		for _, r := range out.Transitions {
			encode(transitionSchema, r.Value)
		}
		if out.State != nil {
			encode(stateSchema, out.State.Value)
		}
		for _, c := range out.Checks {
			encode(syncCheckSchema, c.Value)
		}
		for _, f := range out.Failed {
			encode(failedSyncSchema, f.Value)
		}
		for _, n := range out.Notices {
			encode(delayNoticeSchema, n.Value)
		}
		for _, t := range out.Tickets {
			encode(ticketSchema, t.Value)
		}
		transitions += len(out.Transitions)
		checks += len(out.Checks)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(transitions)/float64(b.N), "transitions/event")
	b.ReportMetric(float64(checks)/float64(b.N), "checks/event")
}

// BenchmarkProcess is Process alone, on inputs already in Plain form.
func BenchmarkProcess(b *testing.B) {
	run := sharedRun(b)
	span := run.inputs[len(run.inputs)-1].Ingested.Sub(run.inputs[0].Ingested) + time.Hour
	p, st := newProcessor(b), NewState()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k, pass := i%len(run.inputs), i/len(run.inputs)
		in := run.inputs[k]
		if pass > 0 {
			plain := make(map[string]any, len(in.Plain))
			for f, v := range in.Plain {
				plain[f] = v
			}
			plain["order_id"] = plain["order_id"].(string) + "/" + strconv.Itoa(pass)
			in = Input{Plain: plain, Ingested: in.Ingested.Add(time.Duration(pass) * span)}
		}
		p.Process(st, in)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// finalChanges is the compacted changelog of the simulated run: the latest
// record of every order (each at the end of its life, so at its largest).
func finalChanges(b *testing.B) ([]Change, *State) {
	run := sharedRun(b)
	p, st, staged := newProcessor(b), NewState(), NewState()
	latest := map[string]int{}
	var changes []Change
	for _, in := range run.inputs {
		for _, c := range p.Process(st, in).Changes {
			if id, seq, ok := parseHistKey(c.Key); ok {
				if err := staged.applyHistEntry(id, seq, c.Value); err != nil {
					b.Fatal(err)
				}
				continue
			}
			if c.Value == nil || c.Key == WatermarkKey {
				continue
			}
			if i, ok := latest[c.Key]; ok {
				changes[i] = c
				continue
			}
			latest[c.Key] = len(changes)
			changes = append(changes, c)
		}
	}
	return changes, staged
}

// BenchmarkRestore measures rebuilding a state from its changelog (orders
// per second), and the memory an order takes once restored: bytes/order is
// the heap growth of holding 100,000 orders (copies of the simulated
// orders' final records, the largest each order gets), divided by 100,000.
func BenchmarkRestore(b *testing.B) {
	const orders = 100_000
	src, staged := finalChanges(b)
	var changes []Change
	for i := range orders {
		c := src[i%len(src)]
		id := c.Key + "/" + strconv.Itoa(i)
		for j, e := range staged.staged[c.Key] {
			changes = append(changes, Change{Key: histKey(id, j), Value: encodeHistEntry(&e)})
		}
		changes = append(changes, Change{Key: id, Value: c.Value})
	}
	var bytesPerOrder float64
	b.ReportAllocs()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		st := NewState()
		for _, c := range changes {
			if err := st.Apply(c); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		bytesPerOrder = float64(after.HeapAlloc-before.HeapAlloc) / orders
		runtime.KeepAlive(st)
	}
	b.ReportMetric(float64(b.N*orders)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric(bytesPerOrder, "bytes/order")
	var size int
	for _, c := range changes {
		size += len(c.Value)
	}
	b.ReportMetric(float64(size)/orders, "changelog-bytes/order")
}

// BenchmarkChangelogEncode is encodeOrder alone, over the simulated orders'
// final states (ns and allocations per record).
func BenchmarkChangelogEncode(b *testing.B) {
	src, st := finalChanges(b)
	orders := make([]*order, len(src))
	for i, c := range src {
		o, err := st.decodeOrder(c.Key, c.Value)
		if err != nil {
			b.Fatal(err)
		}
		orders[i] = o
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		encodeOrder(orders[i%len(orders)])
		i++
	}
}

// BenchmarkChangelogDecode is decodeOrder alone, over the simulated orders'
// final records.
func BenchmarkChangelogDecode(b *testing.B) {
	src, st := finalChanges(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := st.decodeOrder(src[i%len(src)].Key, src[i%len(src)].Value); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
