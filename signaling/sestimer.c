/*
 * sestimer.c - session timers (RFC 4028), each leg of a call on its own
 * (sestimer.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SW_LOG_MODULE "sestimer"
#include "common/log.h"
#include "signaling/call.h"
#include "signaling/recovery.h"
#include "signaling/sestimer.h"
#include "signaling/sg.h"

#define SE_MAX 86400 /* s: the longest interval taken from a peer */

/* ---- the pure decisions ---- */

static bool wants_timer(sip_t const *sip)
{
	return sip_has_supported(sip->sip_supported, "timer") ||
	       sip_has_feature(sip->sip_require, "timer");
}

static unsigned bounded(unsigned long v)
{
	return v > SE_MAX ? SE_MAX : (unsigned)v;
}

/*
 * An INVITE whose Session-Expires is below our Min-SE: the Min-SE to send
 * back with 422; 0 when it is acceptable (or has none).
 */
unsigned sg_st_too_small(sip_t const *sip, unsigned min_se)
{
	if (!min_se || !sip || !sip->sip_session_expires)
		return 0;
	return sip->sip_session_expires->x_delta < min_se ? min_se : 0;
}

/* what the caller's INVITE asks for, kept until the answer */
void sg_st_caller_request(struct sg_st *st, sip_t const *sip)
{
	const sip_session_expires_t *x = sip->sip_session_expires;

	st->a_req_se = x ? bounded(x->x_delta) : 0;
	st->a_req_min =
	    sip->sip_min_se ? bounded(sip->sip_min_se->min_delta) : 0;
	snprintf(st->a_req_refresher, sizeof(st->a_req_refresher), "%s",
		 x && x->x_refresher ? x->x_refresher : "");
	st->a_supported = wants_timer(sip);
	st->a_update_ok =
	    sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
}

/*
 * The caller's leg at the answer: our interval (ours, SS_SESSION_EXPIRES;
 * 0 = no session timers) or the caller's if shorter, never below either
 * Min-SE; the refresher it named, else the caller when it supports timers.
 * A caller that neither supports timers nor asked for one gets none.
 */
void sg_st_caller_decide(struct sg_st *st, unsigned ours, unsigned min_se)
{
	struct sg_st_leg *l = &st->a;
	unsigned se;

	l->se = 0;
	if (!ours || (!st->a_supported && !st->a_req_se))
		return;
	se = st->a_req_se && st->a_req_se < ours ? st->a_req_se : ours;
	if (se < min_se)
		se = min_se;
	if (se < st->a_req_min)
		se = st->a_req_min;
	l->se = se;
	if (st->a_req_refresher[0])
		l->we_refresh = !strcasecmp(st->a_req_refresher, "uas");
	else
		l->we_refresh = !st->a_supported;
	l->update_ok = st->a_update_ok;
	l->require = st->a_supported;
}

/*
 * The vendor's leg at its 200: its Session-Expires decides (none: no
 * timer); refresher=uas means the vendor refreshes, anything else us (we
 * were the INVITE's client).
 */
void sg_st_vendor_decide(struct sg_st *st, sip_t const *sip)
{
	struct sg_st_leg *l = &st->b;
	const sip_session_expires_t *x = sip ? sip->sip_session_expires : NULL;

	l->se = 0;
	if (!x || !x->x_delta)
		return;
	l->se = bounded(x->x_delta);
	l->we_refresh = !x->x_refresher || strcasecmp(x->x_refresher, "uas");
	l->update_ok =
	    sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
	l->require = wants_timer(sip);
}

/*
 * A re-INVITE or UPDATE from the peer of leg l refreshes it; its own
 * Session-Expires may move the interval or the refresher (refresher=uac:
 * the peer, who sent it, goes on refreshing).
 */
void sg_st_refresh_seen(struct sg_st_leg *l, sip_t const *sip)
{
	const sip_session_expires_t *x = sip ? sip->sip_session_expires : NULL;

	if (!l->se || !x || !x->x_delta)
		return;
	l->se = bounded(x->x_delta);
	if (x->x_refresher)
		l->we_refresh = !strcasecmp(x->x_refresher, "uas");
}

/*
 * The Session-Expires value for leg l, in a request we send on it
 * (in_request) or in our response to its peer.  ENOENT: no timer.
 */
int sg_st_header(const struct sg_st_leg *l, bool in_request, char *buf,
		 size_t size)
{
	bool uac = in_request ? l->we_refresh : !l->we_refresh;

	if (!l->se)
		return ENOENT;
	snprintf(buf, size, "%u;refresher=%s", l->se, uac ? "uac" : "uas");
	return 0;
}

