package sqlite

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/localcases/localcases"
)

func FuzzDecodeKeys(f *testing.F) {
	f.Add(encodeKeys([][]byte{[]byte("a"), {0, 1, 2}, {}}))
	f.Add([]byte{0, 0, 0, 9, 'x'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := decodeKeys(b)
		if err != nil {
			return
		}
		if again := encodeKeys(keys); !bytes.Equal(again, b) {
			t.Fatalf("decode(%x) = %q encodes as %x", b, keys, again)
		}
	})
}

// TestIndexKeysMigration: a database written before migration 0008 had
// only idx and idx_owner; after it, each owner's keys are read from
// idx_keys, so a SetIndex removes the keys written before the upgrade,
// whatever bytes they hold, and writes only the difference.
func TestIndexKeysMigration(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := map[string][][]byte{
		"o1": {[]byte("a"), {0, 0xff, 0}, []byte("zz")},
		"o2": {[]byte("a")},
	}
	err = s.Update(t.Context(), func(tx localcases.Tx) error {
		for owner, keys := range old {
			if err := tx.(localcases.IndexTx).SetIndex("i", owner, keys); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to the schema before 0008, holding the same entries.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(t.Context(), `CREATE INDEX idx_owner ON idx (name, owner);
		DROP TABLE idx_keys; DELETE FROM schema_migrations WHERE version >= 8`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, dir); v != 7 {
		t.Fatalf("version %d, want 7", v)
	}

	s, err = Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var raw []byte
	if err := s.rdb.QueryRowContext(t.Context(), `SELECT keys FROM idx_keys WHERE name = 'i' AND owner = 'o1'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	keysO1, err := decodeKeys(raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]byte{{0, 0xff, 0}, []byte("a"), []byte("zz")}; !slices.EqualFunc(keysO1, want, bytes.Equal) {
		t.Errorf("o1's keys after the migration = %q, want %q", keysO1, want)
	}
	err = s.Update(t.Context(), func(tx localcases.Tx) error {
		itx := tx.(localcases.IndexTx)
		if err := itx.SetIndex("i", "o1", [][]byte{[]byte("b"), []byte("zz")}); err != nil {
			return err
		}
		return itx.SetIndex("i", "o2", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := idxEntries(t, s, "i"); strings.Join(got, " ") != "b/o1 zz/o1" {
		t.Errorf("entries = %q, want b/o1 zz/o1", got)
	}
	var n int
	if err := s.rdb.QueryRowContext(t.Context(), `SELECT count(*) FROM idx_keys WHERE owner = 'o2'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("o2 emptied: %d idx_keys rows (%v), want 0", n, err)
	}
	var idxOwner sql.NullString
	s.rdb.QueryRowContext(t.Context(), `SELECT name FROM sqlite_schema WHERE name = 'idx_owner'`).Scan(&idxOwner)
	if idxOwner.Valid {
		t.Error("idx_owner is still there")
	}
}
