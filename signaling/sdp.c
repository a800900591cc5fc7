/*
 * sdp.c - media plan extraction and address rewriting with sofia's SDP
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sofia.h"
#include <sofia-sip/sdp.h>

#include "signaling/sdp.h"

static const char *mode_name(unsigned mode)
{
	switch (mode) {
	case sdp_inactive:
		return "inactive";
	case sdp_sendonly:
		return "sendonly";
	case sdp_recvonly:
		return "recvonly";
	default:
		return "sendrecv";
	}
}

/*
 * Refuse bytes sofia's parser mishandles before it sees them: control
 * characters anywhere, and non-ASCII bytes outside the free-text lines
 * (s=, i=, u=, e=, p=; RFC 4566 allows UTF-8 there).  A high byte in an
 * m= line of an unknown transport made sdp_parse() ask for gigabytes.
 */
static bool span_ok(const char *p, size_t n, const char *extra, bool digits)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= '0' && ch <= '9')
			continue;
		if (digits || !((ch >= 'a' && ch <= 'z') ||
				(ch >= 'A' && ch <= 'Z') || strchr(extra, ch)))
			return false;
	}
	return true;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... (RFC 4566 5.14) */
static bool mline_ok(const char *line, size_t len)
{
	const char *p = line + 2, *end = line + len;
	int tok = 0;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = sp ? (size_t)(sp - p) : (size_t)(end - p);
		const char *slash;

		switch (tok) {
		case 0:
			if (!span_ok(p, n, "_-", false))
				return false;
			break;
		case 1:
			slash = memchr(p, '/', n);
			if (slash ? !span_ok(p, (size_t)(slash - p), "", true) ||
					    !span_ok(slash + 1,
						     n - (size_t)(slash - p) - 1,
						     "", true)
				  : !span_ok(p, n, "", true))
				return false;
			break;
		case 2:
			if (!span_ok(p, n, "/_.-", false))
				return false;
			break;
		default:
			if (!span_ok(p, n, "_.-", false))
				return false;
			break;
		}
		tok++;
		p += n + 1;
	}
	return tok >= 4;
}

static bool sdp_clean(const char *sdp, size_t len)
{
	bool free_text = false;
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)sdp[i];

		if (ch == '\n') {
			col = 0;
			continue;
		}
		if (col == 0 && ch == 'm') {
			const char *nl = memchr(sdp + i, '\n', len - i);
			size_t n = nl ? (size_t)(nl - (sdp + i)) : len - i;

			if (n && sdp[i + n - 1] == '\r')
				n--;
			if (!mline_ok(sdp + i, n))
				return false;
		}
		if (ch == '\r') {
			/* CR only as part of CRLF */
			if (i + 1 < len && sdp[i + 1] != '\n')
				return false;
			continue;
		}
		/* every line is <letter>=<value> */
		if (col == 0) {
			if (ch < 'a' || ch > 'z')
				return false;
			free_text = strchr("siuep", ch) != NULL;
		} else if (col == 1 && ch != '=') {
			return false;
		}
		col++;
		if (ch == '\t')
			continue;
		if (ch < 0x20 || ch == 0x7f)
			return false;
		if (ch >= 0x80 && !free_text)
			return false;
	}
	return true;
}

static sdp_media_t *first_audio(sdp_session_t *s)
{
	for (sdp_media_t *m = s ? s->sdp_media : NULL; m; m = m->m_next)
		if (m->m_type == sdp_media_audio)
			return m;
	return NULL;
}

/*
 * Fill m from the first audio stream of the SDP text.  EBADMSG when the
 * text is not SDP, ENOENT when it has no audio stream.
 */
