-- The transactional outbox: events written in the transaction of the change
-- that causes them. Writers hold the store's advisory lock from before they
-- take a sequence number until they commit, so sequence order is commit
-- order across processes, and a reader that has seen seq n has seen every
-- committed event before it.
CREATE TABLE events (
	seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	domain text COLLATE "C" NOT NULL,
	at     bigint NOT NULL, -- Unix milliseconds
	data   text NOT NULL
);

-- Poll by domain.
CREATE INDEX events_domain ON events (domain, seq);

-- The highest sequence number trimmed, so the last one handed out is known
-- even when every event has gone.
CREATE TABLE event_meta (
	id      int PRIMARY KEY CHECK (id = 1),
	trimmed bigint NOT NULL
);
INSERT INTO event_meta (id, trimmed) VALUES (1, 0);
