/*
 * callmedia.c - a call's media: each SDP read once and written once, the
 * codec policy applied, leg plans for the media node (callmedia.h)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "codec"
#include "common/log.h"
#include "proto/media.h"
#include "signaling/call.h"
#include "signaling/callmedia.h"
#include "signaling/media.h"
#include "signaling/sg.h"
#include "signaling/tables.h"

/* ---- the pure steps ---- */

/*
 * The caller's offer: kept as received (text) and read (caller).  The
 * read's error is returned (EBADMSG, ENOENT); the text is kept all the
 * same, for a call whose media is not relayed.
 */
int sg_cm_read_offer(struct sg_cm *m, const char *sdp, size_t len)
{
	int err;

	sg_cm_settled(m);
	m->text = strndup(sdp, len);
	m->caller = malloc(sizeof(*m->caller));
	if (!m->text || !m->caller) {
		sg_cm_settled(m);
		return ENOMEM;
	}
	err = sg_sdp_read(m->caller, sdp, len);
	if (err) {
		free(m->caller);
		m->caller = NULL;
	}
	return err;
}

/* the text the vendor's offer is written from when the caller sent none:
 * the writer puts in the node's address and port and the formats */
static const char late_text[] = "v=0\r\n"
				"o=tandem 1 1 IN IP4 0.0.0.0\r\n"
				"s=tandem\r\n"
				"c=IN IP4 0.0.0.0\r\n"
				"t=0 0\r\n"
				"m=audio 9 RTP/AVP 0\r\n"
				"a=sendrecv\r\n";

/*
 * The caller sent no offer: it is taken to have offered what its mapping
 * gateway allows (sg_cp_late_caller), written from late_text.
 */
int sg_cm_late_offer(struct sg_cm *m, const struct sg_cp_conf *mg)
{
	sg_cm_settled(m);
	m->late = true;
	m->text = strdup(late_text);
	m->caller = malloc(sizeof(*m->caller));
	if (!m->text || !m->caller) {
		sg_cm_settled(m);
		return ENOMEM;
	}
	sg_cp_late_caller(m->caller, mg);
	return 0;
}

/*
 * The caller's offer against the mapping gateway alone (SPEC §5: a
 * specified codec it did not offer, or no allowed codec): EPERM with *why
 * then, and the call fails with 488 before routing.
 */
int sg_cm_check(const struct sg_cm *m, const struct sg_cp_conf *mg, bool relay,
		const char **why)
{
	struct sg_cp_conf any;
	struct sg_cp_offer o;

	if (!m->caller)
		return 0;
	/* any routing gateway: only the caller's side can fail */
	sg_cp_conf_default(&any);
	any.allow_transcoding = true;
	return sg_cp_make_offer(&o, m->caller, mg, &any, relay, why) == EPERM
		   ? EPERM
		   : 0;
}

static void leg_peer(struct sg_cm_leg *l, const struct sg_sdp *s)
{
	snprintf(l->ip, sizeof(l->ip), "%s", s->ip);
	l->port = s->port;
	snprintf(l->direction, sizeof(l->direction), "%s", s->direction);
}

static void leg_set(struct sg_cm_leg *l, const struct sg_cp_plan *p,
		    const char *name, const struct sg_sdp *peer)
{
	memset(l, 0, sizeof(*l));
	l->set = true;
	l->plan = *p;
	snprintf(l->name, sizeof(l->name), "%s", name);
	if (peer)
		leg_peer(l, peer);
	else
		snprintf(l->direction, sizeof(l->direction), "sendrecv");
}

/* the pass-through plan of an SDP's leg; name = its first format's */
static void leg_pass(struct sg_cm_leg *l, const struct sg_sdp *s)
{
	struct sg_cp_plan p;

	sg_cp_plan_pass(&p, s);
	leg_set(l, &p, s && s->nfmt ? s->fmt[0].name : "", s);
}

