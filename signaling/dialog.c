/*
 * dialog.c - requests inside the two dialogs of a call: ACK, CANCEL, BYE,
 * re-INVITE and UPDATE (relayed with media.update), INFO (DTMF relayed),
 * the rest
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "dialog"
#include "common/log.h"
#include "proto/media.h"
#include "signaling/call.h"
#include "signaling/calldtmf.h"
#include "signaling/callmedia.h"
#include "signaling/failover.h"
#include "signaling/media.h"
#include "signaling/sg.h"
#include "signaling/tables.h"

#define SDP_TYPE "application/sdp"

static void confirmed(struct sg_call *c)
{
	if (c->state != SG_CALL_ANSWERED)
		return;
	c->state = SG_CALL_CONFIRMED;
	/* the caller's INVITE transaction has nothing left to do once its ACK
	 * came: nta absorbs retransmitted ACKs and frees it at Timer I (5 s),
	 * with the caller's INVITE it holds (the largest thing a call has) */
	if (c->irq) {
		nta_incoming_destroy(c->irq);
		c->irq = NULL;
	}
}

void sg_call_stray_response(nta_agent_t *agent, sip_t const *sip)
{
	uint32_t cseq;
	nta_leg_t *leg;
	struct sg_call *c;
	bool to_a;

	if (!sip->sip_status || sip->sip_status->st_status < 200 ||
	    sip->sip_status->st_status >= 300 || !sip->sip_cseq ||
	    sip->sip_cseq->cs_method != sip_method_invite ||
	    !sip->sip_call_id || !sip->sip_from || !sip->sip_to ||
	    !sip->sip_to->a_tag)
		return;
	/* our request: we are From, the peer is To */
	leg =
	    nta_leg_by_dialog(agent, NULL, sip->sip_call_id, sip->sip_to->a_tag,
			      NULL, sip->sip_from->a_tag, NULL);
	if ((c = nta_leg_magic(leg, sg_call_b_request)))
		to_a = false;
	else if ((c = nta_leg_magic(leg, sg_call_a_request)))
		to_a = true;
	else
		return;
	cseq = sip->sip_cseq->cs_seq;
	if (!to_a && cseq == c->b_invite_cseq) {
		/* the call's own INVITE: the same ACK, with the caller's
		 * answer when it carried one; none yet while it waits */
		if (c->b_ack_wait)
			return;
		sg_call_ack(leg, cseq, sg_call_contact(c, false), c->b_ack_sdp,
			    sg_call_tport(c, leg));
	} else {
		sg_call_ack(leg, cseq, sg_call_contact(c, to_a), NULL,
			    sg_call_tport(c, leg));
	}
	sw_cdebug(c->callid_a, "%d retransmitted by the %s: ACKed again",
		  sip->sip_status->st_status, to_a ? "caller" : "vendor");
}

/*
 * The final answer to an in-dialog request of ours that needs nothing done
 * with it (INFO, PRACK): logged when it is a failure, the transaction
 * released and counted done like a BYE's (it kept the call alive).
 */
int sg_call_txn_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct sg_call *c = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);

	if (status < 200)
		return 0;
	if (status >= 300)
		sw_cinfo(c->callid_a, "%s answered %d",
			 nta_outgoing_method_name(orq), status);
	nta_outgoing_destroy(orq);
	sg_call_txn_done(c);
	return 0;
}

/*
 * Send an INFO with body (of type) on the caller's leg (to_a) or the
 * vendor's, of an answered call.  Non-zero when it could not be sent.
 */
int sg_call_send_info(struct sg_call *c, bool to_a, const char *type,
		      const char *body)
{
	nta_leg_t *leg = to_a ? c->leg_a : c->leg_b;
	tport_t *tp = sg_call_tport(c, leg);

	if (!leg || c->state < SG_CALL_ANSWERED || c->state == SG_CALL_ENDED)
		return ENOENT;
	if (!nta_outgoing_tcreate(
		leg, sg_call_txn_resp, c, NULL, SIP_METHOD_INFO, NULL,
		SIPTAG_CONTENT_TYPE_STR(type), SIPTAG_PAYLOAD_STR(body),
		TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END()))
		return ENOMEM;
	c->byes++;
	return 0;
}

/*
 * SIP INFO (SPEC §5): DTMF bodies (application/dtmf-relay, application/dtmf)
 * are answered 200 and sent on to the other leg of a confirmed call; an
 * INFO without a body gets 200; other bodies 415.
 */
