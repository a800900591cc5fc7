/*
 * codecpol.c - codec and DTMF policy of a call (SPEC §5): offers, answers,
 * leg plans, and the format lines of SDP bodies
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "signaling/codecpol.h"

/*
 * The method DTMF is sent to a leg with: auto = RFC 2833 when the leg's
 * SDP has telephone-event, else SIP INFO; rfc2833 without a negotiated
 * telephone-event falls back to INFO too.
 */
enum sw_dtmf sg_cp_dtmf_send_for(const struct sg_cp_conf *c, int te_pt)
{
	return sw_dtmf_send_resolve(c->dtmf_send, te_pt != 0);
}

/* does this side want telephone-events at all (receive or send)? */
static bool wants_te(const struct sg_cp_conf *c)
{
	return c->dtmf_receive == SW_DTMF_ALL ||
	       c->dtmf_receive == SW_DTMF_RFC2833 ||
	       c->dtmf_send == SW_DTMF_AUTO || c->dtmf_send == SW_DTMF_RFC2833;
}

/* ---- gateway settings ---- */

void sg_cp_conf_default(struct sg_cp_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->g729_mode = SW_G729_AUTO;
	c->dtmf_receive = SW_DTMF_ALL;
	c->dtmf_send = SW_DTMF_AUTO;
	c->rfc2833_pt = SW_TE_PT_DEFAULT;
	c->use_peer_rfc2833 = true;
	c->media_proxy = SW_MEDIA_PROXY_DEFAULT;
}

static void bad(int *err, char *buf, size_t size, const char *key)
{
	if (!*err && buf && size)
		snprintf(buf, size, "media.%s: bad value, default kept", key);
	*err = EINVAL;
}

/*
 * Read a gateway's `media` JSON object.  Every key is optional; a bad value
 * keeps that key's default and makes the return EINVAL (err says which),
 * the rest is still applied.  NULL or "" = all defaults.
 */
int sg_cp_conf_parse(struct sg_cp_conf *c, const char *json, char *errbuf,
		     size_t errsz)
{
	json_error_t jerr;
	json_t *o, *v;
	int err = 0, i;

	sg_cp_conf_default(c);
	if (errbuf && errsz)
		errbuf[0] = '\0';
	if (!json || !json[0])
		return 0;
	o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		bad(&err, errbuf, errsz, "(object)");
		return err;
	}

	if ((v = json_object_get(o, "codec_mode"))) {
		i = sw_names_find(sw_codec_mode_names, json_string_value(v));
		if (i < 0)
			bad(&err, errbuf, errsz, "codec_mode");
		else
			c->specified = i == SW_CODEC_MODE_SPECIFIED;
	}
	if ((v = json_object_get(o, "codecs"))) {
		size_t k;
		json_t *e;

		if (!json_is_array(v))
			bad(&err, errbuf, errsz, "codecs");
		json_array_foreach(v, k, e)
		{
			const char *cn = sw_codec_canon(json_string_value(e));
			bool dup = false;

			if (!cn || c->ncodecs >= SG_CP_MAX_CODECS) {
				bad(&err, errbuf, errsz, "codecs");
				continue;
			}
			for (size_t j = 0; j < c->ncodecs; j++)
				dup |= !strcmp(c->codecs[j], cn);
			if (!dup)
				snprintf(c->codecs[c->ncodecs++],
					 sizeof(c->codecs[0]), "%s", cn);
		}
	}
	if ((v = json_object_get(o, "specified_codec")) &&
	    json_string_length(v)) {
		const char *cn = sw_codec_canon(json_string_value(v));

		if (!cn)
			bad(&err, errbuf, errsz, "specified_codec");
		else
			snprintf(c->specified_codec, sizeof(c->specified_codec),
				 "%s", cn);
	}
	if (c->specified && !c->specified_codec[0]) {
		bad(&err, errbuf, errsz, "specified_codec");
		c->specified = false;
	}
	if ((v = json_object_get(o, "allow_transcoding"))) {
		if (!json_is_boolean(v))
			bad(&err, errbuf, errsz, "allow_transcoding");
		else
			c->allow_transcoding = json_is_true(v);
	}
	if ((v = json_object_get(o, "g729_mode"))) {
		i = sw_names_find(sw_g729_mode_names, json_string_value(v));
		if (i < 0)
			bad(&err, errbuf, errsz, "g729_mode");
		else
			c->g729_mode = (enum sw_g729_mode)i;
	}
	if ((v = json_object_get(o, "dtmf_receive"))) {
		if (sw_dtmf_parse(&c->dtmf_receive, json_string_value(v),
				  SW_DTMF_RECEIVE))
			bad(&err, errbuf, errsz, "dtmf_receive");
	}
	if ((v = json_object_get(o, "dtmf_send"))) {
		if (sw_dtmf_parse(&c->dtmf_send, json_string_value(v),
				  SW_DTMF_SEND))
			bad(&err, errbuf, errsz, "dtmf_send");
	}
	if ((v = json_object_get(o, "rfc2833_pt"))) {
		json_int_t pt = json_integer_value(v);

		if (!json_is_integer(v) || pt < SW_PT_DYNAMIC_MIN ||
		    pt > SW_PT_DYNAMIC_MAX)
			bad(&err, errbuf, errsz, "rfc2833_pt");
		else
			c->rfc2833_pt = (int)pt;
	}
	if ((v = json_object_get(o, "use_peer_rfc2833"))) {
		if (!json_is_boolean(v))
			bad(&err, errbuf, errsz, "use_peer_rfc2833");
		else
			c->use_peer_rfc2833 = json_is_true(v);
	}
	if ((v = json_object_get(o, "media_proxy"))) {
		i = sw_names_find(sw_media_proxy_names, json_string_value(v));
		if (i < 0)
			bad(&err, errbuf, errsz, "media_proxy");
		else
			c->media_proxy = (enum sw_media_proxy)i;
	}
	json_decref(o);
	return err;
}

