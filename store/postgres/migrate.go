package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/localcases/localcases/store/internal/sqlstore"
)

// ErrSchemaTooNew is returned by Open for a schema written by a newer
// localcases, which is left untouched.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

// The migrations, append-only (see sqlstore.Migration). They are this
// engine's own, not the SQLite files, because the dialects differ.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var _ queryer = (*pgxpool.Pool)(nil)

// schemaVersion is the highest migration applied in the store's schema, 0
// if it has none. Names resolve through search_path, which Open pins to
// the store's schema alone.
func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v *int
	if err := q.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil || v == nil {
		return 0, err
	}
	return *v, nil
}

// migrate refuses a newer schema, then applies the missing migrations.
func (s *Store) migrate(ctx context.Context, ms []sqlstore.Migration) error {
	v, err := sqlstore.CheckVersion(ctx, migrator{s}, ms, fmt.Sprintf("schema %q", s.schema), "use another schema")
	if err != nil {
		return err
	}
	return sqlstore.Migrate(ctx, migrator{s}, ms, v)
}

// migrator migrates through the store's pool.
type migrator struct{ s *Store }

var _ sqlstore.Migrator = migrator{}

func (m migrator) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, m.s.pool)
}

// ApplyMigration takes the advisory lock that serialises writers, so two
// processes starting on a new database do not both apply a migration.
func (m migrator) ApplyMigration(ctx context.Context, mig sqlstore.Migration) error {
	s := m.s
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		v, err := schemaVersion(ctx, tx)
		if err != nil || v >= mig.Version {
			return err
		}
		if _, err := tx.Exec(ctx, mig.SQL); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, mig.Version, mig.Name)
		return err
	})
}
