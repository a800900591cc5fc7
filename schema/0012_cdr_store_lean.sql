-- 0012_cdr_store_lean.sql - a CDR is one row
-- Each stored CDR used to write three rows besides its debit: cdr_ids (to
-- find a resend), cdr and one cdr_attempts row per gateway tried.
--
-- Attempts (one per routing gateway tried, SPEC §3.3) are now the CDR's
-- `attempts` column, a JSON array of {seq, gateway, code, start_ms,
-- end_ms} in seq order; `cdr_attempts` stays as a view with the old
-- columns (plus setup_time, so a query by time skips old partitions).
--
-- A resend is found by cdr's own primary key (id, setup_time): signalingd
-- resends a CDR exactly as it spooled it, so its setup time, and with it
-- its monthly partition, is the same.  cdr_ids goes.

ALTER TABLE cdr ADD COLUMN attempts jsonb NOT NULL DEFAULT '[]';

UPDATE cdr c SET attempts = a.j
FROM (SELECT cdr_id, jsonb_agg(jsonb_build_object('seq', seq,
		'gateway', gateway, 'code', code, 'start_ms', start_ms,
		'end_ms', end_ms) ORDER BY seq) AS j
	FROM cdr_attempts GROUP BY cdr_id) a
WHERE c.id = a.cdr_id;

DROP TABLE cdr_attempts;
DROP TABLE cdr_ids;

CREATE VIEW cdr_attempts AS
SELECT c.id AS cdr_id, c.setup_time, a.seq, a.gateway, a.code, a.start_ms,
	a.end_ms
FROM cdr c, jsonb_to_recordset(c.attempts) AS a(seq integer,
	gateway text, code integer, start_ms bigint, end_ms bigint);
