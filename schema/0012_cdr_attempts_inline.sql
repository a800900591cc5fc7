-- 0012_cdr_attempts_inline.sql - a CDR's attempts in its own row
-- The attempts (one per routing gateway tried, SPEC §3.3) were rows of their
-- own table, one more insert and foreign-key check per CDR on the hot path.
-- They are now the CDR's `attempts` column, a JSON array of
-- {seq, gateway, code, start_ms, end_ms} in seq order; `cdr_attempts`
-- stays as a view with the old columns (plus setup_time, which lets a query
-- by time skip old partitions) for reports and ad-hoc SQL.

ALTER TABLE cdr ADD COLUMN attempts jsonb NOT NULL DEFAULT '[]';

UPDATE cdr c SET attempts = a.j
FROM (SELECT cdr_id, jsonb_agg(jsonb_build_object('seq', seq,
		'gateway', gateway, 'code', code, 'start_ms', start_ms,
		'end_ms', end_ms) ORDER BY seq) AS j
	FROM cdr_attempts GROUP BY cdr_id) a
WHERE c.id = a.cdr_id;

DROP TABLE cdr_attempts;

CREATE VIEW cdr_attempts AS
SELECT c.id AS cdr_id, c.setup_time, a.seq, a.gateway, a.code, a.start_ms,
	a.end_ms
FROM cdr c, jsonb_to_recordset(c.attempts) AS a(seq integer,
	gateway text, code integer, start_ms bigint, end_ms bigint);
