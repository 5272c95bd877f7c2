package sqlite

import (
	"bytes"

	"github.com/localcases/localcases/store/internal/sqlstore"
)

// SetIndex writes only the difference between owner's keys and want, so
// an owner whose keys did not change costs one indexed read.
func (q *queries) SetIndex(name, owner string, want [][]byte) error {
	if len(want) == 0 {
		_, err := q.stmt(stIdxDelOwner).ExecContext(q.ctx, name, owner)
		return err
	}
	have, err := q.ownerKeys(name, owner)
	if err != nil {
		return err
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
			if _, err := q.stmt(stIdxDel).ExecContext(q.ctx, name, have[i], owner); err != nil {
				return err
			}
			i++
		case c > 0:
			if _, err := q.stmt(stIdxAdd).ExecContext(q.ctx, name, want[j], owner); err != nil {
				return err
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
func (q *queries) ownerKeys(name, owner string) ([][]byte, error) {
	rows, err := q.stmt(stIdxOwner).QueryContext(q.ctx, name, owner)
	if err != nil {
		return nil, err
	}
	keys, err := readRows(rows, [][]byte(nil), func(k *[]byte) []any { return []any{k} })
	if err != nil {
		return nil, err
	}
	return sqlstore.Keys(keys), nil
}

func (q *queries) ScanPage(v int, args []any, page []sqlstore.Entry) ([]sqlstore.Entry, error) {
	rows, err := q.stmt(stIdxScan+v).QueryContext(q.ctx, args...)
	if err != nil {
		return nil, err
	}
	return readRows(rows, page, func(e *sqlstore.Entry) []any { return []any{&e.Key, &e.Owner} })
}

func (q *queries) CountIndex(v int, args []any) (int, error) {
	var n int
	err := q.stmt(stIdxCount+v).QueryRowContext(q.ctx, args...).Scan(&n)
	return n, err
}