int sg_sdp_inspect(struct sg_sdp_media *m, const char *sdp, size_t len)
{
	su_home_t *home;
	sdp_parser_t *p;
	sdp_session_t *s;
	sdp_media_t *a;
	sdp_connection_t *c;
	sdp_attribute_t *attr;
	int err = 0;

	if (!m || !sdp || !len || len > 65536)
		return EINVAL;
	memset(m, 0, sizeof(*m));
	if (!sdp_clean(sdp, len))
		return EBADMSG;

	home = su_home_new(sizeof(*home));
	if (!home)
		return ENOMEM;
	p = sdp_parse(home, sdp, (issize_t)len, 0);
	s = sdp_session(p);
	if (!s) {
		err = EBADMSG;
		goto out;
	}
	a = first_audio(s);
	if (!a) {
		err = ENOENT;
		goto out;
	}

	c = a->m_connections ? a->m_connections : s->sdp_connection;
	if (c && c->c_address)
		snprintf(m->ip, sizeof(m->ip), "%s", c->c_address);
	m->port = a->m_rejected ? 0 : (int)a->m_port;
	m->ptime = 20;
	snprintf(m->direction, sizeof(m->direction), "%s",
		 mode_name(a->m_mode));

	for (sdp_rtpmap_t *rm = a->m_rtpmaps; rm; rm = rm->rm_next) {
		if (rm->rm_encoding &&
		    !strcasecmp(rm->rm_encoding, "telephone-event")) {
			if (!m->te_pt)
				m->te_pt = rm->rm_pt;
			continue;
		}
		if (m->codec[0])
			continue;
		snprintf(m->codec, sizeof(m->codec), "%s",
			 rm->rm_encoding ? rm->rm_encoding : "");
		m->pt = rm->rm_pt;
		m->rate = (int)rm->rm_rate;
		if (rm->rm_fmtp)
			snprintf(m->fmtp, sizeof(m->fmtp), "%s", rm->rm_fmtp);
	}
	attr = sdp_attribute_find(a->m_attributes, "ptime");
	if (!attr)
		attr = sdp_attribute_find(s->sdp_attributes, "ptime");
	if (attr && attr->a_value) {
		long pt = strtol(attr->a_value, NULL, 10);
		if (pt >= 10 && pt <= 60)
			m->ptime = (int)pt;
	}

 out:
	su_home_unref(home);
	return err;
}

static int set_conn(su_home_t *home, sdp_connection_t *c, const char *ip)
{
	char *dup = su_strdup(home, ip);

	if (!dup)
		return ENOMEM;
	c->c_address = dup;
	c->c_addrtype = strchr(ip, ':') ? sdp_addr_ip6 : sdp_addr_ip4;
	c->c_nettype = sdp_net_in;
	return 0;
}

/*
 * Copy the SDP text with every connection address set to ip and the first
 * audio stream's port set to port (other streams are left as they are;
 * rejected streams stay rejected).  *outp is malloc'd.
 */
int sg_sdp_rewrite(char **outp, const char *sdp, size_t len, const char *ip,
		   int port)
{
	su_home_t *home;
	sdp_parser_t *p;
	sdp_session_t *s;
	sdp_media_t *a;
	sdp_printer_t *pr;
	const char *text;
	int err = 0;

	if (!outp || !sdp || !len || len > 65536 || !ip)
		return EINVAL;
	if (!sdp_clean(sdp, len))
		return EBADMSG;

	home = su_home_new(sizeof(*home));
	if (!home)
		return ENOMEM;
	p = sdp_parse(home, sdp, (issize_t)len, 0);
	s = sdp_session(p);
	if (!s) {
		err = EBADMSG;
		goto out;
	}

	if (s->sdp_origin && s->sdp_origin->o_address)
		err |= set_conn(home, s->sdp_origin->o_address, ip);
	if (s->sdp_connection)
		err |= set_conn(home, s->sdp_connection, ip);
	a = first_audio(s);
	for (sdp_media_t *m = s->sdp_media; m; m = m->m_next)
		for (sdp_connection_t *c = m->m_connections; c; c = c->c_next)
			err |= set_conn(home, c, ip);
	if (a && !a->m_rejected && a->m_port)
		a->m_port = (unsigned long)port;
	if (err) {
		err = ENOMEM;
		goto out;
	}

	pr = sdp_print(home, s, NULL, 0, 0);
	text = sdp_message(pr);
	if (!text) {
		err = EBADMSG;
		goto out;
	}
	*outp = strdup(text);
	if (!*outp)
		err = ENOMEM;

 out:
	su_home_unref(home);
	return err;
}