/*
 * The plans of media.offer, before any vendor answered: the caller's leg
 * with its first format, the vendor's leg offered the same, peer unknown.
 */
void sg_cm_node_legs(const struct sg_cm *m, struct sg_cm_leg *a,
		     struct sg_cm_leg *b)
{
	leg_pass(a, m->caller);
	leg_set(b, &a->plan, a->name, NULL);
}

/*
 * The SDP of the INVITE to one routing gateway, written from the caller's
 * text: the policy's formats for this gateway, and the media node's
 * vendor side (node_ip:node_port) when media is relayed (node_ip != NULL).
 * *outp NULL when the caller sent no SDP.  ENOTSUP with *why: this gateway
 * cannot take the call (no INVITE goes to it).  Without a readable offer
 * (media not relayed) the caller's text goes out as it is.
 */
int sg_cm_offer(struct sg_cm *m, const struct sg_cp_conf *mg,
		const struct sg_cp_conf *rg, const char *node_ip, int node_port,
		char **outp, const char **why)
{
	struct sg_sdp_edit e = {.ip = node_ip, .port = node_port};

	*outp = NULL;
	m->have_ans = false;
	if (!m->text)
		return 0;
	if (m->caller) {
		if (!m->offer)
			m->offer = malloc(sizeof(*m->offer));
		if (!m->offer)
			return ENOMEM;
		if (sg_cp_make_offer(m->offer, m->caller, mg, rg,
				     node_ip != NULL, why)) {
			free(m->offer);
			m->offer = NULL;
			m->codec_refused = true;
			return ENOTSUP;
		}
		e.set_formats = true;
		e.fmt = m->offer->b;
		e.nfmt = m->offer->nb;
		e.te_pt = m->offer->b_te_pt;
		e.te_rate = m->offer->b_te_rate;
		e.te2_pt = m->offer->b_te2_pt;
		e.te2_rate = m->offer->b_te2_rate;
	}
	return sg_sdp_write(outp, m->text, strlen(m->text), &e);
}

/*
 * The vendor's SDP (18x or 2xx) of a relayed call: the policy decides
 * both legs (m->have_ans; a and b set) and the caller's SDP is the
 * vendor's with the caller's codec, pointed at the node's caller side.
 * When the policy cannot use the answer (*why says why) or there is no
 * offer of the policy's, it passes through: the vendor's formats to the
 * caller, b's plan from them, a unchanged.  EBADMSG / ENOENT: the SDP is
 * unreadable, nothing changed.
 */
int sg_cm_answer(struct sg_cm *m, const char *sdp, size_t len,
		 const struct sg_cp_conf *mg, const struct sg_cp_conf *rg,
		 const char *node_ip, int node_port, char **outp,
		 struct sg_cm_leg *a, struct sg_cm_leg *b, const char **why)
{
	struct sg_sdp_edit e = {.ip = node_ip, .port = node_port};
	struct sg_sdp_fmt late_fmt[SG_SDP_MAX_FMT];
	struct sg_sdp v;
	int err;

	*outp = NULL;
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	err = sg_sdp_read(&v, sdp, len);
	if (err)
		return err;
	m->have_ans =
	    m->offer && m->caller &&
	    !sg_cp_make_answer(&m->ans, m->offer, m->caller, &v, mg, rg, why);
	if (m->have_ans) {
		const struct sg_cp_answer *r = &m->ans;

		e.set_formats = true;
		e.fmt = &r->a_fmt;
		e.nfmt = 1;
		if (m->late) /* an offer to the caller, not an answer */
			e.nfmt = sg_cp_late_offer(m->offer, r, late_fmt,
						  SG_SDP_MAX_FMT);
		if (m->late)
			e.fmt = late_fmt;
		e.te_pt = r->a_te_pt;
		e.te_rate = r->a_te_rate;
		if (!m->late)
			leg_set(a, &r->a, r->a.codec, m->caller);
		leg_set(b, &r->b, r->b.codec, &v);
	} else {
		leg_pass(b, &v);
	}
	if (m->late) {
		if (!m->vendor)
			m->vendor = malloc(sizeof(*m->vendor));
		if (!m->vendor)
			return ENOMEM;
		*m->vendor = v;
	}
	return sg_sdp_write(outp, sdp, len, &e);
}

