/*
 * cpwire.c - the codec and DTMF policy applied to a live call: offers per
 * routing gateway, the vendor's answer, SIP INFO and media.event dtmf
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "codec"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "proto/media.h"
#include "proto/proto.h"
#include "signaling/call.h"
#include "signaling/calls.h"
#include "signaling/codecpol.h"
#include "signaling/cpwire.h"
#include "signaling/dtmfinfo.h"
#include "signaling/media.h"
#include "signaling/sdp.h"
#include "signaling/sg.h"
#include "signaling/tables.h"

/*
 * The caller's offer and the current attempt's offer are needed only until
 * the call is answered (failover, early media); then the codecs are decided
 * (SPEC §5, once) and sg_cpw_settled() frees them: a call that is up keeps
 * only the answer, about 1.3 kB instead of 16 kB.
 */
struct sg_cp_call {
	struct sg_cp_sdp *caller;  /* owned: the caller's offer, or NULL */
	char *base_b;		   /* owned: the caller's SDP rewritten to the
				      node, before the policy */
	struct sg_cp_offer *offer; /* owned: the current attempt's */
	bool have_offer;
	struct sg_cp_answer ans; /* from the vendor's last SDP */
	bool have_ans;
	bool codec_refused; /* a gateway was skipped for codecs */
	char lock[2][8];    /* per sending leg: first DTMF method
			       seen (receive "all") */
};

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

static const struct sg_cp_conf *mg_conf(const struct sg_call *c)
{
	return conf_or_default(c->mgw ? &c->mgw->media : NULL);
}

static const struct sg_cp_conf *rg_conf(const struct sg_call *c)
{
	return conf_or_default(c->gw ? &c->gw->media : NULL);
}

static bool relayed(const struct sg_call *c)
{
	return params_of(c)->media_mode != SW_MEDIA_MODE_OFF;
}

static struct sg_cp_call *cp_of(struct sg_call *c)
{
	if (!c->cp)
		c->cp = calloc(1, sizeof(*c->cp));
	return c->cp;
}

void sg_cpw_free(struct sg_call *c)
{
	if (!c || !c->cp)
		return;
	sg_cpw_settled(c);
	free(c->cp);
	c->cp = NULL;
}

/*
 * The caller's offer against the mapping gateway (SPEC §5: a specified
 * codec the caller did not offer, or no allowed codec): the call fails
 * with 488 CodecMismatch before routing; returns non-zero then.  An offer
 * the policy cannot read leaves the call to the plain relay.
 */
int sg_cpw_caller_check(struct sg_call *c)
{
	struct sg_cp_conf any;
	struct sg_cp_offer o;
	struct sg_cp_call *cp;
	const char *why;
	int err;

	if (!c->offer)
		return 0;
	cp = cp_of(c);
	if (!cp)
		return 0;
	if (!cp->caller)
		cp->caller = malloc(sizeof(*cp->caller));
	if (!cp->caller)
		return 0;
	if (sg_cp_sdp_parse(cp->caller, c->offer, strlen(c->offer))) {
		free(cp->caller);
		cp->caller = NULL;
		return 0;
	}
	/* any routing gateway: only the caller's side can fail */
	sg_cp_conf_default(&any);
	any.allow_transcoding = true;
	err = sg_cp_make_offer(&o, cp->caller, mg_conf(c), &any, relayed(c),
			       &why);
	if (err != EPERM)
		return 0;
	sw_cinfo(c->callid_a, "488: %s (mapping gateway %s)", why,
		 c->mgw->name);
	sg_call_fail(c, 488, sip_488_Not_acceptable, "CodecMismatch", "server");
	return EPERM;
}

/*
 * The SDP offered to routing gateway gw (c->sdp_to_b is set to it).
 * ENOTSUP: this gateway cannot take the call (logged; it is skipped and
 * no INVITE goes out).  Without a readable caller offer, c->sdp_to_b is
 * left as it is.
 */
