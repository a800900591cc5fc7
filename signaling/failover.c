/*
 * failover.c - attempts toward routing gateways and the switch decision
 */
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "failover"
#include "common/log.h"
#include "common/swtime.h"
#include "signaling/call.h"
#include "signaling/callerpool.h"
#include "signaling/callmedia.h"
#include "signaling/calls.h"
#include "signaling/failover.h"
#include "signaling/keepalive.h"
#include "signaling/media.h"
#include "signaling/lines.h"
#include "signaling/registrar.h"
#include "signaling/sg.h"
#include "signaling/stats.h"
#include "signaling/tables.h"

#define SDP_TYPE "application/sdp"

static void attempt_failed(struct sg_call *c, int code, const char *phrase);

static unsigned gw_load(const struct sg_gw *gw, void *arg)
{
	struct sg *sg = arg;

	if (!gw->line_limit)
		return 0;
	return (unsigned)(sg_lines_active(sg->lines, gw->name) * 1000U /
			  (unsigned)gw->line_limit);
}

/* what the hooks of route selection look at */
struct plan_ctx {
	struct sg *sg;
	const struct sg_tables *t;
	const char *mgw; /* "" = any (the analysis without one) */
};

/* why a gateway may not take calls now (route.h skip hook) */
static const char *route_skip(const struct sg_gw *gw, void *arg)
{
	const struct plan_ctx *x = arg;

	if (sg_keepalive_skip(gw, x->sg))
		return "offline";
	if (*x->mgw && sg_gw_filtered(gw, x->mgw))
		return "mapping_filter";
	if (sg_gw_out_of_period(x->t, gw))
		return "out_of_period";
	return NULL;
}

/* ASR of a gateway over the configured window (no calls = 1000) */
static void gw_asr(const struct sg_gw *gw, void *arg, unsigned *asr,
		   bool *below)
{
	const struct plan_ctx *x = arg;
	const struct sg_asr_config *cfg = &x->t->params.asr;
	unsigned att, ans;

	sg_stats_get(x->sg->stats, gw->name, cfg->window_s, sw_time_mono_ms(),
		     &att, &ans);
	*asr = att ? ans * 1000U / att : 1000U;
	*below = att >= (unsigned)cfg->min_calls &&
		 *asr < (unsigned)cfg->threshold_pct * 10U;
}

/* the vendor's buy rate per minute for the callee (unknown = last) */
static int64_t gw_cost(const struct sg_gw *gw, const char *callee, void *arg)
{
	const struct plan_ctx *x = arg;
	const struct sg_rate *r = sg_tables_buy_rate(x->t, gw, callee);

	return r ? r->first_rate : INT64_MAX;
}

/*
 * The candidates for callee in attempt order, and (excl, when not NULL)
 * the gateways with a matching prefix that are left out, with the reason.
 * One function for real calls and for the routing analysis, so the
 * analysis shows what a call placed now would do.  rr: the round-robin
 * value of that call.
 */
size_t sg_failover_plan(struct sg *sg, const struct sg_tables *t,
			const char *mgw, const char *callee, unsigned rr,
			struct sg_route_cand *cands, size_t max,
			struct sg_route_excl *excl, size_t excl_max,
			size_t *nexcl)
{
	struct plan_ctx x = {sg, t, mgw ? mgw : ""};
	struct sg_route_opts opts = {
	    .prefix_fallback = t->params.prefix_fallback != 0,
	    .load = gw_load,
	    .load_arg = sg,
	    .skip = route_skip,
	    .skip_arg = &x,
	    .rr = rr,
	    .asr = t->params.asr.on ? gw_asr : NULL,
	    .asr_arg = &x,
	    .cost = t->params.fee_sort ? gw_cost : NULL,
	    .cost_arg = &x,
	    .excl = excl,
	    .excl_max = excl ? excl_max : 0,
	    .nexcl = nexcl,
	};

	return sg_route_select(cands, max, t->gws, t->ngws, t->gw_ix, callee,
			       &opts);
}

/*
 * Build the candidate list for the call's callee; returns how many
 * gateways may be tried: 0 with *unroutable when no routing gateway has a
 * prefix of the callee at all (SPEC §3.2: 404), 0 alone when some have
 * but none is eligible now (locked, offline, filtered: 503).
 */
