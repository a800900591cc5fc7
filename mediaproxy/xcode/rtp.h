/*
 * rtp.h - RTP/RTCP header parsing and writing for the media engine
 *
 * Owns nothing: pure functions over caller buffers.  The engine parses every
 * packet it is handed with mp_xc_rtp_decode() before touching it, so a
 * truncated, oversized or malformed packet is refused here and counted by
 * the caller.  Named mp_xc_ so it never collides with the relay's helpers.
 *
 * Threading: any thread (no state).
 * Bus:       none.
 */
#ifndef MP_XC_RTP_H
#define MP_XC_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_XC_RTP_HDR_LEN  12
#define MP_XC_RTP_MAX_LEN  1500	/* larger datagrams are refused */

struct mp_xc_rtp {
	bool     marker;
	uint8_t  pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *payload;	/* borrowed: points into the packet */
	size_t   plen;
};

int  mp_xc_rtp_decode(struct mp_xc_rtp *rtp, const uint8_t *buf, size_t len);
int  mp_xc_rtp_encode(uint8_t *buf, size_t size, size_t *lenp,
		      const struct mp_xc_rtp *rtp);
bool mp_xc_rtcp_check(const uint8_t *buf, size_t len);
bool mp_xc_is_rtcp(const uint8_t *buf, size_t len);

/* serial-number arithmetic (RFC 1982) for 16/32-bit counters */
static inline int16_t mp_xc_seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

static inline int32_t mp_xc_ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

#endif /* MP_XC_RTP_H */
