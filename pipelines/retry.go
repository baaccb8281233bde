package pipelines

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// permanent wraps an error that retrying cannot fix; retry returns it at
// once (unwrapped).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// retry runs op until it succeeds, returns a permanent error, or ctx ends,
// backing off exponentially from 100 ms to 5 s. Transient failures (a
// broker, registry or ClickHouse briefly away) are logged, not fatal: the
// pipeline waits for the dependency rather than dropping or skipping data.
func retry(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return p.err
		}
		if ctx.Err() != nil {
			return err
		}
		log.Warn("retrying", "op", what, "attempt", attempt, "backoff", backoff, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// decode decodes a wire-format value, waiting out a registry that is
// briefly away. A value that can never decode returns at once with an
// error matching schemas.ErrUndecodable; any other error means ctx ended
// first.
func decode(ctx context.Context, log *slog.Logger, dec *schemas.Decoder, value []byte) (schemas.Decoded, error) {
	var out schemas.Decoded
	err := retry(ctx, log, "decode", func() error {
		var err error
		out, err = dec.Decode(ctx, value)
		if errors.Is(err, schemas.ErrUndecodable) {
			return permanent{err}
		}
		return err
	})
	return out, err
}