/*
 * A callee that is a registered phone is called at its contact, as the
 * only candidate: a gateway of the call's own (name phone:<number>, no
 * vendor account, the default media settings), UDP.  false when the
 * callee is no phone, or not registered now.
 */
static bool phone_route(struct sg_call *c)
{
	const struct sg_tables *t = c->tables;
	char contact[256];
	url_t *u;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	bool ok = false;

	/* the registrar's hash first: most callees are not registered */
	if (!sg_registrar_contact(c->sg->registrar, c->callee,
				  sw_time_mono_ms(), contact, sizeof(contact)))
		return false;
	for (size_t i = 0; i < t->nmgws; i++) {
		const struct sg_mgw *m = &t->mgws[i];

		if (strcmp(m->auth_mode, "phone") ||
		    strcmp(m->username, c->callee))
			continue;
		u = url_make(home, contact);
		if (!u || !u->url_host ||
		    (!c->phone_gw &&
		     !(c->phone_gw = calloc(1, sizeof(*c->phone_gw)))))
			break;
		memset(c->phone_gw, 0, sizeof(*c->phone_gw));
		snprintf(c->phone_gw->name, sizeof(c->phone_gw->name),
			 "phone:%.57s", c->callee);
		snprintf(c->phone_gw->address, sizeof(c->phone_gw->address),
			 "%s", u->url_host);
		c->phone_gw->port =
		    u->url_port ? (int)strtol(u->url_port, NULL, 10) : 5060;
		c->phone_gw->priority = 1;
		c->cands[0] = (struct sg_route_cand){.gw = c->phone_gw};
		c->ncands = 1;
		c->next_cand = 0;
		sw_cinfo(c->callid_a, "callee %s is a registered phone: %s",
			 c->callee, contact);
		ok = true;
		break;
	}
	su_home_deinit(home);
	return ok;
}

int sg_failover_route(struct sg_call *c, bool *unroutable)
{
	char list[512] = "";
	size_t off = 0, nexcl = 0;
	struct sg_route_excl excl[1];

	*unroutable = false;
	if (!c->cands)
		c->cands = calloc(SG_CALL_MAX_CANDS, sizeof(*c->cands));
	if (!c->cands) {
		c->ncands = c->next_cand = 0;
		return 0;
	}
	if (phone_route(c))
		return 1;
	c->ncands = sg_failover_plan(c->sg, c->tables, c->mgw->name, c->callee,
				     c->sg->rr++, c->cands, SG_CALL_MAX_CANDS,
				     excl, 1, &nexcl);
	*unroutable = c->ncands == 0 && nexcl == 0;
	c->next_cand = 0;
	for (size_t i = 0; i < c->ncands && off < sizeof(list) - 1; i++) {
		int n =
		    snprintf(list + off, sizeof(list) - off, "%s%s(%zu/%d%s)",
			     i ? " " : "", c->cands[i].gw->name,
			     c->cands[i].prefix_len, c->cands[i].gw->priority,
			     c->cands[i].gw->protect ? "/protect" : "");
		if (n < 0)
			break;
		off += (size_t)n;
	}
	sw_cdebug(c->callid_a, "routes for %s: %s", c->callee,
		  c->ncands ? list : "none");
	return (int)c->ncands;
}

static void group_key(char *buf, size_t size, const struct sg_gw *gw)
{
	snprintf(buf, size, "grp:%s", gw->group);
}

/* a line of the gateway (and of its group) for the current attempt */
static void take_line(struct sg_call *c, const struct sg_gw *gw)
{
	char k[96];

	sg_lines_add(c->sg->lines, gw->name, 1);
	if (gw->group[0]) {
		group_key(k, sizeof(k), gw);
		sg_lines_add(c->sg->lines, k, 1);
	}
	c->b_line = true;
}

static void release_line(struct sg_call *c)
{
	char k[96];

	sg_callerpool_release(c->sg->callerpool, c->pool_key);
	c->pool_key[0] = '\0';
	if (c->b_line && c->gw) {
		sg_lines_add(c->sg->lines, c->gw->name, -1);
		if (c->gw->group[0]) {
			group_key(k, sizeof(k), c->gw);
			sg_lines_add(c->sg->lines, k, -1);
		}
		c->b_line = false;
	}
}