/*
 * The answer in the ACK of a caller that sent no offer: the policy
 * decides its leg against the vendor's answer kept since the 2xx, as if
 * the caller had offered what it answered (a).  ENOTSUP with *why: no
 * codec both can use (transcoding not allowed on both gateways, or the
 * caller refused the stream); EBADMSG / ENOENT: unreadable, or an address
 * that is not an IP literal.
 */
int sg_cm_late_answer(struct sg_cm *m, const char *sdp, size_t len,
		      const struct sg_cp_conf *mg, const struct sg_cp_conf *rg,
		      struct sg_cm_leg *a, const char **why)
{
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	struct sg_sdp x;
	int err;

	memset(a, 0, sizeof(*a));
	*why = "";
	err = sg_sdp_read(&x, sdp, len);
	if (!err && (!x.ip_literal || !x.nfmt))
		err = EBADMSG;
	if (err) {
		*why = "the caller's answer is not SDP with an audio stream "
		       "at an IP address";
		return err;
	}
	if (!x.port) {
		*why = "the caller refused the audio stream";
		return ENOTSUP;
	}
	if (!m->vendor) { /* no decision at the 2xx: it passes through */
		leg_pass(a, &x);
		return 0;
	}
	if (sg_cp_make_offer(&o, &x, mg, rg, true, why) ||
	    sg_cp_make_answer(&r, &o, &x, m->vendor, mg, rg, why))
		return ENOTSUP;
	m->ans = r;
	m->have_ans = true;
	leg_set(a, &r.a, r.a.codec, &x);
	return 0;
}

/*
 * An SDP crossing an answered call (a re-INVITE's offer or its answer)
 * from one side: the codecs decided at the answer stay (SPEC §5 decides
 * them once), the sender's new address and direction go to the node
 * (leg), and the other side gets the SDP pointed at the node's side
 * facing it, with its own decided format.  Without a decision it passes
 * through.  EBADMSG / ENOENT: unreadable; ENOTSUP: the sender's decided
 * codec is not in it (a re-INVITE then gets 488).
 */
int sg_cm_across(const struct sg_cm *m, bool from_a, const char *sdp,
		 size_t len, const char *node_ip, int node_port, char **outp,
		 struct sg_cm_leg *leg)
{
	struct sg_sdp_edit e = {.ip = node_ip, .port = node_port};
	const struct sg_cp_answer *r = &m->ans;
	struct sg_sdp s;
	int err;

	*outp = NULL;
	err = sg_sdp_read(&s, sdp, len);
	if (err)
		return err;
	if (m->have_ans) {
		const struct sg_cp_plan *p = from_a ? &r->a : &r->b;

		/* the codecs are decided once (SPEC §5): an SDP without the
		 * sender's cannot be served, unless it refuses the stream */
		if (s.port &&
		    !sg_cp_sdp_has(&s, from_a ? &r->a_fmt : &r->b_fmt))
			return ENOTSUP;

		e.set_formats = true;
		e.fmt = from_a ? &r->b_fmt : &r->a_fmt;
		e.nfmt = 1;
		e.te_pt = from_a ? r->b.te_pt : r->a_te_pt;
		e.te_rate = from_a ? r->b_te_rate : r->a_te_rate;
		leg_set(leg, p, p->codec, &s);
	} else {
		leg_pass(leg, &s);
	}
	return sg_sdp_write(outp, sdp, len, &e);
}

/*
 * An address a peer behind NAT would put in its SDP: RFC 1918, CGNAT
 * (100.64/10), link-local, IPv6 unique-local and link-local.  Loopback is
 * not (a test rig's peers are there).  Not an IP literal: false.
 */
