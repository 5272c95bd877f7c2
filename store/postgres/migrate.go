package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/localcases/localcases/store/schema"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaTooNew is returned by Open for a schema written by a newer
// localcases, which is left untouched.
var ErrSchemaTooNew = errors.New("database schema is newer than this localcases")

// Migrations are append-only: a released file never changes. They are this
// engine's own, not the SQLite files, because the dialects differ.
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

type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

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

// migrate refuses a newer schema (only reading, so it stays as it was),
// then applies each missing migration in its own transaction with its
// schema_migrations row. The advisory lock that serialises writers also
// serialises migrations, so two processes starting on a new database do
// not both apply one.
func (s *Store) migrate(ctx context.Context, ms []migration) error {
	v, err := schemaVersion(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if latest := ms[len(ms)-1].version; v > latest {
		return fmt.Errorf("%w: schema %q is at version %d, this binary knows up to %d; upgrade localcases, or use another schema",
			ErrSchemaTooNew, s.schema, v, latest)
	}
	for _, m := range ms[v:] {
		if err := s.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, m migration) error {
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
		if err != nil || v >= m.version {
			return err
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
		return err
	})
}

var _ queryer = (*pgxpool.Pool)(nil)
