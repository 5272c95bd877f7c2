package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/idxsql"
)

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// alsoKeySQL is a parameter's bytes followed by the row's owner: SQLite
// concatenates a BLOB and TEXT as text, keeping every byte (0x00 too), and
// the cast makes the result a BLOB again, comparable with idx.key.
const alsoKeySQL = "CAST(? || idx.owner AS BLOB)"

// listPage is how many rows List reads per query. Reading in pages rather
// than holding a cursor lets fn run other statements on the same
// connection, and keeps an early stop cheap.
const listPage = 128

var statements = func() []string {
	s := []string{
		stGet:         `SELECT data FROM records WHERE coll = ? AND scope = ? AND id = ?`,
		stPut:         `INSERT INTO records (coll, scope, id, data) VALUES (?, ?, ?, ?) ON CONFLICT (coll, scope, id) DO UPDATE SET data = excluded.data`,
		stDelete:      `DELETE FROM records WHERE coll = ? AND scope = ? AND id = ?`,
		stList:        `SELECT seq, id, data FROM records WHERE coll = ? AND scope = ? AND seq > ? ORDER BY seq LIMIT ?`,
		stCount:       `SELECT count(*) FROM records WHERE coll = ? AND scope = ?`,
		stDelScope:    `DELETE FROM records WHERE coll = ? AND scope = ?`,
		stIdxOwner:    `SELECT key FROM idx WHERE name = ? AND owner = ?`,
		stIdxAdd:      `INSERT INTO idx (name, key, owner) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		stIdxDel:      `DELETE FROM idx WHERE name = ? AND key = ? AND owner = ?`,
		stIdxDelOwner: `DELETE FROM idx WHERE name = ? AND owner = ?`,
	}
	scans := idxsql.ScanQueries(alsoKeySQL)
	s = append(s, scans[:]...)
	return append(s, idxsql.Counts[:]...)
}()

const (
	stGet = iota
	stPut
	stDelete
	stList
	stCount
	stDelScope
	stIdxOwner
	stIdxAdd
	stIdxDel
	stIdxDelOwner
	stIdxScan                                // the idxsql.ScanQueries, in order
	stIdxCount = stIdxScan + idxsql.NumScans // the idxsql.Counts, in order
	numStmts   = stIdxCount + idxsql.NumCounts
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

// tx implements localcases.Tx on one SQLite transaction.
type tx struct {
	ctx context.Context
	st  *stmts
	// sqlTx is set in a View: pool statements are bound to it on first
	// use, as most views run one or two kinds of statement.
	sqlTx    *sql.Tx
	bound    stmts
	readOnly bool
	done     bool
	// broken is the first database error: after one, SQLite may have
	// rolled back the whole transaction, and a later statement would then
	// run (and commit) on its own. So every call after it fails.
	broken error
}

var errTxDone = errors.New("sqlite: transaction used after its function returned")

// end stops a function that kept its Tx from writing into a later
// caller's transaction.
func (t *tx) end() { t.done = true }

func (t *tx) check(write bool, c localcases.Collection) error {
	switch {
	case t.done:
		return errTxDone
	case t.broken != nil:
		return t.broken
	case write && t.readOnly:
		return fmt.Errorf("sqlite: write to %s in a read-only transaction", c)
	}
	return nil
}

func (t *tx) stmt(i int) *sql.Stmt {
	if t.sqlTx == nil {
		return t.st[i]
	}
	if t.bound[i] == nil {
		t.bound[i] = t.sqlTx.StmtContext(t.ctx, t.st[i])
	}
	return t.bound[i]
}

func (t *tx) fail(err error) error {
	t.broken = fmt.Errorf("sqlite: %w", err)
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
	err := t.stmt(stGet).QueryRowContext(t.ctx, string(c), scope, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
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
	if _, err := t.stmt(stPut).ExecContext(t.ctx, string(c), scope, id, string(data)); err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *tx) Delete(c localcases.Collection, scope, id string) error {
	if err := t.check(true, c); err != nil {
		return err
	}
	res, err := t.stmt(stDelete).ExecContext(t.ctx, string(c), scope, id)
	if err != nil {
		return t.fail(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.fail(err)
	}
	if n == 0 {
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
		rows, err := t.stmt(stList).QueryContext(t.ctx, string(c), scope, after, listPage)
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
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
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
	if err := t.stmt(stCount).QueryRowContext(t.ctx, string(c), scope).Scan(&n); err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}

func (t *tx) DeleteScope(c localcases.Collection, scope string) error {
	if err := t.check(true, c); err != nil {
		return err
	}
	if _, err := t.stmt(stDelScope).ExecContext(t.ctx, string(c), scope); err != nil {
		return t.fail(err)
	}
	return nil
}
