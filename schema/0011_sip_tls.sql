-- 0011_sip_tls.sql - routing gateways reached over SIP over TLS
-- transport 'tls': signalingd sends to the gateway with ;transport=tls and
-- puts its own sips Contact (sip_tls_listen) in what it sends there.

ALTER TABLE routing_gateways
	DROP CONSTRAINT routing_gateways_transport_check,
	ADD CONSTRAINT routing_gateways_transport_check
		CHECK (transport IN ('udp', 'tcp', 'tls'));
