package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/localcases/localcases"
)

// listPage is how many rows List reads per query: pgx cannot run another
// statement on a connection while a result is open, and fn may want to.
const listPage = 128

// tx implements localcases.Tx on one PostgreSQL transaction.
type tx struct {
	ctx      context.Context
	tx       pgx.Tx
	readOnly bool
	done     bool
	// sortOff: SET LOCAL enable_sort = off has run (see ScanIndex).
	sortOff bool
	// broken is the first database error. PostgreSQL refuses every later
	// statement of the transaction anyway; failing early says why.
	broken error
}

func (t *tx) end() { t.done = true }

func (t *tx) check(write bool, c localcases.Collection) error {
	switch {
	case t.done:
		return errTxDone
	case t.broken != nil:
		return t.broken
	case write && t.readOnly:
		return fmt.Errorf("postgres: write to %s in a read-only transaction", c)
	}
	return nil
}

func (t *tx) fail(err error) error {
	t.broken = fmt.Errorf("postgres: %w", err)
	return t.broken
}

func notFound(c localcases.Collection, id string) error {
	return fmt.Errorf("%s %s: %w", c, id, localcases.ErrNotFound)
}

func (t *tx) Get(c localcases.Collection, scope, id string, dst any) error {
	if err := t.check(false, c); err != nil {
		return err
	}
	var data []byte
	err := t.tx.QueryRow(t.ctx, `SELECT data FROM records WHERE coll = $1 AND scope = $2 AND id = $3`, string(c), scope, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(c, id)
	}
	if err != nil {
		return t.fail(err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("decode %s %s: %w", c, id, err)
	}
	return nil
}

func (t *tx) Put(c localcases.Collection, scope, id string, v any) error {
	if err := t.check(true, c); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", c, err)
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO records (coll, scope, id, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (coll, scope, id) DO UPDATE SET data = excluded.data`, string(c), scope, id, string(data))
	if err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *tx) Delete(c localcases.Collection, scope, id string) error {
	if err := t.check(true, c); err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `DELETE FROM records WHERE coll = $1 AND scope = $2 AND id = $3`, string(c), scope, id)
	if err != nil {
		return t.fail(err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(c, id)
	}
	return nil
}

func (t *tx) List(c localcases.Collection, scope string, after int64, fn func(localcases.Raw) (bool, error)) error {
	if err := t.check(false, c); err != nil {
		return err
	}
	page := make([]localcases.Raw, 0, listPage)
	for {
		page = page[:0]
		rows, err := t.tx.Query(t.ctx, `SELECT seq, id, data FROM records
			WHERE coll = $1 AND scope = $2 AND seq > $3 ORDER BY seq LIMIT $4`, string(c), scope, after, listPage)
		if err != nil {
			return t.fail(err)
		}
		for rows.Next() {
			var r localcases.Raw
			if err := rows.Scan(&r.Seq, &r.ID, &r.Data); err != nil {
				rows.Close()
				return t.fail(err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return t.fail(err)
		}
		for _, r := range page {
			more, err := fn(r)
			if err != nil || !more {
				return err
			}
		}
		if len(page) < listPage {
			return nil
		}
		after = page[len(page)-1].Seq
	}
}

func (t *tx) Count(c localcases.Collection, scope string) (int, error) {
	if err := t.check(false, c); err != nil {
		return 0, err
	}
	var n int
	if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM records WHERE coll = $1 AND scope = $2`, string(c), scope).Scan(&n); err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}

func (t *tx) DeleteScope(c localcases.Collection, scope string) error {
	if err := t.check(true, c); err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM records WHERE coll = $1 AND scope = $2`, string(c), scope); err != nil {
		return t.fail(err)
	}
	return nil
}
