// Package sqlstore is what the SQL engines (store/sqlite, store/postgres)
// share, so that each keeps only the SQL its dialect and driver need:
//
//   - Tx, the localcases.Tx and IndexTx every engine returns. It encodes
//     records, checks a transaction before each statement, remembers the
//     first database error, and pages through List and ScanIndex. An engine
//     supplies its statements as Queries.
//   - the index queries and their keyset paging (Walk);
//   - migrations: numbered .sql files (LoadMigrations), the refusal of a
//     newer schema (CheckVersion, ErrSchemaTooNew) and the runner
//     (Migrate), over an engine's Migrator.
package sqlstore
