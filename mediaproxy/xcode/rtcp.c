/*
 * rtcp.c - the engine's SR/RR/SDES reports and the peers' reports read
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "mediaproxy/rtp.h"
#include "mediaproxy/stats.h"
#include "mediaproxy/xcode/rtcp.h"

#define NTP_UNIX_OFFSET 2208988800ull

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

/**
 * Build a compound SR (+ one report block about @rx when it has data) +
 * SDES CNAME.  The reception counters of @rx move to "prior" (RFC 3550
 * A.3 fraction lost per interval, mp_rxs_report()).
 */
int mp_xc_rtcp_build(uint8_t *buf, size_t size, size_t *lenp,
		     const struct mp_xc_txstat *tx, struct mp_rx_stats *rx,
		     int64_t now_ms, const char *cname)
{
	uint64_t ntp = mp_xc_ntp_from_ms(now_ms);
	size_t clen = cname ? strlen(cname) : 0, sdes, len;
	bool rb = rx && rx->started;
	size_t srlen = 28 + (rb ? 24 : 0);
	struct mp_rx_report r;

	if (!buf || !lenp || !tx || clen > 255)
		return EINVAL;
	/* SDES: header, SSRC, item (type, length, text), end, pad to 4 */
	sdes = (8 + 2 + clen + 1 + 3) & ~(size_t)3;
	len = srlen + sdes;
	if (len > size)
		return EMSGSIZE;

	memset(buf, 0, len);
	buf[0] = (uint8_t)(0x80 | (rb ? 1 : 0));
	buf[1] = 200; /* SR */
	buf[2] = 0;
	buf[3] = (uint8_t)(srlen / 4 - 1);
	put32(buf + 4, tx->ssrc);
	put32(buf + 8, (uint32_t)(ntp >> 32));
	put32(buf + 12, (uint32_t)ntp);
	put32(buf + 16, tx->last_ts);
	put32(buf + 20, tx->packets);
	put32(buf + 24, tx->octets);

	if (rb && mp_rxs_report(&r, rx, now_ms)) {
		uint8_t *b = buf + 28;

		put32(b, r.ssrc);
		put32(b + 4, (uint32_t)r.fraction << 24 | r.lost);
		put32(b + 8, r.ext_max_seq);
		put32(b + 12, r.jitter);
		put32(b + 16, r.lsr);
		put32(b + 20, r.dlsr);
	}

	buf[srlen] = 0x81; /* SDES, one chunk */
	buf[srlen + 1] = 202;
	buf[srlen + 2] = 0;
	buf[srlen + 3] = (uint8_t)(sdes / 4 - 1);
	put32(buf + srlen + 4, tx->ssrc);
	buf[srlen + 8] = 1; /* CNAME */
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
 * time (*rtt_msp, -1 when none).  EBADMSG for malformed packets, and for
 * what is no compound report (first packet neither SR nor RR, RFC 3550
 * §6.1) or larger than the engine takes.
 */
int mp_xc_rtcp_parse(const uint8_t *buf, size_t len, uint32_t our_ssrc,
		     struct mp_rx_stats *rx, int64_t now_ms, int32_t *rtt_msp)
{
	struct mp_rtcp_info info;
	uint32_t a;

	if (!buf || !rtt_msp)
		return EINVAL;
	*rtt_msp = -1;
	if (len > MP_RTP_MAX_LEN || !mp_rtcp_valid(buf, len) ||
	    (buf[1] != 200 && buf[1] != 201))
		return EBADMSG;
	if (mp_rtcp_scan(&info, buf, len))
		return EBADMSG;

	if (info.has_sr && rx)
		mp_rxs_sr(rx, info.sr_ntp_mid, now_ms);

	a = (uint32_t)(mp_xc_ntp_from_ms(now_ms) >> 16);
	for (unsigned i = 0; i < info.nblocks; i++) {
		uint32_t lsr = info.block[i].lsr;
		int64_t rtt;

		if (info.block[i].ssrc != our_ssrc || !lsr)
			continue;
		rtt = (int64_t)(uint32_t)(a - lsr - info.block[i].dlsr);
		if (rtt < 65536 * 10) /* < 10 s */
			*rtt_msp = (int32_t)(rtt * 1000 / 65536);
	}

	return 0;
}
