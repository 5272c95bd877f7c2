package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// alsoKeySQL is a parameter's bytes followed by the row's owner: SQLite
// concatenates a BLOB and TEXT as text, keeping every byte (0x00 too), and
// the cast makes the result a BLOB again, comparable with idx.key.
const alsoKeySQL = "CAST(? || idx.owner AS BLOB)"

var statements = func() []string {
	s := []string{
		stGet:         `SELECT data FROM records WHERE coll = ? AND scope = ? AND id = ?`,
		stPut:         `INSERT INTO records (coll, scope, id, data) VALUES (?, ?, ?, ?) ON CONFLICT (coll, scope, id) DO UPDATE SET data = excluded.data`,
		stDelete:      `DELETE FROM records WHERE coll = ? AND scope = ? AND id = ?`,
		stList:        `SELECT seq, id, data FROM records WHERE coll = ? AND scope = ? AND seq > ? ORDER BY seq LIMIT ?`,
		stCount:       `SELECT count(*) FROM records WHERE coll = ? AND scope = ?`,
		stDelScope:    `DELETE FROM records WHERE coll = ? AND scope = ?`,
		stIdxOwner:    `SELECT keys FROM idx_keys WHERE name = ? AND owner = ?`,
		stIdxKeysSet:  `INSERT INTO idx_keys (name, owner, keys) VALUES (?, ?, ?) ON CONFLICT (name, owner) DO UPDATE SET keys = excluded.keys`,
		stIdxAdd:      `INSERT INTO idx (name, key, owner) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		stIdxDel:      `DELETE FROM idx WHERE name = ? AND key = ? AND owner = ?`,
		stIdxDelOwner: `DELETE FROM idx_keys WHERE name = ? AND owner = ?`,
		// One more than the highest number handed out, trimmed or not
		// (migration 0006): never reused, without AUTOINCREMENT's write.
		stEvAppend: `INSERT INTO events (seq, domain, at, data)
			SELECT max(coalesce((SELECT max(seq) FROM events), 0), trimmed) + 1, ?, ?, ? FROM event_meta WHERE id = 1
			RETURNING seq`,
		stEvList:    `SELECT seq, domain, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
		stEvListDom: `SELECT seq, domain, at, data FROM events WHERE domain = ? AND seq > ? ORDER BY seq LIMIT ?`,
		stEvByCount: `SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?`,
		stEvByAge:   `SELECT coalesce(max(seq), 0) FROM events WHERE at < ?`,
		stEvDelete:  `DELETE FROM events WHERE seq <= ?`,
		stEvTrimmed: `UPDATE event_meta SET trimmed = max(trimmed, ?) WHERE id = 1`,
		stEvLast:    `SELECT max(coalesce((SELECT max(seq) FROM events), 0), (SELECT trimmed FROM event_meta WHERE id = 1))`,
		stLogAdd:    `INSERT INTO idx_log (owner) VALUES (?) RETURNING seq`,
		stLogTrim:   `DELETE FROM idx_log WHERE seq <= ?`,
		// Two subqueries: SQLite answers a lone min() or max() from the
		// B-tree's end, but both in one SELECT read the whole table.
		stLogBounds: `SELECT coalesce((SELECT min(seq) FROM idx_log), 0), coalesce((SELECT max(seq) FROM idx_log), 0)`,
		stLogLast:   `SELECT coalesce(max(seq), 0) FROM idx_log`,
		stLogSince:  `SELECT owner FROM idx_log WHERE seq > ? ORDER BY seq LIMIT ?`,
		stBegin:     `BEGIN`,
		stRollback:  `ROLLBACK`,
	}
	scans := sqlstore.ScanQueries(alsoKeySQL)
	s = append(s, scans[:]...)
	s = append(s, sqlstore.Counts[:]...)
	s = append(s, textStatements[:]...)
	return append(s, bulkStatements[:]...)
}()

const (
	stGet = iota
	stPut
	stDelete
	stList
	stCount
	stDelScope
	stIdxOwner
	stIdxKeysSet
	stIdxAdd
	stIdxDel
	stIdxDelOwner
	stEvAppend
	stEvList
	stEvListDom
	stEvByCount
	stEvByAge
	stEvDelete
	stEvTrimmed
	stEvLast
	stLogAdd
	stLogTrim
	stLogBounds
	stLogLast
	stLogSince
	stBegin                                      // a View's deferred BEGIN, prepared once per connection
	stRollback                                   // and its end
	stIdxScan                                    // the sqlstore.ScanQueries, in order
	stIdxCount = stIdxScan + sqlstore.NumScans   // the sqlstore.Counts, in order
	stText     = stIdxCount + sqlstore.NumCounts // the textStatements, in order
	stBulk     = stText + numText                // the bulkStatements, in order
	numStmts   = stBulk + numBulk
)

// stmts are the prepared statements of a connection or pool, so the hot
// paths skip SQLite's parser.
type stmts [numStmts]*sql.Stmt

func prepare(ctx context.Context, p preparer) (*stmts, error) {
	var st stmts
	for i, q := range statements {
		s, err := p.PrepareContext(ctx, q)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		st[i] = s
	}
	return &st, nil
}

