-- The index log (localcases.IndexLogTx): one row per SetIndex, numbered in
-- commit order (the one writer holds the write lock from BEGIN IMMEDIATE
-- to COMMIT, and a rolled-back row gives its number back), so a reader
-- that kept what it derived from the index as of seq S finds every owner
-- changed since in the rows above S. SetIndex trims the oldest rows; a
-- mark below the first row left must read the index again. (IF NOT EXISTS:
-- a test gives an older schema the table, which today's statements need.)
CREATE TABLE IF NOT EXISTS idx_log (
	seq   INTEGER PRIMARY KEY,
	owner TEXT NOT NULL
) STRICT;