/* ---- the offer to the vendor ---- */

static const char *fmt_canon(const struct sg_sdp_fmt *f)
{
	return sw_codec_canon(f->name);
}

static bool same_codec(const struct sg_sdp_fmt *x, const struct sg_sdp_fmt *y)
{
	const char *a = fmt_canon(x), *b = fmt_canon(y);

	if (a && b)
		return !strcmp(a, b);
	return !a && !b && !strcasecmp(x->name, y->name) && x->rate == y->rate;
}

static bool is_g729a(const struct sg_sdp_fmt *f)
{
	return sw_codec_is_g729a(f->name);
}

/* is the codec (canonical name, NULL = unsupported) allowed by c? */
/*
 * A codec the switch cannot decode (cn NULL: GSM, G.723.1, iLBC, AMR...)
 * goes through as it is, relayed or not, where the gateway names no codec
 * list: if both sides share it, the media node relays it untouched.
 */
static bool allowed(const struct sg_cp_conf *c, const char *cn, bool relay)
{
	(void)relay;
	if (!cn)
		return !c->ncodecs;
	if (!c->ncodecs)
		return true;
	for (size_t i = 0; i < c->ncodecs; i++)
		if (!strcmp(c->codecs[i], cn))
			return true;
	return false;
}

/* the caller leg's first codec the switch can decode, or NULL */
static const struct sg_sdp_fmt *known_a(const struct sg_cp_offer *o)
{
	for (size_t i = 0; i < o->na; i++)
		if (fmt_canon(&o->a[i]))
			return &o->a[i];
	return NULL;
}

static size_t pref_index(const struct sg_cp_conf *c, const char *cn)
{
	for (size_t i = 0; cn && i < c->ncodecs; i++)
		if (!strcmp(c->codecs[i], cn))
			return i;
	return SG_CP_MAX_CODECS;
}

static bool has_pt(const struct sg_sdp_fmt *f, size_t n, int pt)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].pt == pt)
			return true;
	return false;
}

static void add_fmt(struct sg_sdp_fmt *list, size_t *n,
		    const struct sg_sdp_fmt *f)
{
	if (*n >= SG_SDP_MAX_FMT || has_pt(list, *n, f->pt))
		return;
	list[(*n)++] = *f;
}

