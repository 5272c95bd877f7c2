// Package sqlite is the default Store engine: one SQLite database file in a
// data directory, through the pure-Go driver modernc.org/sqlite.
//
// Writers are serialised through one goroutine that owns the only write
// connection. It takes every Update waiting at that moment, runs each
// caller's function inside its own SAVEPOINT of one transaction, commits
// once and only then answers the callers (group commit), so concurrent
// requests share one fsync. A function's error or panic rolls back its
// savepoint alone. Each function runs exactly once: nothing is retried, so
// read-modify-write functions need not be idempotent.
//
// Readers use a separate pool of read-only connections. In WAL mode a read
// transaction sees the last commit before its first read, and keeps seeing
// it while writers go on.
//
// Durability: WAL with synchronous=FULL, so a commit is fsynced before
// Update returns. An acknowledged write survives kill -9 of the process and
// power loss. docs/STORAGE.md gives the reasoning and the measurements.
package sqlite
