-- Every record the service keeps, addressed by (coll, scope, id). seq is the
-- per-store sequence number that fixes List order. AUTOINCREMENT because
-- plain rowids reuse the largest number after it is deleted, and a page token
-- pointing past a reused number would skip the record that took it.
CREATE TABLE records (
	seq   INTEGER PRIMARY KEY AUTOINCREMENT,
	coll  TEXT NOT NULL,
	scope TEXT NOT NULL,
	id    TEXT NOT NULL,
	data  TEXT NOT NULL,
	UNIQUE (coll, scope, id)
) STRICT;

-- List and Count read a scope in sequence order.
CREATE INDEX records_list ON records (coll, scope, seq);
