package postgres

import (
	"fmt"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/idxsql"
)

var _ localcases.IndexTx = (*tx)(nil)

var (
	scanSQL  [idxsql.NumScans]string
	countSQL [idxsql.NumCounts]string
)

func init() {
	// bytea || bytea; the owner's text as its UTF-8 bytes.
	for i, q := range idxsql.ScanQueries("? || convert_to(idx.owner, 'UTF8')") {
		scanSQL[i] = idxsql.Numbered(q)
	}
	for i, q := range idxsql.Counts {
		countSQL[i] = idxsql.Numbered(q)
	}
}

// setIndexSQL replaces an owner's keys in one statement: the entries not
// among the new keys go, the new keys that are missing come. The two
// touch different rows, so the statement's single snapshot is enough.
const setIndexSQL = `WITH gone AS (
	DELETE FROM idx WHERE name = $1 AND owner = $2 AND key <> ALL ($3::bytea[])
)
INSERT INTO idx (name, key, owner)
SELECT $1, k, $2 FROM unnest($3::bytea[]) AS k
ON CONFLICT DO NOTHING`

func (t *tx) checkIndex(write bool, name string) error {
	switch {
	case t.done:
		return errTxDone
	case t.broken != nil:
		return t.broken
	case write && t.readOnly:
		return fmt.Errorf("postgres: set index %s in a read-only transaction", name)
	}
	return nil
}

func (t *tx) SetIndex(name, owner string, keys [][]byte) error {
	if err := t.checkIndex(true, name); err != nil {
		return err
	}
	// Sorted and unique, so the INSERT never meets its own row twice;
	// never nil, which would be a NULL array and delete nothing.
	want := idxsql.Keys(keys)
	if _, err := t.tx.Exec(t.ctx, setIndexSQL, name, owner, want); err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *tx) ScanIndex(name string, prefix, after []byte, desc bool, fn func(key []byte, owner string) (bool, error)) error {
	return t.scanIndex(name, prefix, after, desc, nil, fn)
}

func (t *tx) ScanIndexAlso(name string, prefix, after []byte, desc bool, also string, alsoPrefix []byte, fn func(key []byte, owner string) (bool, error)) error {
	return t.scanIndex(name, prefix, after, desc, &idxsql.Also{Index: also, Prefix: alsoPrefix}, fn)
}

func (t *tx) scanIndex(name string, prefix, after []byte, desc bool, also *idxsql.Also, fn func(key []byte, owner string) (bool, error)) error {
	if err := t.checkIndex(false, name); err != nil {
		return err
	}
	if !t.sortOff {
		// Each page must be a walk along idx_pkey that stops at LIMIT. When
		// the planner's statistics underestimate an index name's entries
		// (a name that grew since the last ANALYZE), it prefers a bitmap
		// scan of every matching entry and a top-N sort: a page then reads
		// the whole range. Without sorts, the ordered index walk is the
		// only plan left. The same underestimate makes the other index of
		// a ScanIndexAlso look like one row, and the planner then reads
		// all of it once per entry (a materialised nested loop) or hashes
		// it: without those plans, each entry is one primary-key probe.
		// Local to this transaction, whose other queries need none of
		// these plans either.
		const planner = `SELECT set_config('enable_sort', 'off', true), set_config('enable_material', 'off', true),
			set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`
		if _, err := t.tx.Exec(t.ctx, planner); err != nil {
			return t.fail(err)
		}
		t.sortOff = true
	}
	return idxsql.Walk(name, prefix, after, desc, also, func(v int, args []any, page []idxsql.Entry) ([]idxsql.Entry, error) {
		rows, err := t.tx.Query(t.ctx, scanSQL[v], args...)
		if err != nil {
			return nil, t.fail(err)
		}
		defer rows.Close()
		for rows.Next() {
			var e idxsql.Entry
			if err := rows.Scan(&e.Key, &e.Owner); err != nil {
				return nil, t.fail(err)
			}
			page = append(page, e)
		}
		if err := rows.Err(); err != nil {
			return nil, t.fail(err)
		}
		return page, nil
	}, fn)
}

func (t *tx) CountIndex(name string, prefix []byte) (int, error) {
	if err := t.checkIndex(false, name); err != nil {
		return 0, err
	}
	v, args := idxsql.Count(name, prefix)
	var n int
	if err := t.tx.QueryRow(t.ctx, countSQL[v], args...).Scan(&n); err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}
