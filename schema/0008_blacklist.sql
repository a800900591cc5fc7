-- 0008_blacklist.sql - the dynamic blacklist of the SIP edge (issue 9)
-- signalingd puts a source that fails too often (SS_EDGE_FAIL_LIMIT within
-- SS_EDGE_FAIL_WINDOW s) on the blacklist for SS_BLACKLIST_TIME s: a row
-- with origin 'auto'.  `tandemctl blacklist add` writes origin 'manual'
-- rows (expires_at NULL: until deleted).  Every signalingd drops the
-- active entries' requests silently and re-reads the table when it
-- changes (NOTIFY tandem_changes 'blacklist'); billingd raises the
-- sip_blacklist alarm while automatic entries are active.

ALTER TABLE blacklist
	ADD COLUMN origin text NOT NULL DEFAULT 'manual'
		CHECK (origin IN ('manual', 'auto'));
CREATE INDEX blacklist_expires ON blacklist (expires_at);

-- one notification per transaction (identical ones are merged), only when
-- a row changed: signalingd's sweep of old expired rows deletes none most
-- of the time
CREATE FUNCTION tandem_notify_blacklist() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('tandem_changes', 'blacklist');
	RETURN NULL;
END $$;

CREATE TRIGGER blacklist_notify AFTER INSERT OR UPDATE OR DELETE ON blacklist
	FOR EACH ROW EXECUTE FUNCTION tandem_notify_blacklist();
CREATE TRIGGER blacklist_notify_truncate AFTER TRUNCATE ON blacklist
	FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_blacklist();