static int relay_info(struct sg_call *c, bool from_a, sip_t const *sip)
{
	const char *type =
	    sip->sip_content_type && sip->sip_content_type->c_type
		? sip->sip_content_type->c_type
		: "";
	nta_leg_t *to = from_a ? c->leg_b : c->leg_a;
	char body[256];

	if (!sip->sip_payload || !sip->sip_payload->pl_len)
		return 200;
	if (strcasecmp(type, "application/dtmf-relay") &&
	    strcasecmp(type, "application/dtmf"))
		return 415;
	if (c->state < SG_CALL_ANSWERED || c->state == SG_CALL_ENDED || !to)
		return 200;
	if (sg_calldtmf_info(c, from_a, sip->sip_payload->pl_data,
			     sip->sip_payload->pl_len))
		return 200; /* DTMF policy: INFO or media.play_dtmf */
	snprintf(body, sizeof(body), "%.*s",
		 (int)(sip->sip_payload->pl_len < sizeof(body) - 1
			   ? sip->sip_payload->pl_len
			   : sizeof(body) - 1),
		 sip->sip_payload->pl_data);
	if (!sg_call_send_info(c, !from_a, type, body))
		sw_cdebug(c->callid_a, "INFO %s relayed to the %s", type,
			  from_a ? "vendor" : "caller");
	return 200;
}

static const char *sdp_body(sip_t const *sip, size_t *lenp)
{
	if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len)
		return NULL;
	if (sip->sip_content_type && sip->sip_content_type->c_type &&
	    strcasecmp(sip->sip_content_type->c_type, SDP_TYPE))
		return NULL;
	*lenp = sip->sip_payload->pl_len;
	return sip->sip_payload->pl_data;
}

/*
 * The caller's ACK of the 200.  A caller that sent no offer answers in it:
 * relayed, its answer decides its leg (a call it cannot serve ends with
 * BadSdp); not relayed, the vendor's held ACK goes with it.
 */
static void caller_ack(struct sg_call *c, sip_t const *sip)
{
	size_t len = 0;
	const char *sdp = sdp_body(sip, &len);

	confirmed(c);
	sg_failover_ack(c, sdp, len);
	if (sg_callmedia_late_ack(c, sdp, len))
		sg_call_terminate(c, "BadSdp", "server");
}

static int reinv_event(void *magic, nta_incoming_t *irq, sip_t const *sip)
{
	(void)magic;
	(void)irq;
	(void)sip; /* ACK/CANCEL of a relayed re-INVITE */
	return 0;
}

/* the other side answered the relayed re-INVITE or UPDATE */
static int reinv_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct sg_call *c = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);
	const char *phrase = sip && sip->sip_status ? sip->sip_status->st_phrase
						    : "Request Timeout";
	nta_leg_t *to = c->reinv_from_a ? c->leg_b : c->leg_a;
	const struct sg_st_leg *sender = c->reinv_from_a ? &c->st.a : &c->st.b;
	char se[SG_ST_HDR_MAX];
	bool timer = !sg_st_header(sender, false, se, sizeof(se));
	const char *sdp;
	char *out = NULL;
	size_t len = 0;

	if (status < 200 || orq != c->reinv_orq)
		return 0;
	if (status < 300 && to) {
		if (!c->reinv_update)
			sg_call_ack(to, nta_outgoing_cseq(orq),
				    sg_call_contact(c, !c->reinv_from_a), NULL,
				    sg_call_tport(c, to));
		sdp = sdp_body(sip, &len);
		if (sdp &&
		    sg_callmedia_across(c, !c->reinv_from_a, sdp, len, &out))
			sw_cwarn(c->callid_a, "re-INVITE answer SDP unusable");
		if (out) {
			char **mine =
			    c->reinv_from_a ? &c->sdp_to_a : &c->sdp_to_b;
			free(*mine);
			*mine = out;
		}
	}
	sw_cinfo(c->callid_a, "%s from the %s answered %d",
		 c->reinv_update ? "UPDATE" : "re-INVITE",
		 c->reinv_from_a ? "caller" : "vendor", status);
	if (c->reinv_irq)
		nta_incoming_treply(
		    c->reinv_irq, status, phrase,
		    TAG_IF(status < 300,
			   SIPTAG_CONTACT(sg_call_contact(c, c->reinv_from_a))),
		    TAG_IF(status < 300 && timer,
			   SIPTAG_SESSION_EXPIRES_STR(se)),
		    TAG_IF(status < 300 && timer && sender->require,
			   SIPTAG_REQUIRE_STR("timer")),
		    TAG_IF(status < 300 && out,
			   SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
		    TAG_IF(status < 300 && out, SIPTAG_PAYLOAD_STR(out)),
		    TAG_END());
	/* answered: nta keeps what it needs (a 2xx until its ACK), the call
	 * need not keep the request for the rest of its life */
	if (c->reinv_irq) {
		nta_incoming_destroy(c->reinv_irq);
		c->reinv_irq = NULL;
	}
	nta_outgoing_destroy(orq);
	c->reinv_orq = NULL;
	return 0;
}

