// Package pgshare makes every localcases server on one PostgreSQL database
// and schema inject faults as one service: the rules, the scenario (with one
// start time, so one scenario clock), the seed and the throttling settings
// live in the database, and each server's fault.Engine restores them.
//
// A change (Share implements fault.Control) is made in a transaction that
// locks the state row, applies the change to a scratch engine restored from
// the row, writes the result back with a higher version, and sends a
// NOTIFY. Every server LISTENs on one connection of its own and, in case a
// notification is lost (a dropped connection, a restart), also reads the
// version once a second: a change reaches the others within about a second
// at worst, and usually within milliseconds. The server that made the change
// restores it before answering, so its caller reads its own write.
//
// A count-limited rule (count: N) fails N calls in sum: each firing is
// claimed with one atomic upsert on fault_claims, which refuses once N were
// counted. A claim that cannot reach the database is refused: the fault is
// not injected, the failure is counted (ClaimErrors) and logged.
//
// What stays per server: how often an unlimited rule fired there, the
// positions of its random streams (a probability rule draws on each server
// from the same seed), observed outcomes behind the health report, and the
// traffic records.
package pgshare
