-- 0007_alarms.sql - alarms that are raised, cleared and acknowledged
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
