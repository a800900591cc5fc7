/*
 * media.c - the media vocabulary (proto/media.h)
 */
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "proto/media.h"

static const struct {
	int static_pt; /* RFC 3551, -1 = dynamic only */
	uint32_t clock;
} codecs[SW_CODEC_COUNT] = {
    [SW_CODEC_PCMA] = {8, 8000},   [SW_CODEC_PCMU] = {0, 8000},
    [SW_CODEC_G729] = {18, 8000},  [SW_CODEC_G722] = {9, 8000},
    [SW_CODEC_OPUS] = {-1, 48000}, [SW_CODEC_G723] = {4, 8000},
};

const char *const sw_codec_names[SW_CODEC_COUNT + 1] = {
    [SW_CODEC_PCMA] = "PCMA", [SW_CODEC_PCMU] = "PCMU",
    [SW_CODEC_G729] = "G729", [SW_CODEC_G722] = "G722",
    [SW_CODEC_OPUS] = "opus", [SW_CODEC_G723] = "G723",
    [SW_CODEC_COUNT] = NULL,
};

/* the audio payload types RFC 3551 assigns statically (8 kHz clock) */
static const struct {
	int pt;
	const char *name;
} static_pts[] = {
    {0, "PCMU"}, {3, "GSM"},  {4, "G723"},
    {8, "PCMA"}, {9, "G722"}, {18, "G729"},
};

const char *const sw_dtmf_names[SW_DTMF_COUNT + 1] = {
    [SW_DTMF_NONE] = "none", [SW_DTMF_RFC2833] = "rfc2833",
    [SW_DTMF_INFO] = "info", [SW_DTMF_INBAND] = "inband",
    [SW_DTMF_ALL] = "all",   [SW_DTMF_AUTO] = "auto",
    [SW_DTMF_COUNT] = NULL,
};

const char *const sw_codec_mode_names[] = {"auto", "specified", NULL};
const char *const sw_g729_mode_names[] = {"auto", "g729", "g729a", "both",
					  NULL};
const char *const sw_media_proxy_names[] = {"default", "on", "off", NULL};

/** Index of name in a NULL-terminated list (any case), -1 when absent. */
int sw_names_find(const char *const *names, const char *name)
{
	if (!names || !name)
		return -1;
	for (int i = 0; names[i]; i++) {
		if (!strcasecmp(names[i], name))
			return i;
	}
	return -1;
}

/**
 * Write the names whose index is in set (bit i = names[i]) as "a, b, c"
 * for an error message; returns the length written.
 */
size_t sw_names_list(char *buf, size_t size, const char *const *names,
		     unsigned set)
{
	size_t len = 0;

	if (!buf || !size)
		return 0;
	buf[0] = '\0';
	for (unsigned i = 0; names && names[i] && i < 32; i++) {
		int n;

		if (!(set & (1u << i)))
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
			     names[i]);
		if (n < 0 || (size_t)n >= size - len) {
			buf[len] = '\0'; /* whole names only */
			break;
		}
		len += (size_t)n;
	}
	return len;
}

/** Canonical name of a codec ("?" for a value out of range). */
const char *sw_codec_name(enum sw_codec c)
{
	return (unsigned)c < SW_CODEC_COUNT ? sw_codec_names[c] : "?";
}

/**
 * The codec an encoding name means: any case, "G729A" is G.729.  ENOTSUP
 * for a codec the switch does not decode, EINVAL for no name.
 */
int sw_codec_parse(enum sw_codec *cp, const char *name)
{
	int i;

	if (!cp || !name || !*name)
		return EINVAL;
	if (!strcasecmp(name, SW_CODEC_G729A_NAME)) {
		*cp = SW_CODEC_G729;
		return 0;
	}
	i = sw_names_find(sw_codec_names, name);
	if (i < 0)
		return ENOTSUP;
	*cp = (enum sw_codec)i;
	return 0;
}

/** Canonical spelling of an encoding name, NULL when not one of ours. */
const char *sw_codec_canon(const char *name)
{
	enum sw_codec c;

	return sw_codec_parse(&c, name) ? NULL : sw_codec_names[c];
}

/**
 * Whether two encoding names are one codec on the wire: ours by what they
 * mean ("G729" and "g729a" are), any other by name, in any case.  false
 * when either is missing.
 */
