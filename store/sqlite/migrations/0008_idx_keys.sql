-- Each owner's keys in an index, in one row: SetIndex reads them with one
-- lookup to write only the difference, and a removal finds the entries to
-- delete. This replaces idx_owner, a second B-tree that held every entry
-- again and cost a second insert per entry: about a sixth of a CreateCase
-- in the one writer (docs/BENCHMARKS.md, "The write path").
--
-- keys is the owner's keys in bytewise order, each as a 4-byte big-endian
-- length and its bytes (indexKeys in index.go). SQLite's || joins BLOBs as
-- text, keeping every byte, and the CAST makes the result a BLOB again.
-- (IF NOT EXISTS, OR REPLACE, IF EXISTS: a test gives an older schema the
-- table, which today's statements need.)
CREATE TABLE IF NOT EXISTS idx_keys (
	name  TEXT NOT NULL,
	owner TEXT NOT NULL,
	keys  BLOB NOT NULL,
	PRIMARY KEY (name, owner)
) STRICT, WITHOUT ROWID;

INSERT OR REPLACE INTO idx_keys (name, owner, keys)
SELECT name, owner, CAST(group_concat(unhex(printf('%08X', length(key))) || key, '' ORDER BY key) AS BLOB)
FROM idx GROUP BY name, owner;

DROP INDEX IF EXISTS idx_owner;
