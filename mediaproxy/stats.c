/*
 * stats.c - RTP/RTCP header checks, loss and jitter (RFC 3550)
 */
#include <errno.h>
#include <string.h>

#include "mediaproxy/stats.h"

#define RTP_SEQ_MOD  (1u << 16)
#define MAX_DROPOUT  3000u	/* RFC 3550 A.1 */
#define MAX_MISORDER 100u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/*
 * Check and decode an RTP header: version 2, at least 12 bytes, the CSRC
 * list, the header extension and the padding all inside the packet.
 * EBADMSG otherwise.  The payload itself is never looked at.
 */
int mp_rtp_parse(struct mp_rtp_hdr *hdr, const uint8_t *buf, size_t len)
{
	size_t hlen, pad = 0;
	unsigned cc;

	if (!hdr || !buf || len < MP_RTP_HDR_MIN)
		return EBADMSG;
	if ((buf[0] >> 6) != 2)
		return EBADMSG;

	cc = buf[0] & 0x0f;
	hlen = MP_RTP_HDR_MIN + 4u * cc;
	if (len < hlen)
		return EBADMSG;

	if (buf[0] & 0x10) {	/* extension: 4-byte header + N words */
		if (len < hlen + 4)
			return EBADMSG;
		hlen += 4 + 4u * rd16(buf + hlen + 2);
		if (len < hlen)
			return EBADMSG;
	}

	if (buf[0] & 0x20) {	/* padding: count in the last byte */
		pad = buf[len - 1];
		if (pad == 0 || pad > len - hlen)
			return EBADMSG;
	}

	hdr->marker = (buf[1] & 0x80) != 0;
	hdr->pt = buf[1] & 0x7f;
	hdr->seq = rd16(buf + 2);
	hdr->ts = rd32(buf + 4);
	hdr->ssrc = rd32(buf + 8);
	hdr->hdr_len = hlen;
	hdr->payload_len = len - hlen - pad;

	return 0;
}

/*
 * True when buf looks like a (compound) RTCP packet: version 2, at least the
 * 8-byte header, a packet type 192..223 (RFC 5761 §4 range) and a first
 * length field that fits in the datagram.
 */
bool mp_rtcp_valid(const uint8_t *buf, size_t len)
{
	size_t plen;

	if (!buf || len < 8 || (buf[0] >> 6) != 2)
		return false;
	if (buf[1] < 192 || buf[1] > 223)
		return false;
	plen = 4u * ((size_t)rd16(buf + 2) + 1);

	return plen <= len;
}

/*
 * RTP and RTCP multiplexed on one port (RFC 5761): RTCP when the second byte
 * is a sender/receiver report .. APP type (192..223 is reserved for RTCP).
 */
