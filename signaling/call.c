/*
 * call.c - B2BUA call: caller leg, relay to the vendor leg, teardown, CDR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "call"
#include "common/log.h"
#include "common/jsonw.h"
#include "common/utf8.h"
#include "common/json.h"
#include "proto/media.h"
#include "proto/proto.h"
#include "common/swtime.h"
#include "signaling/admission.h"
#include "signaling/alias.h"
#include "signaling/billing.h"
#include "signaling/call.h"
#include "signaling/calls.h"
#include "signaling/callmedia.h"
#include "signaling/failover.h"
#include "signaling/media.h"
#include "signaling/recovery.h"
#include "signaling/sg.h"
#include "signaling/spool.h"
#include "signaling/tables.h"

#define SDP_TYPE "application/sdp"

static void call_end(struct sg_call *c);
static void call_free(struct sg_call *c);
static void finish(struct sg_call *c);
static void media_deleted(int err, json_t *body, void *arg);
static void media_try_next(struct sg_call *c);

/* Find an active call by its id (= media session id). */
/*
 * Who may send a leg's media besides its SDP address, into l: the
 * caller's signalling source and its mapping gateway's media_handover (leg
 * a), the vendor gateway's address and media_handover (leg b)
 * (docs/mediaproxyd.md "Latching").
 */
void sg_call_guard(const struct sg_call *c, bool leg_a, struct sg_media_leg *l)
{
	if (leg_a) {
		l->sig_ip = c->src_ip;
		l->handover = c->mgw && c->mgw->media_handover;
	} else {
		l->sig_ip = c->gw ? c->gw->address : NULL;
		l->handover = c->gw && c->gw->media_handover;
	}
}

/* A wire string into a record field: valid UTF-8, cut on a character. */
static void wire_copy(char *dst, size_t size, const char *s, size_t len)
{
	sw_utf8_copy(dst, size, s ? s : "", s ? len : 0);
}

static void set_outcome(struct sg_call *c, int code, const char *text,
			const char *reason, const char *dir)
{
	if (c->end_reason[0])
		return; /* the first cause wins */
	c->end_code = code;
	wire_copy(c->end_text, sizeof(c->end_text), text,
		  text ? strlen(text) : 0);
	snprintf(c->end_reason, sizeof(c->end_reason), "%s", reason);
	snprintf(c->end_dir, sizeof(c->end_dir), "%s", dir);
}

/*
 * A number from the wire: false when it does not fit (the call is refused
 * 484 rather than routed and billed as a number nobody dialled).
 */
static bool copy_number(char *dst, size_t size, const char *s, size_t len)
{
	if (!s)
		len = 0;
	return sw_utf8_copy(dst, size, s ? s : "", len) == len;
}

static bool copy_user(char *dst, size_t size, const url_t *url)
{
	const char *u = url && url->url_user ? url->url_user : "";

	return copy_number(dst, size, u, strlen(u));
}

/*
 * The caller number per the mapping gateway's caller source: From user
 * (default), the From display name, or the Remote-Party-ID user; a source
 * that is absent falls back to the From user.
 */
bool sg_call_number_of(char *dst, size_t size, sip_t const *sip,
		       const char *source)
{
	if (!strcmp(source, "display") && sip->sip_from->a_display &&
	    *sip->sip_from->a_display) {
		const char *d = sip->sip_from->a_display;
		size_t n = strlen(d);

		if (n >= 2 && d[0] == '"' && d[n - 1] == '"') {
			d++;
			n -= 2;
		}
		if (n)
			return copy_number(dst, size, d, n);
	}
	if (!strcmp(source, "rpid")) {
		sip_remote_party_id_t const *rpid = sip_remote_party_id(sip);

		if (rpid && rpid->rpid_url->url_user &&
		    *rpid->rpid_url->url_user)
			return copy_user(dst, size, rpid->rpid_url);
	}
	return copy_user(dst, size, sip->sip_from->a_url);
}

/* Our Contact for requests and responses of either leg. */
/*
 * Our Contact toward one leg: the sips one (transport=tls) when that leg
 * is over TLS, so that its in-dialog requests come back that way.
 */
sip_contact_t const *sg_call_contact(const struct sg_call *c, bool leg_a)
{
	bool tls = leg_a ? c->a_tls : c->gw && c->gw->tls;

	if (tls && c->sg->tls_contact)
		return c->sg->tls_contact;
	return nta_agent_contact(c->sg->agent);
}

/*
 * ACK the 2xx of an INVITE of ours sent on leg with CSeq cseq; sdp: the
 * answer it carries, or NULL.  The CSeq is given: a PRACK, UPDATE or INFO
 * sent on the dialog since has moved the leg's own.  Stateless: nta keeps
 * nothing of it (a stateful ACK lived 32 s with its message, 4.6 kB a
 * call); the INVITE's transaction is released once ACKed, so a
 * retransmitted 2xx reaches sg_call_stray_response, which ACKs it again.
 * false when it could not be sent.
 */
bool sg_call_ack(nta_leg_t *leg, uint32_t cseq, sip_contact_t const *m,
		 const char *sdp, tport_t *tp)
{
	char cs[24];
	nta_outgoing_t *ack;

	snprintf(cs, sizeof(cs), "%u ACK", (unsigned)cseq);
	ack = nta_outgoing_tcreate(
	    leg, NULL, NULL, NULL, SIP_METHOD_ACK, NULL, SIPTAG_CSEQ_STR(cs),
	    TAG_IF(m, SIPTAG_CONTACT(m)),
	    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
	    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), NTATAG_STATELESS(1),
	    TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (!ack)
		return false;
	nta_outgoing_destroy(ack); /* NONE once sent: nothing to destroy */
	return true;
}

/* the caller PRACKed a reliable provisional of ours: 200 (RFC 3262) */
static int a_prack(void *rmagic, nta_reliable_t *rel, nta_incoming_t *prack,
		   sip_t const *sip)
{
	(void)rmagic;
	(void)rel;
	(void)prack;
	(void)sip;
	return 200;
}

/*
 * A provisional response relayed reliably (RFC 3262): the vendor sent it
 * reliably and the caller supports 100rel; nta adds RSeq and Require,
 * retransmits until the caller's PRACK and holds a 2xx until then.  false:
 * it goes unreliably.
 */
static bool reply_a_reliable(struct sg_call *c, int code, const char *phrase,
			     const char *sdp)
{
	if (code <= 100 || code >= 200 || !c->b_rel || !c->a_100rel)
		return false;
	return nta_reliable_treply(
		   c->irq, a_prack, c, code, phrase,
		   SIPTAG_CONTACT(sg_call_contact(c, true)),
		   TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
		   TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END()) != NULL;
}

