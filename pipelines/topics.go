// Package pipelines wires baton's processors to Kafka and ClickHouse: which
// topics exist, which stage reads and writes what, the consume loops, offset
// commits and shutdown. The processing logic itself lives in processors/;
// this package only moves records.
package pipelines

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

// DefaultTopicPrefix prefixes every topic baton owns. A different prefix
// gives an isolated set of topics on a shared cluster (tests use one each).
const DefaultTopicPrefix = "baton."

// DefaultPartitions is the partition count of the source topics: enough for
// a handful of `baton run` processes to share the load.
const DefaultPartitions = 6

// Topic is one Kafka topic baton owns, with the schema of its values.
type Topic struct {
	Name       string
	Partitions int32
	// Compacted topics keep the latest value per key (state changelogs).
	Compacted bool
	// Schema is the embedded schema name of the topic's values; empty for
	// internal topics (state changelogs) whose values are not Avro.
	Schema string
}

// Topics names every topic under one prefix.
type Topics struct {
	Prefix     string
	Partitions int32
}

// NewTopics returns the topic set for a prefix ("" means the default).
func NewTopics(prefix string) Topics {
	if prefix == "" {
		prefix = DefaultTopicPrefix
	}
	return Topics{Prefix: prefix, Partitions: DefaultPartitions}
}

// Source is the topic a source system's change stream lands in.
func (t Topics) Source(s schemas.System) Topic {
	return Topic{Name: t.Prefix + "source." + string(s), Partitions: t.Partitions, Schema: s.SchemaName()}
}

// DeadLetter is the topic of records a stage could not process, each with
// its reason (schema dead_letter).
func (t Topics) DeadLetter() Topic {
	return Topic{Name: t.Prefix + "deadletter", Partitions: 1, Schema: "dead_letter"}
}

// Sources lists the six source topics.
func (t Topics) Sources() []Topic {
	out := make([]Topic, len(schemas.Systems))
	for i, s := range schemas.Systems {
		out[i] = t.Source(s)
	}
	return out
}

// All lists every topic baton owns.
func (t Topics) All() []Topic {
	return append(t.Sources(), t.DeadLetter(), t.Canonical(), t.Links(), t.NormalizeChangelog(),
		t.Transitions(), t.OrderStates(), t.UnifyChangelog(), t.SyncChecks(), t.FailedSyncs(), t.DelayNotices(), t.WismoTickets())
}

// SystemOf returns the source system whose topic this is.
func (t Topics) SystemOf(topic string) (schemas.System, bool) {
	for _, s := range schemas.Systems {
		if t.Source(s).Name == topic {
			return s, true
		}
	}
	return "", false
}

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
