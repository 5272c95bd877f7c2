-- Ordered secondary indexes (localcases.IndexTx): entry (name, key, owner),
-- unique as a triple. bytea compares bytewise and owner is COLLATE "C", so
-- ScanIndex reads the primary key in the same (key, owner) order as the
-- other engines.
CREATE TABLE idx (
	name  text COLLATE "C" NOT NULL,
	key   bytea NOT NULL,
	owner text COLLATE "C" NOT NULL,
	PRIMARY KEY (name, key, owner)
);

-- SetIndex finds an owner's entries to replace them.
CREATE INDEX idx_owner ON idx (name, owner);