static void reply_a(struct sg_call *c, int code, const char *phrase,
		    const char *sdp)
{
	char ra[16], minse[16], se[SG_ST_HDR_MAX];
	bool timer = code >= 200 && code < 300 &&
		     !sg_st_header(&c->st.a, false, se, sizeof(se));

	if (!c->irq || c->a_final)
		return;
	if (reply_a_reliable(c, code, phrase, sdp))
		return;
	snprintf(ra, sizeof(ra), "%d", c->retry_after);
	snprintf(minse, sizeof(minse), "%u", c->min_se_reply);
	nta_incoming_treply(
	    c->irq, code, phrase,
	    TAG_IF(code > 100 && code < 300,
		   SIPTAG_CONTACT(sg_call_contact(c, true))),
	    TAG_IF(code >= 300 && c->retry_after > 0,
		   SIPTAG_RETRY_AFTER_STR(ra)),
	    TAG_IF(code == 422, SIPTAG_MIN_SE_STR(minse)),
	    TAG_IF(timer, SIPTAG_SESSION_EXPIRES_STR(se)),
	    TAG_IF(timer && c->st.a.require, SIPTAG_REQUIRE_STR("timer")),
	    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
	    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	if (code >= 200)
		c->a_final = true;
}

/* An in-dialog transaction of ours (BYE, INFO) finished. */
void sg_call_txn_done(struct sg_call *c)
{
	if (c->byes)
		c->byes--;
	if (c->state == SG_CALL_ENDED)
		call_end(c);
}

static int bye_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct sg_call *c = magic;
	int status =
	    sip ? sip->sip_status->st_status : nta_outgoing_status(orq);

	if (status < 200)
		return 0;
	sw_cdebug(c->callid_a, "BYE answered %d", status);
	nta_outgoing_destroy(orq);
	sg_call_txn_done(c);
	return 0;
}

/**
 * The connection a request on leg goes over: the vendor's leg to a
 * gateway that offered its connection (RFC 5923, alias.h), else NULL
 * (nta's own choice).
 */
tport_t *sg_call_tport(const struct sg_call *c, const nta_leg_t *leg)
{
	if (!c || !leg || leg != c->leg_b)
		return NULL;
	return sg_alias_for_gw(c->sg->alias, c->gw);
}

static void send_bye(struct sg_call *c, nta_leg_t *leg)
{
	nta_outgoing_t *o;
	tport_t *tp;

	if (!leg)
		return;
	tp = sg_call_tport(c, leg);
	o = nta_outgoing_tcreate(leg, bye_resp, c, NULL, SIP_METHOD_BYE, NULL,
				 TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (o)
		c->byes++;
	else
		sw_cwarn(c->callid_a, "cannot send BYE");
}

static void vendor_sdp(struct sg_call *c, sip_t const *sip, bool *has)
{
	*has = false;
	if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len)
		return;
	if (sip->sip_content_type && sip->sip_content_type->c_type &&
	    strcasecmp(sip->sip_content_type->c_type, SDP_TYPE))
		return;
	sg_callmedia_answer(c, sip->sip_payload->pl_data,
			    sip->sip_payload->pl_len);
	*has = true;
}

/* 18x from the vendor: relay to the caller (early media through the
 * node). */
void sg_call_relay_provisional(struct sg_call *c, sip_t const *sip)
{
	int status = sip->sip_status->st_status;
	bool has_sdp;

	if (c->a_final || c->state >= SG_CALL_ANSWERED)
		return;
	if (!c->ringing_ms) {
		c->ringing_ms = sw_time_wall_ms();
		c->pdd_ms = sw_time_mono_ms() - c->setup_mono;
	}
	vendor_sdp(c, sip, &has_sdp);
	sw_cdebug(c->callid_a, "%d %s from %s relayed%s", status,
		  sip->sip_status->st_phrase, c->routing_gw,
		  has_sdp ? " with SDP" : "");
	/* a caller that sent no offer cannot be offered in an unreliable
	 * 18x (RFC 3261 13.2.1): the SDP waits for the 200 */
	if (c->cm.late && sg_callmedia_relayed(c))
		has_sdp = false;
	reply_a(c, status, sip->sip_status->st_phrase,
		has_sdp ? c->sdp_to_a : NULL);
	c->state = SG_CALL_EARLY;
}

static void arm_max_duration(struct sg_call *c);

/* true when billing's grant is the limit that ends the call */
static bool billing_binds(const struct sg_call *c)
{
	return c->max_duration_s &&
	       (!params_of(c)->max_call_s ||
		c->max_duration_s < params_of(c)->max_call_s) &&
	       (!c->mgw->max_duration_s ||
		c->max_duration_s < c->mgw->max_duration_s);
}

static void maxdur_expired(void *magic, su_timer_t *t, void *arg)
{
	struct sg_call *c = arg;
	const char *reason = "MaxDuration";

	(void)magic;
	(void)t;
	c->t_maxdur = NULL;
	if (billing_binds(c)) {
		reason = "BalanceExhausted";
		if (c->extendable) {
			/* the extension never came back: billingd is down */
			if (params_of(c)->fail_open && c->mgw->postpaid) {
				sw_cwarn(c->callid_a,
					 "billingd unavailable; "
					 "postpaid call goes on (fail open)");
				c->max_duration_s = 0;
				c->extendable = false;
				arm_max_duration(c);
				return;
			}
			reason = "BillingUnavailable";
		}
	}
	sw_cinfo(c->callid_a, "call time limit reached (%s)", reason);
	sg_call_terminate(c, reason, "server");
}

static void extend_fire(void *magic, su_timer_t *t, void *arg);

static void extend_done(int err, const struct sg_auth_result *res, void *arg)
{
	struct sg_call *c = arg;

	c->ext_req = NULL;
	if (c->state == SG_CALL_ENDED)
		return;
	if (err || !res->allow) {
		if (!err) {
			c->extendable = false; /* account or rate gone */
			return;
		}
		sw_cwarn(c->callid_a, "auth.extend: %s (retrying)",
			 strerror(err));
		c->t_extend = sg_timer_start(c->sg, 1000, extend_fire, c);
		return;
	}
	if (res->max_duration_s > c->max_duration_s) {
		c->slice_s = res->max_duration_s - c->max_duration_s;
		c->max_duration_s = res->max_duration_s;
	}
	c->extendable = res->extendable;
	sw_cdebug(c->callid_a, "reservation extended to %lld s%s",
		  (long long)c->max_duration_s,
		  c->extendable ? "" : " (all the balance buys)");
	arm_max_duration(c);
}

