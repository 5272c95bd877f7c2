-- The transactional outbox: events written in the transaction of the change
-- that causes them. AUTOINCREMENT so a sequence number is never reused after
-- a trim; the one writer makes sequence order commit order.
CREATE TABLE events (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	domain TEXT NOT NULL,
	at     INTEGER NOT NULL, -- Unix milliseconds
	data   TEXT NOT NULL
) STRICT;

-- Poll by domain.
CREATE INDEX events_domain ON events (domain, seq);

-- The highest sequence number trimmed, so the last one handed out is known
-- even when every event has gone.
CREATE TABLE event_meta (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	trimmed INTEGER NOT NULL
) STRICT;
INSERT INTO event_meta (id, trimmed) VALUES (1, 0);