/*
 * A re-INVITE or an UPDATE (RFC 3311) with SDP (hold, resume, codec
 * change): the media node learns the new plan, the other side gets the
 * same request with the SDP pointed at the node, and its answer comes back
 * the same way.  Returns non-zero when the request is not relayed (the
 * caller answers it locally).
 */
static int relay_reinvite(struct sg_call *c, bool from_a, nta_incoming_t *irq,
			  sip_t const *sip)
{
	bool update = sip->sip_request->rq_method == sip_method_update;
	char se[SG_ST_HDR_MAX];
	bool timer;
	nta_leg_t *to = from_a ? c->leg_b : c->leg_a;
	tport_t *tp;
	const char *sdp;
	char *out = NULL;
	size_t len = 0;

	if (c->state < SG_CALL_ANSWERED || !to)
		return -1;
	sdp = sdp_body(sip, &len);
	if (!sdp)
		return -1;
	if (sg_callmedia_across(c, from_a, sdp, len, &out)) {
		free(out);
		nta_incoming_treply(irq, SIP_488_NOT_ACCEPTABLE, TAG_END());
		nta_incoming_destroy(irq);
		return 0;
	}
	if (c->reinv_irq)
		nta_incoming_destroy(c->reinv_irq); /* the previous one */
	c->reinv_irq = irq;
	c->reinv_from_a = from_a;
	c->reinv_update = update;
	nta_incoming_bind(irq, reinv_event, c);
	timer =
	    !sg_st_header(from_a ? &c->st.b : &c->st.a, true, se, sizeof(se));
	tp = sg_call_tport(c, to);
	c->reinv_orq = nta_outgoing_tcreate(
	    to, reinv_resp, c, NULL,
	    update ? sip_method_update : sip_method_invite,
	    update ? "UPDATE" : "INVITE", NULL,
	    SIPTAG_CONTACT(sg_call_contact(c, !from_a)),
	    TAG_IF(timer, SIPTAG_SESSION_EXPIRES_STR(se)),
	    TAG_IF(timer, SIPTAG_SUPPORTED_STR("timer")),
	    SIPTAG_CONTENT_TYPE_STR(SDP_TYPE), SIPTAG_PAYLOAD_STR(out),
	    TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (!c->reinv_orq) {
		nta_incoming_treply(irq, SIP_500_INTERNAL_SERVER_ERROR,
				    TAG_END());
		nta_incoming_destroy(irq);
		c->reinv_irq = NULL;
	} else {
		char **mine = from_a ? &c->sdp_to_b : &c->sdp_to_a;

		free(*mine);
		*mine = out;
		out = NULL;
		sg_call_st_sent(c, !from_a);
		sw_cinfo(c->callid_a, "%s from the %s relayed",
			 update ? "UPDATE" : "re-INVITE",
			 from_a ? "caller" : "vendor");
	}
	free(out);
	return 0;
}

/*
 * A re-INVITE or UPDATE answered here (a session refresh, or an UPDATE
 * without SDP): 200 with the SDP last sent on that leg for a re-INVITE,
 * and the leg's session interval when it has one.
 */
static void reply_refresh(struct sg_call *c, bool from_a, nta_incoming_t *irq,
			  const char *sdp)
{
	const struct sg_st_leg *l = from_a ? &c->st.a : &c->st.b;
	char se[SG_ST_HDR_MAX];
	bool timer = !sg_st_header(l, false, se, sizeof(se));

	nta_incoming_treply(
	    irq, SIP_200_OK, SIPTAG_CONTACT(sg_call_contact(c, from_a)),
	    TAG_IF(timer, SIPTAG_SESSION_EXPIRES_STR(se)),
	    TAG_IF(timer && l->require, SIPTAG_REQUIRE_STR("timer")),
	    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
	    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	nta_incoming_destroy(irq);
}

/* in-dialog request on either leg */
static int dialog_request(struct sg_call *c, bool from_a, nta_incoming_t *irq,
			  sip_t const *sip)
{
	const char *sdp = from_a ? c->sdp_to_a : c->sdp_to_b;
	size_t len = 0;

	switch (sip->sip_request->rq_method) {
	case sip_method_bye:
		sw_cdebug(c->callid_a, "BYE from %s",
			  from_a ? "caller" : "vendor");
		if (from_a)
			confirmed(c);
		sg_call_terminate(c, "Normal", from_a ? "caller" : "callee");
		return 200;
	case sip_method_ack:
		if (from_a)
			caller_ack(c, sip);
		return 0;
	case sip_method_invite:
		if (c->state == SG_CALL_ENDED)
			return 481;
		if (sip->sip_to && !sip->sip_to->a_tag) {
			/* no To tag: the dialog's first INVITE again, later
			 * than its transaction lives (Timer I, 5 s after the
			 * ACK), not a re-INVITE; answered as a merged request
			 * (RFC 3261 8.2.2.2), never relayed */
			sw_cinfo(c->callid_a,
				 "INVITE without To tag from the %s on an "
				 "established dialog: 482",
				 from_a ? "caller" : "vendor");
			return 482;
		}
		if (c->reinv_orq)
			return 491; /* one re-INVITE at a time */
		if (c->state >= SG_CALL_ANSWERED)
			sg_call_st_refreshed(c, from_a, sip);
		if (relay_reinvite(c, from_a, irq, sip) == 0)
			return 0;
		/* no SDP (or nothing to relay to): a session refresh,
		 * answered here with the SDP last sent on this leg */
		reply_refresh(c, from_a, irq, sdp);
		return 0;
	case sip_method_cancel:
		return 481; /* a CANCEL that matched no transaction */
	case sip_method_prack:
		return 481; /* no reliable response of ours has that RAck */
	case sip_method_info:
		return relay_info(c, from_a, sip);
	case sip_method_update:
		if (c->state == SG_CALL_ENDED)
			return 481;
		if (sdp_body(sip, &len)) {
			/* an offer before the call is answered: the INVITE's
			 * own offer/answer is not complete (no 100rel) */
			if (c->state < SG_CALL_ANSWERED || c->reinv_orq)
				return 491;
			sg_call_st_refreshed(c, from_a, sip);
			if (relay_reinvite(c, from_a, irq, sip) == 0)
				return 0;
		}
		if (c->state < SG_CALL_ANSWERED)
			return 200;
		/* a session refresh without SDP */
		sg_call_st_refreshed(c, from_a, sip);
		reply_refresh(c, from_a, irq, NULL);
		return 0;
	case sip_method_options:
	case sip_method_notify:
		return 200;
	default:
		return 501;
	}
}

/* Request in the caller leg's dialog. */
int sg_call_a_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq,
		      sip_t const *sip)
{
	(void)leg;
	return dialog_request(magic, true, irq, sip);
}

/* Request on the vendor leg's dialog (failover.c creates the leg). */
int sg_call_b_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq,
		      sip_t const *sip)
{
	(void)leg;
	return dialog_request(magic, false, irq, sip);
}

/* ACK or CANCEL for the caller's INVITE transaction */
/* ACK or CANCEL for the caller's INVITE transaction. */
int sg_call_a_irq(void *magic, nta_incoming_t *irq, sip_t const *sip)
{
	struct sg_call *c = magic;

	(void)irq;
	if (!sip) {
		/* the transaction ended without an ACK for our 2xx (Timer H)
		 * or the caller became unreachable */
		if (c->state == SG_CALL_ANSWERED) {
			sw_cwarn(c->callid_a, "caller never ACKed the 200");
			sg_call_terminate(c, "AckTimeout", "server");
		}
		return 0;
	}
	if (!sip->sip_request)
		return 0;
	if (sip->sip_request->rq_method == sip_method_cancel) {
		sw_cinfo(c->callid_a, "CANCEL from caller");
		/* too late once the 200 went out: the caller BYEs instead */
		if (c->state < SG_CALL_ANSWERED)
			sg_call_terminate(c, "CallerCancel", "caller");
	} else if (sip->sip_request->rq_method == sip_method_ack) {
		caller_ack(c, sip);
	}
	return 0;
}
