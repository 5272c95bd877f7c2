-- Full-text indexes (localcases.TextIndexTx): one document per (name,
-- owner), kept here, and an FTS5 index over them with the trigram
-- tokenizer: a GLOB '*sub*' picks the documents holding every trigram of
-- sub from the index, then tests each body. case_sensitive 1: the caller
-- folds case itself, so that SQLite's folding, which is not Go's, never
-- decides a match. detail 'none' keeps no positions, as the GLOB test
-- needs none: the index, and every case write, is the smaller.
--
-- The FTS5 table is external-content: it indexes text_docs.body without a
-- second copy of it, and the triggers keep it in step. A shorter substring
-- has no trigram and is found by reading the bodies.
CREATE TABLE text_docs (
	id    INTEGER PRIMARY KEY,
	name  TEXT NOT NULL,
	owner TEXT NOT NULL,
	body  TEXT NOT NULL,
	UNIQUE (name, owner)
) STRICT;

CREATE VIRTUAL TABLE text_fts USING fts5(
	body, content = 'text_docs', content_rowid = 'id',
	tokenize = 'trigram case_sensitive 1', detail = 'none'
);

CREATE TRIGGER text_docs_ai AFTER INSERT ON text_docs BEGIN
	INSERT INTO text_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER text_docs_ad AFTER DELETE ON text_docs BEGIN
	INSERT INTO text_fts (text_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER text_docs_au AFTER UPDATE OF body ON text_docs BEGIN
	INSERT INTO text_fts (text_fts, rowid, body) VALUES ('delete', old.id, old.body);
	INSERT INTO text_fts (rowid, body) VALUES (new.id, new.body);
END;