/* a format of our own for a codec nobody offered us; pt -1 = dynamic */
static void default_fmt(struct sg_sdp_fmt *f, const char *cn, bool g729a)
{
	enum sw_codec c = SW_CODEC_OPUS;

	memset(f, 0, sizeof(*f));
	(void)sw_codec_parse(&c, cn);
	f->pt = sw_codec_static_pt(c);
	f->rate = (int)sw_codec_clock(c);
	snprintf(f->name, sizeof(f->name), "%s", sw_codec_name(c));
	switch (c) {
	case SW_CODEC_G729:
		if (g729a) { /* Annex A goes on a dynamic type, by its name */
			f->pt = -1;
			snprintf(f->name, sizeof(f->name), "%s",
				 SW_CODEC_G729A_NAME);
		} else {
			snprintf(f->fmtp, sizeof(f->fmtp), "annexb=no");
		}
		break;
	case SW_CODEC_OPUS:
		f->channels = 2;
		snprintf(f->fmtp, sizeof(f->fmtp), "useinbandfec=1");
		break;
	default:
		break;
	}
}

/* the caller's format of a G.729 variant, or ours */
static void g729_variant(struct sg_sdp_fmt *out, const struct sg_sdp *src,
			 bool g729a)
{
	for (size_t i = 0; src && i < src->nfmt; i++) {
		const char *cn = fmt_canon(&src->fmt[i]);

		if (cn && !strcmp(cn, sw_codec_names[SW_CODEC_G729]) &&
		    is_g729a(&src->fmt[i]) == g729a) {
			*out = src->fmt[i];
			return;
		}
	}
	default_fmt(out, sw_codec_names[SW_CODEC_G729], g729a);
}

/*
 * Add codec cn to the vendor list, G.729 as the routing gateway's
 * g729_mode says: auto mirrors the caller's variants (src; G729 when the
 * caller had none), g729 / g729a / both.  from = the caller's format to
 * pass on as it is (non-G.729 codecs), NULL = ours.
 */
static void add_vendor_codec(struct sg_cp_offer *o, const char *cn,
			     const struct sg_sdp_fmt *from,
			     const struct sg_sdp *src,
			     const struct sg_cp_conf *rg)
{
	struct sg_sdp_fmt f;

	if (!cn || strcmp(cn, sw_codec_names[SW_CODEC_G729])) {
		if (from)
			f = *from;
		else
			default_fmt(&f, cn, false);
		add_fmt(o->b, &o->nb, &f);
		return;
	}
	switch (rg->g729_mode) {
	case SW_G729_AUTO: {
		bool any = false;

		for (size_t i = 0; src && i < src->nfmt; i++) {
			const char *c2 = fmt_canon(&src->fmt[i]);

			if (c2 && !strcmp(c2, sw_codec_names[SW_CODEC_G729])) {
				add_fmt(o->b, &o->nb, &src->fmt[i]);
				any = true;
			}
		}
		if (!any) {
			default_fmt(&f, sw_codec_names[SW_CODEC_G729], false);
			add_fmt(o->b, &o->nb, &f);
		}
		break;
	}
	case SW_G729_PLAIN:
		g729_variant(&f, src, false);
		add_fmt(o->b, &o->nb, &f);
		break;
	case SW_G729_A:
		g729_variant(&f, src, true);
		add_fmt(o->b, &o->nb, &f);
		break;
	case SW_G729_BOTH:
		g729_variant(&f, src, false);
		add_fmt(o->b, &o->nb, &f);
		g729_variant(&f, src, true);
		add_fmt(o->b, &o->nb, &f);
		break;
	}
}

static bool in_b(const struct sg_cp_offer *o, const char *cn)
{
	for (size_t i = 0; i < o->nb; i++) {
		const char *c2 = fmt_canon(&o->b[i]);

		if (c2 && !strcmp(c2, cn))
			return true;
	}
	return false;
}

static const struct sg_sdp_fmt *a_cand(const struct sg_cp_offer *o,
				       const struct sg_sdp_fmt *f)
{
	for (size_t i = 0; i < o->na; i++)
		if (same_codec(&o->a[i], f))
			return &o->a[i];
	return NULL;
}

