package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/localcases/localcases/store/schema"
)

// ErrSchemaTooNew is returned by Open for a database written by a newer
// localcases: its tables may mean something this binary does not know, so
// it is left untouched rather than read wrongly or "repaired".
var ErrSchemaTooNew = errors.New("database schema is newer than this localcases")

// Migrations are append-only: a released file never changes, because data
// directories already carry its effect. Fix a mistake with a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads this engine's migration files (store/schema checks
// their numbering).
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	loaded, err := schema.Load(fsys, dir)
	if err != nil {
		return nil, err
	}
	ms := make([]migration, len(loaded))
	for i, m := range loaded {
		ms[i] = migration{version: m.Version, name: m.Name, sql: m.SQL}
	}
	return ms, nil
}

// querier is a connection or a pool: the version is read on the writer's
// connection at open, and on a plain pool by tests.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// schemaVersion is the highest migration applied, 0 for a new database.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

// checkVersion refuses a database from a newer binary. It only reads, so a
// refused database is left exactly as it was.
func checkVersion(ctx context.Context, q querier, ms []migration) (int, error) {
	v, err := schemaVersion(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if latest := ms[len(ms)-1].version; v > latest {
		return v, fmt.Errorf("%w: it is at version %d, this binary knows up to %d; upgrade localcases, or point --data at another directory",
			ErrSchemaTooNew, v, latest)
	}
	return v, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction together with its schema_migrations row, so a failed one
// leaves the database at the previous version. BEGIN IMMEDIATE takes the
// write lock before the version is read again, so two processes opening one
// new directory at once do not both apply a migration.
func migrate(ctx context.Context, conn *sql.Conn, ms []migration) error {
	for _, m := range ms {
		if err := applyMigration(ctx, conn, m); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, m migration) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	v, err := schemaVersion(ctx, conn)
	if err != nil {
		return err
	}
	if v >= m.version {
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	) STRICT`); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}
