/*
 * rtcp.c - RFC 3550 receive statistics, SR/RR/SDES building and parsing
 */
#include <errno.h>
#include <string.h>
#include "mediaproxy/xcode/rtp.h"
#include "mediaproxy/xcode/rtcp.h"

#define RTP_SEQ_MOD      (1u << 16)
#define MAX_DROPOUT      3000
#define MAX_MISORDER     100
#define NTP_UNIX_OFFSET  2208988800ull

/** Reset statistics for a stream with RTP clock @rate. */
void mp_xc_rxstat_init(struct mp_xc_rxstat *rs, uint32_t rate)
{
	if (!rs)
		return;
	memset(rs, 0, sizeof(*rs));
	rs->rate = rate ? rate : 8000;
}

static void rxstat_start(struct mp_xc_rxstat *rs, uint32_t ssrc, uint16_t seq)
{
	uint32_t rate = rs->rate;

	memset(rs, 0, sizeof(*rs));
	rs->rate = rate;
	rs->init = true;
	rs->ssrc = ssrc;
	rs->base_seq = seq;
	rs->max_seq = seq;
}

/**
 * Account one received packet (RFC 3550 A.1 sequence tracking, A.8
 * interarrival jitter).  A new SSRC restarts the statistics.
 */
void mp_xc_rxstat_update(struct mp_xc_rxstat *rs, uint32_t ssrc,
			 uint16_t seq, uint32_t ts, int64_t now_ms)
{
	uint16_t udelta;
	int64_t arrival, transit, d;

	if (!rs)
		return;
	if (!rs->init || rs->ssrc != ssrc)
		rxstat_start(rs, ssrc, seq);
	else {
		udelta = (uint16_t)(seq - rs->max_seq);
		if (udelta < MAX_DROPOUT) {
			if (seq < rs->max_seq)
				rs->cycles += RTP_SEQ_MOD;
			rs->max_seq = seq;
		}
		else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
			rxstat_start(rs, ssrc, seq);	/* sender restarted */
		}
		/* else: duplicate or reordered, counted below */
	}
	rs->received++;

	arrival = now_ms * (int64_t)rs->rate / 1000;
	transit = arrival - (int64_t)ts;
	if (rs->received > 1) {
		d = transit - rs->transit;
		if (d < 0)
			d = -d;
		rs->jitter += ((double)d - rs->jitter) / 16.0;
	}
	rs->transit = transit;
}

static uint32_t rxstat_expected(const struct mp_xc_rxstat *rs)
{
	return rs->cycles + rs->max_seq - rs->base_seq + 1;
}

/** Packets lost so far (expected minus received, never negative). */
uint32_t mp_xc_rxstat_lost(const struct mp_xc_rxstat *rs)
{
	uint32_t exp;

	if (!rs || !rs->init)
		return 0;
	exp = rxstat_expected(rs);
	return exp > rs->received ? exp - rs->received : 0;
}

/** Interarrival jitter, ms. */
uint32_t mp_xc_rxstat_jitter_ms(const struct mp_xc_rxstat *rs)
{
	if (!rs || !rs->init)
		return 0;
	return (uint32_t)(rs->jitter * 1000.0 / rs->rate + 0.5);
}

