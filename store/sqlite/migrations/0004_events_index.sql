-- The outbox's one index beside its primary key is dropped: every case
-- change of a publishing domain paid for an entry in it, in the one writer,
-- while only the admin API's listing by domain read it. That listing now
-- walks the outbox in sequence order from its position and keeps the
-- domain's rows, which costs at most the events after the position.
DROP INDEX events_domain;
