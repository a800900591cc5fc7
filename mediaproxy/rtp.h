/*
 * rtp.h - RTP and RTCP packet formats: checks, parsing and writing
 *
 * Pure functions over caller buffers, shared by the relay and the media
 * engine: the RTP header check and parser (RFC 3550 §5.1), the RTP writer
 * the engine sends with, the RTP/RTCP demultiplexing test (RFC 5761 §4),
 * the RTCP compound check (RFC 3550 §6.1, A.2) and the SR/RR fields that
 * round-trip time needs (RFC 3550 §6.4).  Every packet is checked here
 * before anything reads it; payloads are never looked at.
 *
 * Threading: any (no state).
 * Bus:       none.
 */
#ifndef MP_RTP_H
#define MP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_RTP_HDR_MIN 12
#define MP_RTP_MAX_LEN 1500 /* the largest packet the engine takes or sends */

struct mp_rtp_hdr {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	size_t hdr_len;		/* fixed header + CSRCs + extension */
	const uint8_t *payload; /* borrowed: points into the packet */
	size_t payload_len;	/* without padding */
};

int mp_rtp_parse(struct mp_rtp_hdr *hdr, const uint8_t *buf, size_t len);
int mp_rtp_encode(uint8_t *buf, size_t size, size_t *lenp,
		  const struct mp_rtp_hdr *hdr);
bool mp_pkt_is_rtcp(const uint8_t *buf, size_t len);
bool mp_rtcp_valid(const uint8_t *buf, size_t len);

/* what a (compound) RTCP packet says for round-trip time */
#define MP_RTCP_MAX_BLOCKS 8
struct mp_rtcp_info {
	bool has_sr;
	uint32_t sr_ntp_mid; /* middle 32 bits of the SR's NTP time */
	unsigned nblocks;
	struct {
		uint32_t ssrc; /* the source the block reports on */
		uint32_t lsr;  /* middle NTP bits of the last SR seen */
		uint32_t dlsr; /* delay since it, 1/65536 s */
	} block[MP_RTCP_MAX_BLOCKS];
};

int mp_rtcp_scan(struct mp_rtcp_info *info, const uint8_t *buf, size_t len);

/* serial-number arithmetic (RFC 1982) for RTP timestamps */
static inline int32_t mp_rtp_ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

#endif /* MP_RTP_H */