int sg_cpw_attempt(struct sg_call *c, const struct sg_gw *gw)
{
	struct sg_cp_call *cp = c->cp;
	const char *why;
	char *out = NULL;
	int err;

	if (!cp || !cp->caller || !c->sdp_to_b)
		return 0;
	if (!cp->offer)
		cp->offer = malloc(sizeof(*cp->offer));
	if (!cp->offer)
		return 0;
	if (!cp->base_b) {
		cp->base_b = strdup(c->sdp_to_b);
		if (!cp->base_b)
			return 0;
	}
	cp->have_offer = cp->have_ans = false;
	err = sg_cp_make_offer(cp->offer, cp->caller, mg_conf(c),
			       conf_or_default(&gw->media), relayed(c), &why);
	if (err) {
		sw_cinfo(c->callid_a, "%s skipped: %s", gw->name, why);
		cp->codec_refused = true;
		return ENOTSUP;
	}
	err = sg_cp_sdp_set_formats(&out, cp->base_b, strlen(cp->base_b),
				    cp->offer->b, cp->offer->nb,
				    cp->offer->b_te_pt, cp->offer->b_te_rate);
	if (err) {
		sw_cwarn(c->callid_a,
			 "vendor offer not written (%s), the "
			 "caller's SDP goes out",
			 strerror(err));
		return 0;
	}
	free(c->sdp_to_b);
	c->sdp_to_b = out;
	cp->have_offer = true;
	return 0;
}

/*
 * The call is answered: its codecs are decided, so the offers that led
 * to them go (the answer stays for re-INVITEs and DTMF).
 */
void sg_cpw_settled(struct sg_call *c)
{
	struct sg_cp_call *cp = c ? c->cp : NULL;

	if (!cp)
		return;
	free(cp->caller);
	cp->caller = NULL;
	free(cp->offer);
	cp->offer = NULL;
	cp->have_offer = false;
	free(cp->base_b);
	cp->base_b = NULL;
}

/* no INVITE went out because every gateway was refused for codecs */
bool sg_cpw_codec_refused(const struct sg_call *c)
{
	return c->cp && c->cp->codec_refused;
}

static json_t *plan_json(const struct sg_cp_plan *p, const char *ip, int port,
			 const char *direction)
{
	return json_pack(
	    "{s:s, s:i, s:s, s:i, s:i, s:i, s:s, s:i, s:s, s:s,"
	    " s:s}",
	    "remote_ip", ip, "remote_port", port, "codec", p->codec, "pt",
	    p->pt, "rate", p->rate ? p->rate : 8000, "ptime", p->ptime, "fmtp",
	    p->fmtp, "te_pt", p->te_pt, "dtmf_send", p->dtmf_send, "dtmf_recv",
	    p->dtmf_recv, "direction", direction[0] ? direction : "sendrecv");
}

/*
 * The vendor's SDP (18x or 2xx): leg plans for both legs to the media node
 * (media.update a, media.answer b) and the SDP for the caller
 * (c->sdp_to_a: the vendor's SDP pointed at the node with the caller's
 * codec).  Non-zero: not handled here (no policy for this call, or the
 * answer is unusable), the caller of this function relays as before.
 */