/* dynamic PTs for our own formats, away from everything else used */
static void assign_dynamic(struct sg_cp_offer *o, const struct sg_cp_conf *rg)
{
	int next = SW_PT_DYNAMIC_MIN;

	if (o->b_te_pt && has_pt(o->b, o->nb, o->b_te_pt)) {
		/* the caller used our telephone-event PT for a codec */
		o->b_te_pt = -1;
	}
	for (size_t i = 0; i < o->nb; i++) {
		if (o->b[i].pt >= 0)
			continue;
		while (next <= SW_PT_DYNAMIC_MAX &&
		       (has_pt(o->b, o->nb, next) || next == o->b_te_pt))
			next++;
		o->b[i].pt =
		    next <= SW_PT_DYNAMIC_MAX ? next : SW_PT_DYNAMIC_MAX;
		next++;
	}
	if (o->b_te_pt < 0) {
		next = SW_PT_DYNAMIC_MIN;
		while (next <= SW_PT_DYNAMIC_MAX && has_pt(o->b, o->nb, next))
			next++;
		o->b_te_pt = next <= SW_PT_DYNAMIC_MAX ? next : 0;
	}
	if (o->b_te2_pt < 0) {
		next = SW_PT_DYNAMIC_MIN;
		while (next <= SW_PT_DYNAMIC_MAX &&
		       (has_pt(o->b, o->nb, next) || next == o->b_te_pt))
			next++;
		o->b_te2_pt = next <= SW_PT_DYNAMIC_MAX ? next : 0;
	}
	(void)rg;
}

/*
 * Our telephone-event toward the vendor at the clocks of the codecs
 * offered (RFC 4733 2.3.1: events share their stream's clock): Opus only,
 * at 48000; Opus beside 8 kHz codecs, a second one at 48000 on a PT of
 * its own (assigned with the dynamic ones).
 */
static void te_clocks(struct sg_cp_offer *o)
{
	bool wide = false, narrow = false;

	for (size_t i = 0; i < o->nb; i++) {
		if (o->b[i].rate == 48000)
			wide = true;
		else
			narrow = true;
	}
	if (!wide)
		return;
	if (!narrow) {
		o->b_te_rate = 48000;
	} else {
		o->b_te2_pt = -1;
		o->b_te2_rate = 48000;
	}
}

/*
 * The vendor INVITE's offer for one routing gateway (SPEC §5 table).
 * o->a: the codecs the caller leg may use (the caller's formats, one per
 * codec, mapping gateway preference); o->b: what the vendor is offered.
 * 488 before any INVITE, with *why set: EPERM when the caller's leg cannot
 * be served (mapping gateway: no allowed codec, specified codec not
 * offered), ENOTSUP when this routing gateway cannot take the call.  relay =
 * media anchored on a node (mode 0 means neither transcoding nor regenerated
 * telephone-events).
 */
