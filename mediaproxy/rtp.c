/*
 * rtp.c - RTP/RTCP header checks, parsing and writing (RFC 3550, 5761)
 */
#include <errno.h>
#include <string.h>

#include "mediaproxy/rtp.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Check and decode an RTP header: version 2, at least 12 bytes, the CSRC
 * list, the header extension and the padding all inside the packet;
 * EBADMSG otherwise.  RTCP (mp_pkt_is_rtcp()) is EPROTOTYPE.  The payload
 * is never looked at: hdr->payload points into buf.  No upper bound on
 * len: the relay forwards what its buffer holds, the engine refuses more
 * than MP_RTP_MAX_LEN itself.
 */
int mp_rtp_parse(struct mp_rtp_hdr *hdr, const uint8_t *buf, size_t len)
{
	size_t hlen, pad = 0;
	unsigned cc;

	if (!hdr || !buf || len < MP_RTP_HDR_MIN)
		return EBADMSG;
	if ((buf[0] >> 6) != 2)
		return EBADMSG;
	/* RTCP multiplexed on the port: never taken for RTP */
	if (mp_pkt_is_rtcp(buf, len))
		return EPROTOTYPE;

	cc = buf[0] & 0x0f;
	hlen = MP_RTP_HDR_MIN + 4u * cc;
	if (len < hlen)
		return EBADMSG;

	if (buf[0] & 0x10) { /* extension: 4-byte header + N words */
		if (len < hlen + 4)
			return EBADMSG;
		hlen += 4 + 4u * rd16(buf + hlen + 2);
		if (len < hlen)
			return EBADMSG;
	}

	if (buf[0] & 0x20) { /* padding: the last byte counts itself */
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
	hdr->payload = buf + hlen;
	hdr->payload_len = len - hlen - pad;

	return 0;
}

/*
 * Write a plain RTP header (no CSRC, no extension, no padding: hdr_len is
 * not read) followed by hdr->payload into buf; *lenp receives the packet
 * length.  EMSGSIZE when it exceeds size or MP_RTP_MAX_LEN.  The payload
 * may already sit in buf (it is moved, not copied).
 */
int mp_rtp_encode(uint8_t *buf, size_t size, size_t *lenp,
		  const struct mp_rtp_hdr *hdr)
{
	size_t len;

	if (!buf || !lenp || !hdr || hdr->pt > 127 ||
	    (hdr->payload_len && !hdr->payload))
		return EINVAL;

	len = MP_RTP_HDR_MIN + hdr->payload_len;
	if (len > size || len > MP_RTP_MAX_LEN)
		return EMSGSIZE;

	buf[0] = 0x80;
	buf[1] = (uint8_t)((hdr->marker ? 0x80 : 0) | hdr->pt);
	buf[2] = (uint8_t)(hdr->seq >> 8);
	buf[3] = (uint8_t)hdr->seq;
	wr32(buf + 4, hdr->ts);
	wr32(buf + 8, hdr->ssrc);
	if (hdr->payload_len)
		memmove(buf + MP_RTP_HDR_MIN, hdr->payload, hdr->payload_len);

	*lenp = len;
	return 0;
}

/*
 * RTP and RTCP multiplexed on one port (RFC 5761 §4): RTCP when the packet
 * is version 2 and its second byte is a packet type 192..223 (the range RTP
 * payload types 64..95 with the marker would take, reserved for RTCP).
 */
bool mp_pkt_is_rtcp(const uint8_t *buf, size_t len)
{
	return buf && len >= 2 && (buf[0] >> 6) == 2 && buf[1] >= 192 &&
	       buf[1] <= 223;
}

/*
 * Check a (compound) RTCP packet (RFC 3550 A.2): every sub-packet has
 * version 2, a packet type 192..223 and a length inside the datagram, the
 * lengths add up to the datagram, and only the last one may be padded.
 * The first packet's type is not checked here: a reduced-size packet
 * (RFC 5506, feedback alone) is still RTCP to relay; whoever reads
 * reports checks for SR/RR.
 */
bool mp_rtcp_valid(const uint8_t *buf, size_t len)
{
	size_t off = 0;

	if (!buf || len < 8 || len % 4)
		return false;

	while (off < len) {
		const uint8_t *p = buf + off;
		size_t plen;

		if (len - off < 4 || (p[0] >> 6) != 2)
			return false;
		if (p[1] < 192 || p[1] > 223)
			return false;
		plen = 4u * ((size_t)rd16(p + 2) + 1);
		if (plen > len - off)
			return false;
		if ((p[0] & 0x20) && off + plen != len)
			return false;
		off += plen;
	}

	return true;
}

/*
 * Walk a compound RTCP packet and collect the first SR's NTP time and the
 * report blocks of its SRs and RRs (source, LSR, DLSR; the first
 * MP_RTCP_MAX_BLOCKS).  EBADMSG when a sub-packet is malformed (an SR
 * shorter than its sender info, blocks beyond its length); what was read
 * before stays in info.
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
				info->sr_ntp_mid = rd32(p + 10);
			}
			for (unsigned i = 0; i < rc; i++) {
				const uint8_t *b = p + boff + 24u * i;

				if (info->nblocks == MP_RTCP_MAX_BLOCKS)
					break;
				info->block[info->nblocks].ssrc = rd32(b);
				info->block[info->nblocks].lsr = rd32(b + 16);
				info->block[info->nblocks].dlsr = rd32(b + 20);
				info->nblocks++;
			}
		}
		off += plen;
	}

	return 0;
}