bool sg_cm_addr_private(const char *ip)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168) ||
		       (a[0] == 100 && (a[1] & 0xc0) == 64) ||
		       (a[0] == 169 && a[1] == 254);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return (a[0] & 0xfe) == 0xfc ||
		       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
	return false;
}

/* DTMF settings that only the media node can carry out (not defaults) */
static bool dtmf_converted(const struct sg_cp_conf *c)
{
	return c->dtmf_send != SW_DTMF_AUTO || c->dtmf_receive != SW_DTMF_ALL;
}

/*
 * Does an attempt on a routing gateway need the media node (SPEC §4)?
 * mode: SS_MEDIAPROXYMODE.  Whatever the mode (but 0), transcoding or
 * DTMF conversion needs it, and so does a caller that sent no offer (the
 * switch makes one).  Mode 3 always; mode 1 unless a gateway's
 * media_proxy is off; mode 2 (auto) when a gateway's is on, or the
 * caller's SDP address is private or not its signalling source (src_ip),
 * unless a gateway's is off.  SRTP (a SAVP transport) is not relayed
 * when nothing forces it: the node cannot decrypt it.  *why says what
 * decided.
 */
bool sg_cm_relay_wanted(const struct sg_cm *m, int mode,
			const struct sg_cp_conf *mg,
			const struct sg_cp_conf *rg, const char *src_ip,
			const char **why)
{
	struct sg_cp_offer o;
	const char *w;

	*why = "SS_MEDIAPROXYMODE 0";
	if (mode == SW_MEDIA_MODE_OFF || !m->text)
		return false;
	*why = "SS_MEDIAPROXYMODE 3";
	if (mode == SW_MEDIA_MODE_MUST || !m->caller)
		return true;
	*why = "the caller sent no offer";
	if (m->late)
		return true;
	*why = "transcoding";
	if (sg_cp_make_offer(&o, m->caller, mg, rg, false, &w))
		return true;
	*why = "DTMF conversion";
	if (dtmf_converted(mg) || dtmf_converted(rg))
		return true;
	*why = "SRTP goes end to end";
	if (m->caller->secure)
		return false;
	*why = "a gateway's media_proxy is off";
	if (mg->media_proxy == SW_MEDIA_PROXY_OFF ||
	    rg->media_proxy == SW_MEDIA_PROXY_OFF)
		return false;
	*why = "SS_MEDIAPROXYMODE 1";
	if (mode == SW_MEDIA_MODE_ON)
		return true;
	*why = "a gateway's media_proxy is on";
	if (mg->media_proxy == SW_MEDIA_PROXY_ON ||
	    rg->media_proxy == SW_MEDIA_PROXY_ON)
		return true;
	*why = "the caller's SDP address is private";
	if (sg_cm_addr_private(m->caller->ip))
		return true;
	*why = "the caller's SDP address is not its signalling source";
	if (src_ip && strcmp(m->caller->ip, src_ip))
		return true;
	*why = "SS_MEDIAPROXYMODE 2, nothing to relay for";
	return false;
}

/*
 * The call is answered: its codecs are decided, so the offers that led
 * to them go (the decision stays for re-INVITEs and DTMF).
 */
void sg_cm_settled(struct sg_cm *m)
{
	free(m->text);
	m->text = NULL;
	free(m->caller);
	m->caller = NULL;
	free(m->offer);
	m->offer = NULL;
}

void sg_cm_free(struct sg_cm *m)
{
	sg_cm_settled(m);
	free(m->vendor);
	memset(m, 0, sizeof(*m));
}

/* ---- on a live call ---- */

/* media settings; gateways built without them (phones) get the defaults */
static const struct sg_cp_conf *conf_or_default(const struct sg_cp_conf *c)
{
	static struct sg_cp_conf def;

	if (c && c->rfc2833_pt)
		return c;
	if (!def.rfc2833_pt)
		sg_cp_conf_default(&def);
	return &def;
}