/** 64-bit NTP timestamp of a monotonic time in ms (see rtcp.h). */
uint64_t mp_xc_ntp_from_ms(int64_t ms)
{
	uint64_t sec = (uint64_t)(ms / 1000) + NTP_UNIX_OFFSET;
	uint64_t frac = ((uint64_t)(ms % 1000) << 32) / 1000;

	return sec << 32 | frac;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/**
 * Build a compound SR (+ one report block about @rx when it has data) +
 * SDES CNAME.  The reception counters of @rx move to "prior" (RFC 3550
 * A.3 fraction lost per interval).
 */
int mp_xc_rtcp_build(uint8_t *buf, size_t size, size_t *lenp,
		     const struct mp_xc_txstat *tx, struct mp_xc_rxstat *rx,
		     int64_t now_ms, const char *cname)
{
	uint64_t ntp = mp_xc_ntp_from_ms(now_ms);
	size_t clen = cname ? strlen(cname) : 0, sdes, len;
	bool rb = rx && rx->init;
	size_t srlen = 28 + (rb ? 24 : 0);

	if (!buf || !lenp || !tx || clen > 255)
		return EINVAL;
	/* SDES: header, SSRC, item (type, length, text), end, pad to 4 */
	sdes = (8 + 2 + clen + 1 + 3) & ~(size_t)3;
	len = srlen + sdes;
	if (len > size)
		return EMSGSIZE;

	memset(buf, 0, len);
	buf[0] = (uint8_t)(0x80 | (rb ? 1 : 0));
	buf[1] = 200;				/* SR */
	buf[2] = 0;
	buf[3] = (uint8_t)(srlen / 4 - 1);
	put32(buf + 4, tx->ssrc);
	put32(buf + 8, (uint32_t)(ntp >> 32));
	put32(buf + 12, (uint32_t)ntp);
	put32(buf + 16, tx->last_ts);
	put32(buf + 20, tx->packets);
	put32(buf + 24, tx->octets);

	if (rb) {
		uint8_t *b = buf + 28;
		uint32_t expected = rxstat_expected(rx);
		uint32_t exp_int = expected - rx->expected_prior;
		uint32_t rec_int = rx->received - rx->received_prior;
		int32_t lost_int = (int32_t)(exp_int - rec_int);
		uint32_t fraction = 0, lost = mp_xc_rxstat_lost(rx);
		uint32_t dlsr = 0;

		rx->expected_prior = expected;
		rx->received_prior = rx->received;
		if (exp_int && lost_int > 0)
			fraction = ((uint32_t)lost_int << 8) / exp_int;
		if (lost > 0x7fffff)
			lost = 0x7fffff;
		if (rx->lsr)
			dlsr = (uint32_t)((uint64_t)(now_ms - rx->lsr_at_ms) *
					  65536 / 1000);

		put32(b, rx->ssrc);
		put32(b + 4, (fraction > 255 ? 255 : fraction) << 24 | lost);
		put32(b + 8, rx->cycles + rx->max_seq);
		put32(b + 12, (uint32_t)rx->jitter);
		put32(b + 16, rx->lsr);
		put32(b + 20, rx->lsr ? dlsr : 0);
	}

	buf[srlen] = 0x81;			/* SDES, one chunk */
	buf[srlen + 1] = 202;
	buf[srlen + 2] = 0;
	buf[srlen + 3] = (uint8_t)(sdes / 4 - 1);
	put32(buf + srlen + 4, tx->ssrc);
	buf[srlen + 8] = 1;			/* CNAME */
	buf[srlen + 9] = (uint8_t)clen;
	if (clen)
		memcpy(buf + srlen + 10, cname, clen);
	/* the end item and padding are the zeroes already there */

	*lenp = len;
	return 0;
}

/**
 * Read a peer's compound RTCP: an SR's NTP time is kept for our next
 * report (LSR/DLSR); a report block about @our_ssrc gives the round-trip
 * time (*rtt_msp, -1 when none).  EBADMSG for malformed packets.
 */
int mp_xc_rtcp_parse(const uint8_t *buf, size_t len, uint32_t our_ssrc,
		     struct mp_xc_rxstat *rx, int64_t now_ms,
		     int32_t *rtt_msp)
{
	size_t off = 0;

	if (!buf || !rtt_msp)
		return EINVAL;
	*rtt_msp = -1;
	if (!mp_xc_rtcp_check(buf, len))
		return EBADMSG;

	while (off < len) {
		const uint8_t *p = buf + off;
		size_t plen = 4 * (((size_t)p[2] << 8 | p[3]) + 1);
		unsigned rc = p[0] & 0x1f;
		size_t rbs = 0;

		if (p[1] == 200 && plen >= 28) {		/* SR */
			if (rx) {
				rx->lsr = get32(p + 10);
				rx->lsr_at_ms = now_ms;
			}
			rbs = 28;
		}
		else if (p[1] == 201 && plen >= 8) {		/* RR */
			rbs = 8;
		}

		for (unsigned i = 0; rbs && i < rc && rbs + 24 * (i + 1) <= plen;
		     i++) {
			const uint8_t *b = p + rbs + 24 * i;
			uint32_t lsr = get32(b + 16), dlsr = get32(b + 20);
			uint32_t a = (uint32_t)(mp_xc_ntp_from_ms(now_ms) >> 16);
			int64_t rtt;

			if (get32(b) != our_ssrc || !lsr)
				continue;
			rtt = (int64_t)(uint32_t)(a - lsr - dlsr);
			if (rtt >= 0 && rtt < 65536 * 10)	/* < 10 s */
				*rtt_msp = (int32_t)(rtt * 1000 / 65536);
		}
		off += plen;
	}

	return 0;
}
