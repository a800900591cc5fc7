/*
 * stats.h - RTP header checks and per-leg receive statistics
 *
 * Pure functions on packets and counters, no I/O: the minimal RTP/RTCP
 * header validation a relay needs (RFC 3550 §5.1, §6.4), sequence tracking
 * with loss counting (RFC 3550 A.1/A.3, including 16-bit wraparound and
 * source restarts), the interarrival jitter estimate (RFC 3550 A.8), the
 * SR/RR fields a relay needs for round-trip time (RFC 3550 §6.4.1) and a
 * simplified E-model (ITU-T G.107) MOS estimate.
 *
 * Threading: any (no globals); each struct belongs to one leg.
 * Bus:       the leg stats of media.delete / media.query (docs/bus.md).
 */
#ifndef MP_STATS_H
#define MP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_RTP_HDR_MIN 12

struct mp_rtp_hdr {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	size_t hdr_len;	    /* fixed header + CSRCs + extension */
	size_t payload_len; /* without padding */
};

int mp_rtp_parse(struct mp_rtp_hdr *hdr, const uint8_t *buf, size_t len);
bool mp_rtcp_valid(const uint8_t *buf, size_t len);
bool mp_pkt_is_rtcp(const uint8_t *buf, size_t len);

/* what a relay needs from a (compound) RTCP packet to measure RTT */
#define MP_RTCP_MAX_BLOCKS 8
struct mp_rtcp_info {
	bool has_sr;
	uint32_t sr_ntp_mid; /* middle 32 bits of the SR's NTP time */
	unsigned nblocks;
	struct {
		uint32_t lsr;  /* middle NTP bits of the last SR seen */
		uint32_t dlsr; /* delay since it, 1/65536 s */
	} block[MP_RTCP_MAX_BLOCKS];
};

int mp_rtcp_scan(struct mp_rtcp_info *info, const uint8_t *buf, size_t len);
unsigned mp_mos_x10(uint64_t received, uint64_t lost, uint32_t jitter_ms,
		    uint32_t rtt_ms);

/* receive side of one leg: sequence, loss and jitter state */
struct mp_rx_stats {
	bool started;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles; /* wraps counted, shifted by 16 */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint64_t received;    /* packets counted since the (re)start */
	uint64_t lost_before; /* loss of earlier sources / restarts */

	bool jit_started;
	uint32_t transit; /* last arrival - timestamp, RTP units */
	uint32_t jitter;  /* RFC 3550 estimate scaled by 16 */
};

void mp_rxs_seq(struct mp_rx_stats *rs, uint32_t ssrc, uint16_t seq);
void mp_rxs_jitter(struct mp_rx_stats *rs, uint32_t rtp_ts, uint32_t arrival);
uint64_t mp_rxs_lost(const struct mp_rx_stats *rs);
uint32_t mp_rxs_jitter_ms(const struct mp_rx_stats *rs, uint32_t rate);
uint32_t mp_rtp_units(int64_t mono_us, uint32_t rate);

/* counters of one leg as reported on the bus */
struct mp_leg_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rtcp_rx, rtcp_tx;
	uint64_t lost;
	uint32_t jitter_ms;
	uint32_t rtt_ms;  /* relay <-> peer, from RTCP; 0 = unknown */
	unsigned mos_x10; /* E-model estimate x10 (10..45), 0 = none */
	uint64_t dropped;
	uint64_t strangers; /* from a source not latched (in dropped) */
	char remote[64];    /* latched peer "ip:port", "" = none */
	/* media engine sessions only (0 on a plain relay) */
	uint64_t dtmf_rx;      /* digits received from the peer */
	uint64_t dtmf_dropped; /* digits dropped (method lock, none) */
	uint64_t concealed;    /* frames of the peer's stream concealed */
	uint32_t jb_delay_ms;  /* jitter buffer delay of this stream */
};

#endif /* MP_STATS_H */
