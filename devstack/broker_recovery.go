package devstack

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// After a crash (SIGKILL, OOM, power loss) kfake, at the version in go.mod,
// recovers a transaction that was open at the crash only in its memory: it
// replays each changed partition's log (persist.go loadPartitionFullReplay)
// and "implicitly aborts" a producer's transactional batches that no
// transaction marker follows, by adding them to the partition's aborted
// index and moving the last stable offset to the high watermark, but it
// writes no ABORT marker, and the producer is no longer in a transaction
// (DescribeProducers and ListTransactions do not list it). Two things then
// go wrong for read_committed readers:
//
//   - a reader that reads until the record or marker at end-1 (baton's state
//     restore) waits for ever when the aborted batches end the partition:
//     they are filtered out, and no marker follows them;
//   - a reader filters a producer's batches from the first offset of an
//     aborted transaction until that producer's next ABORT marker (the
//     protocol's contract, which kfake's real aborts keep): when the same
//     transactional ID comes back and commits, its committed records in the
//     same partition are dropped too.
//
// On Kafka the transaction coordinator writes ABORT markers for a
// transaction that timed out, whether or not a broker crashed in between.
// RunBroker does the same after a crash: before it accepts any client it
// reads the log of every partition for transactions no marker ends and
// writes ABORT markers for them with WriteTxnMarkers, as Kafka's
// `kafka-transactions.sh abort` (KIP-664) does. The log is the only place
// left that tells which transactions were open: kfake's coordinator state
// has forgotten them, so DescribeProducers, which that tool starts from,
// finds nothing. Reading every log costs a full read of the data directory
// (about as long as kfake's own load: 400 MB took about a second), only
// after a crash.
//
// A transaction open at a clean shutdown is not affected: kfake saves it in
// session_state.json, restores it at the next start and aborts it with
// markers when its timeout passes, as it does for a producer that went
// away while the broker kept running; unless the broker crashes before
// then, which dropPartitionSnapshots is for.

// kfakeSessionState and kfakeSnapshot are files kfake keeps in its data
// directory. kfake writes session_state.json in Close when it has groups,
// open transactions or fetch sessions to carry over, and deletes it when it
// loads it at the next start. A partition's snapshot.json is the
// partition's state at the last Close; kfake replays the log instead when
// the log no longer matches it.
const (
	kfakeMeta         = "meta.json"
	kfakeSessionState = "session_state.json"
	kfakeSnapshot     = "snapshot.json"
	kfakePartitions   = "partitions"
)

// cleanShutdownMarker is the file RunBroker writes in its data directory
// once kfake's Close returned and removes when it starts. kfake's own
// session_state.json cannot tell a clean stop: it is not written when
// there was nothing to carry over, so every stop of an idle broker looked
// like a crash.
const cleanShutdownMarker = "baton_clean_shutdown"

// crashedLastRun reports whether the broker's last run on dir ended without
// a clean Close: neither the marker nor kfake's session state is there (a
// directory of a version without the marker has the session state when it
// had something to carry over). A new directory did not crash.
func crashedLastRun(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, kfakeMeta)); err != nil {
		return false
	}
	for _, name := range []string{cleanShutdownMarker, kfakeSessionState} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return false
		}
	}
	return true
}

