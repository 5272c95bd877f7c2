-- Every record the service keeps, addressed by (coll, scope, id). seq fixes
-- List order; writers hold the store's advisory lock while they assign it
-- and until they commit, so sequence order is commit order even across
-- processes. COLLATE "C": keys are compared bytewise, as in the other
-- engines, whatever the database's locale.
CREATE TABLE records (
	seq   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	coll  text COLLATE "C" NOT NULL,
	scope text COLLATE "C" NOT NULL,
	id    text COLLATE "C" NOT NULL,
	data  text NOT NULL,
	UNIQUE (coll, scope, id)
);

-- List and Count read a scope in sequence order.
CREATE INDEX records_list ON records (coll, scope, seq);
