-- 0009_media_guard.sql - media that cannot be stolen, and fair shares
-- (issue 9, items 5 and 6; docs/decisions.md "Strict RTP latching" and
-- "Fair shares by default")
--
-- media_handover: a media node takes RTP for a leg only from the leg's SDP or
-- signalling address (mediaproxyd rtp_latch_prefix); once latched it moves
-- to another source of those only when this is true and the latched one
-- has been silent (NAT'd customers whose port mapping changes).
ALTER TABLE mapping_gateways
	ADD COLUMN media_handover boolean NOT NULL DEFAULT false;
ALTER TABLE routing_gateways
	ADD COLUMN media_handover boolean NOT NULL DEFAULT false;

-- new customers get a CPS and a concurrency cap unless the operator gives
-- one (0 still means unlimited); existing gateways keep what they have
ALTER TABLE mapping_gateways
	ALTER COLUMN cps_limit SET DEFAULT 50,
	ALTER COLUMN max_concurrent_calls SET DEFAULT 500;
