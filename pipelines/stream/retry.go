package stream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/sr"
)

// permanent wraps an error that retrying cannot fix; retry returns it at
// once (unwrapped).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one retrying cannot fix: Retry returns it at once.
func Permanent(err error) error { return permanent{err} }

// Retry runs op until it succeeds, returns a permanent error, or ctx ends,
// waiting with capped, jittered exponential back-off (100 ms to 10 s)
// between tries. Transient failures (a broker, registry or ClickHouse
// away, for seconds or for hours) are waited out, not fatal: the pipeline
// waits for the dependency rather than dropping or skipping data. The
// first failure is logged, then at most one line per logEvery with the
// number of failures meanwhile; onFailure, if set, counts each.
func Retry(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	return RetryCounting(ctx, log, what, nil, op)
}

// WaitFor runs a start-up step (opening ClickHouse, creating topics,
// registering schemas) until it succeeds, retrying it with back-off for
// as long as it fails with an error that can heal (see CanHeal) and
// logging as retry does: a pipeline started before its database or broker
// waits for them. Any other error (bad credentials, an incompatible
// schema, a bad flag) is returned at once, as is the last error when ctx
// ends.
func WaitFor(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	return Retry(ctx, log, what, func() error {
		err := op()
		if err != nil && !CanHeal(err) {
			return permanent{err}
		}
		return err
	})
}

// CanHeal reports whether err says a dependency did not answer, or
// answered that it cannot serve now: a refused, reset or timed-out
// connection, a name that does not resolve yet, a retriable Kafka error,
// a schema registry answering 5xx. Those go away by themselves when the
// dependency comes back.
func CanHeal(err error) bool {
	var (
		netErr  net.Error
		dnsErr  *net.DNSError
		kafkaEr *kerr.Error
		srErr   *sr.ResponseError
	)
	switch {
	case err == nil:
		return false
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr), errors.As(err, &dnsErr):
		return true
	case errors.As(err, &kafkaEr):
		return kafkaEr.Retriable
	case errors.As(err, &srErr):
		return srErr.StatusCode >= 500
	}
	return false
}

// retryLogEvery is how often retry logs a failure that goes on.
const retryLogEvery = 30 * time.Second

// RetryCounting is Retry with onFailure called after each failed try.
func RetryCounting(ctx context.Context, log *slog.Logger, what string, onFailure func(), op func() error) error {
	var (
		backoff     Backoff
		first, last time.Time
		since       int
	)
	for {
		err := op()
		if err == nil {
			if !first.IsZero() {
				log.Info("succeeded after retrying", "op", what, "failures", backoff.Failures(), "after", time.Since(first).Round(time.Millisecond))
			}
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return p.err
		}
		if ctx.Err() != nil {
			return err
		}
		if onFailure != nil {
			onFailure()
		}
		wait := backoff.Next()
		since++
		if now := time.Now(); first.IsZero() || now.Sub(last) >= retryLogEvery {
			if first.IsZero() {
				first = now
			}
			log.Warn("retrying", "op", what, "failures", backoff.Failures(), "failures_since_last_logged", since,
				"failing_for", now.Sub(first).Round(time.Second), "retry_in", wait.Round(time.Millisecond), "err", err)
			last, since = now, 0
		}
		sleep(ctx, wait)
		if ctx.Err() != nil {
			return err
		}
	}
}

// GraceAfter returns a context that ends grace after ctx ends (or when
// the returned cancel is called): work that a stop request may cut short
// only once it had that long to finish.
func GraceAfter(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return out, func() {
		stop()
		cancel()
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// EndOffsets lists the topics' end offsets, failing when any partition's
// lookup failed (kadm reports those per partition, not as the error).
func EndOffsets(ctx context.Context, adm *kadm.Client, topics ...string) (kadm.ListedOffsets, error) {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	return ends, err
}

// ListEndOffsets is EndOffsets retried until it succeeds; it fails only
// when ctx ends.
func ListEndOffsets(ctx context.Context, log *slog.Logger, adm *kadm.Client, stage string, topics ...string) (kadm.ListedOffsets, error) {
	var ends kadm.ListedOffsets
	err := Retry(ctx, log, stage+": list end offsets", func() (err error) {
		ends, err = EndOffsets(ctx, adm, topics...)
		return err
	})
	return ends, err
}