int sg_cp_make_offer(struct sg_cp_offer *o, const struct sg_sdp *caller,
		     const struct sg_cp_conf *mg, const struct sg_cp_conf *rg,
		     bool relay, const char **why)
{
	static const char *dummy;

	if (!why)
		why = &dummy;
	*why = "";
	if (!o || !caller || !mg || !rg)
		return EINVAL;
	memset(o, 0, sizeof(*o));
	o->relay = relay;
	o->xcode = relay && mg->allow_transcoding && rg->allow_transcoding;

	/* the caller leg: the mapping gateway's codecs (or X) */
	for (size_t i = 0; i < caller->nfmt; i++) {
		const struct sg_sdp_fmt *f = &caller->fmt[i];
		const char *cn = fmt_canon(f);
		bool dup = false;

		if (mg->specified ? !cn || strcmp(cn, mg->specified_codec)
				  : !allowed(mg, cn, relay))
			continue;
		for (size_t j = 0; j < o->na; j++) {
			if (!same_codec(&o->a[j], f))
				continue;
			dup = true;
			/* one G.729 variant: the one g729_mode prefers */
			if ((mg->g729_mode == SW_G729_A && is_g729a(f)) ||
			    (mg->g729_mode == SW_G729_PLAIN && !is_g729a(f) &&
			     is_g729a(&o->a[j])))
				o->a[j] = *f;
		}
		if (!dup && o->na < SG_SDP_MAX_FMT)
			o->a[o->na++] = *f;
	}
	if (!o->na) {
		*why = mg->specified ? "the caller did not offer the mapping "
				       "gateway's specified codec"
				     : "no codec of the caller is allowed on "
				       "the mapping gateway";
		return EPERM;
	}
	if (mg->ncodecs) {
		/* stable: insertion sort by the gateway's preference */
		for (size_t i = 1; i < o->na; i++) {
			struct sg_sdp_fmt t = o->a[i];
			size_t j = i, k = pref_index(mg, fmt_canon(&t));

			while (j > 0 &&
			       pref_index(mg, fmt_canon(&o->a[j - 1])) > k) {
				o->a[j] = o->a[j - 1];
				j--;
			}
			o->a[j] = t;
		}
	}

	/* the vendor leg */
	if (rg->specified) {
		const char *y = rg->specified_codec;
		struct sg_sdp_fmt yf;
		const struct sg_sdp_fmt *mine;

		default_fmt(&yf, y, false);
		mine = a_cand(o, &yf);
		if (!mine && !o->xcode) {
			*why = "the routing gateway's specified codec is not "
			       "the caller's and transcoding is not allowed "
			       "on both gateways";
			return ENOTSUP;
		}
		add_vendor_codec(o, y, mine, mine ? caller : NULL, rg);
	} else {
		for (size_t i = 0; i < o->na; i++) {
			const char *cn = fmt_canon(&o->a[i]);

			if (allowed(rg, cn, relay) && (!cn || !in_b(o, cn)))
				add_vendor_codec(o, cn, &o->a[i], caller, rg);
		}
		if (o->xcode && known_a(o)) {
			/* ours, for a caller codec we can decode */
			size_t n = rg->ncodecs;

			for (size_t i = 0; n ? i < n : i < SW_CODEC_COUNT;
			     i++) {
				const char *cn =
				    n ? rg->codecs[i] : sw_codec_names[i];

				if (!n &&
				    !sw_codec_default_offer((enum sw_codec)i))
					continue;
				if (!in_b(o, cn))
					add_vendor_codec(o, cn, NULL, NULL, rg);
			}
		}
		if (!o->nb) {
			*why = "no codec of the caller is allowed on the "
			       "routing gateway and transcoding is not "
			       "allowed on both gateways";
			return ENOTSUP;
		}
	}

	/* telephone-event toward the vendor */
	if (!relay) {
		o->b_te_pt = caller->te_pt; /* passed through untouched */
		o->b_te_rate = caller->te_rate;
		if (caller->te8_pt && caller->te48_pt) { /* and its other */
			bool first8 = caller->te_pt == caller->te8_pt;

			o->b_te2_pt = first8 ? caller->te48_pt : caller->te8_pt;
			o->b_te2_rate = first8 ? 48000 : 8000;
		}
	} else if (wants_te(rg) && (!rg->use_peer_rfc2833 || caller->te_pt)) {
		o->b_te_pt = rg->rfc2833_pt;
		o->b_te_rate = 8000;
		te_clocks(o);
	}
	assign_dynamic(o, rg);
	return 0;
}

/* ---- the vendor's answer ---- */

/* G.729 fmtp: annex B is on unless the line says annexb=no */
static bool annexb_on(const char *fmtp)
{
	const char *p = strcasestr(fmtp ? fmtp : "", "annexb");

	if (!p)
		return true;
	p += strlen("annexb");
	while (*p == ' ')
		p++;
	if (*p++ != '=')
		return true;
	while (*p == ' ')
		p++;
	return strncasecmp(p, "no", 2) != 0;
}

/* the packet time of codec name cn (ours or not) when the SDP has none */
static int default_ptime(const char *cn)
{
	enum sw_codec c;

	return sw_codec_default_ptime(sw_codec_parse(&c, cn) ? SW_CODEC_PCMA
							     : c);
}

