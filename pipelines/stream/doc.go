// Package stream is baton's exactly-once stream runtime, kept apart from
// what the stages compute: a Stage consumes its inputs in a consumer group,
// keeps one state per input partition number, and commits each polled
// batch as one Kafka transaction holding the outputs, the state changes
// and the consumed offsets (KIP-447 fencing by group generation). The
// runtime, not the processor, writes a state's changelog (Writer.SetState)
// and restores it, just before a partition's first records and again
// after an aborted transaction; it orders a batch across partitions by
// timestamp (Kafka Streams' choice), bounds batches, keeps event-time
// aligned inputs within a window, and recovers from every error that can
// heal with capped, jittered back-off (Retry, WaitFor, Backoff), reporting
// what makes no progress (Stalls).
//
// The package knows nothing of baton's records, schemas or topics: package
// pipelines declares normalize and unify on it. Its tests run it in
// process on franz-go's kfake broker with injected faults (a produce that
// aborts its transaction, a fenced producer, a partition handed over
// mid-batch, a restore behind a crashed owner's open transaction).
package stream