func (st *stmts) close() {
	for _, s := range st {
		if s != nil {
			s.Close()
		}
	}
}

// queries run the statements of one SQLite transaction for a sqlstore.Tx,
// on statements prepared on the transaction's one connection.
type queries struct {
	ctx context.Context
	st  *stmts
	// conn is the writer's connection, for the statements an import
	// cannot prepare ahead (bulk.go); nil in a View.
	conn *sql.Conn
	// texts holds a write transaction's SetText calls until the batch
	// commits (deferredText); nil in a View.
	texts *deferredText
	// batch holds the SetText calls of the batch's earlier callers.
	batch *deferredText
}

var _ sqlstore.Queries = (*queries)(nil)

// newTx returns a transaction on the statements of one connection.
func newTx(ctx context.Context, st *stmts, readOnly bool) *sqlstore.Tx {
	return sqlstore.NewTx("sqlite", &queries{ctx: ctx, st: st}, readOnly)
}

// newWriteTx returns a write transaction on the writer's connection, which
// defers its SetText calls to texts, after those of batch.
func newWriteTx(ctx context.Context, st *stmts, conn *sql.Conn, texts, batch *deferredText) *sqlstore.Tx {
	return sqlstore.NewTx("sqlite", &queries{ctx: ctx, st: st, conn: conn, texts: texts, batch: batch}, false)
}

func (q *queries) stmt(i int) *sql.Stmt { return q.st[i] }

// Get reads one row by its primary key, without the caller's context: a
// lookup that short has nothing to interrupt, and a context that can end
// costs the driver a goroutine per statement to watch it. Scans, which can
// run long, keep the caller's context.
func (q *queries) Get(c localcases.Collection, scope, id string) ([]byte, bool, error) {
	var data []byte
	err := q.stmt(stGet).QueryRowContext(context.Background(), string(c), scope, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (q *queries) Put(c localcases.Collection, scope, id string, data []byte) error {
	_, err := q.stmt(stPut).ExecContext(q.ctx, string(c), scope, id, string(data))
	return err
}

func (q *queries) Delete(c localcases.Collection, scope, id string) (bool, error) {
	res, err := q.stmt(stDelete).ExecContext(q.ctx, string(c), scope, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (q *queries) ListPage(c localcases.Collection, scope string, after int64, limit int, page []localcases.Raw) ([]localcases.Raw, error) {
	rows, err := q.stmt(stList).QueryContext(q.ctx, string(c), scope, after, limit)
	if err != nil {
		return nil, err
	}
	return readRows(rows, page, func(r *localcases.Raw) []any { return []any{&r.Seq, &r.ID, &r.Data} })
}

// readRows appends rows to page, each scanned into the fields dst gives,
// and closes rows.
func readRows[T any](rows *sql.Rows, page []T, dst func(*T) []any) ([]T, error) {
	for rows.Next() {
		var v T
		if err := rows.Scan(dst(&v)...); err != nil {
			rows.Close()
			return nil, err
		}
		page = append(page, v)
	}
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return page, nil
}

func (q *queries) Count(c localcases.Collection, scope string) (int, error) {
	var n int
	err := q.stmt(stCount).QueryRowContext(q.ctx, string(c), scope).Scan(&n)
	return n, err
}

func (q *queries) DeleteScope(c localcases.Collection, scope string) error {
	_, err := q.stmt(stDelScope).ExecContext(q.ctx, string(c), scope)
	return err
}

func (q *queries) AppendEvent(domainID string, at int64, data []byte) (int64, error) {
	var seq int64
	err := q.stmt(stEvAppend).QueryRowContext(q.ctx, domainID, at, string(data)).Scan(&seq)
	return seq, err
}

func (q *queries) ListEvents(after int64, domainID string, limit int) ([]localcases.OutboxEvent, error) {
	var rows *sql.Rows
	var err error
	if domainID == "" {
		rows, err = q.stmt(stEvList).QueryContext(q.ctx, after, limit)
	} else {
		rows, err = q.stmt(stEvListDom).QueryContext(q.ctx, domainID, after, limit)
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
			err := q.stmt(stEvByCount).QueryRowContext(q.ctx, offset).Scan(&seq)
			if errors.Is(err, sql.ErrNoRows) {
				return 0, nil
			}
			return seq, err
		},
		func(before int64) (int64, error) {
			var seq int64
			err := q.stmt(stEvByAge).QueryRowContext(q.ctx, before).Scan(&seq)
			return seq, err
		})
	if err != nil || bound <= 0 {
		return 0, err
	}
	res, err := q.stmt(stEvDelete).ExecContext(q.ctx, bound)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := q.stmt(stEvTrimmed).ExecContext(q.ctx, bound); err != nil {
		return 0, err
	}
	return int(n), nil
}

func (q *queries) LastEventSeq() (int64, error) {
	var seq int64
	err := q.stmt(stEvLast).QueryRowContext(q.ctx).Scan(&seq)
	return seq, err
}
