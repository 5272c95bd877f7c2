package sqlite

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

// The full-text statements (migration 0005_text.sql), after the others.
const (
	stTextSet = iota
	stTextDel
	stTextMatch
	stTextScan
	stTextSetMany
	numText
)

var textStatements = [numText]string{
	// An unchanged body is not rewritten, so its FTS5 entries stay.
	stTextSet: `INSERT INTO text_docs (name, owner, body) VALUES (?, ?, ?)
		ON CONFLICT (name, owner) DO UPDATE SET body = excluded.body WHERE body <> excluded.body`,
	stTextDel:   `DELETE FROM text_docs WHERE name = ? AND owner = ?`,
	stTextMatch: `SELECT d.owner FROM text_fts JOIN text_docs d ON d.id = text_fts.rowid WHERE text_fts.body GLOB ? AND d.name = ?`,
	stTextScan:  `SELECT owner FROM text_docs WHERE name = ? AND instr(body, ?) > 0`,
	// A batch's documents, as a JSON array of [name, owner, body]: one
	// statement, so FTS5 flushes its pending terms once for all of them.
	// (WHERE true: SQLite's parser needs it before an upsert's ON CONFLICT
	// when the rows come from a SELECT.)
	stTextSetMany: `INSERT INTO text_docs (name, owner, body)
		SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true
		ON CONFLICT (name, owner) DO UPDATE SET body = excluded.body WHERE body <> excluded.body`,
}

// A write transaction defers its SetText calls to the end of the batch
// (deferredText), because FTS5 writes the terms it holds in memory to a
// new segment of its index at every savepoint, and SQLite opens one at
// the start of each statement that writes: a case write's statements
// after its SetText would each flush that one document's terms, so each
// case became a segment of its own, later merged, and its pages written
// to the WAL. The commit writes every document of the batch in one
// statement instead (writeTexts), after the last caller's savepoint and
// before COMMIT, so that a batch of cases is one segment. A caller whose
// savepoint is rolled back takes its documents with it. Measured in
// docs/BENCHMARKS.md ("What the text index costs CreateCase").
type deferredText struct {
	docs []localcases.TextDoc
	name []string // index of each document
}

func (d *deferredText) add(name, owner, doc string) {
	d.docs = append(d.docs, localcases.TextDoc{Owner: owner, Doc: doc})
	d.name = append(d.name, name)
}

func (d *deferredText) take(from *deferredText) {
	d.docs = append(d.docs, from.docs...)
	d.name = append(d.name, from.name...)
	from.docs, from.name = from.docs[:0], from.name[:0]
}

// writeTexts writes the deferred documents, the last one of each owner
// in an index winning: removals one statement each (a case deletion is
// rare), the rest in one statement. Writing a document again changes
// nothing, so keep true leaves them in d, to be written again later.
func (q *queries) writeTexts(d *deferredText, keep bool) error {
	if len(d.docs) == 0 {
		return nil
	}
	type op struct{ name, owner, doc string }
	ops := make([]op, len(d.docs))
	for i, doc := range d.docs {
		ops[i] = op{d.name[i], doc.Owner, doc.Doc}
	}
	if !keep {
		d.docs, d.name = d.docs[:0], d.name[:0]
	}
	ops = sqlstore.LastOfEach(ops, func(o *op) [2]string { return [2]string{o.name, o.owner} })
	rows := make([][3]string, 0, len(ops))
	for _, o := range ops {
		switch {
		case o.doc == "":
			if _, err := q.stmt(stText+stTextDel).ExecContext(q.ctx, o.name, o.owner); err != nil {
				return err
			}
		case !utf8.ValidString(o.name) || !utf8.ValidString(o.owner) || !utf8.ValidString(o.doc):
			// JSON would replace the invalid bytes; the store keeps them.
			if _, err := q.stmt(stText+stTextSet).ExecContext(q.ctx, o.name, o.owner, o.doc); err != nil {
				return err
			}
		default:
			rows = append(rows, [3]string{o.name, o.owner, o.doc})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	arg, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = q.stmt(stText+stTextSetMany).ExecContext(q.ctx, string(arg))
	return err
}

// flushTexts writes what the batch and the transaction deferred before a
// statement reads the documents, inside the transaction's savepoint: the
// batch's earlier callers' documents are kept for the end of the batch,
// since this savepoint may yet be rolled back. No update function
// searches text today; this keeps the Tx's reads exact if one does.
func (q *queries) flushTexts() error {
	if q.texts == nil {
		return nil
	}
	if err := q.writeTexts(q.batch, true); err != nil {
		return err
	}
	return q.writeTexts(q.texts, false)
}

func (q *queries) SetText(name, owner, doc string) error {
	if q.texts != nil {
		q.texts.add(name, owner, doc)
		return nil
	}
	var err error
	if doc == "" {
		_, err = q.stmt(stText+stTextDel).ExecContext(q.ctx, name, owner)
	} else {
		_, err = q.stmt(stText+stTextSet).ExecContext(q.ctx, name, owner, doc)
	}
	return err
}

// globEscaper makes a string match itself alone in a GLOB pattern.
var globEscaper = strings.NewReplacer(`*`, `[*]`, `?`, `[?]`, `[`, `[[]`)

// SearchText asks FTS5 for the bodies matching GLOB '*sub*', which its
// trigram index answers (see the migration). A substring of fewer than
// three characters has no trigram, and is looked for in each body of the
// index.
func (q *queries) SearchText(name, sub string) ([]string, error) {
	if err := q.flushTexts(); err != nil {
		return nil, err
	}
	var args []any
	st := stText + stTextScan
	if utf8.RuneCountInString(sub) >= 3 {
		st, args = stText+stTextMatch, []any{"*" + globEscaper.Replace(sub) + "*", name}
	} else {
		args = []any{name, sub}
	}
	rows, err := q.stmt(st).QueryContext(q.ctx, args...)
	if err != nil {
		return nil, err
	}
	return readRows(rows, []string(nil), func(o *string) []any { return []any{o} })
}
