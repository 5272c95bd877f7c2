-- The outbox's sequence number stops being AUTOINCREMENT, which made every
-- event also rewrite its row in sqlite_sequence, in the one writer. Numbers
-- are still never reused: AppendEvent gives each event one more than the
-- highest handed out, which is the higher of the outbox's last row and
-- event_meta.trimmed (every number above the last row was trimmed, since a
-- rolled-back insert rolls back its number too), the same rule LastEventSeq
-- reads.
CREATE TABLE events_new (
	seq    INTEGER PRIMARY KEY,
	domain TEXT NOT NULL,
	at     INTEGER NOT NULL, -- Unix milliseconds
	data   TEXT NOT NULL
) STRICT;
INSERT INTO events_new (seq, domain, at, data) SELECT seq, domain, at, data FROM events ORDER BY seq;
-- AUTOINCREMENT's high-water mark is in sqlite_sequence, which goes with
-- the old table. Above the last row it can only have been trimmed, and
-- TrimEvents records that in event_meta; should a row above the last have
-- gone some other way, it is recorded here.
UPDATE event_meta SET trimmed = max(trimmed, (SELECT seq FROM sqlite_sequence WHERE name = 'events'))
WHERE id = 1
	AND (SELECT seq FROM sqlite_sequence WHERE name = 'events') IS NOT NULL
	AND NOT EXISTS (SELECT 1 FROM events WHERE seq >= (SELECT seq FROM sqlite_sequence WHERE name = 'events'));
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
