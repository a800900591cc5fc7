/*
 * rtp.c - RTP/RTCP header parsing and writing (RFC 3550)
 */
#include <errno.h>
#include <string.h>
#include "mediaproxy/xcode/rtp.h"

/**
 * Parse an RTP packet: version 2, CSRC list, header extension and padding
 * are honoured; anything that does not fit in @len is EBADMSG.  The payload
 * pointer refers into @buf.
 */
int mp_xc_rtp_decode(struct mp_xc_rtp *rtp, const uint8_t *buf, size_t len)
{
	size_t hlen, plen;
	unsigned cc;

	if (!rtp || !buf)
		return EINVAL;
	if (len < MP_XC_RTP_HDR_LEN || len > MP_XC_RTP_MAX_LEN)
		return EBADMSG;
	if ((buf[0] >> 6) != 2)
		return EBADMSG;

	/* RTCP shares the port when rtcp-mux is used: PT 200..204 with M */
	if (buf[1] >= 200 && buf[1] <= 204)
		return EPROTOTYPE;

	cc = buf[0] & 0x0f;
	hlen = MP_XC_RTP_HDR_LEN + 4 * cc;
	if (len < hlen)
		return EBADMSG;

	if (buf[0] & 0x10) {		/* header extension */
		size_t xlen;

		if (len < hlen + 4)
			return EBADMSG;
		xlen = 4 * (((size_t)buf[hlen + 2] << 8) | buf[hlen + 3]);
		hlen += 4 + xlen;
		if (len < hlen)
			return EBADMSG;
	}

	plen = len - hlen;
	if (buf[0] & 0x20) {		/* padding: last octet counts itself */
		uint8_t pad = buf[len - 1];

		if (pad == 0 || pad > plen)
			return EBADMSG;
		plen -= pad;
	}

	rtp->marker  = (buf[1] & 0x80) != 0;
	rtp->pt      = buf[1] & 0x7f;
	rtp->seq     = (uint16_t)((buf[2] << 8) | buf[3]);
	rtp->ts      = ((uint32_t)buf[4] << 24) | ((uint32_t)buf[5] << 16) |
		       ((uint32_t)buf[6] << 8) | buf[7];
	rtp->ssrc    = ((uint32_t)buf[8] << 24) | ((uint32_t)buf[9] << 16) |
		       ((uint32_t)buf[10] << 8) | buf[11];
	rtp->payload = buf + hlen;
	rtp->plen    = plen;

	return 0;
}

/**
 * Write a plain RTP header (no CSRC, no extension) followed by the payload
 * into @buf; *lenp receives the packet length.
 */
int mp_xc_rtp_encode(uint8_t *buf, size_t size, size_t *lenp,
		     const struct mp_xc_rtp *rtp)
{
	size_t len;

	if (!buf || !lenp || !rtp || rtp->pt > 127)
		return EINVAL;

	len = MP_XC_RTP_HDR_LEN + rtp->plen;
	if (len > size || len > MP_XC_RTP_MAX_LEN)
		return EMSGSIZE;

	buf[0]  = 0x80;
	buf[1]  = (uint8_t)((rtp->marker ? 0x80 : 0) | rtp->pt);
	buf[2]  = (uint8_t)(rtp->seq >> 8);
	buf[3]  = (uint8_t)rtp->seq;
	buf[4]  = (uint8_t)(rtp->ts >> 24);
	buf[5]  = (uint8_t)(rtp->ts >> 16);
	buf[6]  = (uint8_t)(rtp->ts >> 8);
	buf[7]  = (uint8_t)rtp->ts;
	buf[8]  = (uint8_t)(rtp->ssrc >> 24);
	buf[9]  = (uint8_t)(rtp->ssrc >> 16);
	buf[10] = (uint8_t)(rtp->ssrc >> 8);
	buf[11] = (uint8_t)rtp->ssrc;
	if (rtp->plen)
		memmove(buf + MP_XC_RTP_HDR_LEN, rtp->payload, rtp->plen);

	*lenp = len;
	return 0;
}

/** True when the datagram looks like RTCP (RFC 5761 demultiplexing). */
bool mp_xc_is_rtcp(const uint8_t *buf, size_t len)
{
	return buf && len >= 2 && (buf[0] >> 6) == 2 &&
	       buf[1] >= 192 && buf[1] <= 223;
}

/**
 * Validate a compound RTCP packet: every sub-packet has version 2, a length
 * that fits, and the first one is SR or RR (RFC 3550 6.1).
 */
bool mp_xc_rtcp_check(const uint8_t *buf, size_t len)
{
	size_t off = 0;

	if (!buf || len < 8 || len > MP_XC_RTP_MAX_LEN || (len % 4))
		return false;
	if (buf[1] != 200 && buf[1] != 201)
		return false;

	while (off < len) {
		size_t plen;

		if (len - off < 4 || (buf[off] >> 6) != 2)
			return false;
		if (buf[off + 1] < 192 || buf[off + 1] > 223)
			return false;
		plen = 4 * ((((size_t)buf[off + 2] << 8) | buf[off + 3]) + 1);
		if (plen > len - off)
			return false;
		/* padding only allowed on the last sub-packet */
		if ((buf[off] & 0x20) && off + plen != len)
			return false;
		off += plen;
	}

	return true;
}
