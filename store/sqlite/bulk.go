package sqlite

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

// An import writes its rows with statements that insert many rows each:
// SQLite then runs a statement and opens its statement journal once per
// bulkRows rows instead of once per row, and, for the text index, flushes
// FTS5's pending terms (which it does at every statement's savepoint)
// once per textRows documents.
const (
	bulkRows = 128
	textRows = 512
)

// The bulk statements (bulkStatements), after the text statements.
const (
	stBulkPut = iota
	stBulkIdx
	stBulkIdxKeys
	stBulkText
	stBulkIdxAny
	stBulkTextAny
	numBulk
)

var bulkStatements = [numBulk]string{
	stBulkPut: `INSERT INTO records (coll, scope, id, data) VALUES ` + rows(4, bulkRows) +
		` ON CONFLICT (coll, scope, id) DO UPDATE SET data = excluded.data`,
	stBulkIdx:     `INSERT INTO idx (name, key, owner) VALUES ` + rows(3, bulkRows) + ` ON CONFLICT DO NOTHING`,
	stBulkIdxKeys: `INSERT INTO idx_keys (name, owner, keys) VALUES ` + rows(3, bulkRows),
	stBulkText:    `INSERT INTO text_docs (name, owner, body) VALUES ` + rows(3, textRows),
	stBulkIdxAny:  `SELECT EXISTS (SELECT 1 FROM idx WHERE name = ?)`,
	stBulkTextAny: `SELECT EXISTS (SELECT 1 FROM text_docs WHERE name = ?)`,
}

// rows is n groups of k placeholders: (?, ?), (?, ?), ...
func rows(k, n int) string {
	one := "(" + strings.Repeat("?, ", k-1) + "?)"
	return strings.Repeat(one+", ", n-1) + one
}

var _ sqlstore.BulkQueries = (*queries)(nil)

// insertRows runs the multi-row statement st over every full group of
// per rows of n, with the arguments args appends for row i, and the
// single-row statement one for the rest.
func (q *queries) insertRows(st, one, per, n int, args func(dst []any, i int) []any) error {
	buf := make([]any, 0, 4*per)
	i := 0
	for ; i+per <= n; i += per {
		buf = buf[:0]
		for j := i; j < i+per; j++ {
			buf = args(buf, j)
		}
		if _, err := q.stmt(st).ExecContext(q.ctx, buf...); err != nil {
			return err
		}
	}
	for ; i < n; i++ {
		if _, err := q.stmt(one).ExecContext(q.ctx, args(buf[:0], i)...); err != nil {
			return err
		}
	}
	return nil
}

func (q *queries) PutMany(records []localcases.SnapshotRecord) error {
	return q.rebuilding("records", len(records), func() error {
		return q.insertRows(stBulk+stBulkPut, stPut, bulkRows, len(records), func(dst []any, i int) []any {
			r := &records[i]
			return append(dst, string(r.Collection), r.Scope, r.ID, string(r.Data))
		})
	})
}

// rebuilding runs fn, which adds n rows to table. When the table holds
// fewer rows than that, the indexes of the table that can be dropped (all
// but those of its primary key and UNIQUE constraints) are dropped first
// and made again after fn: one sort of the whole table per index instead
// of an insert at a random place of the index per row. It is all one
// transaction: readers go on reading the state before it, and if it rolls
// back, so do the drops.
func (q *queries) rebuilding(table string, n int, fn func() error) error {
	if q.conn == nil {
		return fn()
	}
	var held int
	if err := q.conn.QueryRowContext(q.ctx, `SELECT count(*) FROM (SELECT 1 FROM "`+table+`" LIMIT ?)`, n).Scan(&held); err != nil {
		return err
	}
	if held >= n {
		return fn()
	}
	rows, err := q.conn.QueryContext(q.ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, table)
	if err != nil {
		return err
	}
	type index struct{ name, sql string }
	idxs, err := readRows(rows, []index(nil), func(x *index) []any { return []any{&x.name, &x.sql} })
	if err != nil {
		return err
	}
	for _, x := range idxs {
		if _, err := q.conn.ExecContext(q.ctx, `DROP INDEX "`+strings.ReplaceAll(x.name, `"`, `""`)+`"`); err != nil {
			return err
		}
	}
	if err := fn(); err != nil {
		return err
	}
	for _, x := range idxs {
		if _, err := q.conn.ExecContext(q.ctx, x.sql); err != nil {
			return err
		}
	}
	return nil
}