int sg_cpw_answer(struct sg_call *c, const char *sdp, size_t len)
{
	struct sg_cp_call *cp = c->cp;
	struct sg_cp_sdp v;
	const char *why;
	char *tmp = NULL, *out = NULL;
	int err;

	if (!cp || !cp->have_offer || !cp->caller || !cp->offer ||
	    !relayed(c) || !c->media_up)
		return ENOENT;
	if (sg_sdp_inspect(&(struct sg_sdp_media){0}, sdp, len) ||
	    sg_cp_sdp_parse(&v, sdp, len))
		return EBADMSG;
	err = sg_cp_make_answer(&cp->ans, cp->offer, cp->caller, &v, mg_conf(c),
				rg_conf(c), &why);
	if (err) {
		sw_cwarn(c->callid_a,
			 "vendor answer of %s: %s; relayed as "
			 "it is",
			 c->routing_gw, why);
		return err;
	}
	err = sg_sdp_rewrite(&tmp, sdp, len, c->a_local_ip, c->a_local_port);
	if (!err)
		err = sg_cp_sdp_set_formats(&out, tmp, strlen(tmp),
					    &cp->ans.a_fmt, 1, cp->ans.a_te_pt,
					    cp->ans.a_te_rate);
	free(tmp);
	if (err) {
		sw_cwarn(c->callid_a, "cannot write the caller's answer: %s",
			 strerror(err));
		return err;
	}
	cp->have_ans = true;
	sg_media_update(
	    c->node, c->id, "a",
	    sg_call_guard(c, true,
			  plan_json(&cp->ans.a, cp->caller->ip,
				    cp->caller->port, cp->caller->direction)),
	    (int)c->sg->cfg.media_timeout_ms);
	sg_media_answer(
	    c->node, c->id,
	    sg_call_guard(c, false,
			  plan_json(&cp->ans.b, v.ip, v.port, v.direction)),
	    (int)c->sg->cfg.media_timeout_ms);
	c->b_media_set = true;
	snprintf(c->codec_a, sizeof(c->codec_a), "%s", cp->ans.a.codec);
	snprintf(c->codec_b, sizeof(c->codec_b), "%s", cp->ans.b.codec);
	free(c->sdp_to_a);
	c->sdp_to_a = out;
	sw_cdebug(c->callid_a,
		  "codecs: caller %s/%d, vendor %s/%d%s; DTMF "
		  "to caller %s, to vendor %s",
		  cp->ans.a.codec, cp->ans.a.pt, cp->ans.b.codec, cp->ans.b.pt,
		  cp->ans.transcoding ? ", transcoded" : "",
		  cp->ans.a.dtmf_send, cp->ans.b.dtmf_send);
	return 0;
}

/*
 * An SDP crossing an answered call (re-INVITE offer or its answer) from
 * one side: the codecs negotiated at the answer stay (SPEC §5 decides
 * them once); the sender's new address and direction go to the node
 * (media.update of its leg), the other side gets the SDP pointed at the
 * node with its own negotiated format.  Non-zero: not handled here.
 */
int sg_cpw_across(struct sg_call *c, bool from_a, const char *sdp, size_t len,
		  char **outp)
{
	struct sg_cp_call *cp = c->cp;
	const struct sg_cp_answer *r;
	struct sg_cp_sdp s;
	char *tmp = NULL;
	int err;

	*outp = NULL;
	if (!cp || !cp->have_ans || !relayed(c) || !c->media_up)
		return ENOENT;
	if (sg_sdp_inspect(&(struct sg_sdp_media){0}, sdp, len) ||
	    sg_cp_sdp_parse(&s, sdp, len))
		return EBADMSG;
	r = &cp->ans;
	err = sg_sdp_rewrite(&tmp, sdp, len,
			     from_a ? c->b_local_ip : c->a_local_ip,
			     from_a ? c->b_local_port : c->a_local_port);
	if (!err)
		err = from_a ? sg_cp_sdp_set_formats(outp, tmp, strlen(tmp),
						     &r->b_fmt, 1, r->b.te_pt,
						     r->b_te_rate)
			     : sg_cp_sdp_set_formats(outp, tmp, strlen(tmp),
						     &r->a_fmt, 1, r->a_te_pt,
						     r->a_te_rate);
	free(tmp);
	if (err)
		return err;
	sg_media_update(c->node, c->id, from_a ? "a" : "b",
			sg_call_guard(c, from_a,
				      plan_json(from_a ? &r->a : &r->b, s.ip,
						s.port, s.direction)),
			(int)c->sg->cfg.media_timeout_ms);
	return 0;
}

/* ---- DTMF ---- */

static int info_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct sg_call *c = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	if (status < 200)
		return 0;
	if (status >= 300)
		sw_cinfo(c->callid_a, "DTMF INFO answered %d", status);
	nta_outgoing_destroy(orq);
	sg_call_txn_done(c);
	return 0;
}

