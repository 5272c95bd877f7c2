-- The index log (localcases.IndexLogTx): one row per owner whose index
-- keys a transaction set, stamped with the transaction's ID. A reader
-- marks its snapshot (pg_current_snapshot); the owners changed between
-- that snapshot and a later one are the rows the later one sees whose
-- transaction the mark's snapshot does not: found from the mark's xmin
-- up, whatever order servers commit in. trimmed_below is the xid under
-- which rows may have been deleted; a mark whose xmin is lower must read
-- the index again.
CREATE TABLE idx_log (
	xid   xid8 NOT NULL DEFAULT pg_current_xact_id(),
	owner text COLLATE "C" NOT NULL
);
CREATE INDEX idx_log_xid ON idx_log (xid);

CREATE TABLE idx_log_meta (
	id            int PRIMARY KEY CHECK (id = 1),
	trimmed_below xid8 NOT NULL
);
INSERT INTO idx_log_meta VALUES (1, '0');
