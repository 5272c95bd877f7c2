package sqlite

import (
	"strings"
	"unicode/utf8"
)

// The full-text statements (migration 0005_text.sql), after the others.
const (
	stTextSet = iota
	stTextDel
	stTextMatch
	stTextScan
	numText
)

var textStatements = [numText]string{
	// An unchanged body is not rewritten, so its FTS5 entries stay.
	stTextSet: `INSERT INTO text_docs (name, owner, body) VALUES (?, ?, ?)
		ON CONFLICT (name, owner) DO UPDATE SET body = excluded.body WHERE body <> excluded.body`,
	stTextDel:   `DELETE FROM text_docs WHERE name = ? AND owner = ?`,
	stTextMatch: `SELECT d.owner FROM text_fts JOIN text_docs d ON d.id = text_fts.rowid WHERE text_fts.body GLOB ? AND d.name = ?`,
	stTextScan:  `SELECT owner FROM text_docs WHERE name = ? AND instr(body, ?) > 0`,
}

func (q *queries) SetText(name, owner, doc string) error {
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