static void send_info(struct sg_call *c, bool to_a, char digit, unsigned ms)
{
	nta_leg_t *leg = to_a ? c->leg_a : c->leg_b;
	nta_outgoing_t *o;
	char body[64];

	if (!leg || c->state < SG_CALL_ANSWERED || c->state == SG_CALL_ENDED)
		return;
	if (sg_dtmf_info_build(body, sizeof(body), digit, ms))
		return;
	o = nta_outgoing_tcreate(leg, info_resp, c, NULL, SIP_METHOD_INFO, NULL,
				 SIPTAG_CONTENT_TYPE_STR(SG_DTMF_INFO_TYPE),
				 SIPTAG_PAYLOAD_STR(body), TAG_END());
	if (o) {
		c->byes++;
		sw_cdebug(c->callid_a, "DTMF %c sent by INFO to the %s", digit,
			  to_a ? "caller" : "vendor");
	} else {
		sw_cwarn(c->callid_a, "cannot send DTMF INFO");
	}
}

/*
 * First-method lock of a leg receiving "all" (SPEC §5): true when a digit
 * by method from leg from_a may pass.
 */
static bool lock_ok(struct sg_call *c, bool from_a, const char *method)
{
	const struct sg_cp_conf *conf = from_a ? mg_conf(c) : rg_conf(c);
	char *lock = c->cp->lock[from_a ? 0 : 1];

	if (conf->dtmf_receive != SW_DTMF_ALL)
		return !strcmp(sw_dtmf_name(conf->dtmf_receive), method);
	if (!lock[0])
		snprintf(lock, sizeof(c->cp->lock[0]), "%s", method);
	return !strcmp(lock, method);
}

/* the send method toward a leg (its plan, or its settings before one) */
static enum sw_dtmf send_method(const struct sg_call *c, bool to_a)
{
	const struct sg_cp_call *cp = c->cp;

	if (cp->have_ans) {
		const char *m =
		    to_a ? cp->ans.a.dtmf_send : cp->ans.b.dtmf_send;

		enum sw_dtmf method;

		if (sw_dtmf_parse(&method, m,
				  SW_DTMF_SET(SW_DTMF_RFC2833) |
				      SW_DTMF_SET(SW_DTMF_INBAND)))
			method = SW_DTMF_INFO;
		return method;
	}
	return sg_cp_dtmf_send_for(to_a ? mg_conf(c) : rg_conf(c), 0);
}

struct play_ctx {
	struct sg *sg;
	char session[SW_UUID_LEN + 1];
	bool from_a;
	char digit;
	unsigned ms;
};

static void play_resp(int err, const struct sw_env *env, void *arg)
{
	struct play_ctx *p = arg;
	struct sg_call *c;

	if (!err && strcmp(env->type, SW_MSG_ERROR)) {
		free(p);
		return;
	}
	c = sg_calls_find(p->sg->calls, p->session);
	if (c) {
		/* the node cannot play it (no engine): INFO is better than
		 * losing the digit */
		sw_cwarn(c->callid_a,
			 "media.play_dtmf %c refused (%s), sent "
			 "by INFO instead",
			 p->digit,
			 err ? strerror(err)
			     : sw_json_str_or(env->body, "message", ""));
		send_info(c, !p->from_a, p->digit, p->ms);
	}
	free(p);
}

static void play_dtmf(struct sg_call *c, bool from_a, char digit, unsigned ms)
{
	struct play_ctx *p = calloc(1, sizeof(*p));
	char d[2] = {digit, '\0'};
	json_t *body;

	if (!p || !c->node || !c->node->peer) {
		free(p);
		send_info(c, !from_a, digit, ms);
		return;
	}
	p->sg = c->sg;
	snprintf(p->session, sizeof(p->session), "%s", c->id);
	p->from_a = from_a;
	p->digit = digit;
	p->ms = ms;
	body =
	    json_pack("{s:s, s:s, s:s, s:i}", "session", c->id, "leg",
		      from_a ? "a" : "b", "digit", d, "duration_ms", (int)ms);
	if (sw_bus_request(NULL, c->node->peer, SW_MSG_MEDIA_PLAY_DTMF, body,
			   (int)c->sg->cfg.media_timeout_ms, play_resp, p)) {
		free(p);
		send_info(c, !from_a, digit, ms);
	}
}