static void fill_plan(struct sg_cp_plan *p, const struct sg_sdp_fmt *f,
		      int ptime, int te_pt, const struct sg_cp_conf *c)
{
	const char *cn = fmt_canon(f);

	memset(p, 0, sizeof(*p));
	snprintf(p->codec, sizeof(p->codec), "%s", cn ? cn : f->name);
	p->pt = f->pt;
	p->rate = f->rate;
	p->ptime = ptime ? ptime : default_ptime(cn);
	snprintf(p->fmtp, sizeof(p->fmtp), "%s", f->fmtp);
	p->te_pt = te_pt;
	snprintf(p->dtmf_send, sizeof(p->dtmf_send), "%s",
		 sw_dtmf_name(sg_cp_dtmf_send_for(c, te_pt)));
	snprintf(p->dtmf_recv, sizeof(p->dtmf_recv), "%s",
		 sw_dtmf_name(c->dtmf_receive));
}

/*
 * The pass-through plan of a leg (no policy: the SDP's first format as it
 * is, telephone-event both ways when the SDP has it); s == NULL is the
 * plan of a leg whose peer is not known yet.
 */
void sg_cp_plan_pass(struct sg_cp_plan *p, const struct sg_sdp *s)
{
	const struct sg_sdp_fmt *f = s && s->nfmt ? &s->fmt[0] : NULL;
	int te = sg_sdp_te_at(s, f && f->rate ? f->rate : 8000, NULL);
	enum sw_dtmf dtmf = te ? SW_DTMF_RFC2833 : SW_DTMF_NONE;
	const char *cn = f ? fmt_canon(f) : NULL;

	memset(p, 0, sizeof(*p));
	snprintf(p->codec, sizeof(p->codec), "%s", cn ? cn : "");
	p->pt = f ? f->pt : 0;
	p->rate = f && f->rate ? f->rate : 8000;
	p->ptime = s && s->ptime ? s->ptime : default_ptime(cn);
	if (f)
		snprintf(p->fmtp, sizeof(p->fmtp), "%s", f->fmtp);
	p->te_pt = te;
	snprintf(p->dtmf_send, sizeof(p->dtmf_send), "%s", sw_dtmf_name(dtmf));
	snprintf(p->dtmf_recv, sizeof(p->dtmf_recv), "%s", sw_dtmf_name(dtmf));
}

/* does the SDP list f's codec (any payload type)? */
bool sg_cp_sdp_has(const struct sg_sdp *s, const struct sg_sdp_fmt *f)
{
	for (size_t i = 0; i < s->nfmt; i++)
		if (same_codec(&s->fmt[i], f))
			return true;
	return false;
}

/*
 * A caller that sent no offer (delayed offer, RFC 3261 13.2.1) is taken to
 * have offered every codec its mapping gateway allows: the specified
 * codec, the gateway's list in its order, or every codec the switch
 * decodes; default formats, dynamic types from 96 up, telephone-event
 * when the gateway wants DTMF that way.  No address: the caller's comes
 * with its answer, in the ACK.
 */
void sg_cp_late_caller(struct sg_sdp *s, const struct sg_cp_conf *mg)
{
	int te = wants_te(mg) ? mg->rfc2833_pt : 0, next = SW_PT_DYNAMIC_MIN;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < SG_CP_MAX_CODECS && s->nfmt < SG_SDP_MAX_FMT;
	     i++) {
		const char *cn =
		    mg->specified ? (i ? NULL : mg->specified_codec)
		    : mg->ncodecs ? (i < mg->ncodecs ? mg->codecs[i] : NULL)
				  : sw_codec_names[i];
		struct sg_sdp_fmt *f = &s->fmt[s->nfmt];

		if (!cn)
			break;
		if (!mg->specified && !mg->ncodecs &&
		    !sw_codec_default_offer((enum sw_codec)i))
			continue;
		default_fmt(f, cn, mg->g729_mode == SW_G729_A);
		if (f->pt < 0) {
			while (next == te)
				next++;
			f->pt = next++;
		}
		s->nfmt++;
	}
	s->te_pt = te;
	s->te_rate = te ? 8000 : 0;
	s->ptime = 20;
	snprintf(s->direction, sizeof(s->direction), "sendrecv");
}

