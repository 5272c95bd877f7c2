package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

type rec struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

func listIDs(t *testing.T, s localcases.Store, c localcases.Collection, scope string) (ids []string, seqs []int64) {
	t.Helper()
	err := s.View(t.Context(), func(tx localcases.Tx) error {
		return tx.List(c, scope, 0, func(r localcases.Raw) (bool, error) {
			ids, seqs = append(ids, r.ID), append(seqs, r.Seq)
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, seqs
}

func putRec(t *testing.T, s localcases.Store, c localcases.Collection, scope, id string, v any) {
	t.Helper()
	if err := s.Update(t.Context(), func(tx localcases.Tx) error { return tx.Put(c, scope, id, v) }); err != nil {
		t.Fatal(err)
	}
}

func TestReopenKeepsRecordsAndOrder(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b", "a", "c"} {
		putRec(t, s, "coll", "s", id, rec{Name: id})
	}
	if err := s.Update(t.Context(), func(tx localcases.Tx) error { return tx.Delete("coll", "s", "c") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	putRec(t, s, "coll", "s", "d", rec{})
	ids, seqs := listIDs(t, s, "coll", "s")
	if !slices.Equal(ids, []string{"b", "a", "d"}) || seqs[2] <= 3 {
		t.Errorf("after reopen: %q %v; want b a d, d after the deleted c's seq 3", ids, seqs)
	}
}

func TestGroupCommitSharesTransactions(t *testing.T) {
	s := MustOpen(t, Options{})
	// Hold the writer inside one function while others queue, so they are
	// all waiting when it comes back for the next batch.
	var wg sync.WaitGroup
	release := holdWriter(t, s, &wg, func(tx localcases.Tx) error { return tx.Put("c", "s", "first", rec{}) })
	const waiting = 30
	for i := range waiting {
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx localcases.Tx) error {
				if i%3 == 0 {
					tx.Put("c", "s", fmt.Sprint(i), rec{N: i})
					return errors.New("declined")
				}
				return tx.Put("c", "s", fmt.Sprint(i), rec{N: i})
			})
			if (err != nil) != (i%3 == 0) {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	// Every writer is blocked handing its request to the busy writer.
	releaseQueued(s, waiting, release)
	wg.Wait()
	st := s.stats()
	if st.updates != waiting+1 {
		t.Errorf("updates = %d, want %d", st.updates, waiting+1)
	}
	if st.commits > 3 {
		t.Errorf("%d updates took %d commits; want them grouped", st.updates, st.commits)
	}
	if n := count(t, s, "c", "s"); n != 1+waiting-waiting/3 {
		t.Errorf("count = %d, want %d", n, 1+waiting-waiting/3)
	}
}

// holdWriter runs first in an Update that holds the writer inside it
// until release is closed, and returns once the writer is there.
func holdWriter(t *testing.T, s *Store, wg *sync.WaitGroup, first func(localcases.Tx) error) (release chan struct{}) {
	release = make(chan struct{})
	inside := make(chan struct{})
	wg.Go(func() {
		err := s.Update(t.Context(), func(tx localcases.Tx) error {
			close(inside)
			<-release
			return first(tx)
		})
		if err != nil {
			t.Error(err)
		}
	})
	<-inside
	return release
}

// releaseQueued closes release, which holds the writer inside a function,
// once n callers are waiting to hand it theirs (or 5 s have passed), so
// that the next batch takes them all.
func releaseQueued(s *Store, n int, release chan struct{}) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && s.queueLen() < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
}

func count(t *testing.T, s localcases.Store, c localcases.Collection, scope string) int {
	t.Helper()
	var n int
	if err := s.View(t.Context(), func(tx localcases.Tx) (err error) { n, err = tx.Count(c, scope); return }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPanicRollsBackOnlyItsCaller(t *testing.T) {
	s := MustOpen(t, Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			defer func() {
				v := recover()
				if (v != nil) != (i == 7) {
					t.Errorf("writer %d: recovered %v", i, v)
				}
			}()
			s.Update(t.Context(), func(tx localcases.Tx) error {
				tx.Put("c", "s", fmt.Sprint(i), rec{})
				if i == 7 {
					panic("writer 7 panics")
				}
				return nil
			})
		})
	}
	wg.Wait()
	if n := count(t, s, "c", "s"); n != 19 {
		t.Errorf("count = %d, want 19 (all but the panicking writer)", n)
	}
	var v rec
	err := s.View(t.Context(), func(tx localcases.Tx) error { return tx.Get("c", "s", "7", &v) })
	if !errors.Is(err, localcases.ErrNotFound) {
		t.Errorf("panicking writer's put: %v", err)
	}
}

func TestTxUnusableAfterFnReturns(t *testing.T) {
	s := MustOpen(t, Options{})
	var kept localcases.Tx
	if err := s.Update(t.Context(), func(tx localcases.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := kept.Put("c", "s", "late", rec{}); err == nil {
		t.Error("Put on a finished transaction succeeded")
	}
}

func TestDatabaseErrorFailsTheBatchHonestly(t *testing.T) {
	// A full disk, as SQLite sees it: the file may not grow past a few
	// pages. Whatever the writers are told must match what is stored.
	s := MustOpen(t, Options{})
	if _, err := s.wconn.ExecContext(t.Context(), "PRAGMA max_page_count = 8"); err != nil {
		t.Fatal(err)
	}
	big := rec{Name: strings.Repeat("x", 64<<10)}
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(tx localcases.Tx) error {
				if i%4 == 0 {
					// Ignores the error, as a careless function might.
					tx.Put("c", "s", fmt.Sprint(i), big)
					return tx.Put("c", "s", fmt.Sprint(i)+"-after", rec{})
				}
				return tx.Put("c", "s", fmt.Sprint(i), rec{N: i})
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		var v rec
		gerr := s.View(t.Context(), func(tx localcases.Tx) error { return tx.Get("c", "s", fmt.Sprint(i), &v) })
		if (err == nil) != (gerr == nil) {
			t.Errorf("writer %d told %v, but its record: %v", i, err, gerr)
		}
		if i%4 == 0 && err == nil {
			t.Errorf("writer %d stored a record past the size limit", i)
		}
	}
	ids, _ := listIDs(t, s, "c", "s")
	t.Logf("stored after the size limit: %q", ids)
	for _, id := range ids {
		if strings.HasSuffix(id, "-after") {
			t.Errorf("%s was written after its function's database error", id)
		}
	}
}

func TestCloseAnswersWaitingUpdates(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	putRec(t, s, "c", "s", "x", rec{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(tx localcases.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close = %v", err)
	}
	if err := s.View(t.Context(), func(tx localcases.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("View after Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestUpdateGivesUpOnlyWhileQueued(t *testing.T) {
	s := MustOpen(t, Options{})
	release := make(chan struct{})
	inside := make(chan struct{})
	go s.Update(context.Background(), func(tx localcases.Tx) error { close(inside); <-release; return nil })
	<-inside
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	ran := false
	err := s.Update(ctx, func(tx localcases.Tx) error { ran = true; return nil })
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update = %v, want the deadline", err)
	}
	// Let the writer pass the point where it would have run it.
	putRec(t, s, "c", "s", "y", rec{})
	if ran {
		t.Error("an Update that gave up still ran")
	}
}

// migrationsWith returns the embedded migrations plus extra ones.
func migrationsWith(t *testing.T, extra map[string]string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, _ := migrationFiles.ReadFile("migrations/" + e.Name())
		fsys[e.Name()] = &fstest.MapFile{Data: data}
	}
	for name, text := range extra {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}

func latestVersion(t *testing.T) int {
	ms, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func versionOf(t *testing.T, dir string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := schemaVersion(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenUpgradesOlderSchema(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	putRec(t, s, "c", "s", "a", rec{Name: "kept"})
	s.Close()

	next := latestVersion(t) + 1
	upgrade := migrationsWith(t, map[string]string{
		fmt.Sprintf("%04d_notes.sql", next): `ALTER TABLE records ADD COLUMN note TEXT; CREATE TABLE notes (id INTEGER PRIMARY KEY);`,
	})
	s, err = Open(t.Context(), dir, Options{migrations: upgrade})
	if err != nil {
		t.Fatal(err)
	}
	var v rec
	if err := s.View(t.Context(), func(tx localcases.Tx) error { return tx.Get("c", "s", "a", &v) }); err != nil || v.Name != "kept" {
		t.Errorf("record after upgrade = %+v %v", v, err)
	}
	putRec(t, s, "c", "s", "b", rec{})
	s.Close()
	if got := versionOf(t, dir); got != next {
		t.Errorf("version after upgrade = %d, want %d", got, next)
	}
}

func TestFailedMigrationLeavesPreviousVersion(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	next := latestVersion(t) + 1
	broken := migrationsWith(t, map[string]string{
		fmt.Sprintf("%04d_broken.sql", next): `CREATE TABLE half (id INTEGER); INSERT INTO nowhere VALUES (1);`,
	})
	if _, err := Open(t.Context(), dir, Options{migrations: broken}); err == nil || !strings.Contains(err.Error(), "_broken.sql") {
		t.Fatalf("Open with a broken migration = %v", err)
	}
	if got := versionOf(t, dir); got != next-1 {
		t.Errorf("version = %d, want %d", got, next-1)
	}
	s, err = Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatalf("reopen with the good migrations: %v", err)
	}
	defer s.Close()
	var n int
	s.wconn.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n)
	if n != 0 {
		t.Error("the failed migration's first statement was kept")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	putRec(t, s, "c", "s", "a", rec{})
	if _, err := s.wconn.ExecContext(t.Context(), `INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 'later')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := hashDir(t, dir)
	_, err = Open(t.Context(), dir, Options{})
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "999") {
		t.Fatalf("Open = %v, want ErrSchemaTooNew naming version 999", err)
	}
	if after := hashDir(t, dir); after != before {
		t.Errorf("a refused database was modified:\nbefore %s\nafter  %s", before, after)
	}
}

// hashDir digests every file in dir, so any change, a new -wal or -shm
// file included, shows.
func hashDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%x ", e.Name(), sha256.Sum256(data))
	}
	return b.String()
}

func TestOpenUpgradesVersion1Fixture(t *testing.T) {
	script, err := os.ReadFile("testdata/v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(script)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	putRec(t, s, "field", "d1", "f3", rec{Name: "third"})
	ids, seqs := listIDs(t, s, "field", "d1")
	if !slices.Equal(ids, []string{"f1", "f2", "f3"}) || seqs[2] != 11 {
		t.Errorf("fields = %q %v, want f1 f2 f3 with f3 at seq 11", ids, seqs)
	}
	var d struct{ Name string }
	if err := s.View(t.Context(), func(tx localcases.Tx) error { return tx.Get("domain", "000000000000", "d1", &d) }); err != nil || d.Name != "support" {
		t.Errorf("domain = %+v %v", d, err)
	}
	if got := versionOf(t, dir); got != latestVersion(t) {
		t.Errorf("version = %d, want %d", got, latestVersion(t))
	}
}

func TestLoadMigrationsRejectsGaps(t *testing.T) {
	fsys := fstest.MapFS{
		"0001_a.sql": {Data: []byte("SELECT 1")},
		"0003_c.sql": {Data: []byte("SELECT 1")},
	}
	if _, err := sqlstore.LoadMigrations(fsys, "."); err == nil {
		t.Error("a gap in the numbering was accepted")
	}
	fsys = fstest.MapFS{"1_a.sql": {Data: []byte("SELECT 1")}}
	if _, err := sqlstore.LoadMigrations(fsys, "."); err == nil {
		t.Error("a badly named migration was accepted")
	}
}

// TestViewsShareABoundedPool: many concurrent Views, some failing, some
// with a context that ends inside them, open no more connections than
// Options.Readers, each comes back out of its transaction (the next View
// sees a write committed in between), and Views after Close fail cleanly.
func TestViewsShareABoundedPool(t *testing.T) {
	s := MustOpen(t, Options{Readers: 2})
	putRec(t, s, "c", "s", "a", rec{N: 1})
	errFn := errors.New("fn failed")
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			err := s.View(ctx, func(tx localcases.Tx) error {
				var r rec
				if err := tx.Get("c", "s", "a", &r); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errFn
				case 2:
					cancel()
					return tx.List("c", "s", 0, func(localcases.Raw) (bool, error) { return true, nil })
				}
				return nil
			})
			if err != nil && !errors.Is(err, errFn) && !errors.Is(err, context.Canceled) {
				t.Errorf("view %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := s.rdb.Stats().OpenConnections; n > 2 {
		t.Errorf("%d read connections open, want at most 2", n)
	}
	putRec(t, s, "c", "s", "a", rec{N: 2})
	for range 4 { // every pooled connection, whichever the pool hands out
		var r rec
		if err := s.View(t.Context(), func(tx localcases.Tx) error { return tx.Get("c", "s", "a", &r) }); err != nil || r.N != 2 {
			t.Fatalf("view after the write: %+v, %v; a connection kept an old snapshot", r, err)
		}
	}
	s.Close()
	if err := s.View(t.Context(), func(localcases.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("view after Close: %v, want ErrClosed", err)
	}
}

// TestEventSeqsSurviveTheRowidMigration: a database whose outbox still
// numbers events with AUTOINCREMENT (before migration 0006), with its
// newest events trimmed by each route, keeps numbering above every number
// it ever handed out after the upgrade.
func TestEventSeqsSurviveTheRowidMigration(t *testing.T) {
	before := migrationsWith(t, nil)
	for name := range before {
		if name >= "0006" {
			delete(before, name)
		}
	}
	// Today's statements, prepared at Open, need the index log of 0007
	// and the owners' keys of 0008.
	last := before["0005_text.sql"]
	last.Data = slices.Clip(last.Data)
	for _, m := range []string{"0007_idx_log.sql", "0008_idx_keys.sql"} {
		text, err := migrationFiles.ReadFile("migrations/" + m)
		if err != nil {
			t.Fatal(err)
		}
		last.Data = append(append(last.Data, '\n'), text...)
	}
	for _, tc := range []struct {
		name string
		trim func(tx *sql.Tx, last int64) error
	}{
		{"nothing trimmed", func(*sql.Tx, int64) error { return nil }},
		{"all trimmed", func(tx *sql.Tx, last int64) error {
			_, err := tx.Exec(`DELETE FROM events; UPDATE event_meta SET trimmed = ?`, last)
			return err
		}},
		{"the last deleted and not recorded", func(tx *sql.Tx, last int64) error {
			_, err := tx.Exec(`DELETE FROM events WHERE seq = ?`, last)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(t.Context(), dir, Options{migrations: before})
			if err != nil {
				t.Fatal(err)
			}
			var last int64
			for range 5 {
				if err := s.Update(t.Context(), func(tx localcases.Tx) error {
					last, err = tx.AppendEvent("d", time.Now(), []byte(`{}`))
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName), false))
			if err != nil {
				t.Fatal(err)
			}
			tx, err := db.Begin()
			if err == nil {
				if err = tc.trim(tx, last); err == nil {
					err = tx.Commit()
				}
			}
			db.Close()
			if err != nil {
				t.Fatal(err)
			}

			if s, err = Open(t.Context(), dir, Options{}); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var next int64
			if err := s.Update(t.Context(), func(tx localcases.Tx) error {
				next, err = tx.AppendEvent("d", time.Now(), []byte(`{}`))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if next != last+1 {
				t.Errorf("first seq after the upgrade = %d, want %d (the last handed out was %d)", next, last+1, last)
			}
		})
	}
}

// TestIndexLogTrims: the index log keeps its newest rows, and a mark from
// before the ones it dropped is not known, while a later one still is.
func TestIndexLogTrims(t *testing.T) {
	defer func(keep, every int64) { logKeep, logTrimEvery = keep, every }(logKeep, logTrimEvery)
	logKeep, logTrimEvery = 8, 4
	s := MustOpen(t, Options{})
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

// TestBatchTextDocsSeenInOrder: SetText is deferred to the end of the
// batch (deferredText), yet a caller's SearchText sees exactly its own
// documents and those of every caller that ran before it and was not
// rolled back, in the batch or before it.
func TestBatchTextDocsSeenInOrder(t *testing.T) {
	s := MustOpen(t, Options{})
	var wg sync.WaitGroup
	release := holdWriter(t, s, &wg, func(tx localcases.Tx) error { return tx.(localcases.TextIndexTx).SetText("t", "held", "tok held") })
	// Writer i declines when i%3 == 0, and searches when i%2 == 1 (every
	// writer searching would write its own document at once, leaving
	// nothing deferred to the batch).
	const writers = 30
	declines := func(i int) bool { return i%3 == 0 }
	seen := make([][]string, writers)
	ran := make([]int, writers) // the writer runs functions one at a time
	next := 0
	for i := range writers {
		wg.Go(func() {
			owner := fmt.Sprint(i)
			err := s.Update(t.Context(), func(tx localcases.Tx) error {
				ran[i] = next
				next++
				ttx := tx.(localcases.TextIndexTx)
				if err := ttx.SetText("t", owner, "tok "+owner); err != nil {
					return err
				}
				if i%2 == 1 {
					got, err := ttx.SearchText("t", "tok ")
					if err != nil {
						return err
					}
					seen[i] = got
				}
				if declines(i) {
					return errors.New("declined")
				}
				return nil
			})
			if (err != nil) != declines(i) {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	releaseQueued(s, writers, release)
	wg.Wait()
	if _, commits := s.Commits(); commits > 3 {
		t.Errorf("%d commits; the test needs the writers batched", commits)
	}
	for i := 1; i < writers; i += 2 {
		want := []string{"held", fmt.Sprint(i)}
		for j := range writers {
			if ran[j] < ran[i] && !declines(j) {
				want = append(want, fmt.Sprint(j))
			}
		}
		got := slices.Clone(seen[i])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("writer %d (run %d) sees %v, want %v", i, ran[i], got, want)
		}
	}
	var final []string
	if err := s.View(t.Context(), func(tx localcases.Tx) (err error) {
		final, err = tx.(localcases.TextIndexTx).SearchText("t", "tok ")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"held"}
	for i := range writers {
		if !declines(i) {
			want = append(want, fmt.Sprint(i))
		}
	}
	slices.Sort(final)
	slices.Sort(want)
	if !slices.Equal(final, want) {
		t.Errorf("committed documents %v, want %v", final, want)
	}
}

// TestDeferredTextKeepsBytes: documents deferred to the end of a batch
// are stored byte for byte, invalid UTF-8 included, as a document written
// at once is (JSON, which carries the batch's documents, would replace the
// invalid bytes), and are found.
func TestDeferredTextKeepsBytes(t *testing.T) {
	s := MustOpen(t, Options{})
	docs := map[string]string{"bad": "ab\xffcd", "ok": "héllo"}
	err := s.Update(t.Context(), func(tx localcases.Tx) error {
		for owner, doc := range docs {
			if err := tx.(localcases.TextIndexTx).SetText("t", owner, doc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for owner, doc := range docs {
		var body []byte
		err := s.rdb.QueryRowContext(t.Context(), `SELECT CAST(body AS BLOB) FROM text_docs WHERE name = 't' AND owner = ?`, owner).Scan(&body)
		if err != nil || string(body) != doc {
			t.Errorf("%s's document stored as %q (%v), want %q", owner, body, err, doc)
		}
	}
	for owner, sub := range map[string]string{"bad": "b\xffc", "ok": "éll"} {
		var got []string
		err := s.View(t.Context(), func(tx localcases.Tx) (err error) {
			got, err = tx.(localcases.TextIndexTx).SearchText("t", sub)
			return err
		})
		if err != nil || !slices.Equal(got, []string{owner}) {
			t.Errorf("SearchText(%q) = %q, %v; want [%s]", sub, got, err, owner)
		}
	}
}