// dropPartitionSnapshots deletes every partition's snapshot.json in dir, so
// that kfake rebuilds each partition from its log, aborting (in memory) the
// transactions no marker ends, which abortTransactionsLeftOpen then finds.
//
// Why: a snapshot left by an earlier clean shutdown still matches a
// partition nobody wrote to since, and kfake then loads it instead of
// replaying the log. If a transaction was open at that shutdown, the
// snapshot's last stable offset stops at its first record, and the state
// that made that consistent (the open transaction in session_state.json)
// was consumed by the start the crash ended: the partition's last stable
// offset stays below its high watermark with no transaction open, and the
// transaction's records, in no aborted index, are later served as
// committed. kfake's own crash path, a full replay, is right for every
// partition; it loses only a log start offset moved by DeleteRecords or
// retention inside a segment, which baton does not use (retention.ms=-1).
func dropPartitionSnapshots(dir string) error {
	parts, err := os.ReadDir(filepath.Join(dir, kfakePartitions))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, p := range parts {
		err := os.Remove(filepath.Join(dir, kfakePartitions, p.Name(), kfakeSnapshot))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// heldListener is the broker's listener while RunBroker repairs the log
// after a crash: it hands kfake only connections to a private loopback port
// until release, so no client can begin or end a transaction, or produce,
// before the ABORT markers are written. A producer whose transactional ID
// comes back would otherwise write its next transaction between the open
// one and its marker, and the marker would abort that too. Clients that
// connect to the broker's port meanwhile wait in the accept queue, as they
// do while kfake loads its data directory.
type heldListener struct {
	net.Listener // the broker's port, the address kfake advertises
	private      net.Listener
	released     atomic.Bool
}

func newHeldListener(network, addr string) (*heldListener, error) {
	public, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	private, err := net.Listen(network, "127.0.0.1:0")
	if err != nil {
		public.Close()
		return nil, err
	}
	return &heldListener{Listener: public, private: private}, nil
}

func (l *heldListener) Accept() (net.Conn, error) {
	if !l.released.Load() {
		c, err := l.private.Accept()
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, net.ErrClosed) {
			return nil, err // e.g. out of file descriptors: patientListener retries
		}
		// Released, or kfake closes the listener: either way the
		// public listener answers now.
		l.released.Store(true)
	}
	return l.Listener.Accept()
}

// release lets clients of the broker's port in.
func (l *heldListener) release() { l.private.Close() }

func (l *heldListener) Close() error {
	l.private.Close()
	return l.Listener.Close()
}

// privateClient is a client of the broker behind l that dials the private
// port whatever broker address it is told (kfake advertises the public one).
func (l *heldListener) privateClient() (*kgo.Client, error) {
	private := l.private.Addr().String()
	return kgo.NewClient(
		kgo.SeedBrokers(l.Listener.Addr().String()),
		kgo.Dialer(func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, private)
		}),
	)
}

// openTxn is a producer's transaction in one partition's log that no
// marker ends: its batches from first to last.
type openTxn struct {
	epoch       int16
	first, last int64
}

// logPartition is a partition read by openTransactions.
type logPartition struct {
	topic     string
	id        [16]byte
	partition int32
	next, end int64
	open      map[int64]*openTxn // by producer ID
}

// abortTransactionsLeftOpen writes an ABORT marker for every transaction
// that the log of a partition holds without a marker after it and that the
// broker's coordinator does not track (DescribeProducers): see the comment
// at the top of this file. logf reports each abort.
func abortTransactionsLeftOpen(ctx context.Context, cl *kgo.Client, logf func(format string, args ...any)) error {
	start := time.Now()
	parts, err := openTransactions(ctx, cl)
	if err != nil {
		return err
	}
	logf("crash recovery: read the logs of %d partitions in %s", len(parts), time.Since(start).Round(time.Millisecond))
	adm := kadm.NewClient(cl)
	var withOpen kadm.TopicsSet
	for _, p := range parts {
		if len(p.open) > 0 {
			withOpen.Add(p.topic, p.partition)
		}
	}
	if len(withOpen) == 0 {
		return nil
	}
	active, err := adm.DescribeProducers(ctx, withOpen)
	if err != nil {
		return fmt.Errorf("describe producers: %w", err)
	}
	type producer struct {
		id    int64
		epoch int16
	}
	markers := map[producer]kadm.TopicsSet{}
	for _, p := range parts {
		for pid, txn := range p.open {
			dp, ok := active[p.topic].Partitions[p.partition]
			if !ok || dp.Err != nil {
				return fmt.Errorf("describe producers of %s partition %d: %v", p.topic, p.partition, cmp.Or(dp.Err, errors.New("no answer")))
			}
			if _, ongoing := dp.ActiveProducers[pid]; ongoing {
				continue // the coordinator's timeout aborts it
			}
			k := producer{pid, txn.epoch}
			ts := markers[k]
			ts.Add(p.topic, p.partition)
			markers[k] = ts
			logf("crash recovery: aborting the transaction producer %d (epoch %d) left open in %s partition %d, offsets %d-%d",
				pid, txn.epoch, p.topic, p.partition, txn.first, txn.last)
		}
	}
	var req []kadm.TxnMarkers
	for k, ts := range markers {
		req = append(req, kadm.TxnMarkers{ProducerID: k.id, ProducerEpoch: k.epoch, Topics: ts})
	}
	if len(req) == 0 {
		return nil
	}
	resps, err := adm.WriteTxnMarkers(ctx, req...)
	if err != nil {
		return fmt.Errorf("write abort markers: %w", err)
	}
	for _, m := range resps {
		for _, t := range m.Topics {
			for _, p := range t.Partitions {
				if p.Err != nil {
					return fmt.Errorf("write abort marker for producer %d to %s partition %d: %w", p.ProducerID, p.Topic, p.Partition, p.Err)
				}
			}
		}
	}
	return nil
}

