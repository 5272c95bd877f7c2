-- A data directory as localcases wrote it at schema version 1, by hand so
-- that it reads as a record of that format. Never edit it: it stands for
-- directories users already have. TestOpenUpgradesVersion1Fixture opens it
-- with the current binary.
PRAGMA journal_mode = WAL;
CREATE TABLE schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
) STRICT;
CREATE TABLE records (
	seq   INTEGER PRIMARY KEY AUTOINCREMENT,
	coll  TEXT NOT NULL,
	scope TEXT NOT NULL,
	id    TEXT NOT NULL,
	data  TEXT NOT NULL,
	UNIQUE (coll, scope, id)
) STRICT;
CREATE INDEX records_list ON records (coll, scope, seq);
INSERT INTO schema_migrations VALUES (1, '0001_init.sql', '2026-01-01T00:00:00Z');
INSERT INTO records (seq, coll, scope, id, data) VALUES
	(3, 'domain', '000000000000', 'd1', '{"id":"d1","name":"support"}'),
	(7, 'field', 'd1', 'f2', '{"id":"f2","name":"second"}'),
	(5, 'field', 'd1', 'f1', '{"id":"f1","name":"first"}'),
	(9, 'meta', '', 'server', '{"tokenKey":"AAAA"}');
-- Record 10 existed and was deleted: the next record must get 11.
UPDATE sqlite_sequence SET seq = 10 WHERE name = 'records';
