-- The fault state every server on this schema injects from: one row, whose
-- version goes up with each change, so a server that polls knows it is
-- behind by comparing one number.
CREATE TABLE fault_state (
	singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	version    bigint NOT NULL,
	state      jsonb NOT NULL, -- fault.State
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- The firings of count-limited rules, counted across servers: a rule
-- instance (its random stream and the Unix nanoseconds it was added, or its
-- scenario phase began) fires while fired < its count.
CREATE TABLE fault_claims (
	stream text NOT NULL,
	added  bigint NOT NULL,
	fired  integer NOT NULL,
	PRIMARY KEY (stream, added)
);
