-- 0004_config_notify.sql - tell billingd what changed (issue 7, item 8)
-- billingd serves accounts, rate tables, package period rates, calendars
-- and routing gateways' vendors from memory (docs/billingd.md, "What
-- billingd keeps in memory") and LISTENs on channel tandem_changes.  Every
-- committed change to those tables sends a NOTIFY naming what to re-read:
--   accounts:<id>      one account row
--   rate_table:<id>    one rate table's entries (and name)
--   calendars          calendars, holidays, package period rates
--   routing_gateways   the gateway -> vendor account map
--   routing            the other tables signalingd loads (mapping gateways,
--                      prefixes, groups, phones, system parameters)
-- signalingd reloads its routing tables on any of them; billingd re-reads
-- what it keeps.
-- Identical notifications in one transaction are delivered once, so a
-- bulk import of a rate table costs one re-read.  billingd's own CDR
-- debits (application_name 'billingd', only the balance changing) are
-- not sent: billingd already counts them.

CREATE FUNCTION tandem_notify_config() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	IF TG_LEVEL = 'STATEMENT' THEN
		PERFORM pg_notify('tandem_changes',
				  CASE TG_TABLE_NAME
				  WHEN 'routing_gateways' THEN 'routing_gateways'
				  WHEN 'work_calendars' THEN 'calendars'
				  WHEN 'holidays' THEN 'calendars'
				  WHEN 'package_period_rates' THEN 'calendars'
				  ELSE 'routing' END);
		RETURN NULL;
	END IF;
	IF TG_OP = 'DELETE' THEN
		r := OLD;
	ELSE
		r := NEW;
	END IF;
	IF TG_TABLE_NAME = 'accounts' THEN
		IF TG_OP = 'UPDATE'
		   AND current_setting('application_name') = 'billingd'
		   AND (to_jsonb(NEW) - 'balance') = (to_jsonb(OLD) - 'balance')
		THEN
			RETURN NULL;
		END IF;
		PERFORM pg_notify('tandem_changes', 'accounts:' || r.id);
	ELSIF TG_TABLE_NAME = 'rate_entries' THEN
		PERFORM pg_notify('tandem_changes',
				  'rate_table:' || r.rate_table_id);
		IF TG_OP = 'UPDATE' AND OLD.rate_table_id <> NEW.rate_table_id
		THEN
			PERFORM pg_notify('tandem_changes',
					  'rate_table:' || OLD.rate_table_id);
		END IF;
	ELSE -- rate_tables
		PERFORM pg_notify('tandem_changes', 'rate_table:' || r.id);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE ON accounts
	FOR EACH ROW EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER rate_tables_notify AFTER INSERT OR UPDATE OR DELETE
	ON rate_tables FOR EACH ROW EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER rate_entries_notify AFTER INSERT OR UPDATE OR DELETE
	ON rate_entries FOR EACH ROW EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER work_calendars_notify AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON work_calendars
	FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER holidays_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON holidays FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER package_period_rates_notify AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON package_period_rates
	FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER routing_gateways_notify AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON routing_gateways
	FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER mapping_gateways_notify AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON mapping_gateways
	FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER routing_gateway_prefixes_notify AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON routing_gateway_prefixes
	FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER gateway_groups_notify AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON gateway_groups
	FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER phones_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON phones FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
CREATE TRIGGER system_parameters_notify AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON system_parameters
	FOR EACH STATEMENT EXECUTE FUNCTION tandem_notify_config();
