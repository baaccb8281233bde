// Package pipelines wires baton's processors to Kafka and ClickHouse: which
// stage reads and writes what (as package topology declares it), the
// consume loops, offset commits and shutdown, on the exactly-once runtime
// of package stream. The processing logic itself lives in processors/;
// this package only moves records.
package pipelines
