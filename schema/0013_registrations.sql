-- 0013_registrations.sql - where registered phones are, across restarts
--
-- Phones and password-mode mapping gateways REGISTER with digest;
-- signalingd writes the binding when a REGISTER is accepted and
-- removes it when the phone unregisters (signaling/edgedb.c); at start it
-- reads back the ones it held (node = its node_id) that have not expired,
-- so a restart does not forget registered phones.  No trigger: a REGISTER
-- is not a configuration change.  Rows whose time ran out are swept by
-- the same writer.

CREATE TABLE registrations (
	-- a phone's number or a password gateway's username (no foreign
	-- key: either table; a row of one deleted expires like any other)
	number     text PRIMARY KEY,
	contact    text NOT NULL,          -- the phone's Contact URI
	source     text NOT NULL,          -- address the REGISTER came from
	node       text NOT NULL,          -- node_id of the signalingd
	expires_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registrations_node ON registrations (node, expires_at);
