/*
 * sdp.c - media plan extraction and address rewriting with sofia's SDP
 */
#include <errno.h>
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
		int pt = atoi(attr->a_value);
		if (pt >= 10 && pt <= 60)
			m->ptime = pt;
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
