package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

// queries run the statements of one PostgreSQL transaction for a
// sqlstore.Tx.
type queries struct {
	ctx context.Context
	tx  pgx.Tx
	// sortOff: SET LOCAL enable_sort = off has run (see ScanPage).
	sortOff bool
}

var _ sqlstore.Queries = (*queries)(nil)

func newTx(ctx context.Context, ptx pgx.Tx, readOnly bool) *sqlstore.Tx {
	return sqlstore.NewTx("postgres", &queries{ctx: ctx, tx: ptx}, readOnly)
}

func (q *queries) Get(c localcases.Collection, scope, id string) ([]byte, bool, error) {
	var data []byte
	err := q.tx.QueryRow(q.ctx, `SELECT data FROM records WHERE coll = $1 AND scope = $2 AND id = $3`, string(c), scope, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (q *queries) Put(c localcases.Collection, scope, id string, data []byte) error {
	_, err := q.tx.Exec(q.ctx, `INSERT INTO records (coll, scope, id, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (coll, scope, id) DO UPDATE SET data = excluded.data`, string(c), scope, id, string(data))
	return err
}

func (q *queries) Delete(c localcases.Collection, scope, id string) (bool, error) {
	tag, err := q.tx.Exec(q.ctx, `DELETE FROM records WHERE coll = $1 AND scope = $2 AND id = $3`, string(c), scope, id)
	return tag.RowsAffected() > 0, err
}

func (q *queries) ListPage(c localcases.Collection, scope string, after int64, limit int, page []localcases.Raw) ([]localcases.Raw, error) {
	rows, err := q.tx.Query(q.ctx, `SELECT seq, id, data FROM records
		WHERE coll = $1 AND scope = $2 AND seq > $3 ORDER BY seq LIMIT $4`, string(c), scope, after, limit)
	if err != nil {
		return nil, err
	}
	return readRows(rows, page, func(r *localcases.Raw) []any { return []any{&r.Seq, &r.ID, &r.Data} })
}

// readRows appends rows to page, each scanned into the fields dst gives,
// and closes rows.
func readRows[T any](rows pgx.Rows, page []T, dst func(*T) []any) ([]T, error) {
	defer rows.Close()
	for rows.Next() {
		var v T
		if err := rows.Scan(dst(&v)...); err != nil {
			return nil, err
		}
		page = append(page, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return page, nil
}

func (q *queries) Count(c localcases.Collection, scope string) (int, error) {
	var n int
	err := q.tx.QueryRow(q.ctx, `SELECT count(*) FROM records WHERE coll = $1 AND scope = $2`, string(c), scope).Scan(&n)
	return n, err
}

func (q *queries) DeleteScope(c localcases.Collection, scope string) error {
	_, err := q.tx.Exec(q.ctx, `DELETE FROM records WHERE coll = $1 AND scope = $2`, string(c), scope)
	return err
}
