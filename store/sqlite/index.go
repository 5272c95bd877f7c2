package sqlite

import (
	"bytes"
	"fmt"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/idxsql"
)

var _ localcases.IndexTx = (*tx)(nil)

func (t *tx) checkIndex(write bool, name string) error {
	switch {
	case t.done:
		return errTxDone
	case t.broken != nil:
		return t.broken
	case write && t.readOnly:
		return fmt.Errorf("sqlite: set index %s in a read-only transaction", name)
	}
	return nil
}

func (t *tx) SetIndex(name, owner string, keys [][]byte) error {
	if err := t.checkIndex(true, name); err != nil {
		return err
	}
	want := idxsql.Keys(keys)
	if len(want) == 0 {
		if _, err := t.stmt(stIdxDelOwner).ExecContext(t.ctx, name, owner); err != nil {
			return t.fail(err)
		}
		return nil
	}
	// Only the difference is written, so an owner whose keys did not
	// change costs one indexed read.
	have, err := t.ownerKeys(name, owner)
	if err != nil {
		return t.fail(err)
	}
	i, j := 0, 0
	for i < len(have) || j < len(want) {
		var c int
		switch {
		case i == len(have):
			c = 1
		case j == len(want):
			c = -1
		default:
			c = bytes.Compare(have[i], want[j])
		}
		switch {
		case c < 0:
			if _, err := t.stmt(stIdxDel).ExecContext(t.ctx, name, have[i], owner); err != nil {
				return t.fail(err)
			}
			i++
		case c > 0:
			if _, err := t.stmt(stIdxAdd).ExecContext(t.ctx, name, want[j], owner); err != nil {
				return t.fail(err)
			}
			j++
		default:
			i++
			j++
		}
	}
	return nil
}

// ownerKeys returns the keys of owner in index name, sorted.
func (t *tx) ownerKeys(name, owner string) ([][]byte, error) {
	rows, err := t.stmt(stIdxOwner).QueryContext(t.ctx, name, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys [][]byte
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return idxsql.Keys(keys), nil
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
	return idxsql.Walk(name, prefix, after, desc, also, func(v int, args []any, page []idxsql.Entry) ([]idxsql.Entry, error) {
		rows, err := t.stmt(stIdxScan+v).QueryContext(t.ctx, args...)
		if err != nil {
			return nil, t.fail(err)
		}
		for rows.Next() {
			var e idxsql.Entry
			if err := rows.Scan(&e.Key, &e.Owner); err != nil {
				rows.Close()
				return nil, t.fail(err)
			}
			page = append(page, e)
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
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
	if err := t.stmt(stIdxCount+v).QueryRowContext(t.ctx, args...).Scan(&n); err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}
