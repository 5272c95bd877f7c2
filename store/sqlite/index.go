package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/localcases/localcases/store/internal/sqlstore"
)

// SetIndex writes only the difference between owner's keys and want, so
// an owner whose keys did not change costs one indexed read.
func (q *queries) SetIndex(name, owner string, want [][]byte) error {
	if err := q.logIndex(owner); err != nil {
		return err
	}
	have, err := q.ownerKeys(name, owner)
	if err != nil {
		return err
	}
	changed := false
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
			changed = true
		case c > 0:
			if _, err := q.stmt(stIdxAdd).ExecContext(q.ctx, name, want[j], owner); err != nil {
				return err
			}
			j++
			changed = true
		default:
			i++
			j++
		}
	}
	switch {
	case !changed:
		return nil
	case len(want) == 0:
		_, err = q.stmt(stIdxDelOwner).ExecContext(q.ctx, name, owner)
	default:
		_, err = q.stmt(stIdxKeysSet).ExecContext(q.ctx, name, owner, encodeKeys(want))
	}
	return err
}

// ownerKeys returns the keys of owner in index name, sorted.
func (q *queries) ownerKeys(name, owner string) ([][]byte, error) {
	var b []byte
	err := q.stmt(stIdxOwner).QueryRowContext(q.ctx, name, owner).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeKeys(b)
}

// encodeKeys is an idx_keys row's keys (migration 0008): each key as a
// 4-byte big-endian length and its bytes, in the order given.
func encodeKeys(keys [][]byte) []byte {
	n := 0
	for _, k := range keys {
		n += 4 + len(k)
	}
	b := make([]byte, 0, n)
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
	}
	return b
}

func decodeKeys(b []byte) ([][]byte, error) {
	var keys [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("idx_keys: %d bytes left, too few for a length", len(b))
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, fmt.Errorf("idx_keys: a key of %d bytes with %d left", n, len(b)-4)
		}
		keys = append(keys, b[4:4+n:4+n])
		b = b[4+n:]
	}
	return keys, nil
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

// logKeep is how many rows the index log keeps at least; every logTrimEvery
// rows, the ones older than that go.
var logKeep, logTrimEvery int64 = 65536, 1024

// logIndex adds owner to the index log (migration 0007).
func (q *queries) logIndex(owner string) error {
	var seq int64
	if err := q.stmt(stLogAdd).QueryRowContext(q.ctx, owner).Scan(&seq); err != nil {
		return err
	}
	if seq%logTrimEvery == 0 && seq > logKeep {
		_, err := q.stmt(stLogTrim).ExecContext(q.ctx, seq-logKeep)
		return err
	}
	return nil
}

// IndexMark is the highest row of the index log the transaction sees.
func (q *queries) IndexMark() (string, error) {
	var last int64
	err := q.stmt(stLogLast).QueryRowContext(q.ctx).Scan(&last)
	return strconv.FormatInt(last, 10), err
}

func (q *queries) logBounds() (first, last int64, err error) {
	err = q.stmt(stLogBounds).QueryRowContext(q.ctx).Scan(&first, &last)
	return first, last, err
}

// IndexChangedSince reads the log's rows above mark. Rows are numbered
// without gaps (only the oldest are ever deleted), so mark is still
// covered while it is at least the first row left, less one.
func (q *queries) IndexChangedSince(mark string, limit int) ([]string, bool, error) {
	since, err := strconv.ParseInt(mark, 10, 64)
	if err != nil {
		return nil, false, nil
	}
	first, last, err := q.logBounds()
	if err != nil || since > last || first > 0 && since < first-1 {
		return nil, false, err
	}
	rows, err := q.stmt(stLogSince).QueryContext(q.ctx, since, limit+1)
	if err != nil {
		return nil, false, err
	}
	owners, err := readRows(rows, []string(nil), func(o *string) []any { return []any{o} })
	if err != nil || len(owners) > limit {
		return nil, false, err
	}
	return owners, true, nil
}