/*
 * Why the gateway must be skipped without an INVITE now, or NULL: its own
 * line limit, its group's capacity, or only reserved group lines left
 * (those are for priority customers and protect routes).  Asked when the
 * call reaches the gateway, and by the analysis for each candidate.
 */
const char *sg_failover_busy(struct sg *sg, const struct sg_gw *gw,
			     bool priority_customer)
{
	char k[96];
	unsigned used;

	if (gw->line_limit &&
	    sg_lines_active(sg->lines, gw->name) >= (unsigned)gw->line_limit)
		return "line_limit";
	if (sg_callerpool_full(sg->callerpool, gw->name, &gw->pool))
		return "caller_pool";
	if (!gw->group[0] || gw->group_capacity <= 0)
		return NULL;
	group_key(k, sizeof(k), gw);
	used = sg_lines_active(sg->lines, k);
	if (used >= (unsigned)gw->group_capacity)
		return "group_capacity";
	if (!priority_customer && !gw->protect &&
	    used + (unsigned)gw->group_reserved >= (unsigned)gw->group_capacity)
		return "reserved_lines";
	return NULL;
}

static void stop_timers(struct sg_call *c)
{
	sg_timer_stop(&c->t_noprov);
	sg_timer_stop(&c->t_timer_b);
}

/*
 * An abandoned INVITE (cancelled by us, timed out) lives on without its
 * call until its final response: a 2xx that crossed our CANCEL is ACKed
 * and hung up with a BYE, so the vendor never keeps a half-open call.
 */
struct zombie {
	struct sg *sg;	     /* borrowed */
	nta_leg_t *leg;	     /* owned */
	nta_outgoing_t *orq; /* owned: the INVITE */
	nta_outgoing_t *bye; /* owned */
	su_timer_t *t;	     /* owned: hard limit */
	char callid[256];    /* the caller's, for logs */
};

static void zombie_free(struct zombie *z)
{
	sg_timer_stop(&z->t);
	if (z->orq)
		nta_outgoing_destroy(z->orq);
	if (z->bye)
		nta_outgoing_destroy(z->bye);
	if (z->leg)
		nta_leg_destroy(z->leg);
	free(z);
}

static void zombie_expired(void *magic, su_timer_t *t, void *arg)
{
	struct zombie *z = arg;

	(void)magic;
	(void)t;
	zombie_free(z);
}

static void zombie_later(void *magic, su_timer_t *t, void *arg)
{
	zombie_expired(magic, t, arg);
}

/* free outside nta's callback of the object being freed */
static void zombie_done(struct zombie *z)
{
	sg_timer_stop(&z->t);
	z->t = sg_timer_start(z->sg, 1, zombie_later, z);
}

static int zombie_bye_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct zombie *z = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	if (status >= 200)
		zombie_done(z);
	return 0;
}

static int zombie_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct zombie *z = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	if (status < 200)
		return 0;
	if (status >= 300 || !sip || z->bye) {
		if (status >= 300)
			zombie_done(z);
		return 0;
	}
	sw_cinfo(z->callid, "late %d on an abandoned INVITE: ACK and BYE",
		 status);
	if (sip->sip_to)
		nta_leg_rtag(z->leg, sip->sip_to->a_tag);
	nta_leg_client_route(z->leg, sip->sip_record_route, sip->sip_contact);
	sg_call_ack(z->leg, nta_outgoing_cseq(orq), NULL, NULL, NULL);
	z->bye = nta_outgoing_tcreate(z->leg, zombie_bye_resp, z, NULL,
				      SIP_METHOD_BYE, NULL, TAG_END());
	if (!z->bye)
		zombie_done(z);
	return 0;
}

static int zombie_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq,
			  sip_t const *sip)
{
	(void)magic;
	(void)leg;
	(void)irq;
	return sip && sip->sip_request &&
		       sip->sip_request->rq_method == sip_method_bye
		   ? 200
		   : 481;
}