const struct sg_cp_conf *sg_callmedia_mg(const struct sg_call *c)
{
	return conf_or_default(c->mgw ? &c->mgw->media : NULL);
}

const struct sg_cp_conf *sg_callmedia_rg(const struct sg_call *c)
{
	return conf_or_default(c->gw ? &c->gw->media : NULL);
}

/* media anchored on a node (any mode but 0) */
bool sg_callmedia_relayed(const struct sg_call *c)
{
	return params_of(c)->media_mode != SW_MEDIA_MODE_OFF;
}

/*
 * An attempt on gw needs the media node (sg_cm_relay_wanted); a call
 * already anchored keeps its node for every later attempt (the node would
 * otherwise end it for want of RTP).
 */
bool sg_callmedia_relay_for(const struct sg_call *c, const struct sg_gw *gw)
{
	const char *why = "";
	bool relay;

	if (c->media_up)
		return true;
	relay = sg_cm_relay_wanted(
	    &c->cm, (int)params_of(c)->media_mode, sg_callmedia_mg(c),
	    conf_or_default(&gw->media), c->src_ip, &why);
	sw_cdebug(c->callid_a, "%s: media %s (%s)", gw->name,
		  relay ? "relayed" : "direct", why);
	return relay;
}

/* a leg's codec for the CDR and the live view: our spelling of the codecs
 * we know ("G729" for "g729a"), any other as the SDP wrote it */
static void set_codec(char *dst, size_t size, const char *name)
{
	const char *canon = sw_codec_canon(name);

	snprintf(dst, size, "%s", canon ? canon : name);
}

/*
 * The caller's INVITE carried SDP: keep and read it.  Non-zero when the
 * call cannot go on with it (it fails with 488 BadSdp): SDP that is not
 * SDP (EBADMSG) in any media mode; with media relayed also one without
 * an audio stream (ENOENT) or whose address is not an IP literal.  With
 * media not relayed an SDP without audio (T.38 only, video) goes on as
 * it is.
 */
int sg_callmedia_offer(struct sg_call *c, const char *sdp, size_t len)
{
	const struct sg_sdp *s;
	int err = sg_cm_read_offer(&c->cm, sdp, len);

	s = c->cm.caller;
	if (s && s->nfmt)
		set_codec(c->codec_a, sizeof(c->codec_a), s->fmt[0].name);
	if (err == ENOENT && !sg_callmedia_relayed(c))
		err = 0;
	if (!err && s && s->ip[0] && !s->ip_literal &&
	    sg_callmedia_relayed(c)) {
		sw_cinfo(c->callid_a,
			 "caller SDP address '%s' is not an IP "
			 "address",
			 s->ip);
		err = EBADMSG;
	}
	if (!err && s && !s->nfmt && sg_callmedia_relayed(c)) {
		/* e.g. every rtpmap with a clock rate no audio runs at */
		sw_cinfo(c->callid_a, "caller SDP has no audio format that "
				      "can be read");
		err = EBADMSG;
	}
	return err;
}

/* 488 CodecMismatch before routing (sg_cm_check); non-zero then */
int sg_callmedia_check(struct sg_call *c)
{
	const char *why = "";

	if (sg_cm_check(&c->cm, sg_callmedia_mg(c), sg_callmedia_relayed(c),
			&why) != EPERM)
		return 0;
	sw_cinfo(c->callid_a, "488: %s (mapping gateway %s)", why,
		 c->mgw->name);
	sg_call_fail(c, 488, sip_488_Not_acceptable, "CodecMismatch", "server");
	return EPERM;
}

