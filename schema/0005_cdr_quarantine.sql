-- 0005_cdr_quarantine.sql - CDRs billingd refused as implausible
-- A well-formed cdr.submit whose times no real call can have (hold beyond
-- SS_MAXCALLDURATION + 60 s, setup far from now, times out of order) is
-- kept here, acknowledged to signalingd (so its spool lets it go) and
-- never rated or debited: an operator decides (docs/billingd.md,
-- "cdr.submit").  One row per CDR id; a resend changes nothing.

CREATE TABLE cdr_quarantine (
	id          uuid PRIMARY KEY,
	received_at timestamptz NOT NULL DEFAULT now(),
	reason      text NOT NULL,
	cdr         jsonb NOT NULL
);