// has reports whether st, one of the stBulk…Any, finds a row of name.
func (q *queries) has(st int, name string) (bool, error) {
	var found bool
	err := q.stmt(stBulk+st).QueryRowContext(q.ctx, name).Scan(&found)
	return found, err
}

// SetIndexMany inserts the entries in key order, so that each lands after
// the last in the B-tree, when the index holds nothing yet; otherwise it
// sets each owner's keys as SetIndex does.
func (q *queries) SetIndexMany(name string, owners []localcases.IndexKeys) error {
	if found, err := q.has(stBulkIdxAny, name); err != nil || found {
		if err != nil {
			return err
		}
		for _, o := range owners {
			if err := q.SetIndex(name, o.Owner, o.Keys); err != nil {
				return err
			}
		}
		return nil
	}
	owners = sqlstore.LastOfEach(owners, func(o *localcases.IndexKeys) string { return o.Owner })
	var entries []sqlstore.Entry
	for _, o := range owners {
		for _, k := range o.Keys {
			entries = append(entries, sqlstore.Entry{Key: k, Owner: o.Owner})
		}
	}
	slices.SortFunc(entries, func(a, b sqlstore.Entry) int {
		return cmp.Or(bytes.Compare(a.Key, b.Key), strings.Compare(a.Owner, b.Owner))
	})
	err := q.rebuilding("idx", len(entries), func() error {
		return q.insertRows(stBulk+stBulkIdx, stIdxAdd, bulkRows, len(entries), func(dst []any, i int) []any {
			return append(dst, name, entries[i].Key, entries[i].Owner)
		})
	})
	if err != nil {
		return err
	}
	// In owner order, so that each row lands after the last in the B-tree.
	owners = slices.DeleteFunc(slices.Clone(owners), func(o localcases.IndexKeys) bool { return len(o.Keys) == 0 })
	slices.SortFunc(owners, func(a, b localcases.IndexKeys) int { return strings.Compare(a.Owner, b.Owner) })
	err = q.insertRows(stBulk+stBulkIdxKeys, stIdxKeysSet, bulkRows, len(owners), func(dst []any, i int) []any {
		return append(dst, name, owners[i].Owner, encodeKeys(owners[i].Keys))
	})
	if err != nil {
		return err
	}
	// The index log names every owner, as SetIndex does, so that what a
	// reader derived from the index before this import is brought up to
	// date (or, past the log's bound, rebuilt) rather than kept.
	for _, o := range owners {
		if err := q.logIndex(o.Owner); err != nil {
			return err
		}
	}
	return nil
}

// SetTextMany inserts the documents when the index holds none yet;
// otherwise it sets each as SetText does.
func (q *queries) SetTextMany(name string, docs []localcases.TextDoc) error {
	if err := q.flushTexts(); err != nil {
		return err
	}
	if found, err := q.has(stBulkTextAny, name); err != nil || found {
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := q.SetText(name, d.Owner, d.Doc); err != nil {
				return err
			}
		}
		return nil
	}
	docs = sqlstore.LastOfEach(docs, func(d *localcases.TextDoc) string { return d.Owner })
	docs = slices.DeleteFunc(slices.Clone(docs), func(d localcases.TextDoc) bool { return d.Doc == "" })
	return q.insertRows(stBulk+stBulkText, stText+stTextSet, textRows, len(docs), func(dst []any, i int) []any {
		return append(dst, name, docs[i].Owner, docs[i].Doc)
	})
}