static void extend_fire(void *magic, su_timer_t *t, void *arg)
{
	struct sg_call *c = arg;
	struct sg_auth_req req = {c->id,     c->account,   c->caller,
				  c->callee, c->mgw->name, NULL};

	(void)magic;
	(void)t;
	c->t_extend = NULL;
	if (c->state == SG_CALL_ENDED)
		return;
	if (c->ext_req) { /* a resume in flight: right after it */
		c->t_extend = sg_timer_start(c->sg, 200, extend_fire, c);
		return;
	}
	if (sg_billing_extend(&c->ext_req, c->sg->billing, &req,
			      c->max_duration_s, false, 2000, extend_done, c))
		c->t_extend = sg_timer_start(c->sg, 1000, extend_fire, c);
}

/*
 * (Re-)arm the timer that ends the call at its smallest limit, counted
 * from the answer, and the auth.extend that comes a third of a slice (1 to
 * 10 s) before billing's grant runs out.
 */
static void arm_max_duration(struct sg_call *c)
{
	int64_t lim[3] = {params_of(c)->max_call_s, c->mgw->max_duration_s,
			  c->max_duration_s};
	int64_t s = 0, elapsed = sw_time_mono_ms() - c->answer_mono;

	sg_timer_stop(&c->t_maxdur);
	sg_timer_stop(&c->t_extend);
	for (int i = 0; i < 3; i++)
		if (lim[i] > 0 && (!s || lim[i] < s))
			s = lim[i];
	if (s)
		c->t_maxdur = sg_timer_start(c->sg, s * 1000 - elapsed,
					     maxdur_expired, c);
	if (c->extendable && billing_binds(c) && !c->ext_req) {
		int64_t lead = c->slice_s / 3;

		lead = lead < 1 ? 1 : lead > 10 ? 10 : lead;
		c->t_extend = sg_timer_start(
		    c->sg, (c->max_duration_s - lead) * 1000 - elapsed,
		    extend_fire, c);
	}
}

static void resume_done(int err, const struct sg_auth_result *res, void *arg)
{
	struct sg_call *c = arg;

	(void)res;
	c->ext_req = NULL;
	if (err)
		sw_cwarn(c->callid_a, "reservation not re-sent: %s",
			 strerror(err));
}

/* billingd restarted: every answered call re-creates its reservation */
void sg_call_billing_restarted(void *arg)
{
	struct sg *sg = arg;

	for (struct sg_call *c = sg_calls_first(sg->calls); c; c = c->next) {
		struct sg_auth_req req = {c->id,     c->account,   c->caller,
					  c->callee, c->mgw->name, NULL};

		if (!c->authorized || c->ext_req || !c->max_duration_s ||
		    (c->state != SG_CALL_ANSWERED &&
		     c->state != SG_CALL_CONFIRMED))
			continue;
		sg_billing_extend(&c->ext_req, sg->billing, &req,
				  c->max_duration_s, true, 2000, resume_done,
				  c);
	}
}

/* 2xx from the vendor (already ACKed): relay the answer to the caller. */
void sg_call_relay_answer(struct sg_call *c, sip_t const *sip)
{
	bool has_sdp;

	c->answer_ms = sw_time_wall_ms();
	c->answer_mono = sw_time_mono_ms();
	if (!c->ringing_ms)
		c->pdd_ms = c->answer_mono - c->setup_mono;
	vendor_sdp(c, sip, &has_sdp);
	if (sip->sip_call_id)
		snprintf(c->callid_b, sizeof(c->callid_b), "%s",
			 sip->sip_call_id->i_id);
	sw_cdebug(c->callid_a, "answered by %s (%s)", c->routing_gw,
		  c->callid_b);
	sg_call_st_answered(c, sip);
	reply_a(c, 200, sip_200_OK, c->sdp_to_a);
	c->state = SG_CALL_ANSWERED;
	/* answered: no other gateway will be tried, the codecs are decided */
	free(c->cands);
	c->cands = NULL;
	c->ncands = c->next_cand = 0;
	sg_cm_settled(&c->cm);
	arm_max_duration(c);
	sg_recovery_up(c);
}

/*
 * The call fails before an answer: final response to the caller, outcome
 * recorded, teardown.
 */
void sg_call_fail(struct sg_call *c, int code, const char *phrase,
		  const char *reason, const char *dir)
{
	if (c->state == SG_CALL_ENDED)
		return;
	sw_cinfo(c->callid_a, "failed: %d %s (%s)", code, phrase, reason);
	set_outcome(c, code, phrase, reason, dir);
	reply_a(c, code, phrase, NULL);
	call_end(c);
}

/* End a call from outside or on a BYE: both legs are closed as needed. */
void sg_call_terminate(struct sg_call *c, const char *reason, const char *dir)
{
	if (!c || c->state == SG_CALL_ENDED)
		return;
	if (c->state < SG_CALL_ANSWERED) {
		bool caller = !strcmp(dir, "caller");

		sg_failover_cancel(c);
		sg_call_fail(c, caller ? 487 : 503,
			     caller ? sip_487_Request_terminated
				    : sip_503_Service_unavailable,
			     reason, dir);
		return;
	}
	set_outcome(c, 200, "OK", reason, dir);
	sw_cdebug(c->callid_a, "hangup (%s, %s)", reason, dir);
	sg_failover_ack(c, NULL, 0); /* a held ACK goes before the BYE */
	if (strcmp(dir, "caller"))
		send_bye(c, c->leg_a);
	if (strcmp(dir, "callee"))
		send_bye(c, c->leg_b);
	call_end(c);
}

/*
 * A media node died (sg_media_check): every call on it ends now with
 * MediaNodeLost (BYE both ways when answered, 503 before), billed until
 * since_mono, when the node was last heard.
 */
void sg_call_media_lost(struct sg_media_node *n, int64_t since_mono, void *arg)
{
	struct sg *sg = arg;
	struct sg_call *c, *next;
	unsigned ended = 0;

	for (c = sg_calls_first(sg->calls); c; c = next) {
		next = c->next;
		if (c->node != n || c->state == SG_CALL_ENDED)
			continue;
		c->media_lost_mono = since_mono;
		sg_call_terminate(c, "MediaNodeLost", "server");
		ended++;
	}
	if (ended)
		sw_warn("%u calls on media node %s ended (MediaNodeLost)",
			ended, n->node_id);
}

void sg_call_terminate_all(struct sg *sg, const char *reason)
{
	struct sg_call *c, *next;

	for (c = sg_calls_first(sg->calls); c; c = next) {
		next = c->next;
		if (!c->kept)
			sg_call_terminate(c, reason, "server");
	}
}

