-- SetIndex finds an owner's entries by owner; with the key in the owner
-- index, reading them (and probing an owner's key) needs the index alone,
-- not a visit to each of the owner's table rows.
CREATE INDEX idx_owner_key ON idx (name, owner, key);
DROP INDEX idx_owner;