/* when the side that does not refresh gives up (RFC 4028 10) */
unsigned sg_st_expiry_s(unsigned se)
{
	unsigned margin = se / 3 < 32 ? se / 3 : 32;

	return se - margin;
}

/* ---- on a live call ---- */

static void arm(struct sg_call *c, bool leg_a);

static int refresh_resp(struct sg_call *c, bool to_a, nta_outgoing_t *orq,
			sip_t const *sip)
{
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);
	nta_leg_t *leg = to_a ? c->leg_a : c->leg_b;

	if (status < 200)
		return 0;
	if (status < 300 && leg &&
	    nta_outgoing_method(orq) == sip_method_invite)
		sg_call_ack(leg, nta_outgoing_cseq(orq),
			    sg_call_contact(c, to_a), NULL,
			    sg_call_tport(c, leg));
	if (status == 408 || status == 481) {
		sw_cinfo(c->callid_a,
			 "session refresh to the %s answered %d: the "
			 "session is gone",
			 to_a ? "caller" : "vendor", status);
		sg_call_terminate(c, "SessionExpired", "server");
	} else if (status >= 300) {
		sw_cinfo(c->callid_a, "session refresh to the %s answered %d",
			 to_a ? "caller" : "vendor", status);
	}
	nta_outgoing_destroy(orq);
	sg_call_txn_done(c);
	return 0;
}

static int refresh_resp_a(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	return refresh_resp(magic, true, orq, sip);
}

static int refresh_resp_b(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	return refresh_resp(magic, false, orq, sip);
}

