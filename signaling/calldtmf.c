/*
 * calldtmf.c - DTMF across a live call (calldtmf.h): SIP INFO in and out,
 * media.play_dtmf, media.event dtmf, the first-method lock (SPEC §5)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "dtmf"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "proto/media.h"
#include "proto/proto.h"
#include "signaling/call.h"
#include "signaling/calldtmf.h"
#include "signaling/callmedia.h"
#include "signaling/calls.h"
#include "signaling/dtmfinfo.h"
#include "signaling/media.h"
#include "signaling/sg.h"

static void send_info(struct sg_call *c, bool to_a, char digit, unsigned ms)
{
	char body[64];

	if (sg_dtmf_info_build(body, sizeof(body), digit, ms))
		return;
	switch (sg_call_send_info(c, to_a, SG_DTMF_INFO_TYPE, body)) {
	case 0:
		sw_cdebug(c->callid_a, "DTMF %c sent by INFO to the %s", digit,
			  to_a ? "caller" : "vendor");
		break;
	case ENOMEM:
		sw_cwarn(c->callid_a, "cannot send DTMF INFO");
		break;
	default: /* no answered leg to send it on */
		break;
	}
}

/*
 * First-method lock of a leg receiving "all" (SPEC §5): true when a digit
 * by method from leg from_a may pass.
 */
static bool lock_ok(struct sg_call *c, bool from_a, const char *method)
{
	const struct sg_cp_conf *conf =
	    from_a ? sg_callmedia_mg(c) : sg_callmedia_rg(c);
	char *lock = c->cm.lock[from_a ? 0 : 1];

	if (conf->dtmf_receive != SW_DTMF_ALL)
		return !strcmp(sw_dtmf_name(conf->dtmf_receive), method);
	if (!lock[0])
		snprintf(lock, sizeof(c->cm.lock[0]), "%s", method);
	return !strcmp(lock, method);
}

/* the send method toward a leg (its plan, or its settings before one) */
static enum sw_dtmf send_method(const struct sg_call *c, bool to_a)
{
	const struct sg_cm *cm = &c->cm;

	if (cm->have_ans) {
		const char *m =
		    to_a ? cm->ans.a.dtmf_send : cm->ans.b.dtmf_send;

		enum sw_dtmf method;

		if (sw_dtmf_parse(&method, m,
				  SW_DTMF_SET(SW_DTMF_RFC2833) |
				      SW_DTMF_SET(SW_DTMF_INBAND)))
			method = SW_DTMF_INFO;
		return method;
	}
	return sg_cp_dtmf_send_for(
	    to_a ? sg_callmedia_mg(c) : sg_callmedia_rg(c), 0);
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
bool sg_calldtmf_info(struct sg_call *c, bool from_a, const char *body,
		      size_t len)
{
	unsigned ms;
	char digit;

	if (!sg_callmedia_relayed(c) || !c->media_up)
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
				 c->cm.lock[from_a ? 0 : 1][0]
				     ? c->cm.lock[from_a ? 0 : 1]
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
void sg_calldtmf_event(struct sg_call *c, const json_t *body)
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
	if (!to[0])
		to = leg[0] == 'a' ? "b" : "a";
	if (!lock_ok(c, leg[0] == 'a', method)) {
		sw_cinfo(c->callid_a,
			 "DTMF %s by %s from %s dropped (locked "
			 "to %s)",
			 digit, method, leg, c->cm.lock[leg[0] == 'a' ? 0 : 1]);
		return;
	}
	if (send)
		send_info(c, to[0] == 'a', digit[0], ms);
}

/*
 * The DTMF method each leg uses (what the switch sends it: rfc2833, info
 * or inband) once the vendor answered; "" before (call.list).
 */
void sg_calldtmf_modes(const struct sg_call *c, const char **a, const char **b)
{
	const struct sg_cm *cm = c ? &c->cm : NULL;

	*a = cm && cm->have_ans ? cm->ans.a.dtmf_send : "";
	*b = cm && cm->have_ans ? cm->ans.b.dtmf_send : "";
}
