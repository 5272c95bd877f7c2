// Package postgres is the Store engine for a shared PostgreSQL database,
// through github.com/jackc/pgx/v5. Several localcases processes may use one
// database and see one state.
//
// Writes are grouped: each process has one writer goroutine, which takes
// every Update waiting at that moment and runs the callers' functions in
// turn, each inside its own SAVEPOINT of one transaction, then commits once
// and only then answers them (group commit, as store/sqlite does). A
// function's error or panic rolls back its savepoint alone. Each function
// runs exactly once: nothing is retried.
//
// Each write transaction takes a transaction-scoped advisory lock
// (pg_advisory_xact_lock) before it reads or writes, and keeps it until it
// commits. Writers to one store are therefore serialised across all
// processes: each sees every earlier commit, sequence numbers (of records
// and of outbox events) are assigned in commit order, so a page token or
// an events reader never skips a record committed later with a smaller
// number, and no transaction ever fails with a serialisation error that
// would force a retry. What the lock costs is paid once per batch rather
// than once per caller, and the lock is held for few round trips: a
// function's record, index and event writes are queued and sent in one
// pipeline when it returns (together with its RELEASE), its savepoint goes
// out with its first statement, records that the batch's earlier functions
// read or wrote are answered from memory (nobody else writes while the
// lock is held), and event numbers come from a reserve taken once per
// transaction.
//
// Update transactions run at READ COMMITTED on purpose: each statement sees
// what was committed before it started, including the commit of the lock's
// previous holder. REPEATABLE READ would take its snapshot at the lock
// statement, before the wait, and miss that commit.
//
// View runs a read-only REPEATABLE READ transaction: one snapshot for all
// of fn's reads, without blocking or being blocked by writers.
//
// All tables live in one schema (default "localcases"; the URL parameter
// schema= or Options.Schema picks another), so a database can hold several
// independent stores, and tests use a throwaway schema each.
package postgres