// openTransactions reads every partition's log from its start to its high
// watermark (read_uncommitted, batch headers only) and returns the
// partitions, each with the transactions no marker ends.
func openTransactions(ctx context.Context, cl *kgo.Client) ([]*logPartition, error) {
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	if err := topics.Error(); err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	if len(topics) == 0 {
		return nil, nil
	}
	starts, err := adm.ListStartOffsets(ctx, topics.Names()...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics.Names()...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	type key struct {
		topic     string
		partition int32
	}
	var parts []*logPartition
	byKey := map[key]*logPartition{}
	ids := map[[16]byte]string{}
	var pending []*logPartition
	for _, td := range topics.Sorted() {
		ids[td.ID] = td.Topic
		for _, pd := range td.Partitions.Sorted() {
			start, _ := starts.Lookup(td.Topic, pd.Partition)
			end, _ := ends.Lookup(td.Topic, pd.Partition)
			p := &logPartition{topic: td.Topic, id: td.ID, partition: pd.Partition, next: start.Offset, end: end.Offset, open: map[int64]*openTxn{}}
			parts = append(parts, p)
			byKey[key{p.topic, p.partition}] = p
			if p.next < p.end {
				pending = append(pending, p)
			}
		}
	}
	const (
		perRequest        = 200
		maxBytes          = 64 << 20
		partitionMaxBytes = 8 << 20
	)
	for len(pending) > 0 {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID = -1
		req.MaxBytes = maxBytes
		req.SessionEpoch = -1 // no fetch session
		topicAt := map[string]int{}
		before := map[*logPartition]int64{}
		for _, p := range pending[:min(len(pending), perRequest)] {
			before[p] = p.next
			i, ok := topicAt[p.topic]
			if !ok {
				i = len(req.Topics)
				topicAt[p.topic] = i
				rt := kmsg.NewFetchRequestTopic()
				rt.Topic, rt.TopicID = p.topic, p.id
				req.Topics = append(req.Topics, rt)
			}
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition = p.partition
			rp.FetchOffset = p.next
			rp.PartitionMaxBytes = partitionMaxBytes
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		for _, rt := range resp.Topics {
			topic := rt.Topic
			if topic == "" { // v13+ names topics by ID
				topic = ids[rt.TopicID]
			}
			for _, rp := range rt.Partitions {
				p := byKey[key{topic, rp.Partition}]
				if p == nil {
					continue
				}
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					return nil, fmt.Errorf("fetch %s partition %d at offset %d: %w", p.topic, p.partition, p.next, err)
				}
				if err := p.read(rp.RecordBatches); err != nil {
					return nil, fmt.Errorf("read %s partition %d at offset %d: %w", p.topic, p.partition, p.next, err)
				}
			}
		}
		progress := false
		pending = slices.DeleteFunc(pending, func(p *logPartition) bool {
			if b, ok := before[p]; ok && p.next != b {
				progress = true
			}
			return p.next >= p.end
		})
		if !progress && len(pending) > 0 {
			return nil, fmt.Errorf("fetch: no batch below the high watermark of %s partition %d at offset %d", pending[0].topic, pending[0].partition, pending[0].next)
		}
	}
	return parts, nil
}

// read follows the batches of a fetch response: a producer's transactional
// data batch opens (or continues) its transaction, any control batch of the
// producer (a COMMIT or ABORT marker) ends it. A last batch cut short by the
// byte limit is read by the next fetch.
func (p *logPartition) read(raw []byte) error {
	for len(raw) >= 12 { // FirstOffset (8) and Length (4)
		size := 12 + int(int32(binary.BigEndian.Uint32(raw[8:12])))
		if size < 12 || size > len(raw) {
			return nil
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(raw[:size]); err != nil {
			return err
		}
		raw = raw[size:]
		last := b.FirstOffset + int64(b.LastOffsetDelta)
		if last < p.next {
			continue
		}
		const transactional, control = 0x10, 0x20
		switch {
		case b.Attributes&control != 0:
			delete(p.open, b.ProducerID)
		case b.Attributes&transactional != 0:
			if t, ok := p.open[b.ProducerID]; ok {
				t.epoch, t.last = b.ProducerEpoch, last
			} else {
				p.open[b.ProducerID] = &openTxn{epoch: b.ProducerEpoch, first: b.FirstOffset, last: last}
			}
		}
		p.next = last + 1
	}
	return nil
}
