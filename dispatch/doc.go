// Package dispatch delivers the events of the store's outbox to the
// configured sinks (package eventsink): webhooks and EventBridge forwarders.
//
// # Guarantees
//
// Delivery is at least once and never slows the API: the API only appends
// events to the outbox in the transaction of the change; dispatch reads the
// outbox afterwards, on goroutines of its own. Each sink has a durable
// cursor in the store (every event up to it is delivered, dead-lettered, or
// not matched by the sink's pattern), so a restart, a crash or kill -9
// resumes where the cursor stood and may deliver again the few events after
// it, never skip one.
//
// With several servers on one PostgreSQL database, a sink is delivered by
// one server at a time: the one holding its lease, a row beside the cursor
// with an owner and an expiry. The holder renews it while it runs; when it
// dies, another server takes the lease once it has expired and resumes from
// the cursor. The cursor is only advanced by the lease holder, in the same
// transaction that checks the lease.
//
// # Order, queues and retries
//
// A sink's events are delivered in commit order, in batches (at most 10 a
// call). A reader fills a bounded queue per sink from the outbox; when the
// queue is full, the reader waits and the wait is counted and logged; the
// events stay in the outbox, since the cursor does not pass them. A failed
// event is sent again after an exponential backoff with full jitter, and
// holds back the events after it, until it is delivered or its retry policy
// (attempts, and age since the change committed, as EventBridge's
// MaximumRetryAttempts and MaximumEventAgeInSeconds) is spent; then it is
// written to a durable dead-letter record and the sink moves on. A
// permanent failure (eventsink.IsPermanent) is dead-lettered at once. Dead
// letters can be listed, replayed (one attempt each, now) and deleted.
//
// # Retention
//
// Trimming the outbox must never drop an event a sink's cursor has not
// passed: TrimBound gives the highest sequence number retention may trim.
// A dead-lettered event is kept in its dead-letter record, so the cursor
// passes it and retention may then trim it from the outbox.
package dispatch
