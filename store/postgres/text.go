package postgres

import "strings"

const (
	textDelSQL = `DELETE FROM text_docs WHERE name = $1 AND owner = $2`
	// An unchanged body is not rewritten, so its index entries stay.
	textSetSQL = `INSERT INTO text_docs (name, owner, body) VALUES ($1, $2, $3)
		ON CONFLICT (name, owner) DO UPDATE SET body = excluded.body WHERE text_docs.body <> excluded.body`
)

func (q *queries) SetText(name, owner, doc string) error {
	var err error
	if doc == "" {
		_, err = q.tx.Exec(q.ctx, textDelSQL, name, owner)
	} else {
		_, err = q.tx.Exec(q.ctx, textSetSQL, name, owner, doc)
	}
	return err
}

// SetText is queued with the function's other writes, inside its
// savepoint, so a failing function's documents go with it.
func (w *writeQueries) SetText(name, owner, doc string) error {
	if doc == "" {
		return w.queue(textDelSQL, name, owner)
	}
	return w.queue(textSetSQL, name, owner, doc)
}

// SearchText reads what the queued writes change: they are sent first.
func (w *writeQueries) SearchText(name, sub string) ([]string, error) {
	if err := w.flush(); err != nil {
		return nil, err
	}
	return w.queries.SearchText(name, sub)
}

// likeEscaper makes a string match itself alone in a LIKE pattern, whose
// escape character is the backslash.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchText finds sub with LIKE '%sub%', which the trigram index answers
// (migration 0005_text.sql) and which compares bytewise under COLLATE "C".
func (q *queries) SearchText(name, sub string) ([]string, error) {
	// name || '': every document of a domain shares its name, so the
	// primary key narrows nothing; without it to choose, the planner
	// takes the trigram index even before statistics show that.
	rows, err := q.tx.Query(q.ctx, `SELECT owner FROM text_docs WHERE name || '' = $1 AND body LIKE $2`,
		name, "%"+likeEscaper.Replace(sub)+"%")
	if err != nil {
		return nil, err
	}
	return readRows(rows, []string(nil), func(o *string) []any { return []any{o} })
}
