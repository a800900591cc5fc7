/*
 * rtcp.h - RTCP of a decoded session: receive statistics, SR/RR building,
 *          and round-trip time from the peer's reports
 *
 * On the decoded path the engine is the RTP source toward each leg (own
 * SSRC, sequence, timestamps), so the peers' RTCP cannot be relayed: it
 * would describe streams the other side never saw.  The engine terminates
 * RTCP instead: it keeps RFC 3550 receive statistics per leg, sends each
 * leg a compound SR + RR + SDES(CNAME) every 5 s, and reads the leg's
 * SR/RR to learn the round-trip time.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_XC_RTCP_INTERVAL_MS 5000

/* RFC 3550 A.1/A.3/A.8 receive statistics of one incoming stream */
struct mp_xc_rxstat {
	bool init;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles;
	uint32_t base_seq;
	uint32_t received;
	uint32_t expected_prior;
	uint32_t received_prior;
	int64_t transit;	/* ts units */
	double jitter;		/* ts units */
	uint32_t rate;
	uint32_t lsr;		/* middle 32 bits of the last SR's NTP */
	int64_t lsr_at_ms;	/* when that SR arrived */
};

void     mp_xc_rxstat_init(struct mp_xc_rxstat *rs, uint32_t rate);
void     mp_xc_rxstat_update(struct mp_xc_rxstat *rs, uint32_t ssrc,
			     uint16_t seq, uint32_t ts, int64_t now_ms);
uint32_t mp_xc_rxstat_lost(const struct mp_xc_rxstat *rs);
uint32_t mp_xc_rxstat_jitter_ms(const struct mp_xc_rxstat *rs);

/* what we sent to a leg, for the SR sender info */
struct mp_xc_txstat {
	uint32_t ssrc;
	uint32_t packets;
	uint32_t octets;	/* payload octets */
	uint32_t last_ts;	/* RTP timestamp matching the SR's NTP */
};

uint64_t mp_xc_ntp_from_ms(int64_t ms);
int mp_xc_rtcp_build(uint8_t *buf, size_t size, size_t *lenp,
		     const struct mp_xc_txstat *tx, struct mp_xc_rxstat *rx,
		     int64_t now_ms, const char *cname);
int mp_xc_rtcp_parse(const uint8_t *buf, size_t len, uint32_t our_ssrc,
		     struct mp_xc_rxstat *rx, int64_t now_ms,
		     int32_t *rtt_msp);

#endif /* MP_XC_RTCP_H */
