package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBrokerAcceptsAgainAfterRunningOutOfFileDescriptors fills a broker
// with more partition files than its open-file limit allows, so that a new
// client's connection cannot be accepted (EMFILE). kfake's own accept loop
// gave up on that error and left a live process that refused every later
// connection. The new client must instead wait, and get its answer once
// deleting the topic gave the descriptors back.
func TestBrokerAcceptsAgainAfterRunningOutOfFileDescriptors(t *testing.T) {
	const limit, partitions = 120, 80 // two files per partition holding records
	b := startBrokerProcess(t, freePort(t), t.TempDir(), fmt.Sprintf("%s=%d", envBrokerMaxOpenFiles, limit))
	topic := "fill"
	cl := newClient(t, b.addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	produceCtx, produceCancel := context.WithTimeout(ctx, 10*time.Second)
	var wg sync.WaitGroup
	for p := range int32(partitions) {
		wg.Add(1)
		cl.Produce(produceCtx, &kgo.Record{Partition: p, Value: []byte("x")}, func(*kgo.Record, error) { wg.Done() })
	}
	wg.Wait() // some fail: the broker cannot open their files
	produceCancel()

	// The broker is at, or a descriptor or two below, its limit: kfake
	// closes a partition's segment file when opening its index fails, so
	// one descriptor can be left over, and the broker opens and closes
	// files of its own meanwhile. Clients that are still served hold their
	// connections and so use up what is left; the first one that is not
	// served must wait in the accept queue.
	var answered chan error
	for attempt := 1; ; attempt++ {
		if attempt > 8 {
			t.Fatalf("%d new clients were all answered while the broker was out of file descriptors, want one to wait in the accept queue; log:\n%s", attempt-1, b.log.String())
		}
		late := newClient(t, b.addr)
		answered = make(chan error, 1)
		go func() {
			_, err := kadm.NewClient(late).ListTopics(ctx)
			answered <- err
		}()
		waiting := false
		select {
		case err := <-answered:
			if err != nil {
				t.Fatalf("client %d while the broker was out of file descriptors: %v, want it to wait in the accept queue; log:\n%s", attempt, err, b.log.String())
			}
			t.Logf("client %d was answered: the broker still had a descriptor", attempt)
		case <-time.After(3 * time.Second):
			waiting = true
		}
		if waiting {
			break
		}
	}
	if !strings.Contains(b.log.String(), "cannot accept a connection") {
		t.Fatalf("the broker did not log its failed accepts; log:\n%s", b.log.String())
	}

	// Deleting the topic closes its files; the waiting client gets in.
	if _, err := adm.DeleteTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("the waiting client, once the topic was deleted: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the waiting client was never answered after the topic's files were closed")
	}
	if !strings.Contains(b.log.String(), "accepting connections again") {
		t.Errorf("the broker did not log that it accepts again; log:\n%s", b.log.String())
	}
	// And a client that comes after that is served at once.
	if _, err := kadm.NewClient(newClient(t, b.addr)).ListTopics(ctx); err != nil {
		t.Fatal(err)
	}
}

// flakyListener fails its first Accept calls with errs, then accepts.
type flakyListener struct {
	net.Listener
	errs []error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	return l.Listener.Accept()
}

func TestPatientListenerRetriesAllButClose(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	l := &patientListener{
		Listener: &flakyListener{Listener: inner, errs: []error{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED}},
		logf:     func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) },
	}
	go func() {
		if c, err := net.Dial("tcp", inner.Addr().String()); err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept after three passing errors: %v, want a connection", err)
	}
	c.Close()
	if len(logged) != 2 || !strings.Contains(logged[0], "too many open files") || !strings.Contains(logged[1], "after 3 failed accepts") {
		t.Errorf("logged %q, want one line for the failures (at most one per %s) and one for the recovery", logged, acceptLogEvery)
	}
	inner.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener: %v, want net.ErrClosed", err)
	}
}

func TestWatchOpenFilesWarnsNearTheLimitOncePerRepeat(t *testing.T) {
	n, ok := openFiles()
	if !ok {
		t.Fatal("/proc/self/fd is not readable")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var mu sync.Mutex
	var logged []string
	// n open of n+n/10+1: above the warning level.
	watchOpenFiles(ctx, uint64(n+n/10+1), 10*time.Millisecond, time.Hour, func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(format, args...))
	})
	if len(logged) != 1 || !strings.Contains(logged[0], "file descriptors open") || !strings.Contains(logged[0], "make dev-purge") {
		t.Errorf("logged %q, want one warning naming the way out", logged)
	}
}
