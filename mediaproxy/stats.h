/*
 * stats.h - receive statistics of an RTP stream and per-leg counters
 *
 * Pure functions on counters, no I/O, shared by the relay and the media
 * engine: sequence tracking with loss counting (RFC 3550 A.1/A.3, including
 * 16-bit wraparound and source restarts), the interarrival jitter estimate
 * (RFC 3550 A.8), what a receiver report block says about the stream
 * (fraction and cumulative loss, LSR/DLSR; RFC 3550 §6.4.1, A.3) and a
 * simplified E-model (ITU-T G.107) MOS estimate.  Packet formats are in
 * rtp.h.
 *
 * Threading: any (no globals); each struct belongs to one leg.
 * Bus:       the leg stats of media.delete / media.query (docs/bus.md).
 */
#ifndef MP_STATS_H
#define MP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

unsigned mp_mos_x10(uint64_t received, uint64_t lost, uint32_t jitter_ms,
		    uint32_t rtt_ms);

/* receive side of one stream: sequence, loss and jitter state, and what
 * a receiver report about it needs (all zero = nothing received yet) */
struct mp_rx_stats {
	uint32_t ssrc;
	uint16_t max_seq;
	bool started;
	bool jit_started;
	uint32_t cycles; /* wraps counted, shifted by 16 */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t received;    /* packets counted since the (re)start */
	uint64_t lost_before; /* loss of earlier sources / restarts */
	uint32_t transit;     /* last arrival - timestamp, RTP units */
	uint32_t jitter;      /* RFC 3550 estimate scaled by 16 */

	/* receiver reports (the engine's RTCP); reset with the source */
	uint32_t expected_prior; /* at the last report (RFC 3550 A.3) */
	uint32_t received_prior;
	uint32_t lsr;	    /* middle 32 bits of the last SR's NTP, 0 = none */
	uint32_t lsr_at_ms; /* when that SR arrived, ms modulo 2^32 */
};

/* one report block about a stream (RFC 3550 §6.4.1) */
struct mp_rx_report {
	uint32_t ssrc;
	uint8_t fraction;     /* lost since the last report, 1/256 */
	uint32_t lost;	      /* cumulative, this source, <= 0x7fffff */
	uint32_t ext_max_seq; /* cycles + highest sequence number */
	uint32_t jitter;      /* RTP units */
	uint32_t lsr;
	uint32_t dlsr; /* 1/65536 s since the LSR arrived, 0 = none */
};

void mp_rxs_seq(struct mp_rx_stats *rs, uint32_t ssrc, uint16_t seq);
void mp_rxs_jitter(struct mp_rx_stats *rs, uint32_t rtp_ts, uint32_t arrival);
uint64_t mp_rxs_lost(const struct mp_rx_stats *rs);
uint32_t mp_rxs_jitter_ms(const struct mp_rx_stats *rs, uint32_t rate);
void mp_rxs_sr(struct mp_rx_stats *rs, uint32_t ntp_mid, int64_t now_ms);
bool mp_rxs_report(struct mp_rx_report *rb, struct mp_rx_stats *rs,
		   int64_t now_ms);
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

/* RTP counters of a set of sessions, both legs summed (/metrics) */
struct mp_media_totals {
	uint64_t rx_packets, tx_packets; /* RTP from / to the peers */
	uint64_t rx_bytes, tx_bytes;
	uint64_t lost;	  /* RFC 3550 cumulative loss of the received */
	uint64_t dropped; /* malformed or from an unlatched source */
};

#endif /* MP_STATS_H */
