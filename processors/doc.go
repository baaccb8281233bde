// Package processors is the home of baton's processing logic, one package
// per processor. A processor is plain Go over decoded values: state in,
// event in → state out, records out. It knows nothing of Kafka clients,
// transactions or ClickHouse (pipelines/ does the wiring), so every rule is
// testable as a table of inputs and expected outputs, without a broker.
package processors