bool mp_pkt_is_rtcp(const uint8_t *buf, size_t len)
{
	return buf && len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

static void seq_init(struct mp_rx_stats *rs, uint32_t ssrc, uint16_t seq)
{
	rs->started = true;
	rs->ssrc = ssrc;
	rs->base_seq = seq;
	rs->max_seq = seq;
	rs->bad_seq = RTP_SEQ_MOD + 1;	/* so seq == bad_seq is false */
	rs->cycles = 0;
	rs->received = 0;
	rs->jit_started = false;
}

static uint64_t seq_lost(const struct mp_rx_stats *rs)
{
	uint64_t expected;

	if (!rs->started)
		return 0;
	expected = (uint64_t)rs->cycles + rs->max_seq - rs->base_seq + 1;

	return expected > rs->received ? expected - rs->received : 0;
}

/*
 * Account one valid RTP packet.  Follows RFC 3550 A.1 without probation:
 * a forward step below MAX_DROPOUT advances (counting a wrap when the number
 * goes round), a small step back is a late or duplicate packet, and a big
 * jump is taken as a restart once two packets in a row agree.  A new SSRC or
 * a restart keeps the loss seen so far.
 */
void mp_rxs_seq(struct mp_rx_stats *rs, uint32_t ssrc, uint16_t seq)
{
	uint16_t udelta;

	if (!rs)
		return;

	if (!rs->started || ssrc != rs->ssrc) {
		rs->lost_before += seq_lost(rs);
		seq_init(rs, ssrc, seq);
		rs->received = 1;
		return;
	}

	udelta = (uint16_t)(seq - rs->max_seq);
	if (udelta < MAX_DROPOUT) {
		if (seq < rs->max_seq)
			rs->cycles += RTP_SEQ_MOD;
		rs->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
		/* a very large jump */
		if (seq == rs->bad_seq) {
			rs->lost_before += seq_lost(rs);
			seq_init(rs, ssrc, seq);
		} else {
			rs->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
			return;
		}
	}
	/* else: duplicate or reordered, counted as received */
	rs->received++;
}

/*
 * Update the interarrival jitter with one packet: arrival and rtp_ts in the
 * same RTP clock units (RFC 3550 A.8, integer form scaled by 16).
 */
void mp_rxs_jitter(struct mp_rx_stats *rs, uint32_t rtp_ts, uint32_t arrival)
{
	uint32_t transit = arrival - rtp_ts;
	int32_t d;

	if (!rs)
		return;
	if (!rs->jit_started) {
		rs->jit_started = true;
		rs->transit = transit;
		return;
	}

	d = (int32_t)(transit - rs->transit);
	rs->transit = transit;
	if (d < 0)
		d = -d;
	/* one timestamp jump (new talk spurt clock, bad sender) must not
	 * poison the estimate for minutes: cap a single step at 10 s worth
	 * of 48 kHz units */
	if (d > 480000)
		d = 480000;
	rs->jitter += (uint32_t)d - ((rs->jitter + 8) >> 4);
}

/* Packets lost so far (never negative: duplicates do not hide loss). */
uint64_t mp_rxs_lost(const struct mp_rx_stats *rs)
{
	return rs ? rs->lost_before + seq_lost(rs) : 0;
}

/* The jitter estimate in ms for a clock of rate Hz (0 = 8000). */
uint32_t mp_rxs_jitter_ms(const struct mp_rx_stats *rs, uint32_t rate)
{
	if (!rs)
		return 0;
	if (!rate)
		rate = 8000;

	return (uint32_t)(((uint64_t)(rs->jitter >> 4) * 1000u) / rate);
}

/* A monotonic time in µs converted to RTP units of a rate Hz clock. */
uint32_t mp_rtp_units(int64_t mono_us, uint32_t rate)
{
	if (!rate)
		rate = 8000;
	/* split to stay exact without overflow for centuries of uptime */
	return (uint32_t)((uint64_t)(mono_us / 1000000) * rate +
			  (uint64_t)(mono_us % 1000000) * rate / 1000000);
}

/*
 * Walk a compound RTCP packet and collect the SR's NTP time and every
 * report block's LSR/DLSR (from SRs and RRs).  EBADMSG when a sub-packet
 * is malformed; what was read before stays in info.
 */
int mp_rtcp_scan(struct mp_rtcp_info *info, const uint8_t *buf, size_t len)
{
	size_t off = 0, plen, boff;
	unsigned rc, pt;

	if (!info || !buf)
		return EINVAL;
	memset(info, 0, sizeof(*info));

	while (off + 4 <= len) {
		const uint8_t *p = buf + off;

		if ((p[0] >> 6) != 2)
			return EBADMSG;
		rc = p[0] & 0x1f;
		pt = p[1];
		plen = 4u * ((size_t)rd16(p + 2) + 1);
		if (plen > len - off)
			return EBADMSG;

		if (pt == 200 || pt == 201) {
			boff = pt == 200 ? 28 : 8;
			if (boff + 24u * rc > plen)
				return EBADMSG;
			if (pt == 200 && !info->has_sr) {
				info->has_sr = true;
				info->sr_ntp_mid =
					((uint32_t)rd16(p + 10) << 16) |
					rd16(p + 12);
			}
			for (unsigned i = 0; i < rc; i++) {
				const uint8_t *b = p + boff + 24u * i;

				if (info->nblocks == MP_RTCP_MAX_BLOCKS)
					break;
				info->block[info->nblocks].lsr = rd32(b + 16);
				info->block[info->nblocks].dlsr = rd32(b + 20);
				info->nblocks++;
			}
		}
		off += plen;
	}

	return 0;
}

/*
 * Mean opinion score (x10, 10..45) of a received stream from a simplified
 * E-model: one-way delay = rtt / 2 + 2 x jitter + 10 ms of coding delay,
 * R = 93.2 - delay impairment - 2.5 x loss %, MOS from R as in G.107 B.
 * 0 when nothing was received.
 */
unsigned mp_mos_x10(uint64_t received, uint64_t lost, uint32_t jitter_ms,
		    uint32_t rtt_ms)
{
	double delay, r, loss_pct, mos;

	if (!received)
		return 0;

	delay = rtt_ms / 2.0 + 2.0 * jitter_ms + 10.0;
	r = delay < 160.0 ? 93.2 - delay / 40.0 : 93.2 - (delay - 120.0) / 10.0;
	loss_pct = 100.0 * (double)lost / (double)(received + lost);
	r -= 2.5 * loss_pct;
	if (r < 0.0)
		r = 0.0;
	if (r > 100.0)
		r = 100.0;
	mos = 1.0 + 0.035 * r + 0.000007 * r * (r - 60.0) * (100.0 - r);
	if (mos < 1.0)
		mos = 1.0;
	if (mos > 4.5)
		mos = 4.5;

	return (unsigned)(mos * 10.0 + 0.5);
}