/*
 * A DTMF INFO body from one leg of an answered call (already known to be
 * application/dtmf-relay or application/dtmf; the caller answers 200).
 * True when handled here: dropped (unreadable, or the leg does not
 * receive INFO), INFO to the other leg when it wants INFO, otherwise
 * media.play_dtmf so the node plays it by RFC 2833 or tones.  False with
 * media not relayed: the INFO is relayed as it is.
 */
bool sg_cpw_info(struct sg_call *c, bool from_a, const char *body, size_t len)
{
	unsigned ms;
	char digit;

	if (!relayed(c) || !c->media_up || !cp_of(c))
		return false;
	if (sg_dtmf_info_parse(body, len, &digit, &ms)) {
		sw_cinfo(c->callid_a,
			 "unreadable DTMF INFO from the %s "
			 "dropped",
			 from_a ? "caller" : "vendor");
		return true;
	}
	if (send_method(c, !from_a) == SW_DTMF_INFO) {
		if (!lock_ok(c, from_a, sw_dtmf_name(SW_DTMF_INFO))) {
			sw_cinfo(c->callid_a,
				 "DTMF %c by INFO from the %s "
				 "dropped (receives %s)",
				 digit, from_a ? "caller" : "vendor",
				 c->cp->lock[from_a ? 0 : 1][0]
				     ? c->cp->lock[from_a ? 0 : 1]
				     : "another method");
			return true;
		}
		send_info(c, !from_a, digit, ms);
		return true;
	}
	/* the node keeps the first-method lock of what it plays */
	play_dtmf(c, from_a, digit, ms);
	return true;
}

/*
 * media.event "dtmf": every digit the node saw (RFC 2833 or inband, or an
 * INFO it was given); send_info = the destination wants SIP INFO.
 */
void sg_cpw_dtmf_event(struct sg_call *c, const json_t *body)
{
	static const char *const legs[] = {"a", "b", NULL};
	const char *leg, *to, *digit, *method;
	enum sw_dtmf m;
	unsigned ms;
	bool send;
	struct sw_jv v;

	sw_jv_init(&v, "body");
	leg = sw_jv_enum(&v, body, "leg", legs, true, NULL);
	to = sw_jv_enum(&v, body, "to", legs, false, "");
	digit = sw_jv_str(&v, body, "digit", 1, true, "");
	method = sw_jv_str(&v, body, "method", 16, false,
			   sw_dtmf_name(SW_DTMF_RFC2833));
	if (!v.bad && sw_dtmf_parse(&m, method, SW_DTMF_METHODS)) {
		char list[64];

		sw_names_list(list, sizeof(list), sw_dtmf_names,
			      SW_DTMF_METHODS);
		sw_jv_fail(&v, "method", "must be one of: %s", list);
	} else if (!v.bad) {
		method = sw_dtmf_name(m); /* canonical, as the lock keeps it */
	}
	ms = (unsigned)sw_jv_int(&v, body, "duration_ms", 0, 100000, false, 0);
	send = sw_jv_bool(&v, body, "send_info", false, false);
	if (v.bad || !digit[0] || !strchr("0123456789*#ABCD!", digit[0])) {
		sw_cwarn(c->callid_a, "bad media.event dtmf ignored: %s",
			 v.bad ? v.err : "digit");
		return;
	}
	if (!cp_of(c))
		return;
	if (!to[0])
		to = leg[0] == 'a' ? "b" : "a";
	if (!lock_ok(c, leg[0] == 'a', method)) {
		sw_cinfo(c->callid_a,
			 "DTMF %s by %s from %s dropped (locked "
			 "to %s)",
			 digit, method, leg,
			 c->cp->lock[leg[0] == 'a' ? 0 : 1]);
		return;
	}
	if (send)
		send_info(c, to[0] == 'a', digit[0], ms);
}

/*
 * The DTMF method each leg uses (what the switch sends it: rfc2833, info
 * or inband) once the vendor answered; "" before (call.list).
 */
void sg_cpw_dtmf_modes(const struct sg_call *c, const char **a, const char **b)
{
	const struct sg_cp_call *cp = c ? c->cp : NULL;

	*a = cp && cp->have_ans ? cp->ans.a.dtmf_send : "";
	*b = cp && cp->have_ans ? cp->ans.b.dtmf_send : "";
}
