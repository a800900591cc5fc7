-- 0013_registrations.sql - where registered phones are, across restarts
--
-- signalingd writes a phone's binding when its REGISTER is accepted and
-- removes it when the phone unregisters (signaling/edgedb.c); at start it
-- reads back the ones it held (node = its node_id) that have not expired,
-- so a restart does not forget registered phones.  No trigger: a REGISTER
-- is not a configuration change.  Rows whose time ran out are swept by
-- the same writer.

CREATE TABLE registrations (
	number     text PRIMARY KEY
	           REFERENCES phones (number) ON DELETE CASCADE ON UPDATE CASCADE,
	contact    text NOT NULL,          -- the phone's Contact URI
	source     text NOT NULL,          -- address the REGISTER came from
	node       text NOT NULL,          -- node_id of the signalingd
	expires_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registrations_node ON registrations (node, expires_at);
