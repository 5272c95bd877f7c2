package postgres

import (
	"testing"
	"testing/fstest"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
	"github.com/localcases/localcases/store/storetest"
)

func TestUpgradeFromVersion1AddsIndexes(t *testing.T) {
	// A schema as the first release left it is upgraded in place, its
	// records kept, and gains the index table.
	u := storetest.PostgresURL(t)
	schema := storetest.PostgresSchema(t, u)
	v1, err := migrationFiles.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := mustOpenSchema(t, u, schema, Options{migrations: fstest.MapFS{"0001_init.sql": {Data: v1}}})
	if err := old.Update(t.Context(), func(tx localcases.Tx) error { return tx.Put("c", "s", "x", rec{N: 1}) }); err != nil {
		t.Fatal(err)
	}
	if v, _ := schemaVersion(t.Context(), old.pool); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	old.Close()

	s := mustOpenSchema(t, u, schema, Options{})
	ms, _ := sqlstore.LoadMigrations(migrationFiles, "migrations")
	if v, _ := schemaVersion(t.Context(), s.pool); v != len(ms) || v < 2 {
		t.Errorf("version after upgrade = %d, want %d", v, len(ms))
	}
	var got []string
	err = s.Update(t.Context(), func(tx localcases.Tx) error {
		var v rec
		if err := tx.Get("c", "s", "x", &v); err != nil || v.N != 1 {
			t.Errorf("record after upgrade = %+v %v", v, err)
		}
		itx := tx.(localcases.IndexTx)
		if err := itx.SetIndex("i", "x", [][]byte{[]byte("k")}); err != nil {
			return err
		}
		return itx.ScanIndex("i", nil, nil, false, func(key []byte, owner string) (bool, error) {
			got = append(got, string(key)+"/"+owner)
			return true, nil
		})
	})
	if err != nil || len(got) != 1 || got[0] != "k/x" {
		t.Errorf("index after upgrade = %q %v", got, err)
	}
}