bool sw_codec_same(const char *a, const char *b)
{
	enum sw_codec ca, cb;

	if (!a || !b || !*a || !*b)
		return false;
	if (!sw_codec_parse(&ca, a) && !sw_codec_parse(&cb, b))
		return ca == cb;
	return !strcasecmp(a, b);
}

/** RFC 3551 static payload type of a codec, -1 when it has none. */
int sw_codec_static_pt(enum sw_codec c)
{
	return (unsigned)c < SW_CODEC_COUNT ? codecs[c].static_pt : -1;
}

/**
 * Whether transcoding offers codec c to a peer that did not offer it and
 * whose gateway lists no codecs: every codec but G.723.1, a legacy codec
 * offered only where a gateway lists it or a peer offers it (it would
 * otherwise lengthen every transcoded offer, docs/decisions.md).
 */
bool sw_codec_default_offer(enum sw_codec c)
{
	return (unsigned)c < SW_CODEC_COUNT && c != SW_CODEC_G723;
}

/** The packet time of a codec when the SDP names none: 20 ms, G.723.1 30. */
int sw_codec_default_ptime(enum sw_codec c)
{
	return c == SW_CODEC_G723 ? 30 : 20;
}

/** RTP clock of a codec (G.722 keeps 8000, as RFC 3551 says). */
uint32_t sw_codec_clock(enum sw_codec c)
{
	return (unsigned)c < SW_CODEC_COUNT ? codecs[c].clock : 0;
}

/**
 * Encoding name of a static audio payload type (GSM included: its name is
 * known even though the switch does not decode it);
 * NULL when pt is not one.  *clockp, when given, gets 8000.
 */
const char *sw_static_pt_name(int pt, uint32_t *clockp)
{
	for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]);
	     i++) {
		if (static_pts[i].pt == pt) {
			if (clockp)
				*clockp = 8000;
			return static_pts[i].name;
		}
	}
	return NULL;
}

/** Is this the Annex A spelling of G.729 ("G729A", any case)? */
bool sw_codec_is_g729a(const char *name)
{
	return name && !strcasecmp(name, SW_CODEC_G729A_NAME);
}

/** Name of a DTMF method ("none" for a value out of range). */
const char *sw_dtmf_name(enum sw_dtmf m)
{
	return (unsigned)m < SW_DTMF_COUNT ? sw_dtmf_names[m] : "none";
}

/**
 * The method digits are sent to a leg with, from its send setting: AUTO,
 * RFC2833 (and ALL) are RFC 2833 events when the leg negotiated
 * telephone-event (have_te), else SIP INFO; INFO and INBAND as they are;
 * NONE stays NONE.  signalingd and the media engine both decide by it.
 */
enum sw_dtmf sw_dtmf_send_resolve(enum sw_dtmf send, bool have_te)
{
	switch (send) {

	case SW_DTMF_RFC2833:
	case SW_DTMF_AUTO:
	case SW_DTMF_ALL:
		return have_te ? SW_DTMF_RFC2833 : SW_DTMF_INFO;
	case SW_DTMF_INFO:
	case SW_DTMF_INBAND:
		return send;
	default:
		return SW_DTMF_NONE;
	}
}

/** Whether a leg with receive setting recv takes digits sent by m. */
bool sw_dtmf_recv_accepts(enum sw_dtmf recv, enum sw_dtmf m)
{
	switch (recv) {

	case SW_DTMF_ALL:
	case SW_DTMF_AUTO:
		return true;
	case SW_DTMF_NONE:
		return false;
	default:
		return recv == m;
	}
}

/** Whether an SDP format name is RFC 4733's telephone-event (any case). */
bool sw_is_te(const char *name)
{
	return name && !strcasecmp(name, SW_TE_NAME);
}

/**
 * The DTMF method a name means (any case), if it is in set
 * (SW_DTMF_RECEIVE, SW_DTMF_SEND, ...); EINVAL otherwise.
 */
int sw_dtmf_parse(enum sw_dtmf *mp, const char *name, unsigned set)
{
	int i = sw_names_find(sw_dtmf_names, name);

	if (!mp || i < 0 || !(set & SW_DTMF_SET(i)))
		return EINVAL;
	*mp = (enum sw_dtmf)i;
	return 0;
}
