-- Whether throttling is on and the limits that differ from the quota table
-- (fault.ThrottleSettings); NULL until a server configured with throttling,
-- or PUT /_localcases/throttle, sets them.
ALTER TABLE fault_state ADD COLUMN throttle jsonb;
