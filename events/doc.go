// Package events serves the case events a store's outbox holds to local
// readers, and keeps the outbox bounded:
//
//   - Handler answers GET /_localcases/events: a long poll that returns the
//     EventBridge envelopes past a cursor, or, with Accept:
//     text/event-stream, a Server-Sent Events stream of them.
//   - Notifier wakes waiting readers when a transaction that appended
//     events commits in this process; readers also re-read the outbox on a
//     short interval, which is how events committed by another server on
//     the same PostgreSQL database reach them.
//   - Retainer trims the outbox in the background to a count and an age.
//
// The service (package service) writes the events, in the transaction of
// the change that causes them; this package only reads and trims. A
// cursor is the outbox sequence number of the last event a reader has
// seen, written as a decimal string; readers should treat it as opaque.
package events