/* drop the current attempt's transaction and dialog */
static void drop_attempt(struct sg_call *c, bool cancel)
{
	struct zombie *z = NULL;

	stop_timers(c);
	if (c->orq && cancel && nta_outgoing_status(c->orq) < 100) {
		/*
		 * Nothing was heard from the gateway: there is nothing to
		 * CANCEL (RFC 3261 9.1), and a CANCEL held back until a 1xx
		 * keeps nta retransmitting the INVITE to a silent gateway
		 * until Timer B.  Destroyed uncancelled, nta ends the
		 * transaction at once, as Kamailio's tm does at fr_timer; a
		 * 2xx that comes later finds no transaction and the
		 * gateway's own timers end it.
		 */
		cancel = false;
	}
	if (c->orq && cancel && (z = calloc(1, sizeof(*z)))) {
		nta_outgoing_tcancel(c->orq, NULL, NULL, TAG_END());
		z->sg = c->sg;
		z->leg = c->leg_b;
		z->orq = c->orq;
		snprintf(z->callid, sizeof(z->callid), "%s", c->callid_a);
		nta_outgoing_bind(z->orq, zombie_resp, z);
		nta_leg_bind(z->leg, zombie_request, z);
		z->t = sg_timer_start(c->sg, 40000, zombie_expired, z);
		c->orq = NULL;
		c->leg_b = NULL;
	}
	if (c->orq) {
		if (cancel)
			nta_outgoing_tcancel(c->orq, NULL, NULL, TAG_END());
		nta_outgoing_destroy(c->orq);
		c->orq = NULL;
	}
	if (c->leg_b) {
		nta_leg_destroy(c->leg_b);
		c->leg_b = NULL;
	}
	release_line(c);
}

static void record_end(struct sg_call *c, int code)
{
	struct sg_attempt_rec *a;

	if (!c->nattempts)
		return;
	a = &c->attempts[c->nattempts - 1];
	if (!a->end_ms) {
		a->code = code;
		a->end_ms = sw_time_wall_ms();
		sg_stats_record(
		    c->sg->stats, a->gateway, code >= 200 && code < 300,
		    c->tables->params.asr.window_s, sw_time_mono_ms());
	}
}

/*
 * ACK the vendor's 2xx, and release the INVITE's transaction: nta keeps it
 * to Timer D all the same, but a retransmitted 2xx now goes past it to
 * sg_call_stray_response, which sends this ACK again.
 */
static void send_ack(struct sg_call *c)
{
	if (!sg_call_ack(c->leg_b, c->b_invite_cseq, sg_call_contact(c, false),
			 c->b_ack_sdp, sg_call_tport(c, c->leg_b)))
		sw_cwarn(c->callid_a, "cannot send ACK to %s", c->routing_gw);
	if (c->orq) {
		nta_outgoing_destroy(c->orq);
		c->orq = NULL;
	}
}

/*
 * A reliable provisional from the vendor (RFC 3262) is PRACKed at once,
 * hop by hop: the caller's own PRACK, if it gets the response reliably,
 * answers our copy (call.c).
 */
