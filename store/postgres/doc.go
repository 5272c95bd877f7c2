// Package postgres is the Store engine for a shared PostgreSQL database,
// through github.com/jackc/pgx/v5. Several localcases processes may use one
// database and see one state.
//
// Every Update takes a transaction-scoped advisory lock (pg_advisory_xact_lock)
// before it reads or writes, and keeps it until it commits. Writers to one
// store are therefore serialised across all processes: each sees every
// earlier commit, sequence numbers are assigned in commit order (so a page
// token never skips a record committed later with a smaller number), and no
// transaction ever fails with a serialisation error that would force a
// retry. Update functions run exactly once.
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
