package main

import (
	"flag"
	"os"
	"strings"
	"time"
)

// Defaults point at the embedded dev stack (`make dev-up`), so the same
// binary runs locally without flags and against production with them.
const (
	defaultBrokers     = "127.0.0.1:9092"
	defaultRegistryURL = "http://127.0.0.1:8081"
	defaultCHAddr      = "127.0.0.1:9000"
	defaultCHDatabase  = "baton"
	defaultMetricsAddr = "127.0.0.1:9464"
)

// envOr returns the environment variable's value, or def when unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// kafkaFlags are the Kafka and schema registry connection settings.
type kafkaFlags struct {
	brokers  string
	registry string
}

func (k *kafkaFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.brokers, "brokers", envOr("BATON_BROKERS", defaultBrokers), "comma-separated Kafka bootstrap brokers (env BATON_BROKERS)")
	fs.StringVar(&k.registry, "registry", envOr("BATON_REGISTRY_URL", defaultRegistryURL), "schema registry URL (env BATON_REGISTRY_URL)")
}

func (k *kafkaFlags) brokerList() []string {
	var out []string
	for _, b := range strings.Split(k.brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// clickhouseFlags are the ClickHouse connection settings.
type clickhouseFlags struct {
	addr     string
	database string
	user     string
	password string
	timeout  time.Duration
}

func (c *clickhouseFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "clickhouse-addr", envOr("BATON_CLICKHOUSE_ADDR", defaultCHAddr), "ClickHouse native-protocol address host:port (env BATON_CLICKHOUSE_ADDR)")
	fs.StringVar(&c.database, "clickhouse-database", envOr("BATON_CLICKHOUSE_DATABASE", defaultCHDatabase), "ClickHouse database (env BATON_CLICKHOUSE_DATABASE)")
	fs.StringVar(&c.user, "clickhouse-user", envOr("BATON_CLICKHOUSE_USER", "default"), "ClickHouse user (env BATON_CLICKHOUSE_USER)")
	fs.StringVar(&c.password, "clickhouse-password", envOr("BATON_CLICKHOUSE_PASSWORD", ""), "ClickHouse password (env BATON_CLICKHOUSE_PASSWORD)")
	fs.DurationVar(&c.timeout, "clickhouse-timeout", 30*time.Second, "ClickHouse dial and query timeout")
}
