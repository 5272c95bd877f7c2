package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

var _ sqlstore.BulkQueries = (*writeQueries)(nil)

// bulkStart sends what the function queued, and forgets what the batch
// read: a bulk write goes straight to the database.
func (w *writeQueries) bulkStart() error {
	if err := w.flush(); err != nil {
		return err
	}
	w.flushed = true
	clear(w.b.cache)
	clear(w.b.lists)
	return nil
}

// copyOrElse runs COPY of rows into table in a savepoint. When the table
// holds fewer rows than that, it drops the table's indexes (and the
// primary key and unique constraints that own some of them) first and
// makes them again after: building an index over the whole table at once
// costs a fraction of updating it row by row, above all the text index's
// GIN over trigrams. That takes the table's ACCESS EXCLUSIVE lock until
// the transaction ends, so readers of the table on other connections
// wait for the import instead of reading the state before it; it is taken
// only when the table is nearly empty, as after a reset. If the COPY, or
// making a unique index again, finds a key the table already holds, the
// savepoint is rolled back and orElse runs instead.
func (w *writeQueries) copyOrElse(table string, cols []string, rows [][]any, orElse func() error) error {
	if _, err := w.tx.Exec(w.ctx, "SAVEPOINT bulk"); err != nil {
		return err
	}
	err := w.copyRebuilding(table, cols, rows)
	if err == nil {
		_, err = w.tx.Exec(w.ctx, "RELEASE SAVEPOINT bulk")
		return err
	}
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "23505" {
		return err
	}
	if _, err := w.tx.Exec(w.ctx, "ROLLBACK TO SAVEPOINT bulk"); err != nil {
		return err
	}
	if _, err := w.tx.Exec(w.ctx, "RELEASE SAVEPOINT bulk"); err != nil {
		return err
	}
	return orElse()
}

