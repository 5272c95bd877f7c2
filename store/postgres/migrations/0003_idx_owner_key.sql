-- ScanIndexAlso probes the other index by owner and key range; with the
-- key in the owner index the probe is an index-only scan instead of a
-- visit to each of the owner's table rows. SetIndex's lookups by owner
-- use the new index as they used the old one.
CREATE INDEX idx_owner_key ON idx (name, owner, key);
DROP INDEX idx_owner;