/* the plan of l for the media node, pointing into l */
static struct sg_media_leg leg_of(const struct sg_call *c, bool leg_a,
				  const struct sg_cm_leg *l)
{
	struct sg_media_leg m = {.plan = &l->plan,
				 .ip = l->ip,
				 .port = l->port,
				 .direction = l->direction};

	sg_call_guard(c, leg_a, &m);
	return m;
}

/* media.update of one leg with the plan l */
static void send_update(struct sg_call *c, bool leg_a,
			const struct sg_cm_leg *l)
{
	struct sg_media_leg m = leg_of(c, leg_a, l);

	sg_media_update(c->node, c->id, leg_a ? "a" : "b", &m,
			(int)c->sg->cfg.media_timeout_ms);
}

/* the leg plans of media.offer: *a and *b point into *la and *lb */
void sg_callmedia_node_plans(struct sg_call *c, struct sg_cm_leg *la,
			     struct sg_cm_leg *lb, struct sg_media_leg *a,
			     struct sg_media_leg *b)
{
	sg_cm_node_legs(&c->cm, la, lb);
	*a = leg_of(c, true, la);
	*b = leg_of(c, false, lb);
}

/*
 * The caller's INVITE had no SDP (delayed offer).  Media relayed: the
 * call goes on as if it had offered what its mapping gateway allows
 * (sg_cm_late_offer); its answer comes in the ACK (sg_callmedia_late_ack).
 * Media not relayed: nothing here; the vendor gets no SDP either, and the
 * ACK carries the caller's answer through (failover.c).
 */
int sg_callmedia_late(struct sg_call *c)
{
	if (!sg_callmedia_relayed(c)) {
		c->cm.late = true;
		return 0;
	}
	sw_cinfo(c->callid_a, "no SDP in the INVITE: the caller will be "
			      "offered in the 200 and answer in its ACK");
	return sg_cm_late_offer(&c->cm, sg_callmedia_mg(c));
}

/*
 * The ACK of a caller that was offered in the 2xx: its answer decides its
 * leg and the media node learns it (media.update a).  Non-zero: the call
 * cannot go on (no answer, unreadable, no codec in common); the caller
 * ends it.  0 for an ACK that is not awaited (a retransmission, a call
 * that had an offer).
 */
int sg_callmedia_late_ack(struct sg_call *c, const char *sdp, size_t len)
{
	struct sg_cm_leg a;
	const char *why = "the ACK carries no SDP";
	int err = ENOENT;

	if (!c->cm.late || !sg_callmedia_relayed(c))
		return 0;
	c->cm.late = false;
	if (!c->media_up) {
		free(c->cm.vendor);
		c->cm.vendor = NULL;
		return 0;
	}
	if (sdp && len)
		err = sg_cm_late_answer(&c->cm, sdp, len, sg_callmedia_mg(c),
					sg_callmedia_rg(c), &a, &why);
	free(c->cm.vendor);
	c->cm.vendor = NULL;
	if (err) {
		sw_cinfo(c->callid_a, "caller's answer unusable: %s", why);
		return err;
	}
	send_update(c, true, &a);
	set_codec(c->codec_a, sizeof(c->codec_a), a.name);
	sw_cdebug(c->callid_a, "caller answered %s/%d%s", a.plan.codec,
		  a.plan.pt, c->cm.ans.transcoding ? ", transcoded" : "");
	return 0;
}

/*
 * c->sdp_to_b for an attempt on routing gateway gw (sg_cm_offer).
 * Non-zero: no INVITE goes to gw (ENOTSUP: it cannot take the call).
 */
int sg_callmedia_attempt(struct sg_call *c, const struct sg_gw *gw)
{
	bool relay = sg_callmedia_relayed(c) && c->media_up;
	const char *why = "";
	char *out = NULL;
	int err;

	err =
	    sg_cm_offer(&c->cm, sg_callmedia_mg(c), conf_or_default(&gw->media),
			relay ? c->b_local_ip : NULL,
			relay ? c->b_local_port : 0, &out, &why);
	if (err == ENOTSUP) {
		sw_cinfo(c->callid_a, "%s skipped: %s", gw->name, why);
		return err;
	}
	if (err) {
		sw_cwarn(c->callid_a, "SDP for %s not written: %s", gw->name,
			 strerror(err));
		return err;
	}
	free(c->sdp_to_b);
	c->sdp_to_b = out;
	return 0;
}

