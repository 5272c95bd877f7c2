package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

func setIdx(tx localcases.Tx, name, owner string, keys ...string) error {
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		ks[i] = []byte(k)
	}
	return tx.(localcases.IndexTx).SetIndex(name, owner, ks)
}

func idxEntries(t *testing.T, s localcases.Store, name string) []string {
	t.Helper()
	var out []string
	err := s.View(t.Context(), func(tx localcases.Tx) error {
		return tx.(localcases.IndexTx).ScanIndex(name, nil, nil, false, func(key []byte, owner string) (bool, error) {
			out = append(out, string(key)+"/"+owner)
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIndexRollbackInsideAGroupCommit(t *testing.T) {
	// As TestGroupCommitSharesTransactions: the writers queue behind one
	// held function, so they share a commit; every third one fails after
	// its index writes, every seventh panics, and only theirs are undone.
	s := MustOpen(t, Options{})
	if err := s.Update(t.Context(), func(tx localcases.Tx) error { return setIdx(tx, "i", "shared", "initial") }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	release := holdWriter(t, s, &wg, func(tx localcases.Tx) error { return setIdx(tx, "i", "first", "f") })
	const waiting = 30
	before := s.stats()
	for i := range waiting {
		wg.Go(func() {
			defer func() {
				if v := recover(); (v != nil) != (i%7 == 5) {
					t.Errorf("writer %d: recovered %v", i, v)
				}
			}()
			err := s.Update(t.Context(), func(tx localcases.Tx) error {
				if err := setIdx(tx, "i", fmt.Sprintf("w%02d", i), fmt.Sprintf("k%02d", i)); err != nil {
					return err
				}
				if err := setIdx(tx, "i", "shared"); err != nil {
					return err
				}
				switch {
				case i%7 == 5:
					panic("writer panics")
				case i%3 == 0:
					return errors.New("declined")
				}
				return nil
			})
			if (err != nil) != (i%3 == 0) {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	releaseQueued(s, waiting, release)
	wg.Wait()
	if c := s.stats().commits - before.commits; c > 3 {
		t.Errorf("%d updates took %d commits; want them grouped", waiting+1, c)
	}
	want := []string{"f/first"}
	for i := range waiting {
		if i%3 != 0 && i%7 != 5 {
			want = append(want, fmt.Sprintf("k%02d/w%02d", i, i))
		}
	}
	if got := idxEntries(t, s, "i"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("entries = %q\nwant      %q", got, want)
	}
}

func TestIndexScansWalkThePrimaryKey(t *testing.T) {
	// Every page and count query reads a range of the primary key in
	// order: no full scan, no sort of the whole range before LIMIT.
	s := MustOpen(t, Options{})
	scans := sqlstore.ScanQueries(alsoKeySQL)
	for _, q := range append(scans[:], sqlstore.Counts[:]...) {
		args := []any{"n"}
		for range strings.Count(q, "?") - 1 {
			args = append(args, []byte("a"))
		}
		rows, err := s.wconn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.HasPrefix(p, "SEARCH idx USING PRIMARY KEY (name=? AND") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s", q, p)
		}
		// The other index of an intersection is probed by its whole key.
		if strings.Contains(q, "EXISTS") && !strings.Contains(p, "SEARCH m EXISTS USING PRIMARY KEY (name=? AND key=?)") {
			t.Errorf("%s\nplan: %s", q, p)
		}
	}
}

func TestOpenUpgradesVersion1FixtureWithIndexes(t *testing.T) {
	// The fixture, opened by this binary, gains the index table.
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
	if got := versionOf(t, dir); got != 1 {
		t.Fatalf("fixture version = %d", got)
	}
	s, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := versionOf(t, dir); got < 2 {
		t.Errorf("version after open = %d, want at least 2", got)
	}
	if err := s.Update(t.Context(), func(tx localcases.Tx) error { return setIdx(tx, "i", "d1", "support") }); err != nil {
		t.Fatal(err)
	}
	if got := idxEntries(t, s, "i"); len(got) != 1 || got[0] != "support/d1" {
		t.Errorf("index after upgrade = %q", got)
	}
}