/* a refresh of ours on one leg: UPDATE, or re-INVITE with the last SDP */
static void send_refresh(struct sg_call *c, bool to_a)
{
	struct sg_st_leg *l = to_a ? &c->st.a : &c->st.b;
	nta_leg_t *leg = to_a ? c->leg_a : c->leg_b;
	const char *sdp = to_a ? c->sdp_to_a : c->sdp_to_b;
	char se[SG_ST_HDR_MAX];
	nta_outgoing_t *o;
	tport_t *tp;

	if (!leg || sg_st_header(l, true, se, sizeof(se)))
		return;
	if (!l->update_ok && !sdp)
		return; /* nothing a re-INVITE could carry */
	tp = sg_call_tport(c, leg);
	o = nta_outgoing_tcreate(
	    leg, to_a ? refresh_resp_a : refresh_resp_b, c, NULL,
	    l->update_ok ? sip_method_update : sip_method_invite,
	    l->update_ok ? "UPDATE" : "INVITE", NULL,
	    SIPTAG_CONTACT(sg_call_contact(c, to_a)),
	    SIPTAG_SESSION_EXPIRES_STR(se), SIPTAG_SUPPORTED_STR("timer"),
	    TAG_IF(!l->update_ok, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
	    TAG_IF(!l->update_ok, SIPTAG_PAYLOAD_STR(sdp)),
	    TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (!o) {
		sw_cwarn(c->callid_a, "cannot send a session refresh");
		return;
	}
	c->byes++; /* in-dialog transaction of ours: the call waits for it */
	sw_cdebug(c->callid_a, "session refresh (%s) to the %s",
		  l->update_ok ? "UPDATE" : "re-INVITE",
		  to_a ? "caller" : "vendor");
}

static void fired(struct sg_call *c, bool leg_a)
{
	struct sg_st_leg *l = leg_a ? &c->st.a : &c->st.b;

	l->t = NULL;
	if (c->state != SG_CALL_ANSWERED && c->state != SG_CALL_CONFIRMED)
		return;
	if (!l->we_refresh) {
		sw_cinfo(c->callid_a,
			 "no session refresh from the %s within %u s: "
			 "the call ends",
			 leg_a ? "caller" : "vendor", l->se);
		sg_call_terminate(c, "SessionExpired", "server");
		return;
	}
	if (!c->reinv_orq) /* a relayed request in flight refreshes too */
		send_refresh(c, leg_a);
	arm(c, leg_a);
}

static void fired_a(void *magic, su_timer_t *t, void *arg)
{
	(void)magic;
	(void)t;
	fired(arg, true);
}

static void fired_b(void *magic, su_timer_t *t, void *arg)
{
	(void)magic;
	(void)t;
	fired(arg, false);
}

static void arm(struct sg_call *c, bool leg_a)
{
	struct sg_st_leg *l = leg_a ? &c->st.a : &c->st.b;
	int64_t ms;

	sg_timer_stop(&l->t);
	if (!l->se)
		return;
	ms = l->we_refresh ? (int64_t)l->se * 500
			   : (int64_t)sg_st_expiry_s(l->se) * 1000;
	l->t = sg_timer_start(c->sg, ms, leg_a ? fired_a : fired_b, c);
}

/*
 * The call is answered (vendor_200: the vendor's 200): both legs decided
 * and armed.  Call before the 200 goes to the caller: it carries the
 * caller leg's Session-Expires (sg_st_header).
 */
void sg_call_st_answered(struct sg_call *c, sip_t const *vendor_200)
{
	const struct sg_params *p = params_of(c);
	unsigned min = (unsigned)p->min_se_s;

	sg_st_caller_decide(&c->st, (unsigned)p->session_expires_s, min);
	sg_st_vendor_decide(&c->st, vendor_200);
	arm(c, true);
	arm(c, false);
	if (c->st.a.se || c->st.b.se)
		sw_cdebug(c->callid_a,
			  "session timers: caller %u s (%s refreshes), "
			  "vendor %u s (%s refreshes)",
			  c->st.a.se, c->st.a.we_refresh ? "we" : "it",
			  c->st.b.se, c->st.b.we_refresh ? "we" : "it");
}

/* a re-INVITE or UPDATE came from one side: that leg is refreshed */
void sg_call_st_refreshed(struct sg_call *c, bool from_a, sip_t const *sip)
{
	struct sg_st_leg *l = from_a ? &c->st.a : &c->st.b;
	unsigned se;
	bool we;

	if (!l->se || c->state == SG_CALL_ENDED)
		return;
	se = l->se;
	we = l->we_refresh;
	sg_st_refresh_seen(l, sip);
	arm(c, from_a);
	if (l->se != se || l->we_refresh != we)
		sg_recovery_st(c); /* a restart keeps the new interval */
}

/* we sent a re-INVITE or UPDATE on one leg (relayed): a refresh too */
void sg_call_st_sent(struct sg_call *c, bool to_a)
{
	struct sg_st_leg *l = to_a ? &c->st.a : &c->st.b;

	if (l->se && l->we_refresh && c->state != SG_CALL_ENDED)
		arm(c, to_a);
}

void sg_st_stop(struct sg_st *st)
{
	sg_timer_stop(&st->a.t);
	sg_timer_stop(&st->b.t);
}

static json_t *leg_journal(const struct sg_st_leg *l)
{
	return json_pack("{s:I, s:b, s:b, s:b}", "se", (json_int_t)l->se, "we",
			 l->we_refresh, "update", l->update_ok, "require",
			 l->require);
}

/**
 * Both legs' negotiated timers, for the calls journal: NULL when neither
 * leg has one.
 */
json_t *sg_st_journal(const struct sg_st *st)
{
	if (!st || (!st->a.se && !st->b.se))
		return NULL;
	return json_pack("{s:o, s:o}", "a", leg_journal(&st->a), "b",
			 leg_journal(&st->b));
}

static void leg_from_journal(struct sg_st_leg *l, const json_t *j)
{
	json_int_t se = json_integer_value(json_object_get(j, "se"));

	l->se = se > 0 ? bounded((unsigned long)se) : 0;
	l->we_refresh = json_is_true(json_object_get(j, "we"));
	l->update_ok = json_is_true(json_object_get(j, "update"));
	l->require = json_is_true(json_object_get(j, "require"));
}

/** Timers read back from the journal (j may be NULL: none). */
void sg_st_from_journal(struct sg_st *st, const json_t *j)
{
	if (!st || !json_is_object(j))
		return;
	leg_from_journal(&st->a, json_object_get(j, "a"));
	leg_from_journal(&st->b, json_object_get(j, "b"));
}

/*
 * A call recovered after a restart: its timers start again from now, a
 * whole interval each (when they last fired is not journaled): a side that
 * stopped refreshing is cut at most one interval late, never early.
 */
void sg_call_st_restored(struct sg_call *c)
{
	arm(c, true);
	arm(c, false);
	if (c->st.a.se || c->st.b.se)
		sw_cinfo(c->callid_a,
			 "session timers recovered: caller %u s (%s), vendor "
			 "%u s (%s)",
			 c->st.a.se,
			 c->st.a.we_refresh ? "we refresh" : "it refreshes",
			 c->st.b.se,
			 c->st.b.we_refresh ? "we refresh" : "it refreshes");
}