/*
 * What a caller that sent no offer is offered in the 2xx (fills out,
 * returns how many): the format decided for its leg first, then, when
 * both gateways allow transcoding, every other codec its gateway allows
 * that the switch decodes, so that it may answer with one of those.
 */
size_t sg_cp_late_offer(const struct sg_cp_offer *o,
			const struct sg_cp_answer *r, struct sg_sdp_fmt *out,
			size_t max)
{
	size_t n = 0;

	if (!max)
		return 0;
	out[n++] = r->a_fmt;
	for (size_t i = 0; o->xcode && i < o->na && n < max; i++) {
		if (fmt_canon(&o->a[i]) && !same_codec(&o->a[i], &r->a_fmt))
			out[n++] = o->a[i];
	}
	return n;
}

/*
 * The vendor answered (18x or 200 with SDP): its first format that we
 * offered is leg b's codec; a codec the caller offered passes end to end
 * untouched, any other is transcoded to the caller's first codec (o->a[0])
 * when both gateways allow it.  ENOTSUP with *why when the answer cannot
 * be used (the call then fails like a vendor 488).
 */
int sg_cp_make_answer(struct sg_cp_answer *r, const struct sg_cp_offer *o,
		      const struct sg_sdp *caller, const struct sg_sdp *vendor,
		      const struct sg_cp_conf *mg, const struct sg_cp_conf *rg,
		      const char **why)
{
	static const char *dummy;
	const struct sg_sdp_fmt *bf = NULL, *af, *ob = NULL;
	int b_te = 0;

	if (!why)
		why = &dummy;
	*why = "";
	if (!r || !o || !caller || !vendor || !mg || !rg)
		return EINVAL;
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < vendor->nfmt && !bf; i++) {
		for (size_t j = 0; j < o->nb; j++) {
			if (same_codec(&vendor->fmt[i], &o->b[j])) {
				bf = &vendor->fmt[i];
				ob = &o->b[j];
				break;
			}
		}
	}
	if (!bf) {
		*why = "the vendor answered no codec it was offered";
		return ENOTSUP;
	}
	af = a_cand(o, bf);
	if (!af) {
		if (!o->xcode || !o->na) {
			*why = "the vendor's codec is not the caller's and "
			       "transcoding is not allowed on both gateways";
			return ENOTSUP;
		}
		/* transcoded to the caller's first codec we can decode */
		af = known_a(o);
		if (!af || !fmt_canon(bf)) {
			*why = "the vendor's codec is not the caller's and one "
			       "of them cannot be transcoded";
			return ENOTSUP;
		}
		r->transcoding = true;
	}
	r->a_fmt = *af;
	r->b_fmt = *bf;

	/* each side's telephone-event at its codec's clock (sdp.c) */
	if (o->b_te_pt && vendor->te_pt)
		b_te = sg_sdp_te_at(vendor, bf->rate, &r->b_te_rate);
	if (!o->relay) {
		if (vendor->te_pt)
			r->a_te_pt =
			    sg_sdp_te_at(caller, af->rate, &r->a_te_rate);
	} else if (caller->te_pt && wants_te(mg)) {
		/* the caller's own ability (use_peer_rfc2833 or not: an
		 * answer cannot add what the offer lacked); its PT kept */
		r->a_te_pt = sg_sdp_te_at(caller, af->rate, &r->a_te_rate);
	}
	fill_plan(&r->a, af, caller->ptime, r->a_te_pt, mg);
	fill_plan(&r->b, bf, vendor->ptime, b_te, rg);

	/* annex B only when our offer and the answer both allow it: an
	 * answer cannot turn on what the offer declined (RFC 4856 default
	 * is on, so only an explicit annexb=no counts as off) */
	if (!strcmp(r->b.codec, sw_codec_names[SW_CODEC_G729]) &&
	    !(annexb_on(ob->fmtp) && annexb_on(bf->fmtp))) {
		snprintf(r->b.fmtp, sizeof(r->b.fmtp), "annexb=no");
		snprintf(r->b_fmt.fmtp, sizeof(r->b_fmt.fmtp), "annexb=no");
	}
	return 0;
}
