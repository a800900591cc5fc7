-- 0007_alarms.sql - alarms that are raised, cleared and acknowledged;
-- money_text() for the API
-- billingd raises an alarm (kind + subject) when a condition starts and
-- clears it when it ends (docs/billingd.md, "Alarms"); an operator
-- acknowledges it through the API.  At most one active alarm per kind and
-- subject, whatever number of billingd processes evaluate them.

ALTER TABLE alarms
	ADD COLUMN acked_at timestamptz,
	ADD COLUMN acked_by text;
CREATE UNIQUE INDEX alarms_active ON alarms (kind, subject)
	WHERE cleared_at IS NULL;
CREATE INDEX alarms_raised ON alarms (raised_at DESC);

-- money as the API shows it: micro-units as a decimal string without
-- trailing zeros (12500000 -> '12.5')
CREATE FUNCTION money_text(micro numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS
$$ SELECT trim_scale(micro / 1000000)::text $$;