static void prack_vendor(struct sg_call *c, sip_t const *sip)
{
	nta_outgoing_t *pr;
	char rack[48];
	tport_t *tp;

	if (!sip->sip_to || !sip->sip_to->a_tag || !c->leg_b || !sip->sip_cseq)
		return;
	/* the early dialog: the vendor's tag, its target and route set */
	nta_leg_rtag(c->leg_b, sip->sip_to->a_tag);
	nta_leg_client_route(c->leg_b, sip->sip_record_route, sip->sip_contact);
	snprintf(rack, sizeof(rack), "%lu %lu INVITE",
		 (unsigned long)sip->sip_rseq->rs_response,
		 (unsigned long)sip->sip_cseq->cs_seq);
	tp = sg_call_tport(c, c->leg_b);
	pr = nta_outgoing_tcreate(c->leg_b, sg_call_txn_resp, c, NULL,
				  SIP_METHOD_PRACK, NULL, SIPTAG_RACK_STR(rack),
				  TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (!pr) {
		sw_cwarn(c->callid_a, "cannot PRACK the provisional of %s",
			 c->routing_gw);
		return;
	}
	c->byes++; /* in flight: the call waits for its answer */
}

/*
 * The held ACK of a delayed offer not relayed goes now, with the caller's
 * answer (sdp, NULL when the caller's ACK had none or the call ends
 * first); a retransmitted 2xx gets the same ACK again.
 */
void sg_failover_ack(struct sg_call *c, const char *sdp, size_t len)
{
	if (!c->b_ack_wait)
		return;
	c->b_ack_wait = false;
	free(c->b_ack_sdp);
	c->b_ack_sdp = sdp && len ? strndup(sdp, len) : NULL;
	send_ack(c);
}

static int b_response(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct sg_call *c = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);
	const char *phrase = sip && sip->sip_status ? sip->sip_status->st_phrase
						    : "Request Timeout";

	if (orq != c->orq)
		return 0;

	if (status < 200) {
		if (status == 100)
			return 0;
		if (!c->b_1xx) {
			c->b_1xx = true;
			sg_timer_stop(&c->t_noprov);
		}
		c->b_rel = sip && sip->sip_rseq;
		if (c->b_rel) {
			/* a retransmission until our PRACK arrives: done */
			if (sip->sip_rseq->rs_response <= c->b_rseq)
				return 0;
			c->b_rseq = sip->sip_rseq->rs_response;
			prack_vendor(c, sip);
		}
		if (sip)
			sg_call_relay_provisional(c, sip);
		return 0;
	}

	if (status < 300) {
		/* a retransmitted 2xx: once ACKed the transaction is
		 * released (send_ack) and sg_call_stray_response ACKs it
		 * again; while the ACK waits for the caller's, nta drops it */
		if (c->state >= SG_CALL_ANSWERED)
			return 0;
		stop_timers(c);
		record_end(c, status);
		if (sip && sip->sip_to) {
			nta_leg_rtag(c->leg_b, sip->sip_to->a_tag);
			if (sip->sip_to->a_tag)
				c->b_remote_hdr = su_sprintf(
				    c->home, "%s;tag=%s", c->b_remote_hdr,
				    sip->sip_to->a_tag);
		}
		if (sip)
			nta_leg_client_route(c->leg_b, sip->sip_record_route,
					     sip->sip_contact);
		/* a delayed offer not relayed: the vendor's offer goes to the
		 * caller as it is and the caller's answer comes back in the
		 * ACK, which is held until then (RFC 3261 13.2.1) */
		c->b_ack_wait = c->cm.late && !sg_callmedia_relayed(c);
		if (!c->b_ack_wait)
			send_ack(c);
		if (sip)
			sg_call_relay_answer(c, sip);
		return 0;
	}

	if (status == 422 && sip && sip->sip_min_se && !c->st.b_retried &&
	    c->tables->params.session_expires_s) {
		/* RFC 4028 6: once more on the same gateway, asking for the
		 * interval it wants (bounded like any peer's) */
		unsigned long want = sip->sip_min_se->min_delta;

		c->st.b_retried = true;
		c->st.b_offer = want > 86400 ? 86400 : (unsigned)want;
		sw_cinfo(c->callid_a,
			 "%s wants a session interval of at least %u s: "
			 "INVITE again",
			 c->routing_gw, c->st.b_offer);
		record_end(c, status);
		drop_attempt(c, false);
		if (c->next_cand)
			c->next_cand--;
		sg_failover_next(c);
		return 0;
	}
	attempt_failed(c, status, phrase);
	return 0;
}

/* a failure of the current attempt: next gateway or the caller's answer */
static void attempt_failed(struct sg_call *c, int code, const char *phrase)
{
	const struct sg_gw *gw = c->gw;
	bool may_switch = sg_route_may_switch(gw, code);

	sw_cinfo(c->callid_a, "%s answered %d %s%s", gw ? gw->name : "?", code,
		 phrase, may_switch ? ", trying next gateway" : "");
	record_end(c, code);
	drop_attempt(c, false);
	if (may_switch) {
		sg_failover_next(c);
		return;
	}
	sg_call_fail(c, code, phrase, "VendorFailure", "callee");
}

static void noprov_expired(void *magic, su_timer_t *t, void *arg)
{
	struct sg_call *c = arg;

	(void)magic;
	(void)t;
	sw_cinfo(c->callid_a, "no provisional response from %s within %lld ms",
		 c->routing_gw, (long long)c->tables->params.no_provisional_ms);
	drop_attempt(c, true);
	attempt_failed(c, 408, "Request Timeout");
}

