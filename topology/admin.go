package topology

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/schemas"
)

// EnsureTopics creates the topics that do not exist yet; existing ones are
// left as they are. Idempotent, so every process may call it at start.
func EnsureTopics(ctx context.Context, adm *kadm.Client, topics ...Topic) error {
	for _, tp := range topics {
		// Keep every record: replaying a topic from the start is how state
		// and ClickHouse are rebuilt, and time retention would also delete
		// records whose timestamps lie in the past (a backfill, a
		// simulation; outputs carry their input's time) as soon as they
		// land, from compacted topics too (a changelog must lose nothing
		// but superseded values). Operators who want retention set it per
		// topic after creation.
		configs := map[string]*string{"retention.ms": kadm.StringPtr("-1")}
		if tp.Compacted {
			configs["cleanup.policy"] = kadm.StringPtr("compact")
		}
		resp, err := adm.CreateTopic(ctx, tp.Partitions, -1, configs, tp.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s (%s partitions): %w", tp.Name, strconv.Itoa(int(tp.Partitions)), err)
		}
	}
	return nil
}

// RegisterSchemas registers each topic's value schema under its subject and
// returns an encoder per topic name. The registry refuses a schema that is
// not BACKWARD compatible with what the subject already holds.
func RegisterSchemas(ctx context.Context, cl *sr.Client, topics ...Topic) (map[string]*schemas.Encoder, error) {
	out := make(map[string]*schemas.Encoder, len(topics))
	for _, tp := range topics {
		if tp.Schema == "" {
			continue // e.g. a state changelog, whose values are internal
		}
		s, err := schemas.Load(tp.Schema)
		if err != nil {
			return nil, err
		}
		enc, err := schemas.NewEncoder(ctx, cl, schemas.Subject(tp.Name), s)
		if err != nil {
			return nil, err
		}
		out[tp.Name] = enc
	}
	return out, nil
}