/* a kept call not ended meanwhile (by a BYE during the drain) */
static bool kept_up(const struct sg_call *c)
{
	return c->kept && c->state != SG_CALL_ENDED;
}

/*
 * Shutdown with keep_calls_on_stop: answered calls in the journal are kept
 * up for the next process.  They go on serving their dialogs while the
 * drain lasts (a BYE then ends the call here, with its CDR), so no
 * in-dialog request is refused while the switch restarts; returns how
 * many.
 */
unsigned sg_call_keep_answered(struct sg *sg)
{
	unsigned n = 0;

	for (struct sg_call *c = sg_calls_first(sg->calls); c; c = c->next)
		if (c->journaled && (c->state == SG_CALL_ANSWERED ||
				     c->state == SG_CALL_CONFIRMED)) {
			c->kept = true;
			n++;
		}
	return n;
}

/*
 * End of the drain: the kept calls still up are let go without BYE,
 * media.delete or CDR (the next process recovers them); returns how many.
 */
unsigned sg_call_detach_kept(struct sg *sg)
{
	struct sg_call *c, *next;
	unsigned n = 0;

	for (c = sg_calls_first(sg->calls); c; c = next) {
		next = c->next;
		if (!kept_up(c))
			continue;
		c->state = SG_CALL_ENDED; /* nothing more is sent */
		c->cdr_done = true;
		if (c->admitted) {
			sg_admit_release(sg, c->mgw);
			c->admitted = false;
		}
		call_free(c);
		n++;
	}
	return n;
}

/*
 * The drain was cut: calls that ended but still wait for their node's
 * media.delete (or offer) reply get their CDR now, without RTP
 * statistics.  Their journal line is already "down", so a CDR not written
 * here would be lost with the process.  Returns how many.
 */
unsigned sg_call_finish_unfinished(struct sg *sg)
{
	unsigned n = 0;

	for (struct sg_call *c = sg_calls_first(sg->calls); c; c = c->next)
		if (c->state == SG_CALL_ENDED && !c->cdr_done) {
			sw_cwarn(c->callid_a,
				 "CDR written without waiting for the media "
				 "node (stopping)");
			finish(c);
			n++;
		}
	return n;
}

/*
 * What the drain waits for, kept calls aside: calls whose CDR is not
 * written yet (unfinished) and calls at all (their transactions linger).
 */
void sg_call_drain_counts(const struct sg *sg, unsigned *unfinished,
			  unsigned *lingering)
{
	*unfinished = *lingering = 0;
	for (const struct sg_call *c = sg_calls_first(sg->calls); c;
	     c = c->next) {
		if (kept_up(c))
			continue;
		(*lingering)++;
		if (!c->cdr_done)
			(*unfinished)++;
	}
}

/*
 * Last step of a shutdown, before the SIP agent goes: free every call
 * left (its CDR is spooled or it was detached; what remains are
 * transactions toward peers that never answered).
 */
void sg_call_free_all(struct sg *sg)
{
	struct sg_call *c, *next;

	for (c = sg_calls_first(sg->calls); c; c = next) {
		next = c->next;
		if (c->admitted) {
			sg_admit_release(sg, c->mgw);
			c->admitted = false;
		}
		call_free(c);
	}
}

/* ---- media anchoring ---- */

static void media_offered(int err, const char *code,
			  const struct sg_media_local *loc, void *arg)
{
	struct sg_call *c = arg;

	c->media_req = NULL;
	if (c->state == SG_CALL_ENDED) {
		/* the call ended while the offer was out: undo it */
		if (!err && !sg_media_delete(&c->media_req, c->node, c->id,
					     c->end_reason,
					     (int)c->sg->cfg.media_timeout_ms,
					     media_deleted, c))
			return;
		c->media_req = NULL;
		finish(c);
		return;
	}
	if (err) {
		sw_cwarn(c->callid_a, "media node %s failed (%s), next node",
			 c->node->node_id,
			 err == EPROTO ? code : strerror(err));
		if (err == EPROTO && !strcmp(code, SW_ERR_BAD_REQUEST))
			c->media_sdp_refused++;
		c->node = NULL;
		c->media_try++;
		media_try_next(c);
		return;
	}
	c->media_up = true;
	snprintf(c->a_local_ip, sizeof(c->a_local_ip), "%s", loc->a_ip);
	snprintf(c->b_local_ip, sizeof(c->b_local_ip), "%s", loc->b_ip);
	c->a_local_port = loc->a_port;
	c->b_local_port = loc->b_port;
	sw_cdebug(c->callid_a,
		  "media on %s: caller side %s:%d, vendor side "
		  "%s:%d",
		  c->node->node_id, loc->a_ip, loc->a_port, loc->b_ip,
		  loc->b_port);
	c->state = SG_CALL_ROUTING;
	sg_failover_next(c);
}

static void media_try_next(struct sg_call *c)
{
	struct sg_cm_leg la, lb;
	struct sg_media_leg a, b;

	/* the order is fixed at the first try: failures re-sort the pool */
	if (c->media_try == 0)
		c->media_nnodes = sg_media_pick(c->sg->media, c->media_nodes,
						SG_CALL_MAX_NODES);
	if (c->media_try >= c->media_nnodes) {
		if (c->media_try && c->media_sdp_refused == c->media_try) {
			/* every node refused what the caller's SDP asks for
			 * (e.g. IPv6 toward IPv4-only nodes): the caller's
			 * fault, not the nodes' */
			sw_cinfo(c->callid_a, "488: no media node can serve "
					      "the caller's SDP");
			sg_call_fail(c, 488, sip_488_Not_acceptable, "BadSdp",
				     "server");
			return;
		}
		sg_call_fail(c, 503, sip_503_Service_unavailable,
			     "MediaUnavailable", "server");
		return;
	}
	c->node = c->media_nodes[c->media_try];
	sg_callmedia_node_plans(c, &la, &lb, &a, &b);
	if (sg_media_offer(&c->media_req, c->node, c->id, c->callid_a,
			   c->account, &a, &b, (int)params_of(c)->qos_rtp,
			   params_of(c), (int)c->sg->cfg.media_timeout_ms,
			   media_offered, c)) {
		c->node = NULL;
		c->media_try++;
		media_try_next(c);
	}
}

static void route_and_connect(struct sg_call *c)
{
	bool unroutable;

	if (sg_callmedia_check(c))
		return; /* 488 CodecMismatch sent */
	if (sg_failover_route(c, &unroutable) == 0) {
		if (unroutable) /* no retry can help: fail fast (SPEC §3.2) */
			sg_call_fail(c, 404, sip_404_Not_found, "NoRoute",
				     "server");
		else
			sg_call_fail(c, 503, sip_503_Service_unavailable,
				     "NoAvailableRouter", "server");
		return;
	}
	/* media is anchored by the first attempt that needs it (failover.c,
	 * sg_call_anchor) */
	c->state = SG_CALL_ROUTING;
	sg_failover_next(c);
}