static void timer_b_expired(void *magic, su_timer_t *t, void *arg)
{
	struct sg_call *c = arg;

	(void)magic;
	(void)t;
	sw_cinfo(c->callid_a, "no final response from %s (Timer B)",
		 c->routing_gw);
	drop_attempt(c, true);
	attempt_failed(c, 408, "Request Timeout");
}

/* room for one more attempt record (doubling, from 2) */
static int attempts_grow(struct sg_call *c)
{
	struct sg_attempt_rec *a;
	size_t cap;

	if (c->nattempts < c->attempts_cap)
		return 0;
	cap = c->attempts_cap ? c->attempts_cap * 2 : 2;
	a = realloc(c->attempts, cap * sizeof(*a));
	if (!a) {
		sw_cwarn(c->callid_a, "no memory for attempt %zu",
			 c->nattempts + 1);
		return ENOMEM;
	}
	c->attempts = a;
	c->attempts_cap = cap;
	return 0;
}

/*
 * The caller identity headers toward gw (SPEC §3.8, identity.h): the
 * number its `caller` modes assert is read from the caller's INVITE by the
 * gateway's peer_number_source and goes through both caller dial plans,
 * as the From user does.  malloc'ed; NULL = none.
 */
static char *attempt_identity(struct sg_call *c, const struct sg_gw *gw,
			      const char *host)
{
	const struct sg_identity *id = &gw->identity;
	const char *source = sw_number_source_names[id->source];
	char raw[SG_NUM_MAX], in[SG_NUM_MAX], number[SG_NUM_MAX];
	struct sg_identity_in x;
	msg_t *msg;
	char *out;

	if (id->pai == SW_ID_NONE && id->ppi == SW_ID_NONE &&
	    id->privacy == SW_PRIV_NONE && id->extra == SW_EXTRA_NONE)
		return NULL;
	msg = c->irq ? nta_incoming_getrequest(c->irq) : NULL;
	snprintf(number, sizeof(number), "%s", c->caller_out);
	/* a pool number is the caller whatever the source */
	if (msg && !c->pool_key[0] && strcmp(source, c->mgw->caller_source) &&
	    sg_call_number_of(raw, sizeof(raw), sip_object(msg), source)) {
		sg_dialplan_apply(&c->mgw->caller_dp, raw, in, sizeof(in));
		sg_dialplan_apply(&gw->caller_dp, in, number, sizeof(number));
	}
	x = (struct sg_identity_in){msg, c->mgw->support_privacy, number, host};
	out = sg_identity_headers(id, &x);
	if (msg)
		msg_destroy(msg);
	if (!out)
		sw_cwarn(c->callid_a,
			 "identity headers toward %s left out "
			 "(no memory)",
			 gw->name);
	return out;
}

