-- 0010_sip_ha1.sql - SIP digest secrets stored as HA1, never in clear
-- Phones and password-mode mapping gateways authenticate with RFC 2617
-- digest; signalingd needs only HA1 = md5(user:realm:password) to verify a
-- credential, so that is all the database keeps.  The realm is fixed
-- ('tandem', SW_DIGEST_REALM in common/md5.h); the digest user is the
-- phone's number or the gateway's username.  Outbound REGISTER passwords
-- to vendors (routing_gateways.register_password) must stay reversible and
-- are left as they are.

ALTER TABLE phones ADD COLUMN ha1 text;
UPDATE phones SET ha1 = md5(number || ':tandem:' || password);
ALTER TABLE phones
	ALTER COLUMN ha1 SET NOT NULL,
	ADD CONSTRAINT phones_ha1_hex CHECK (ha1 ~ '^[0-9a-f]{32}$'),
	DROP COLUMN password;

ALTER TABLE mapping_gateways ADD COLUMN ha1 text;
UPDATE mapping_gateways SET ha1 = md5(username || ':tandem:' || password)
	WHERE username IS NOT NULL AND password IS NOT NULL;
ALTER TABLE mapping_gateways
	ADD CONSTRAINT mapping_gateways_ha1_hex
		CHECK (ha1 ~ '^[0-9a-f]{32}$'),
	DROP COLUMN password;