/*
 * An attempt needs the media node and the call has none yet: anchor it;
 * the attempt is made again once the node answered (media_offered).
 */
void sg_call_anchor(struct sg_call *c)
{
	c->state = SG_CALL_MEDIA;
	media_try_next(c);
}

/* ---- billing ---- */

static const char *refusal_phrase(const struct sg_auth_result *r)
{
	if (!strcmp(r->reason, "InsufficientBalance"))
		return "Insufficient Balance";
	if (!strcmp(r->reason, "NoRate"))
		return "No Rate";
	if (!strcmp(r->reason, "AccountNotFound"))
		return "Account Not Found";
	if (!strcmp(r->reason, "CardEmpty"))
		return "Card Empty";
	if (!strcmp(r->reason, "CardExpired"))
		return "Card Expired";
	if (!strcmp(r->reason, "CardLocked"))
		return "Card Locked";
	return "Forbidden"; /* CardNotFound, CardPinWrong alike */
}

static void auth_done(int err, const struct sg_auth_result *res, void *arg)
{
	struct sg_call *c = arg;

	c->auth_req = NULL;
	memset(c->card_digits, 0, sizeof(c->card_digits)); /* the PIN */
	if (c->state == SG_CALL_ENDED)
		return;
	if (err) {
		if (params_of(c)->fail_open && !c->mgw->phone_card &&
		    c->mgw->postpaid) {
			sw_cwarn(c->callid_a,
				 "billingd unavailable (%s); "
				 "postpaid call let through (fail open)",
				 strerror(err));
			c->max_duration_s = params_of(c)->max_call_s;
			route_and_connect(c);
			return;
		}
		sw_cwarn(c->callid_a, "billingd unavailable: %s",
			 strerror(err));
		sg_call_fail(c, 503, sip_503_Service_unavailable,
			     "BillingUnavailable", "server");
		return;
	}
	if (!res->allow) {
		int code = res->sip_code >= 400 && res->sip_code < 700
			       ? res->sip_code
			       : 403;

		sg_call_fail(c, code, refusal_phrase(res),
			     res->reason[0] ? res->reason : "AuthRejected",
			     "server");
		return;
	}
	if (res->account[0])
		snprintf(c->account, sizeof(c->account), "%s", res->account);
	snprintf(c->card, sizeof(c->card), "%s", res->card);
	c->authorized = true;
	c->max_duration_s = res->max_duration_s;
	c->slice_s = res->max_duration_s;
	c->extendable = res->extendable;
	sw_cdebug(c->callid_a, "authorized, max %lld s",
		  (long long)res->max_duration_s);
	route_and_connect(c);
}

/* ---- teardown ---- */

static void call_free(struct sg_call *c)
{
	struct sg *sg = c->sg;

	sg_calls_del(sg->calls, c);

	sg_billing_auth_cancel(c->auth_req);
	sg_media_req_cancel(c->media_req);
	sg_cm_free(&c->cm);
	sg_st_stop(&c->st);
	free(c->b_ack_sdp);
	sg_timer_stop(&c->t_maxdur);
	sg_timer_stop(&c->t_extend);
	sg_billing_auth_cancel(c->ext_req);
	sg_timer_stop(&c->t_reap);
	sg_timer_stop(&c->t_free);
	if (c->reinv_orq)
		nta_outgoing_destroy(c->reinv_orq);
	if (c->reinv_irq)
		nta_incoming_destroy(c->reinv_irq);
	sg_failover_stop(c);
	if (c->irq)
		nta_incoming_destroy(c->irq);
	if (c->leg_a)
		nta_leg_destroy(c->leg_a);
	json_decref(c->rtp);
	json_decref(c->recovered_cdr);
	free(c->sdp_to_a);
	free(c->sdp_to_b);
	free(c->attempts);
	free(c->cands);
	free(c->phone_gw);
	sg_tables_unref(c->tables);
	su_home_unref(c->home);
	free(c);
}

/* freed from a timer, never inside an nta callback of its own legs */
static void free_now(void *magic, su_timer_t *t, void *arg)
{
	(void)magic;
	(void)t;
	call_free(arg);
}

static void finish(struct sg_call *c)
{
	struct sw_jw cdr = {0};
	int err;

	if (!c->cdr_done) {
		int64_t since;

		c->cdr_done = true;
		if (!c->end_mono) { /* else: when call_end() ended it */
			c->end_ms = sw_time_wall_ms();
			c->end_mono = sw_time_mono_ms();
		}
		if (!c->media_lost_mono && c->answer_mono && c->node &&
		    c->media_up && sg_media_failing(c->node, &since)) {
			/* hung up while its node was dying, before
			 * sg_media_check said so: its media stopped then too */
			c->media_lost_mono = since;
			snprintf(c->end_reason, sizeof(c->end_reason), "%s",
				 "MediaNodeLost");
		}
		if (c->media_lost_mono && c->media_lost_mono < c->end_mono) {
			/* billed until its media stopped, not until we knew;
			 * a node last heard before the answer (or the setup)
			 * carried no media of this call: nothing billed */
			int64_t floor =
			    c->answer_mono ? c->answer_mono : c->setup_mono;
			int64_t lost = c->media_lost_mono > floor
					   ? c->media_lost_mono
					   : floor;

			/* floored: the answer's (setup's) own wall time, not
			 * one read a millisecond apart from its monotonic */
			if (lost == floor)
				c->end_ms =
				    c->answer_mono ? c->answer_ms : c->setup_ms;
			else
				c->end_ms -= c->end_mono - lost;
			c->end_mono = lost;
		}
		/* the wall-clock end of a clamped call can fall a rounding
		 * millisecond before its answer (wall and monotonic times
		 * are read one after the other): billingd would quarantine
		 * such a CDR as implausible */
		if (c->answer_ms && c->end_ms < c->answer_ms)
			c->end_ms = c->answer_ms;
		else if (c->end_ms < c->setup_ms)
			c->end_ms = c->setup_ms;
		sg_calls_ended(c->sg->calls, c->end_code);
		err = sg_cdr_write(&cdr, c)
			  ? sg_spool_add(c->sg->spool, c->id, cdr.buf, cdr.len)
			  : ENOMEM;
		if (err)
			sw_cerr(c->callid_a, "CDR %s NOT spooled (%s): %s",
				c->id, strerror(err), cdr.buf ? cdr.buf : "");
		else
			sw_cinfo(c->callid_a, "CDR %s spooled: %d %s %s", c->id,
				 c->end_code, c->end_reason, c->end_dir);
		sw_jw_free(&cdr);
		sg_spool_flush_soon(c->sg); /* fdatasync, then send */
		if (c->authorized)
			sg_billing_release(c->sg->billing, c->id);
	}
	if (c->byes == 0 && !c->media_req && !c->t_free)
		c->t_free = sg_timer_start(c->sg, 0, free_now, c);
}