/*
 * Media not relayed: both sides talk the codec the vendor answered with
 * (the first of its answer), and the CDR says so for both legs.
 */
static void answered_codec(struct sg_call *c, const char *sdp, size_t len)
{
	struct sg_sdp v;

	if (sg_sdp_read(&v, sdp, len) || !v.nfmt)
		return;
	set_codec(c->codec_a, sizeof(c->codec_a), v.fmt[0].name);
	set_codec(c->codec_b, sizeof(c->codec_b), v.fmt[0].name);
}

/*
 * The vendor's SDP (18x or 2xx): the plans to the media node (media.update
 * a when the policy decided it, media.answer b) and c->sdp_to_a.  Media
 * not relayed: the vendor's SDP goes to the caller as it is.
 */
void sg_callmedia_answer(struct sg_call *c, const char *sdp, size_t len)
{
	struct sg_media_leg mb;
	struct sg_cm_leg a, b;
	const char *why = "";
	char *out = NULL;
	int err;

	if (!sdp || !len)
		return;
	if (!sg_callmedia_relayed(c) || !c->media_up) {
		free(c->sdp_to_a);
		c->sdp_to_a = strndup(sdp, len);
		answered_codec(c, sdp, len);
		return;
	}
	err = sg_cm_answer(&c->cm, sdp, len, sg_callmedia_mg(c),
			   sg_callmedia_rg(c), c->a_local_ip, c->a_local_port,
			   &out, &a, &b, &why);
	if (err) {
		sw_cwarn(c->callid_a, "vendor SDP unusable (%s), kept previous",
			 strerror(err));
		return;
	}
	if (!c->cm.have_ans && why[0])
		sw_cwarn(c->callid_a,
			 "vendor answer of %s: %s; relayed as it is",
			 c->routing_gw, why);
	if (a.set) {
		send_update(c, true, &a);
		set_codec(c->codec_a, sizeof(c->codec_a), a.name);
	}
	mb = leg_of(c, false, &b);
	sg_media_answer(c->node, c->id, &mb, (int)c->sg->cfg.media_timeout_ms);
	c->b_media_set = true;
	set_codec(c->codec_b, sizeof(c->codec_b), b.name);
	free(c->sdp_to_a);
	c->sdp_to_a = out;
	if (c->cm.have_ans)
		sw_cdebug(c->callid_a,
			  "codecs: caller %s/%d, vendor %s/%d%s; DTMF to "
			  "caller %s, to vendor %s",
			  a.plan.codec, a.plan.pt, b.plan.codec, b.plan.pt,
			  c->cm.ans.transcoding ? ", transcoded" : "",
			  a.plan.dtmf_send, b.plan.dtmf_send);
}

/*
 * An SDP that crossed the call from one side (sg_cm_across): the node
 * learns the sender's new plan (media.update of its leg), *outp is the
 * SDP for the other side (malloc'd; a copy when media is not relayed).
 */
int sg_callmedia_across(struct sg_call *c, bool from_a, const char *sdp,
			size_t len, char **outp)
{
	struct sg_cm_leg leg;
	int err;

	*outp = NULL;
	if (!sg_callmedia_relayed(c) || !c->media_up) {
		*outp = strndup(sdp, len);
		return *outp ? 0 : ENOMEM;
	}
	err = sg_cm_across(
	    &c->cm, from_a, sdp, len, from_a ? c->b_local_ip : c->a_local_ip,
	    from_a ? c->b_local_port : c->a_local_port, outp, &leg);
	if (err)
		return err;
	send_update(c, from_a, &leg);
	return 0;
}
