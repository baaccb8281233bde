package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
	"github.com/baton-pipeline/baton/topology"
)

// topicFlag registers --topic-prefix: every topic baton owns starts with
// it, so several independent baton deployments (or tests) share a cluster.
func topicFlag(fs *flag.FlagSet) *string {
	return fs.String("topic-prefix", envOr("BATON_TOPIC_PREFIX", topology.DefaultPrefix), "prefix of every topic baton owns (env BATON_TOPIC_PREFIX)")
}

// kafkaClient returns a client for the brokers with extra options.
func (k *kafkaFlags) client(opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.brokerList()...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", k.brokers, err)
	}
	return cl, nil
}

func (k *kafkaFlags) registryClient() (*sr.Client, error) {
	cl, err := sr.NewClient(sr.URLs(k.registry))
	if err != nil {
		return nil, fmt.Errorf("schema registry client for %s: %w", k.registry, err)
	}
	return cl, nil
}

func (c *clickhouseFlags) open(ctx context.Context) (*clickhouse.Client, error) {
	return clickhouse.Open(ctx, clickhouse.Config{Addr: c.addr, Database: c.database, User: c.user, Password: c.password, Timeout: c.timeout})
}

// openExisting opens baton's database for reading and refuses, with the
// remedy, one that does not exist yet: `baton run` creates it, and the
// server's own "code: 81 … doesn't exist" does not say so.
func (c *clickhouseFlags) openExisting(ctx context.Context) (*clickhouse.Client, error) {
	ch, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	exists, err := ch.DatabaseExists(ctx)
	if err == nil && !exists {
		err = fmt.Errorf("ClickHouse database %q does not exist on %s: run `baton run` first (it creates the database and its tables), or point --clickhouse-database (BATON_CLICKHOUSE_DATABASE) at baton's", c.database, c.addr)
	}
	if err != nil {
		ch.Close()
		return nil, err
	}
	return ch, nil
}

// runTopics creates the topics and registers the schemas; production
// deployments run it once before the pipeline (the pipeline also does it).
func runTopics(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("topics", flag.ContinueOnError)
	var kf kafkaFlags
	kf.register(fs)
	prefix := topicFlag(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	topics := topology.New(*prefix)
	cl, err := kf.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	reg, err := kf.registryClient()
	if err != nil {
		return err
	}
	if err := topology.EnsureTopics(ctx, kadm.NewClient(cl), topics.All()...); err != nil {
		return err
	}
	enc, err := topology.RegisterSchemas(ctx, reg, topics.All()...)
	if err != nil {
		return err
	}
	for _, t := range topics.All() {
		schema := "(internal, compacted)"
		if e := enc[t.Name]; e != nil {
			schema = fmt.Sprintf("schema %s, id %d", t.Schema, e.ID)
		}
		fmt.Printf("%-44s %2d partitions  %s\n", t.Name, t.Partitions, schema)
	}
	return nil
}