static void media_deleted(int err, json_t *body, void *arg)
{
	struct sg_call *c = arg;
	json_t *stats = body ? json_object_get(body, "stats") : NULL;

	c->media_req = NULL;
	if (err)
		sw_cwarn(c->callid_a, "media.delete: %s", strerror(err));
	if (json_is_object(stats))
		c->rtp = json_deep_copy(stats);
	finish(c);
}

static void reap_expired(void *magic, su_timer_t *t, void *arg)
{
	struct sg_call *c = arg;

	(void)magic;
	(void)t;
	sw_cwarn(c->callid_a, "teardown stuck (%u BYEs pending), freed",
		 c->byes);
	c->byes = 0;
	call_end(c);
}

/*
 * Both legs are finished (or being closed by BYE): release the media
 * session, write the CDR, free the call when nothing is in flight.  Safe
 * to call repeatedly.
 */
static void call_end(struct sg_call *c)
{
	sg_st_stop(&c->st);
	if (c->state != SG_CALL_ENDED) {
		c->state = SG_CALL_ENDED;
		/* the call's end: not when its media node answers the delete */
		c->end_ms = sw_time_wall_ms();
		c->end_mono = sw_time_mono_ms();
		sg_recovery_down(c);
		if (c->admitted) {
			sg_admit_release(c->sg, c->mgw);
			c->admitted = false;
		}
		sg_timer_stop(&c->t_maxdur);
		sg_timer_stop(&c->t_extend);
		sg_billing_auth_cancel(c->ext_req);
		c->ext_req = NULL;
		sg_failover_stop(c);
		if (!c->t_reap)
			c->t_reap =
			    sg_timer_start(c->sg, 40000, reap_expired, c);
		sg_billing_auth_cancel(c->auth_req);
		c->auth_req = NULL;
		if (c->media_req)
			return; /* offer in flight: media_offered goes on */
		if (c->node && c->media_up && !c->node->lost &&
		    !sg_media_delete(
			&c->media_req, c->node, c->id, c->end_reason,
			(int)c->sg->cfg.media_timeout_ms, media_deleted, c))
			return;
		c->media_req = NULL;
	}
	if (!c->media_req)
		finish(c);
}

/* ---- ingress ---- */

/*
 * A phone-card gateway's callee is <access prefix><card number><PIN>#
 * <destination> ('#' may come escaped as %23).  The digits go to billingd
 * in card_digits only; callee becomes the destination and callee_in keeps
 * "<access prefix>#<destination>", so no PIN reaches a log, a journal or a
 * CDR.  false when the callee is not of that form.
 */
static bool card_split(struct sg_call *c)
{
	const char *pfx = c->mgw->card_prefix, *dest;
	size_t n;

	if (!sg_dialplan_card_split(c->callee, pfx, c->card_digits,
				    sizeof(c->card_digits), &dest)) {
		/* what was dialled may hold a PIN: keep the access prefix */
		snprintf(c->callee_in, sizeof(c->callee_in), "%s", pfx);
		c->callee[0] = '\0';
		return false;
	}
	memmove(c->callee, dest, strlen(dest) + 1);
	/* shorter than the callee it came from: it fits */
	n = strlen(pfx);
	memcpy(c->callee_in, pfx, n);
	c->callee_in[n++] = '#';
	memcpy(c->callee_in + n, c->callee, strlen(c->callee) + 1);
	return true;
}

/*
 * A new INVITE from a known mapping gateway: take the transaction, answer
 * 100 Trying, set up the caller leg and start the call.  msg is taken.
 */