static int start_attempt(struct sg_call *c, const struct sg_gw *gw)
{
	struct sg *sg = c->sg;
	const struct sg_params *p = &c->tables->params;
	sip_contact_t const *me = nta_agent_contact(sg->agent);
	const char *host =
	    me && me->m_url->url_host ? me->m_url->url_host : "127.0.0.1";
	char ruri[512], from[256], to[512], mf[16], se[16], minse[16], sup[32];
	tport_t *tp;
	bool timers;
	unsigned offer;
	char callid[SW_UUID_LEN + 1];
	struct sg_attempt_rec *a;
	char *idh;

	char callee[SG_NUM_MAX];

	/* media anchored first when this gateway's call needs the node
	 * (SPEC §4, sg_callmedia_relay_for); the attempt comes again */
	if (!c->media_up && sg_callmedia_relay_for(c, gw)) {
		if (c->cm.caller && c->cm.caller->secure) {
			/* the node cannot decrypt SRTP: no transcoding, no
			 * DTMF conversion, no relay (SPEC §4) */
			sw_cinfo(c->callid_a,
				 "%s skipped: the caller's SRTP would have to "
				 "be relayed",
				 gw->name);
			c->srtp_refused = true;
			return -1;
		}
		sg_call_anchor(c);
		return EINPROGRESS;
	}
	/* the codec policy's offer for this gateway (SPEC §5) */
	if (sg_callmedia_attempt(c, gw))
		return -1; /* skipped: no INVITE */
	if (attempts_grow(c))
		return -1; /* no memory for its CDR record: not tried */

	/* routing gateway dial plans, then the tech prefix (SPEC §3.3) */
	sg_dialplan_apply(&gw->callee_dp, c->callee, callee, sizeof(callee));
	if (snprintf(c->callee_out, sizeof(c->callee_out), "%s%s",
		     gw->tech_prefix, callee) >= (int)sizeof(c->callee_out))
		sw_cwarn(c->callid_a, "callee with tech prefix truncated");
	sg_dialplan_apply(&gw->caller_dp, c->caller, c->caller_out,
			  sizeof(c->caller_out));
	if (gw->pool.enabled) {
		/* the pool's number is the caller toward this gateway */
		const char *n =
		    sg_callerpool_take(sg->callerpool, gw->name, &gw->pool,
				       p->pool_rr != 0, c->pool_key);

		if (!n)
			return -1; /* every number in use: skipped */
		snprintf(c->caller_out, sizeof(c->caller_out), "%s", n);
	}
	snprintf(ruri, sizeof(ruri), "sip:%s@%s:%d%s", c->callee_out,
		 gw->address, gw->port,
		 gw->tls   ? ";transport=tls"
		 : gw->tcp ? ";transport=tcp"
			   : "");
	snprintf(from, sizeof(from), "<sip:%s@%s>", c->caller_out, host);
	snprintf(to, sizeof(to), "<sip:%s@%s:%d>", c->callee_out, gw->address,
		 gw->port);
	sw_uuid_gen(callid);

	c->leg_b = nta_leg_tcreate(sg->agent, sg_call_b_request, c,
				   SIPTAG_FROM_STR(from), SIPTAG_TO_STR(to),
				   SIPTAG_CALL_ID_STR(callid), TAG_END());
	if (!c->leg_b) {
		sg_callerpool_release(sg->callerpool, c->pool_key);
		c->pool_key[0] = '\0';
		return -1;
	}
	nta_leg_tag(c->leg_b, NULL);
	c->b_local_hdr =
	    su_sprintf(c->home, "%s;tag=%s", from, nta_leg_get_tag(c->leg_b));
	c->b_remote_hdr = su_strdup(c->home, to);

	/* a new vendor: the media node forgets the previous one */
	if (c->media_up && c->b_media_set) {
		struct sg_cp_plan none;
		struct sg_media_leg b = {.plan = &none,
					 .ip = "",
					 .direction = "",
					 .sig_ip = gw->address,
					 .handover = gw->media_handover};

		sg_cp_plan_pass(&none, NULL);
		sg_media_answer(c->node, c->id, &b,
				(int)sg->cfg.media_timeout_ms);
		c->b_media_set = false;
	}

	c->gw = gw;
	c->b_1xx = false;
	c->b_rel = false;
	c->b_rseq = 0;
	snprintf(c->routing_gw, sizeof(c->routing_gw), "%s", gw->name);
	if (snprintf(c->dst_ip, sizeof(c->dst_ip), "%s", gw->address) >=
	    (int)sizeof(c->dst_ip))
		sw_cwarn(c->callid_a, "gateway address truncated in CDR");
	snprintf(c->callid_b, sizeof(c->callid_b), "%s", callid);
	take_line(c, gw);

	snprintf(mf, sizeof(mf), "%u", c->max_forwards);
	a = &c->attempts[c->nattempts++];
	if (c->nattempts > 1)
		sg_calls_failover(c->sg->calls);
	memset(a, 0, sizeof(*a));
	snprintf(a->gateway, sizeof(a->gateway), "%s", gw->name);
	a->start_ms = sw_time_wall_ms();

	idh = attempt_identity(c, gw, host);
	/* session timers offered (sestimer.h): ours, or what a 422 asked */
	timers = p->session_expires_s > 0;
	offer = c->st.b_offer ? c->st.b_offer : (unsigned)p->session_expires_s;
	if (offer < (unsigned)p->min_se_s)
		offer = (unsigned)p->min_se_s;
	snprintf(se, sizeof(se), "%u", offer);
	/* 100rel offered only to pass the caller's support through */
	snprintf(sup, sizeof(sup), "%s%s%s", c->a_100rel ? "100rel" : "",
		 c->a_100rel && timers ? ", " : "", timers ? "timer" : "");
	snprintf(minse, sizeof(minse), "%u", (unsigned)p->min_se_s);
	tp = sg_call_tport(c, c->leg_b);
	c->orq = nta_outgoing_tcreate(
	    c->leg_b, b_response, c, NULL, SIP_METHOD_INVITE,
	    URL_STRING_MAKE(ruri), SIPTAG_CONTACT(sg_call_contact(c, false)),
	    SIPTAG_MAX_FORWARDS_STR(mf),
	    TAG_IF(sup[0], SIPTAG_SUPPORTED_STR(sup)),
	    TAG_IF(timers, SIPTAG_SESSION_EXPIRES_STR(se)),
	    TAG_IF(timers, SIPTAG_MIN_SE_STR(minse)),
	    TAG_IF(idh && *idh, SIPTAG_HEADER_STR(idh)),
	    TAG_IF(c->sdp_to_b, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
	    TAG_IF(c->sdp_to_b, SIPTAG_PAYLOAD_STR(c->sdp_to_b)),
	    TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	free(idh);
	if (!c->orq) {
		sw_cwarn(c->callid_a, "cannot send INVITE to %s", ruri);
		record_end(c, 503);
		drop_attempt(c, false);
		return -1;
	}
	c->b_invite_cseq = nta_outgoing_cseq(c->orq);
	sw_cinfo(c->callid_a, "attempt %zu: INVITE %s via %s (Call-ID %s)",
		 c->nattempts, ruri, gw->name, callid);

	if (p->no_provisional_ms > 0)
		c->t_noprov =
		    sg_timer_start(sg, p->no_provisional_ms, noprov_expired, c);
	c->t_timer_b = sg_timer_start(sg, p->timer_b_ms, timer_b_expired, c);
	return 0;
}

/*
 * Try the next eligible gateway; when none is left (or the switch limit
 * is reached) the caller gets 503 with the reason of SPEC §3.5.
 */
void sg_failover_next(struct sg_call *c)
{
	const struct sg_params *p = &c->tables->params;
	const char *reason;

	while (c->next_cand < c->ncands &&
	       c->nattempts < (size_t)p->switch_limit &&
	       c->nattempts < SG_CALL_MAX_ATTEMPTS) {
		const struct sg_gw *gw = c->cands[c->next_cand++].gw;

		const char *busy =
		    sg_failover_busy(c->sg, gw, c->mgw->priority_customer);

		if (busy) {
			sw_cinfo(c->callid_a, "%s skipped: %s", gw->name, busy);
			c->busy_skipped = true;
			continue;
		}
		switch (start_attempt(c, gw)) {
		case 0:
			return;
		case EINPROGRESS: /* media first: this gateway again after */
			c->next_cand--;
			return;
		default:
			break;
		}
	}

	if (c->nattempts == 0 && c->srtp_refused) {
		sg_call_fail(c, 488, sip_488_Not_acceptable, "SrtpNotRelayed",
			     "server");
		return;
	}
	if (c->nattempts == 0 && c->cm.codec_refused) {
		sg_call_fail(c, 488, sip_488_Not_acceptable, "CodecMismatch",
			     "server");
		return;
	}
	if (c->nattempts == 0)
		reason =
		    c->busy_skipped ? "AllGatewayBusy" : "NoAvailableRouter";
	else
		reason = "VendorFailure";
	sg_call_fail(c, 503, sip_503_Service_unavailable, reason,
		     c->nattempts ? "callee" : "server");
}

/* The caller cancelled (or the server ends an unanswered call). */
void sg_failover_cancel(struct sg_call *c)
{
	if (c->orq) {
		record_end(c, 487);
		drop_attempt(c, true);
	}
	c->next_cand = c->ncands;
}

/* Call teardown: nothing of the vendor leg may outlive the call. */
void sg_failover_stop(struct sg_call *c)
{
	bool unanswered = c->orq && !c->answer_ms;

	if (unanswered) {
		record_end(c, 487);
		drop_attempt(c, true);
	}
	stop_timers(c);
	if (c->orq) {
		nta_outgoing_destroy(c->orq);
		c->orq = NULL;
	}
	release_line(c);
	/* the leg stays until the call is freed: a BYE may still use it */
	if (c->leg_b && !c->byes && c->cdr_done) {
		nta_leg_destroy(c->leg_b);
		c->leg_b = NULL;
	}
}
