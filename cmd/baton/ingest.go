package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/baton-pipeline/baton/ingest"
	"github.com/baton-pipeline/baton/ingest/aftership"
	"github.com/baton-pipeline/baton/ingest/debezium"
	"github.com/baton-pipeline/baton/ingest/easypost"
	"github.com/baton-pipeline/baton/ingest/generic"
	"github.com/baton-pipeline/baton/ingest/shopify"
	"github.com/baton-pipeline/baton/ingest/zendesk"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/topology"
)

// Defaults of `baton ingest`. The metrics port differs from `baton run`'s
// so both can run on one host with their defaults.
const (
	defaultIngestListen      = "127.0.0.1:8080"
	defaultIngestMetricsAddr = "127.0.0.1:9465"
	defaultDebeziumGroup     = "baton-ingest-debezium"
)

// ingestSecrets are the per-vendor secrets; an empty one disables its
// adapter. Environment variables are the intended source (flags show up
// in process listings).
type ingestSecrets struct {
	shopify, easypost, aftership, zendesk, webhook, debezium string
}

func runIngest(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: baton ingest [flags]

Runs the webhook gateway: POST /webhooks/{shopify,easypost,aftership,zendesk,
debezium} adapts each vendor's payload to its source topic, POST
/webhooks/{storefront,oms,wms,carrier,helpdesk,notifications} takes baton's own
JSON format (systems without a vendor format, backfills), and each
answers 200 only after Kafka acknowledged every event; GET /healthz (alive),
GET /readyz (200 once it can produce to Kafka). It starts without Kafka and
answers deliveries 503 with Retry-After until it can produce. A vendor
whose secret is unset is disabled (its endpoint answers 404 saying so). With
--debezium-topic it also consumes Debezium change events from Kafka.
See ingest/README.md for pointing each vendor at it.

Flags:`)
		fs.PrintDefaults()
	}
	var (
		kf      kafkaFlags
		secrets ingestSecrets
		zdOpts  zendesk.Options
		maxBody = byteSize(ingest.DefaultMaxBody)
	)
	kf.register(fs)
	prefix := topicFlag(fs)
	listen := fs.String("listen", envOr("BATON_INGEST_LISTEN", defaultIngestListen), "address the webhook endpoints listen on (env BATON_INGEST_LISTEN)")
	fs.Var(&maxBody, "max-body", "largest webhook body accepted, e.g. 1MiB, 512KiB, 2000000 (413 above it)")
	var metricsAt metricsFlags
	metricsAt.register(fs, "BATON_INGEST_METRICS_ADDR", defaultIngestMetricsAddr)
	produceTimeout := fs.Duration("produce-timeout", ingest.DefaultProduceTimeout, "how long a delivery waits for Kafka's acknowledgement before answering 503 (keep below the vendors' webhook timeouts, Shopify's is 5s)")
	retryAfter := fs.Duration("retry-after", ingest.DefaultRetryAfter, "Retry-After advertised with a 503")
	shutdownTimeout := fs.Duration("shutdown-timeout", ingest.DefaultShutdownTimeout, "how long a stop request waits for deliveries in flight")
	fs.StringVar(&secrets.shopify, "shopify-secret", envOr("BATON_SHOPIFY_SECRET", ""), "Shopify app client secret (env BATON_SHOPIFY_SECRET)")
	fs.StringVar(&secrets.easypost, "easypost-secret", envOr("BATON_EASYPOST_SECRET", ""), "EasyPost webhook secret (env BATON_EASYPOST_SECRET)")
	fs.StringVar(&secrets.aftership, "aftership-secret", envOr("BATON_AFTERSHIP_SECRET", ""), "AfterShip webhook secret (env BATON_AFTERSHIP_SECRET)")
	fs.StringVar(&secrets.zendesk, "zendesk-secret", envOr("BATON_ZENDESK_SECRET", ""), "Zendesk webhook signing secret (env BATON_ZENDESK_SECRET)")
	fs.StringVar(&secrets.webhook, "webhook-secret", envOr("BATON_WEBHOOK_SECRET", ""), "shared secret of the generic endpoints (/webhooks/<system>, baton's own JSON format), and Debezium Server's whsec_ secret unless --debezium-secret is set (env BATON_WEBHOOK_SECRET)")
	fs.StringVar(&secrets.debezium, "debezium-secret", envOr("BATON_DEBEZIUM_SECRET", ""), "Debezium Server http sink secret, whsec_<base64>; defaults to the webhook secret (env BATON_DEBEZIUM_SECRET)")
	fs.StringVar(&zdOpts.OrderNumberField, "zendesk-order-field", envOr("BATON_ZENDESK_ORDER_FIELD", ""), "ID of the Zendesk ticket custom field holding the order number (env BATON_ZENDESK_ORDER_FIELD)")
	fs.StringVar(&zdOpts.OrderStatusField, "zendesk-order-status-field", envOr("BATON_ZENDESK_ORDER_STATUS_FIELD", ""), "ID of the Zendesk ticket custom field showing agents the order status (env BATON_ZENDESK_ORDER_STATUS_FIELD)")
	fs.BoolVar(&zdOpts.OrderFromExternalID, "zendesk-order-from-external-id", false, "use the ticket's external_id as the order ID when no order field value is known")
	fs.DurationVar(&zdOpts.Tolerance, "zendesk-tolerance", zendesk.DefaultTolerance, "how old (or how far ahead) a Zendesk signature timestamp may be")
	debeziumTopic := fs.String("debezium-topic", envOr("BATON_DEBEZIUM_TOPIC", ""), "consume Debezium change events of the OMS order table from this Kafka topic, e.g. oms.public.orders (env BATON_DEBEZIUM_TOPIC)")
	debeziumBrokers := fs.String("debezium-brokers", envOr("BATON_DEBEZIUM_BROKERS", ""), "brokers of the cluster Kafka Connect writes to; defaults to --brokers (env BATON_DEBEZIUM_BROKERS)")
	debeziumGroup := fs.String("debezium-group", envOr("BATON_DEBEZIUM_GROUP", defaultDebeziumGroup), "consumer group of the Debezium topic consumer (env BATON_DEBEZIUM_GROUP)")
	debeziumColumns := fs.String("debezium-columns", envOr("BATON_DEBEZIUM_COLUMNS", ""), "order table columns as field=column pairs, e.g. order_id=id,status=state (fields: "+strings.Join(columnFields(), ", ")+"; unnamed fields keep the defaults) (env BATON_DEBEZIUM_COLUMNS)")
	log, err := parseLogged(fs, args)
	if err != nil {
		return err
	}
	cols, err := parseColumns(*debeziumColumns)
	if err != nil {
		return usageError{err.Error()} // names --debezium-columns
	}
	if secrets.debezium == "" {
		secrets.debezium = secrets.webhook
	}

	adapters, disabled := ingestAdapters(secrets, zdOpts, cols)
	for _, v := range sortedKeys(disabled) {
		log.Warn("webhook vendor disabled", "vendor", v, "why", disabled[v])
	}
	if len(adapters) == 0 && *debeziumTopic == "" {
		return errors.New("no webhook vendor is configured: set at least one of BATON_SHOPIFY_SECRET, BATON_EASYPOST_SECRET, BATON_AFTERSHIP_SECRET, BATON_ZENDESK_SECRET, BATON_WEBHOOK_SECRET, or --debezium-topic")
	}

	cl, err := kf.client(ingest.ProducerOpts(*produceTimeout)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	reg, err := kf.registryClient()
	if err != nil {
		return err
	}
	promReg := processRegistry()
	gw, err := ingest.NewGateway(ctx, ingest.GatewayConfig{
		Client:          cl,
		Registry:        reg,
		Topics:          topology.New(*prefix),
		Adapters:        adapters,
		Disabled:        disabled,
		MaxBody:         int64(maxBody),
		ProduceTimeout:  *produceTimeout,
		RetryAfter:      *retryAfter,
		ShutdownTimeout: *shutdownTimeout,
		Metrics:         ingest.NewMetrics(promReg, nil),
		Logger:          log,
		// Kafka may be away while the gateway starts: it answers 503
		// until it can produce.
		ConnectInBackground: true,
	})
	if err != nil {
		return err
	}
	stopMetrics, err := startMetrics(metricsAt, promReg, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("webhook listener %s: %w", *listen, err)
	}

	// The HTTP server and the Debezium consumer stop together: either
	// failing stops the other, and a signal stops both after their work
	// in flight.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 2)
	running := 1
	go func() { done <- gw.Serve(ctx, ln) }()
	log.Info("webhook gateway listening", "url", "http://"+ln.Addr().String()+"/webhooks/{vendor}", "vendors", strings.Join(gw.Vendors(), ","),
		"brokers", kf.brokers, "topic_prefix", *prefix, "max_body", maxBody.String())
	if *debeziumTopic != "" {
		brokers := kf.brokerList()
		if *debeziumBrokers != "" {
			brokers = (&kafkaFlags{brokers: *debeziumBrokers}).brokerList()
		}
		running++
		go func() {
			done <- debezium.RunConsumer(ctx, debezium.ConsumerConfig{
				Brokers: brokers,
				Topic:   *debeziumTopic,
				Group:   *debeziumGroup,
				Adapter: debezium.New("", cols),
				Handler: gw,
				Logger:  log,
			})
		}()
		log.Info("consuming Debezium change events", "topic", *debeziumTopic, "group", *debeziumGroup, "brokers", strings.Join(brokers, ","))
	}
	var first error
	for range running {
		if err := <-done; err != nil && first == nil {
			first = err
		}
		cancel() // whichever stops first stops the other
	}
	if first == nil {
		log.Info("webhook gateway stopped")
	}
	return first
}

// ingestAdapters builds an adapter for every vendor with a secret and says
// why each other one is disabled.
func ingestAdapters(s ingestSecrets, zd zendesk.Options, cols debezium.ColumnMap) ([]ingest.Adapter, map[string]string) {
	var out []ingest.Adapter
	disabled := map[string]string{}
	add := func(vendor, secret, env string, mk func() ingest.Adapter) {
		if secret == "" {
			disabled[vendor] = env + " is not set"
			return
		}
		out = append(out, mk())
	}
	add("shopify", s.shopify, "BATON_SHOPIFY_SECRET", func() ingest.Adapter { return shopify.New(s.shopify) })
	add("easypost", s.easypost, "BATON_EASYPOST_SECRET", func() ingest.Adapter { return easypost.New(s.easypost) })
	add("aftership", s.aftership, "BATON_AFTERSHIP_SECRET", func() ingest.Adapter { return aftership.New(s.aftership) })
	add("zendesk", s.zendesk, "BATON_ZENDESK_SECRET", func() ingest.Adapter { return zendesk.New(s.zendesk, zd) })
	// Every system has the generic endpoint: the WMS and the notification
	// system have no vendor format, and a backfill or historical import of
	// any system can be posted in baton's own format.
	for _, sys := range schemas.Systems {
		add(string(sys), s.webhook, "BATON_WEBHOOK_SECRET", func() ingest.Adapter {
			a, _ := generic.New(sys, s.webhook) // embedded schemas: cannot fail
			return a
		})
	}
	switch err := debezium.CheckSecret(s.debezium); {
	case s.debezium == "":
		disabled[debezium.Vendor] = "BATON_DEBEZIUM_SECRET (or BATON_WEBHOOK_SECRET) is not set"
	case err != nil:
		disabled[debezium.Vendor] = err.Error()
	default:
		out = append(out, debezium.New(s.debezium, cols))
	}
	return out, disabled
}

// columnNames maps --debezium-columns field names to ColumnMap fields.
func columnNames(c *debezium.ColumnMap) map[string]*string {
	return map[string]*string{
		"order_id":            &c.OrderID,
		"status":              &c.Status,
		"hold_reason":         &c.HoldReason,
		"return_id":           &c.ReturnID,
		"customer_id":         &c.CustomerID,
		"promised_ship_by":    &c.PromisedShipBy,
		"promised_deliver_by": &c.PromisedDeliverBy,
		"updated_at":          &c.UpdatedAt,
	}
}

func columnFields() []string {
	var c debezium.ColumnMap
	return sortedKeys(columnNames(&c))
}

// parseColumns reads field=column pairs over debezium.DefaultColumns; an
// empty column name ("hold_reason=") means the table has no such column.
func parseColumns(s string) (debezium.ColumnMap, error) {
	cols := debezium.DefaultColumns
	fields := columnNames(&cols)
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		field, col, ok := strings.Cut(pair, "=")
		dst, known := fields[strings.TrimSpace(field)]
		if !ok || !known {
			return cols, fmt.Errorf("--debezium-columns: %q is not field=column with a field of %s", pair, strings.Join(columnFields(), ", "))
		}
		*dst = strings.TrimSpace(col)
	}
	return cols, cols.Validate()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// byteSize is a flag value in bytes written as 1048576, 1MiB, 512KiB, 1MB.
type byteSize int64

func (b *byteSize) String() string {
	switch n := int64(*b); {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	default:
		return strconv.FormatInt(n, 10)
	}
}

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return fmt.Errorf("%q is not a positive size like 1048576, 512KiB or 1MiB", s)
	}
	*b = byteSize(n * mult)
	return nil
}
