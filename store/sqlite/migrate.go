package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"time"

	"github.com/localcases/localcases/store/internal/sqlstore"
)

// ErrSchemaTooNew is returned by Open for a database written by a newer
// localcases, which is left untouched.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

// The migrations, append-only (see sqlstore.Migration).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

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

// migrator migrates on the writer's connection. BEGIN IMMEDIATE takes the
// write lock before the version is read again, so two processes opening
// one new directory at once do not both apply a migration.
type migrator struct{ conn *sql.Conn }

var _ sqlstore.Migrator = migrator{}

func (m migrator) SchemaVersion(ctx context.Context) (int, error) { return schemaVersion(ctx, m.conn) }

func (m migrator) ApplyMigration(ctx context.Context, mig sqlstore.Migration) (err error) {
	conn := m.conn
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
	if v >= mig.Version {
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
	if _, err := conn.ExecContext(ctx, mig.SQL); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		mig.Version, mig.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}
