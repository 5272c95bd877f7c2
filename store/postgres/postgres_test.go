package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
	"github.com/localcases/localcases/store/storetest"
)

// MustOpen opens a store in a throwaway schema of the test database.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	u := storetest.PostgresURL(tb)
	return mustOpenSchema(tb, u, storetest.PostgresSchema(tb, u), Options{})
}

func mustOpenSchema(tb testing.TB, u, schema string, opts Options) *Store {
	tb.Helper()
	opts.Schema = schema
	s, err := Open(context.Background(), u, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.RunStoreTests(t, func(t *testing.T) localcases.Store { return MustOpen(t) })
}

type rec struct{ N int }

func TestTwoStoresOnOneSchemaSerialiseWriters(t *testing.T) {
	// Two stores stand for two processes: each has its own pool and its
	// own in-process writer gate, so only the advisory lock orders them.
	u := storetest.PostgresURL(t)
	schema := storetest.PostgresSchema(t, u)
	a := mustOpenSchema(t, u, schema, Options{})
	b := mustOpenSchema(t, u, schema, Options{})
	if err := a.Update(t.Context(), func(tx localcases.Tx) error { return tx.Put("c", "", "counter", rec{}) }); err != nil {
		t.Fatal(err)
	}
	const each = 40
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for i := range each {
				err := s.Update(t.Context(), func(tx localcases.Tx) error {
					var v rec
					if err := tx.Get("c", "", "counter", &v); err != nil {
						return err
					}
					v.N++
					if err := tx.Put("c", "", "counter", v); err != nil {
						return err
					}
					return tx.Put("c", "log", fmt.Sprintf("%p-%d-%d", s, i, v.N), v)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var v rec
	if err := b.View(t.Context(), func(tx localcases.Tx) error { return tx.Get("c", "", "counter", &v) }); err != nil || v.N != 4*each {
		t.Fatalf("counter = %d (%v), want %d", v.N, err, 4*each)
	}
	// Sequence order is commit order: the log lists the counter values in
	// increasing order.
	var ns []int
	a.View(t.Context(), func(tx localcases.Tx) error {
		return tx.List("c", "log", 0, func(r localcases.Raw) (bool, error) {
			var v rec
			fmt.Sscanf(string(r.Data), `{"N":%d}`, &v.N)
			ns = append(ns, v.N)
			return true, nil
		})
	})
	if !slices.IsSorted(ns) || len(ns) != 4*each {
		t.Errorf("log in List order = %v, want 1..%d", ns, 4*each)
	}
}

func TestSchemasAreIndependent(t *testing.T) {
	u := storetest.PostgresURL(t)
	a := mustOpenSchema(t, u, storetest.PostgresSchema(t, u), Options{})
	b := mustOpenSchema(t, u, storetest.PostgresSchema(t, u), Options{})
	if err := a.Update(t.Context(), func(tx localcases.Tx) error { return tx.Put("c", "s", "x", rec{}) }); err != nil {
		t.Fatal(err)
	}
	err := b.View(t.Context(), func(tx localcases.Tx) error { var v rec; return tx.Get("c", "s", "x", &v) })
	if !errors.Is(err, localcases.ErrNotFound) {
		t.Errorf("record of schema a seen in schema b: %v", err)
	}
}

func TestURLSchemaParameter(t *testing.T) {
	u := storetest.PostgresURL(t)
	schema := storetest.PostgresSchema(t, u)
	s, err := Open(t.Context(), storetest.WithSchema(u, schema), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Schema() != schema {
		t.Errorf("schema = %q, want %q", s.Schema(), schema)
	}
	if _, err := Open(t.Context(), storetest.WithSchema(u, "Bad-Name"), Options{}); err == nil {
		t.Error("a schema name that needs quoting was accepted")
	}
}

func migrationsWith(t *testing.T, extra map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	entries, _ := migrationFiles.ReadDir("migrations")
	for _, e := range entries {
		data, _ := migrationFiles.ReadFile("migrations/" + e.Name())
		fsys[e.Name()] = &fstest.MapFile{Data: data}
	}
	for name, text := range extra {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}

func TestMigrations(t *testing.T) {
	u := storetest.PostgresURL(t)
	schema := storetest.PostgresSchema(t, u)
	s := mustOpenSchema(t, u, schema, Options{})
	if err := s.Update(t.Context(), func(tx localcases.Tx) error { return tx.Put("c", "s", "x", rec{N: 1}) }); err != nil {
		t.Fatal(err)
	}
	ms, _ := sqlstore.LoadMigrations(migrationFiles, "migrations")
	next := len(ms) + 1

	// A failing migration leaves the previous version and none of its
	// statements.
	broken := migrationsWith(t, map[string]string{fmt.Sprintf("%04d_broken.sql", next): `CREATE TABLE half (id int); INSERT INTO nowhere VALUES (1);`})
	if _, err := Open(t.Context(), u, Options{Schema: schema, migrations: broken}); err == nil {
		t.Fatal("a broken migration was applied")
	}
	if v, _ := schemaVersion(t.Context(), s.pool); v != next-1 {
		t.Errorf("version after a failed migration = %d", v)
	}

	// An older schema is upgraded, its records kept.
	upgrade := migrationsWith(t, map[string]string{fmt.Sprintf("%04d_notes.sql", next): `ALTER TABLE records ADD COLUMN note text; CREATE TABLE notes (id int);`})
	s2 := mustOpenSchema(t, u, schema, Options{migrations: upgrade})
	var v rec
	if err := s2.View(t.Context(), func(tx localcases.Tx) error { return tx.Get("c", "s", "x", &v) }); err != nil || v.N != 1 {
		t.Errorf("record after upgrade = %+v %v", v, err)
	}
	if v, _ := schemaVersion(t.Context(), s.pool); v != next {
		t.Errorf("version after upgrade = %d, want %d", v, next)
	}

	// The current binary now sees a newer schema and refuses it.
	_, err := Open(t.Context(), u, Options{Schema: schema})
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprint(next)) {
		t.Errorf("Open of a newer schema = %v", err)
	}
}

func TestPanicRollsBack(t *testing.T) {
	s := MustOpen(t)
	func() {
		defer func() { recover() }()
		s.Update(t.Context(), func(tx localcases.Tx) error {
			tx.Put("c", "s", "x", rec{})
			panic("boom")
		})
	}()
	err := s.View(t.Context(), func(tx localcases.Tx) error { var v rec; return tx.Get("c", "s", "x", &v) })
	if !errors.Is(err, localcases.ErrNotFound) {
		t.Errorf("write of a panicking update: %v", err)
	}
	// The writer gate was released.
	if err := s.Update(t.Context(), func(tx localcases.Tx) error { return tx.Put("c", "s", "y", rec{}) }); err != nil {
		t.Fatal(err)
	}
}

// TestBatchedFunctionsStayApart runs many Updates at once, so the writer
// batches them, where every third fails after writing: its records, index
// entries and events must vanish while its neighbours' stay, and each
// function reads what the earlier ones of its batch committed.
func TestBatchedFunctionsStayApart(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	if err := s.Update(ctx, func(tx localcases.Tx) error { return tx.Put("c", "", "counter", rec{}) }); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	const n = 60
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil && i%7 != 0 {
					t.Errorf("update %d panicked: %v", i, v)
				}
			}()
			err := s.Update(ctx, func(tx localcases.Tx) error {
				var v rec
				if err := tx.Get("c", "", "counter", &v); err != nil {
					return err
				}
				// The records listed are those the functions before this
				// one committed, one for each count.
				listed := 0
				if err := tx.List("c", "s", 0, func(localcases.Raw) (bool, error) { listed++; return true, nil }); err != nil {
					return err
				}
				if listed != v.N {
					return fmt.Errorf("listed %d records, counter %d", listed, v.N)
				}
				v.N++
				id := fmt.Sprint(i)
				if err := tx.Put("c", "", "counter", v); err != nil {
					return err
				}
				if err := tx.Put("c", "s", id, v); err != nil {
					return err
				}
				var back rec
				if err := tx.Get("c", "s", id, &back); err != nil || back != v {
					return fmt.Errorf("read back %v, %v; want %v", back, err, v)
				}
				if err := tx.(localcases.IndexTx).SetIndex("ix", id, [][]byte{[]byte(id)}); err != nil {
					return err
				}
				if _, err := tx.(localcases.OutboxTx).AppendEvent("d", time.Now(), []byte(`{"i":`+id+`}`)); err != nil {
					return err
				}
				if i%2 == 0 {
					// A read that the queued writes change sends them
					// first: a failure must then roll them back.
					if _, err := tx.Count("c", "s"); err != nil {
						return err
					}
				}
				if i%3 == 0 {
					return errBoom
				}
				if i%7 == 0 {
					panic("panic " + id)
				}
				return nil
			})
			switch {
			case i%3 == 0 && !errors.Is(err, errBoom):
				t.Errorf("update %d: %v, want boom", i, err)
			case i%7 == 0 && i%3 != 0:
				t.Errorf("update %d: returned %v instead of re-raising its panic", i, err)
			case i%3 != 0 && err != nil:
				t.Errorf("update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	want := 0
	for i := range n {
		if i%3 != 0 && i%7 != 0 {
			want++
		}
	}
	err := s.View(ctx, func(tx localcases.Tx) error {
		var v rec
		if err := tx.Get("c", "", "counter", &v); err != nil {
			return err
		}
		if v.N != want {
			t.Errorf("counter = %d, want %d", v.N, want)
		}
		recs, err := tx.Count("c", "s")
		if err != nil {
			return err
		}
		entries, err := tx.(localcases.IndexTx).CountIndex("ix", nil)
		if err != nil {
			return err
		}
		evs, err := tx.(localcases.OutboxTx).ListEvents(0, "", 1000)
		if err != nil {
			return err
		}
		if recs != want || entries != want || len(evs) != want {
			t.Errorf("records %d, index entries %d, events %d; want %d of each", recs, entries, len(evs), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPutManyKeepsOrderAndLastData(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	rec := func(id, data string) localcases.SnapshotRecord {
		return localcases.SnapshotRecord{Collection: "c", Scope: "s", ID: id, Data: []byte(data)}
	}
	err := s.Update(ctx, func(tx localcases.Tx) error {
		if err := tx.Put("c", "s", "old", 1); err != nil {
			return err
		}
		return tx.(localcases.BulkTx).PutMany([]localcases.SnapshotRecord{rec("b", "1"), rec("a", "2"), rec("old", "3"), rec("b", "4"), rec("c", "5")})
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s.View(ctx, func(tx localcases.Tx) error {
		return tx.List("c", "s", 0, func(r localcases.Raw) (bool, error) {
			got = append(got, r.ID+"="+string(r.Data))
			return true, nil
		})
	})
	if want := []string{"old=3", "b=4", "a=2", "c=5"}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	// A function that fails after PutMany leaves nothing of it.
	errBoom := errors.New("boom")
	err = s.Update(ctx, func(tx localcases.Tx) error {
		if err := tx.(localcases.BulkTx).PutMany([]localcases.SnapshotRecord{rec("d", "6")}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("update = %v, want boom", err)
	}
	s.View(ctx, func(tx localcases.Tx) error {
		if n, err := tx.Count("c", "s"); n != 4 || err != nil {
			t.Errorf("count = %d, %v after a failed PutMany; want 4", n, err)
		}
		return nil
	})
}

// TestReaderOfTwoWritingStoresMissesNothing: while two stores (two
// processes) write records and events at once, a reader that pages
// through List and ListEvents from its last position sees every record
// and event exactly once. A number taken by one transaction but committed
// after a larger one of another would be skipped.
func TestReaderOfTwoWritingStoresMissesNothing(t *testing.T) {
	u := storetest.PostgresURL(t)
	schema := storetest.PostgresSchema(t, u)
	storetest.ReadersMissNothing(t, mustOpenSchema(t, u, schema, Options{}), mustOpenSchema(t, u, schema, Options{}))
}

// TestIndexLogTrims: the index log keeps its newest rows, and a mark from
// before the ones it dropped is not known, while a later one still is.
func TestIndexLogTrims(t *testing.T) {
	defer func(keep, every int64) { logKeep, logTrimEvery = keep, every }(logKeep, logTrimEvery)
	logKeep, logTrimEvery = 8, 4
	s := MustOpen(t)
	mark := func() (m string) {
		if err := s.View(t.Context(), func(tx localcases.Tx) error {
			var err error
			m, err = tx.IndexMark()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	set := func(owner string) {
		if err := s.Update(t.Context(), func(tx localcases.Tx) error {
			return tx.SetIndex("i", owner, [][]byte{[]byte("k")})
		}); err != nil {
			t.Fatal(err)
		}
	}
	old := mark()
	for i := range 20 {
		set(fmt.Sprint(i))
	}
	recent := mark()
	set("x")
	if err := s.View(t.Context(), func(tx localcases.Tx) error {
		if owners, ok, err := tx.IndexChangedSince(old, 100); err != nil || ok {
			t.Errorf("changed since a trimmed mark: %v %v %v, want not known", owners, ok, err)
		}
		owners, ok, err := tx.IndexChangedSince(recent, 100)
		if err != nil || !ok || !slices.Equal(owners, []string{"x"}) {
			t.Errorf("changed since a recent mark: %v %v %v, want [x]", owners, ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestAnalyzerPlansByIndex holds a fresh schema's plans to its indexes once
// it holds some thousand rows: without statistics, PostgreSQL reads a record
// by id through records_list, every record of the scope, and replaces an
// owner's index entries with a sequential scan of idx. Autovacuum is off
// for the tables here, so only the store's analyser can give the planner
// its statistics.
func TestAnalyzerPlansByIndex(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	for _, table := range []string{"records", "idx"} {
		if _, err := s.pool.Exec(ctx, "ALTER TABLE "+table+" SET (autovacuum_enabled = false)"); err != nil {
			t.Fatal(err)
		}
	}
	for b := range 20 {
		err := s.Update(ctx, func(tx localcases.Tx) error {
			for i := range 100 {
				id := fmt.Sprintf("case-%d-%d", b, i)
				if err := tx.Put(localcases.Cases, "domain", id, map[string]string{"id": id}); err != nil {
					return err
				}
				keys := [][]byte{[]byte("a" + id), []byte("b" + id)}
				if err := tx.(localcases.IndexTx).SetIndex("i", id, keys); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	plans := map[string]struct{ want, query string }{
		"get": {"records_coll_scope_id_key", `EXPLAIN SELECT data FROM records WHERE coll = 'case' AND scope = 'domain' AND id = 'case-3-7'`},
		"set": {"idx_owner_key", `EXPLAIN DELETE FROM idx WHERE name = 'i' AND owner = 'case-3-7' AND key <> ALL ('{}'::bytea[])`},
	}
	var last map[string]string
	for deadline := time.Now().Add(30 * time.Second); ; {
		last = map[string]string{}
		ok := true
		for name, p := range plans {
			rows, err := s.pool.Query(ctx, p.query)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			last[name] = strings.Join(lines, "\n")
			ok = ok && strings.Contains(last[name], p.want)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for name, p := range plans {
		if !strings.Contains(last[name], p.want) {
			t.Errorf("%s: the plan does not use %s:\n%s", name, p.want, last[name])
		}
	}
}