void sg_call_incoming(struct sg *sg, msg_t *msg, sip_t *sip,
		      const struct sg_mgw *mgw, const char *src_ip)
{
	struct sg_admit_result ar;
	struct sg_call *c;
	bool fits, card_ok = true, admitted = false;

	/* admission first (issue 9, fairness): a refused INVITE costs a
	 * stateless 503 and a counter, no call, no CDR, no log line of its
	 * own (admission.h); locked gateways and a stopping switch are
	 * answered below with their own reasons */
	if (!mgw->locked && !sg->stopping) {
		if (!sg_admit(sg, mgw, sw_time_mono_ms(), &ar)) {
			char ra[16];

			snprintf(ra, sizeof(ra), "%d", ar.retry_after);
			nta_msg_treply(sg->agent, msg, ar.code, ar.phrase,
				       TAG_IF(ar.retry_after > 0,
					      SIPTAG_RETRY_AFTER_STR(ra)),
				       TAG_END());
			return;
		}
		admitted = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->home = su_home_new(sizeof(*c->home)))) {
		free(c);
		if (admitted)
			sg_admit_release(sg, mgw);
		nta_msg_treply(sg->agent, msg, SIP_500_INTERNAL_SERVER_ERROR,
			       TAG_END());
		return;
	}
	c->sg = sg;
	c->tables = sg_tables_ref(sg->tables);
	c->mgw = mgw;
	c->admitted = admitted; /* released by call_end() */
	c->state = SG_CALL_AUTH;
	sw_uuid_gen(c->id);
	c->setup_ms = sw_time_wall_ms();
	c->setup_mono = sw_time_mono_ms();
	/* a B2BUA that restarts Max-Forwards lets a routing loop run for
	 * ever; sip.c refused 0 already */
	c->max_forwards = sip->sip_max_forwards
			      ? (unsigned)sip->sip_max_forwards->mf_count - 1
			      : 69;
	/* wire strings are made valid UTF-8 once, here (common/utf8.h) */
	wire_copy(c->callid_a, sizeof(c->callid_a), sip->sip_call_id->i_id,
		  strlen(sip->sip_call_id->i_id));
	snprintf(c->src_ip, sizeof(c->src_ip), "%s", src_ip);
	fits = sg_call_number_of(c->caller_in, sizeof(c->caller_in), sip,
				 mgw->caller_source);
	if (sip->sip_request->rq_url->url_user &&
	    *sip->sip_request->rq_url->url_user)
		fits = copy_user(c->callee_in, sizeof(c->callee_in),
				 sip->sip_request->rq_url) &&
		       fits;
	else
		fits = copy_user(c->callee_in, sizeof(c->callee_in),
				 sip->sip_to->a_url) &&
		       fits;
	/* ingress dial plans of the mapping gateway (SPEC §3.3) */
	sg_dialplan_apply(&mgw->caller_dp, c->caller_in, c->caller,
			  sizeof(c->caller));
	sg_dialplan_apply(&mgw->callee_dp, c->callee_in, c->callee,
			  sizeof(c->callee));
	snprintf(c->account, sizeof(c->account), "%s", mgw->account);
	if (mgw->phone_card)
		card_ok = card_split(c);

	sg_calls_add(sg->calls, c, true);

	c->irq = nta_incoming_create(sg->agent, NULL, msg, sip, TAG_END());
	if (!c->irq) {
		sw_cerr(c->callid_a, "cannot create server transaction");
		if (c->admitted)
			sg_admit_release(sg, mgw);
		c->admitted = false;
		c->state = SG_CALL_ENDED;
		c->cdr_done = true; /* nothing was answered: no CDR */
		call_free(c);
		return;
	}
	nta_incoming_bind(c->irq, sg_call_a_irq, c);
	{
		tport_t *tp = nta_incoming_transport(sg->agent, c->irq, NULL);
		const tp_name_t *tpn = tp ? tport_name(tp) : NULL;

		c->a_tls =
		    tpn && tpn->tpn_proto && !strcasecmp(tpn->tpn_proto, "tls");
		tport_unref(tp);
	}
	nta_incoming_treply(c->irq, SIP_100_TRYING, TAG_END());

	c->leg_a = nta_leg_tcreate(
	    sg->agent, sg_call_a_request, c, SIPTAG_CALL_ID(sip->sip_call_id),
	    SIPTAG_FROM(sip->sip_to), SIPTAG_TO(sip->sip_from),
	    NTATAG_REMOTE_CSEQ(sip->sip_cseq->cs_seq), TAG_END());
	if (!c->leg_a) {
		sg_call_fail(c, 500, sip_500_Internal_server_error, "Internal",
			     "server");
		return;
	}
	nta_leg_tag(c->leg_a, NULL);
	nta_incoming_tag(c->irq, nta_leg_get_tag(c->leg_a));
	{
		sip_to_t to[1];

		/* our side of the caller's dialog, for the recovery journal */
		*to = *sip->sip_to;
		to->a_params = NULL;
		to->a_tag = NULL;
		c->a_local_hdr = su_sprintf(
		    c->home, "%s;tag=%s",
		    sip_header_as_string(c->home, (sip_header_t *)to),
		    nta_leg_get_tag(c->leg_a));
		c->a_remote_hdr = sip_header_as_string(
		    c->home, (sip_header_t const *)sip->sip_from);
	}
	nta_leg_server_route(c->leg_a, sip->sip_record_route, sip->sip_contact);

	sw_cinfo(c->callid_a,
		 "INVITE %s -> %s from %s (mapping gateway %s, "
		 "account %s), call %s",
		 c->caller_in, c->callee_in, src_ip, mgw->name, mgw->account,
		 c->id);
	if (!fits || strlen(c->caller) + 1 >= sizeof(c->caller) ||
	    strlen(c->callee) + 1 >= sizeof(c->callee)) {
		/* never cut: a cut number is routed and rated as one the
		 * customer did not dial */
		sg_call_fail(c, 484, sip_484_Address_incomplete,
			     "NumberTooLong", "server");
		return;
	}

	if (!card_ok) {
		sg_call_fail(c, 484, sip_484_Address_incomplete,
			     "CardDialString", "server");
		return;
	}
	sg_st_caller_request(&c->st, sip);
	c->a_100rel = sip_has_feature(sip->sip_supported, "100rel") ||
		      sip_has_feature(sip->sip_require, "100rel");
	if (params_of(c)->session_expires_s &&
	    (c->min_se_reply =
		 sg_st_too_small(sip, (unsigned)params_of(c)->min_se_s))) {
		sg_call_fail(c, 422, "Session Interval Too Small",
			     "SessionIntervalTooSmall", "server");
		return;
	}

	if (sip->sip_payload && sip->sip_payload->pl_len) {
		int err;

		err = sg_callmedia_offer(c, sip->sip_payload->pl_data,
					 sip->sip_payload->pl_len);
		if (err) {
			sg_call_fail(c, 488, sip_488_Not_acceptable, "BadSdp",
				     "server");
			return;
		}
	} else if (sg_callmedia_late(c)) {
		sg_call_fail(c, 500, sip_500_Internal_server_error, "Internal",
			     "server");
		return;
	}
	if (mgw->locked) {
		sg_call_fail(c, 403, sip_403_Forbidden, "MappingGatewayLocked",
			     "server");
		return;
	}
	if (sg->stopping) {
		sg_call_fail(c, 503, sip_503_Service_unavailable, "Shutdown",
			     "server");
		return;
	}
	if (c->callee[0] &&
	    sg_tables_number_check(c->tables, mgw->account, c->callee)) {
		sw_cinfo(
		    c->callid_a,
		    "%s refused by the number section "
		    "limitation of %s",
		    c->callee,
		    sg_tables_number_check(c->tables, mgw->account, c->callee));
		sg_call_fail(c, 403, sip_403_Forbidden, "NumberNotAllowed",
			     "server");
		return;
	}
	if (!c->callee[0]) {
		sg_call_fail(c, 404, sip_404_Not_found, "NoCallee", "server");
		return;
	}

	{
		struct sg_auth_req req = {c->id,     c->account,
					  c->caller, c->callee,
					  mgw->name, c->card_digits};
		int err =
		    sg_billing_auth(&c->auth_req, sg->billing, &req,
				    (int)sg->cfg.auth_timeout_ms, auth_done, c);
		if (err)
			auth_done(err, NULL, c);
	}
}

/* ---- recovery after a restart ---- */

static const struct sg_mgw unknown_mgw = {.name = "", .account = ""};

/* a recovered call's time until billingd says what it holds */
#define RECOVER_GRACE_S 10

static void recovered_media(int err, json_t *body, void *arg)
{
	struct sg_call *c = arg;
	const char *code = body ? sw_json_str_or(body, "code", "") : "";

	c->media_req = NULL;
	if (c->state == SG_CALL_ENDED) {
		/* ended meanwhile: the delete waited for this reply */
		if (c->media_up &&
		    !(err == EPROTO && !strcmp(code, "not_found")) &&
		    !sg_media_delete(
			&c->media_req, c->node, c->id, c->end_reason,
			(int)c->sg->cfg.media_timeout_ms, media_deleted, c))
			return;
		c->media_req = NULL;
		finish(c);
		return;
	}
	if (err == EPROTO && !strcmp(code, "not_found")) {
		sw_cwarn(c->callid_a, "recovered call has no media session "
				      "any more: ended");
		c->media_up = false;
		sg_call_terminate(c, "RecoveredNoMedia", "server");
	}
}

