/*
 * rtcp.h - RTCP of a decoded session: SR/RR building, and round-trip time
 *          from the peer's reports
 *
 * On the decoded path the engine is the RTP source toward each leg (own
 * SSRC, sequence, timestamps), so the peers' RTCP cannot be relayed: it
 * would describe streams the other side never saw.  The engine terminates
 * RTCP instead: it keeps RFC 3550 receive statistics per leg (struct
 * mp_rx_stats, mediaproxy/stats.h), sends each leg a compound SR + RR +
 * SDES(CNAME) every 5 s, and reads the leg's SR/RR to learn the round-trip
 * time.  Packet checks are mediaproxy/rtp.h's.
 *
 * NTP timestamps are taken from the monotonic clock (ms since an arbitrary
 * origin): peers only echo them back (LSR), which is all round-trip time
 * needs; they are not wall-clock times.
 *
 * Ownership: plain structs embedded in the engine leg.
 * Threading: any single thread per instance.
 * Bus:       rtt_ms, lost and jitter reach leg stats (docs/bus.md).
 */
#ifndef MP_XC_RTCP_H
#define MP_XC_RTCP_H

#include <stddef.h>
#include <stdint.h>

#define MP_XC_RTCP_INTERVAL_MS 5000

struct mp_rx_stats;

/* what we sent to a leg, for the SR sender info */
struct mp_xc_txstat {
	uint32_t ssrc;
	uint32_t packets;
	uint32_t octets;  /* payload octets */
	uint32_t last_ts; /* RTP timestamp matching the SR's NTP */
};

uint64_t mp_xc_ntp_from_ms(int64_t ms);
int mp_xc_rtcp_build(uint8_t *buf, size_t size, size_t *lenp,
		     const struct mp_xc_txstat *tx, struct mp_rx_stats *rx,
		     int64_t now_ms, const char *cname);
int mp_xc_rtcp_parse(const uint8_t *buf, size_t len, uint32_t our_ssrc,
		     struct mp_rx_stats *rx, int64_t now_ms, int32_t *rtt_msp);

#endif /* MP_XC_RTCP_H */
