package postgres

import (
	"github.com/localcases/localcases/store/internal/sqlstore"
)

var (
	scanSQL  [sqlstore.NumScans]string
	countSQL [sqlstore.NumCounts]string
)

func init() {
	// bytea || bytea; the owner's text as its UTF-8 bytes.
	for i, q := range sqlstore.ScanQueries("? || convert_to(idx.owner, 'UTF8')") {
		scanSQL[i] = sqlstore.Numbered(q)
	}
	for i, q := range sqlstore.Counts {
		countSQL[i] = sqlstore.Numbered(q)
	}
}

// setIndexSQL replaces an owner's keys in one statement: the entries not
// among the new keys go, the new keys that are missing come. The two
// touch different rows, so the statement's single snapshot is enough.
// The owner goes into the index log (migration 0006) in the same
// statement.
const setIndexSQL = `WITH gone AS (
	DELETE FROM idx WHERE name = $1 AND owner = $2 AND key <> ALL ($3::bytea[])
), logged AS (
	INSERT INTO idx_log (owner) VALUES ($2)
)
INSERT INTO idx (name, key, owner)
SELECT $1, k, $2 FROM unnest($3::bytea[]) AS k
ON CONFLICT DO NOTHING`

// setIndexesSQL is setIndexSQL for many owners at once: $1, $2 and $3
// are the new entries (index, owner, key), $4 and $5 every (index, owner)
// whose entries they replace, each once, so no entry comes twice.
const setIndexesSQL = `WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) AS t(name, owner, key)
), gone AS (
	DELETE FROM idx USING unnest($4::text[], $5::text[]) AS o(name, owner)
	WHERE idx.name = o.name AND idx.owner = o.owner
	AND NOT EXISTS (SELECT 1 FROM input i WHERE i.name = idx.name AND i.owner = idx.owner AND i.key = idx.key)
), logged AS (
	INSERT INTO idx_log (owner) SELECT unnest($5::text[])
)
INSERT INTO idx (name, key, owner)
SELECT name, key, owner FROM input
ON CONFLICT DO NOTHING`

// SetIndex writes keys, sorted and unique, so the INSERT never meets its
// own row twice; never nil, which would be a NULL array and delete nothing.
func (q *queries) SetIndex(name, owner string, keys [][]byte) error {
	_, err := q.tx.Exec(q.ctx, setIndexSQL, name, owner, keys)
	return err
}

func (q *queries) ScanPage(v int, args []any, page []sqlstore.Entry) ([]sqlstore.Entry, error) {
	if !q.sortOff {
		// Each page must be a walk along idx_pkey that stops at LIMIT. When
		// the planner's statistics underestimate an index name's entries
		// (a name that grew since the last ANALYZE), it prefers a bitmap
		// scan of every matching entry and a top-N sort: a page then reads
		// the whole range. Without sorts, the ordered index walk is the
		// only plan left. The same underestimate makes the other index of
		// a ScanIndexAlso look like one row, and the planner then reads
		// all of it once per entry (a materialised nested loop) or hashes
		// it: without those plans, each entry is one primary-key probe.
		// Local to this transaction, whose other queries need none of
		// these plans either.
		const planner = `SELECT set_config('enable_sort', 'off', true), set_config('enable_material', 'off', true),
			set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`
		if _, err := q.tx.Exec(q.ctx, planner); err != nil {
			return nil, err
		}
		q.sortOff = true
	}
	rows, err := q.tx.Query(q.ctx, scanSQL[v], args...)
	if err != nil {
		return nil, err
	}
	return readRows(rows, page, func(e *sqlstore.Entry) []any { return []any{&e.Key, &e.Owner} })
}

func (q *queries) CountIndex(v int, args []any) (int, error) {
	var n int
	err := q.tx.QueryRow(q.ctx, countSQL[v], args...).Scan(&n)
	return n, err
}

// The index log (migration 0006). A mark is the reading transaction's
// snapshot, which in a View (REPEATABLE READ) is the same for every
// statement.
const (
	markSQL = `SELECT pg_current_snapshot()::text`
	// sinceSQL: the owners logged by transactions the transaction sees
	// and the mark's snapshot did not, if the mark is not older than the
	// trimmed rows; NULL if it is. ORDER BY keeps the planner on the xid
	// index when the log has no statistics yet (after an import): without
	// it, it read all 100,000 rows, 50 ms.
	sinceSQL = `SELECT CASE WHEN pg_snapshot_xmin($1::pg_snapshot) >= m.trimmed_below THEN
		(SELECT coalesce(array_agg(owner), '{}') FROM (
			SELECT owner FROM idx_log
			WHERE xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)
			ORDER BY xid LIMIT $2) l)
		END
		FROM idx_log_meta m WHERE m.id = 1`
	// trimSQL deletes the rows older than the newest logKeep, and records
	// the bound.
	trimSQL = `WITH bound AS (
		SELECT xid FROM idx_log ORDER BY xid DESC OFFSET $1 LIMIT 1
	), gone AS (
		DELETE FROM idx_log WHERE xid < (SELECT xid FROM bound)
	)
	UPDATE idx_log_meta SET trimmed_below = greatest(trimmed_below, (SELECT xid FROM bound))
	WHERE id = 1 AND EXISTS (SELECT 1 FROM bound)`
)

// logKeep is how many rows of the index log a trim keeps; a writer trims
// once in logTrimEvery batches.
var logKeep, logTrimEvery int64 = 65536, 1024

func (q *queries) IndexMark() (string, error) {
	var m string
	err := q.tx.QueryRow(q.ctx, markSQL).Scan(&m)
	return m, err
}

func (q *queries) IndexChangedSince(mark string, limit int) ([]string, bool, error) {
	var owners []string
	err := q.tx.QueryRow(q.ctx, sinceSQL, mark, limit+1).Scan(&owners)
	if err != nil || owners == nil || len(owners) > limit {
		return nil, false, err
	}
	return owners, true, nil
}
