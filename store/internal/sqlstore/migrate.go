package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
)

// ErrSchemaTooNew is returned by an engine's Open for a database written by
// a newer localcases: its tables may mean something this binary does not
// know, so it is left untouched rather than read wrongly or "repaired".
var ErrSchemaTooNew = errors.New("database schema is newer than this localcases")

// Migration is one numbered schema change. Migrations are append-only: a
// released file never changes, because databases already carry its effect.
// A mistake is fixed with a new file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var fileName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// LoadMigrations reads NNNN_name.sql files from dir in fsys and checks that
// they number 1, 2, 3, … with no gap, so a missing file cannot be skipped.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations")
	}
	return ms, nil
}

// Migrator is an engine's side of migrating: the SQL that reads and writes
// its schema_migrations table.
type Migrator interface {
	// SchemaVersion is the highest migration applied, 0 for a new database.
	SchemaVersion(ctx context.Context) (int, error)
	// ApplyMigration runs m and records it in schema_migrations in one
	// transaction, so a failed migration leaves the previous version. It
	// reads the version again inside that transaction, under a lock that
	// other processes opening the same database also take, and does nothing
	// if m is applied already.
	ApplyMigration(ctx context.Context, m Migration) error
}

// CheckVersion refuses a database from a newer binary with ErrSchemaTooNew,
// naming the database as subject ("it", `schema "x"`) and ending with hint,
// the user's other way out. It only reads, so a refused database is left
// exactly as it was. It returns the database's version.
func CheckVersion(ctx context.Context, db Migrator, ms []Migration, subject, hint string) (int, error) {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if latest := ms[len(ms)-1].Version; v > latest {
		return v, fmt.Errorf("%w: %s is at version %d, this binary knows up to %d; upgrade localcases, or %s",
			ErrSchemaTooNew, subject, v, latest, hint)
	}
	return v, nil
}

// Migrate applies the migrations after version from, each in its own
// transaction.
func Migrate(ctx context.Context, db Migrator, ms []Migration, from int) error {
	for _, m := range ms[from:] {
		if err := db.ApplyMigration(ctx, m); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	return nil
}
