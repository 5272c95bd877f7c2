-- Ordered secondary indexes (localcases.IndexTx): entry (name, key, owner),
-- unique as a triple. key is a BLOB, which SQLite compares with memcmp, so
-- ScanIndex reads the primary key in bytewise (key, owner) order. WITHOUT
-- ROWID keeps the entries in that order in the table's own B-tree.
CREATE TABLE idx (
	name  TEXT NOT NULL,
	key   BLOB NOT NULL,
	owner TEXT NOT NULL,
	PRIMARY KEY (name, key, owner)
) STRICT, WITHOUT ROWID;

-- SetIndex finds an owner's entries to replace them.
CREATE INDEX idx_owner ON idx (name, owner);