func (w *writeQueries) copyRebuilding(table string, cols []string, rows [][]any) error {
	var held int
	if err := w.tx.QueryRow(w.ctx, `SELECT count(*) FROM (SELECT FROM `+pgx.Identifier{table}.Sanitize()+` LIMIT $1) t`,
		len(rows)).Scan(&held); err != nil {
		return err
	}
	var again []string
	if held < len(rows) {
		var err error
		if again, err = w.dropIndexes(table); err != nil {
			return err
		}
	}
	if _, err := w.tx.CopyFrom(w.ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	for _, q := range again {
		if _, err := w.tx.Exec(w.ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// dropIndexes drops the indexes of table, in this store's schema, and
// returns the statements that make them again, as they were.
func (w *writeQueries) dropIndexes(table string) ([]string, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT quote_ident(ic.relname), pg_get_indexdef(i.indexrelid),
			coalesce(quote_ident(c.conname), ''), coalesce(pg_get_constraintdef(c.oid), '')
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u')
		WHERE i.indrelid = $1::regclass`, pgx.Identifier{table}.Sanitize())
	if err != nil {
		return nil, err
	}
	type index struct{ name, def, con, conDef string }
	idxs, err := readRows(rows, []index(nil), func(x *index) []any { return []any{&x.name, &x.def, &x.con, &x.conDef} })
	if err != nil {
		return nil, err
	}
	t := pgx.Identifier{table}.Sanitize()
	var again []string
	for _, x := range idxs {
		drop, create := "DROP INDEX "+x.name, x.def
		if x.con != "" {
			drop, create = "ALTER TABLE "+t+" DROP CONSTRAINT "+x.con, "ALTER TABLE "+t+" ADD CONSTRAINT "+x.con+" "+x.conDef
		}
		if _, err := w.tx.Exec(w.ctx, drop); err != nil {
			return nil, err
		}
		again = append(again, create)
	}
	return again, nil
}

// PutMany copies the records straight into the table, each address once
// with its last record's data at the place of its first, which is what
// Puts in order leave when none of them was there before; when one was,
// it copies them into a temporary table instead and puts them from there
// with one statement, in order.
func (w *writeQueries) PutMany(records []localcases.SnapshotRecord) error {
	if err := w.bulkStart(); err != nil {
		return err
	}
	first := make(map[rkey]int, len(records))
	rows := make([][]any, 0, len(records))
	for _, r := range records {
		k := rkey{r.Collection, r.Scope, r.ID}
		if i, ok := first[k]; ok {
			rows[i][3] = string(r.Data)
			continue
		}
		first[k] = len(rows)
		rows = append(rows, []any{string(r.Collection), r.Scope, r.ID, string(r.Data)})
	}
	return w.copyOrElse("records", []string{"coll", "scope", "id", "data"}, rows, func() error {
		return w.putManyVia(rows)
	})
}

func (w *writeQueries) putManyVia(rows [][]any) error {
	if _, err := w.tx.Exec(w.ctx, `CREATE TEMP TABLE IF NOT EXISTS put_many
		(ord bigint, coll text, scope text, id text, data text) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	ordered := make([][]any, len(rows))
	for i, r := range rows {
		ordered[i] = append([]any{int64(i)}, r...)
	}
	if _, err := w.tx.CopyFrom(w.ctx, pgx.Identifier{"put_many"}, []string{"ord", "coll", "scope", "id", "data"},
		pgx.CopyFromRows(ordered)); err != nil {
		return err
	}
	_, err := w.tx.Exec(w.ctx, `WITH moved AS (DELETE FROM put_many RETURNING *)
		INSERT INTO records (coll, scope, id, data) SELECT coll, scope, id, data FROM moved ORDER BY ord
		ON CONFLICT (coll, scope, id) DO UPDATE SET data = excluded.data`)
	return err
}

// SetIndexMany copies the entries straight into the table when the index
// holds none yet; otherwise it queues each owner's SetIndex.
func (w *writeQueries) SetIndexMany(name string, owners []localcases.IndexKeys) error {
	if err := w.bulkStart(); err != nil {
		return err
	}
	var found bool
	if err := w.tx.QueryRow(w.ctx, `SELECT EXISTS (SELECT 1 FROM idx WHERE name = $1)`, name).Scan(&found); err != nil {
		return err
	}
	each := func() error {
		for _, o := range owners {
			if err := w.SetIndex(name, o.Owner, o.Keys); err != nil {
				return err
			}
		}
		return w.flush()
	}
	if found {
		return each()
	}
	owners = sqlstore.LastOfEach(owners, func(o *localcases.IndexKeys) string { return o.Owner })
	var rows [][]any
	logged := make([]string, 0, len(owners))
	for _, o := range owners {
		logged = append(logged, o.Owner)
		for _, k := range o.Keys {
			rows = append(rows, []any{name, k, o.Owner})
		}
	}
	if err := w.copyOrElse("idx", []string{"name", "key", "owner"}, rows, each); err != nil {
		return err
	}
	// The index log names every owner, as SetIndex does, so that what a
	// reader derived from the index before this import is brought up to
	// date rather than kept. (After the fallback to each, they are logged
	// twice, which only costs a reader a second look.)
	_, err := w.tx.Exec(w.ctx, `INSERT INTO idx_log (owner) SELECT unnest($1::text[])`, logged)
	return err
}

// SetTextMany copies the documents straight into the table when the index
// holds none yet; otherwise it queues each SetText.
func (w *writeQueries) SetTextMany(name string, docs []localcases.TextDoc) error {
	if err := w.bulkStart(); err != nil {
		return err
	}
	var found bool
	if err := w.tx.QueryRow(w.ctx, `SELECT EXISTS (SELECT 1 FROM text_docs WHERE name = $1)`, name).Scan(&found); err != nil {
		return err
	}
	each := func() error {
		for _, d := range docs {
			if err := w.SetText(name, d.Owner, d.Doc); err != nil {
				return err
			}
		}
		return w.flush()
	}
	if found {
		return each()
	}
	docs = sqlstore.LastOfEach(docs, func(d *localcases.TextDoc) string { return d.Owner })
	var rows [][]any
	for _, d := range docs {
		if d.Doc != "" {
			rows = append(rows, []any{name, d.Owner, d.Doc})
		}
	}
	return w.copyOrElse("text_docs", []string{"name", "owner", "body"}, rows, each)
}