/* one dialog of a journal record as an nta leg */
static nta_leg_t *restore_leg(struct sg_call *c, const json_t *o,
			      nta_request_f *cb)
{
	const char *callid = json_string_value(json_object_get(o, "call_id"));
	const char *local = json_string_value(json_object_get(o, "local"));
	const char *remote = json_string_value(json_object_get(o, "remote"));
	const char *target = json_string_value(json_object_get(o, "target"));
	const char *route = json_string_value(json_object_get(o, "route"));
	json_int_t seq = json_integer_value(json_object_get(o, "seq"));
	sip_contact_t *m =
	    target && *target ? sip_contact_make(c->home, target) : NULL;
	sip_route_t *r =
	    route && *route ? sip_route_make(c->home, route) : NULL;
	char cseq[32];

	if (!callid || !local || !remote)
		return NULL;
	/* past anything the old process may have sent on this dialog */
	snprintf(cseq, sizeof(cseq), "%u", (unsigned)(seq + 1000));
	return nta_leg_tcreate(c->sg->agent, cb, c, SIPTAG_CALL_ID_STR(callid),
			       SIPTAG_FROM_STR(local), SIPTAG_TO_STR(remote),
			       SIPTAG_CSEQ_STR(cseq),
			       TAG_IF(m, NTATAG_TARGET(m)),
			       TAG_IF(r, SIPTAG_ROUTE(r)), TAG_END());
}

/*
 * Rebuild an answered call from its journal record: both legs take BYEs
 * again, the media session stays on its node.  NULL when the record is
 * unusable.
 */
struct sg_call *sg_call_restore(struct sg *sg, const json_t *rec)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	const char *mg = json_string_value(json_object_get(rec, "mapping"));
	const json_t *cdr = json_object_get(rec, "cdr");
	int64_t answer = json_integer_value(json_object_get(rec, "answer_ms"));
	int64_t now = sw_time_wall_ms();
	struct sg_call *c;

	if (!id || !sw_uuid_valid(id) || !json_is_object(cdr) || !answer)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->home = su_home_new(sizeof(*c->home)))) {
		free(c);
		return NULL;
	}
	c->sg = sg;
	c->tables = sg_tables_ref(sg->tables);
	c->mgw = &unknown_mgw;
	for (size_t i = 0; mg && i < c->tables->nmgws; i++)
		if (!strcmp(c->tables->mgws[i].name, mg))
			c->mgw = &c->tables->mgws[i];
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->callid_a, sizeof(c->callid_a), "%s",
		 sw_json_str_or(cdr, "call_id_a", ""));
	snprintf(c->callid_b, sizeof(c->callid_b), "%s",
		 sw_json_str_or(cdr, "call_id_b", ""));
	snprintf(c->caller, sizeof(c->caller), "%s",
		 sw_json_str_or(cdr, "caller", ""));
	snprintf(c->callee, sizeof(c->callee), "%s",
		 sw_json_str_or(cdr, "callee", ""));
	snprintf(c->routing_gw, sizeof(c->routing_gw), "%s",
		 sw_json_str_or(cdr, "routing_gateway", ""));
	snprintf(c->account, sizeof(c->account), "%s",
		 sw_json_str_or(cdr, "account", c->mgw->account));
	snprintf(c->card, sizeof(c->card), "%s",
		 sw_json_str_or(cdr, "card", ""));
	c->recovered_cdr = json_deep_copy(cdr);
	c->answer_ms = answer;
	c->setup_ms = json_integer_value(json_object_get(cdr, "setup_ms"));
	/* durations go on from the original answer */
	c->answer_mono = sw_time_mono_ms() - (now > answer ? now - answer : 0);
	c->setup_mono = c->answer_mono;
	c->authorized = true;
	c->journaled = true;
	c->state = SG_CALL_CONFIRMED;

	sg_calls_add(sg->calls, c, false);

	c->leg_a = restore_leg(c, json_object_get(rec, "a"), sg_call_a_request);
	c->leg_b = restore_leg(c, json_object_get(rec, "b"), sg_call_b_request);
	{
		const char *node = sw_json_str_or(rec, "node", "");
		const char *url = sw_json_str_or(rec, "node_url", "");

		if (*url) {
			c->node = sg_media_node_for(sg->media, node, url);
			c->media_up = c->node != NULL;
		}
	}
	snprintf(c->a_local_ip, sizeof(c->a_local_ip), "%s",
		 sw_json_str_or(rec, "a_local_ip", ""));
	snprintf(c->b_local_ip, sizeof(c->b_local_ip), "%s",
		 sw_json_str_or(rec, "b_local_ip", ""));
	c->a_local_port =
	    (int)json_integer_value(json_object_get(rec, "a_local_port"));
	c->b_local_port =
	    (int)json_integer_value(json_object_get(rec, "b_local_port"));
	if (json_string_value(json_object_get(rec, "sdp_to_a")))
		c->sdp_to_a = strdup(sw_json_str_or(rec, "sdp_to_a", ""));
	if (json_string_value(json_object_get(rec, "sdp_to_b")))
		c->sdp_to_b = strdup(sw_json_str_or(rec, "sdp_to_b", ""));

	sw_cinfo(c->callid_a, "recovered answered call %s (%lld s old)", c->id,
		 (long long)((now - answer) / 1000));
	if (!c->leg_a || !c->leg_b) {
		sw_cwarn(c->callid_a, "recovered call unusable: ended");
		sg_call_terminate(c, "Recovered", "server");
		return c;
	}
	/*
	 * The call's reservation goes on: an extension right away learns
	 * what billingd holds for it (its grant, one slice more, or the
	 * exact seconds left) and the usual timers take over.  Until it
	 * answers, RECOVER_GRACE_S past now.
	 */
	sg_st_from_journal(&c->st, json_object_get(rec, "st"));
	sg_call_st_restored(c);
	c->extendable = true;
	c->max_duration_s =
	    (now > answer ? (now - answer) / 1000 : 0) + RECOVER_GRACE_S;
	c->slice_s = 3 * RECOVER_GRACE_S; /* extension lead: at once */
	arm_max_duration(c);
	/* a media session that did not survive means a dead call; a live
	 * one ends by BYE or by the node's rtp_timeout */
	if (c->media_up && sg_media_query(&c->media_req, c->node, c->id,
					  (int)sg->cfg.media_timeout_ms * 3,
					  recovered_media, c))
		c->media_req = NULL;
	return c;
}
