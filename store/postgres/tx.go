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

// The record statements, shared by reads and the queued writes.
const (
	getSQL = `SELECT data FROM records WHERE coll = $1 AND scope = $2 AND id = $3`
	// A new record takes its sequence number here, under the store's lock.
	putSQL = `INSERT INTO records (coll, scope, id, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (coll, scope, id) DO UPDATE SET data = excluded.data`
	deleteSQL = `DELETE FROM records WHERE coll = $1 AND scope = $2 AND id = $3`
)

func (q *queries) Get(c localcases.Collection, scope, id string) ([]byte, bool, error) {
	var data []byte
	err := q.tx.QueryRow(q.ctx, getSQL, string(c), scope, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (q *queries) Put(c localcases.Collection, scope, id string, data []byte) error {
	_, err := q.tx.Exec(q.ctx, putSQL, string(c), scope, id, string(data))
	return err
}

func (q *queries) Delete(c localcases.Collection, scope, id string) (bool, error) {
	tag, err := q.tx.Exec(q.ctx, deleteSQL, string(c), scope, id)
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

func (q *queries) AppendEvent(domainID string, at int64, data []byte) (int64, error) {
	var seq int64
	err := q.tx.QueryRow(q.ctx, `INSERT INTO events (domain, at, data) VALUES ($1, $2, $3) RETURNING seq`,
		domainID, at, string(data)).Scan(&seq)
	return seq, err
}

func (q *queries) ListEvents(after int64, domainID string, limit int) ([]localcases.OutboxEvent, error) {
	var rows pgx.Rows
	var err error
	if domainID == "" {
		rows, err = q.tx.Query(q.ctx, `SELECT seq, domain, at, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	} else {
		rows, err = q.tx.Query(q.ctx, `SELECT seq, domain, at, data FROM events WHERE domain = $1 AND seq > $2 ORDER BY seq LIMIT $3`, domainID, after, limit)
	}
	if err != nil {
		return nil, err
	}
	return readRows(rows, nil, func(e *localcases.OutboxEvent) []any {
		return []any{&e.Seq, &e.DomainID, sqlstore.MillisTime{T: &e.Time}, &e.Data}
	})
}

func (q *queries) TrimEvents(keepLast int, before, upTo int64) (int, error) {
	bound, err := sqlstore.TrimBound(keepLast, before, upTo,
		func(offset int) (int64, error) {
			var seq int64
			err := q.tx.QueryRow(q.ctx, `SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET $1`, offset).Scan(&seq)
			if errors.Is(err, pgx.ErrNoRows) {
				return 0, nil
			}
			return seq, err
		},
		func(before int64) (int64, error) {
			var seq int64
			err := q.tx.QueryRow(q.ctx, `SELECT coalesce(max(seq), 0) FROM events WHERE at < $1`, before).Scan(&seq)
			return seq, err
		})
	if err != nil || bound <= 0 {
		return 0, err
	}
	tag, err := q.tx.Exec(q.ctx, `DELETE FROM events WHERE seq <= $1`, bound)
	if err != nil {
		return 0, err
	}
	if _, err := q.tx.Exec(q.ctx, `UPDATE event_meta SET trimmed = greatest(trimmed, $1) WHERE id = 1`, bound); err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (q *queries) LastEventSeq() (int64, error) {
	var seq int64
	err := q.tx.QueryRow(q.ctx, `SELECT greatest(coalesce((SELECT max(seq) FROM events), 0), (SELECT trimmed FROM event_meta WHERE id = 1))`).Scan(&seq)
	return seq, err
}
