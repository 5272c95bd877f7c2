-- Full-text indexes (localcases.TextIndexTx): one document per (name,
-- owner), found by substring with LIKE, which a trigram GIN index
-- (pg_trgm) answers: the trigrams of the pattern pick the candidate rows,
-- and LIKE rechecks each, bytewise under COLLATE "C". The caller folds
-- case itself, so PostgreSQL's folding, which depends on the locale, never
-- decides a match.
--
-- pg_trgm is a trusted extension (PostgreSQL 13+): any role that may
-- create in a schema may install it. It goes into public, not into this
-- store's schema, so that dropping one store's schema cannot take the
-- other stores' indexes with it; where public is closed to this role, it
-- goes into this store's schema. Another store may be installing it at
-- the same moment: then its install wins and this one uses it.
DO $$
BEGIN
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
	EXCEPTION WHEN insufficient_privilege OR invalid_schema_name THEN
		CREATE EXTENSION IF NOT EXISTS pg_trgm;
	END;
EXCEPTION WHEN unique_violation OR duplicate_object THEN
	NULL;
END $$;

CREATE TABLE text_docs (
	name  text COLLATE "C" NOT NULL,
	owner text COLLATE "C" NOT NULL,
	body  text COLLATE "C" NOT NULL,
	PRIMARY KEY (name, owner)
);

-- The operator class is named with the schema pg_trgm is in, which need
-- not be on this store's search_path.
DO $$
BEGIN
	EXECUTE format('CREATE INDEX text_docs_body ON text_docs USING gin (body %I.gin_trgm_ops)',
		(SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'));
END $$;
