/*
 * call.h - one B2BUA call: the caller leg (A) and the vendor leg (B)
 *
 * A call starts with an INVITE from a known mapping gateway and ends with
 * its CDR in the spool.  Steps: auth.request to billingd, route selection,
 * media.offer to a media node, attempts to vendors (failover.c), relay of
 * 18x/200/BYE/CANCEL between two independent dialogs (own Call-IDs, own
 * tags, SDP rewritten toward the media node), media.delete, CDR.
 *
 * Ownership: struct sg lists and owns its calls; a call holds a reference
 * to the routing tables it was routed with, its su_home owns the SIP
 * copies, the nta objects (irq, legs, orq) are destroyed with the call.
 * Threading: su_root thread only.
 * Bus: auth.request/auth.release (billing.h), media.offer/answer/delete
 * (media.h), cdr via the spool; media.event rtp_timeout ends a call.
 */
#ifndef SG_CALL_H
#define SG_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/uuid.h"
#include "signaling/route.h"
#include "signaling/callmedia.h"
#include "signaling/sestimer.h"
#include "signaling/sofia.h"
#include "signaling/tables.h"

#define SG_CALL_MAX_CANDS    32
#define SG_CALL_MAX_ATTEMPTS 32
#define SG_NUM_MAX	     64
#define SG_CALL_MAX_NODES    8

struct sg;
struct sg_media_node;
struct sg_auth_ctx;
struct sg_media_req;

enum sg_call_state {
	SG_CALL_AUTH,	   /* waiting for billingd */
	SG_CALL_MEDIA,	   /* waiting for media.offer */
	SG_CALL_ROUTING,   /* attempt in progress, no 18x yet */
	SG_CALL_EARLY,	   /* 18x relayed */
	SG_CALL_ANSWERED,  /* 200 relayed, caller's ACK pending */
	SG_CALL_CONFIRMED, /* talking */
	SG_CALL_ENDED,	   /* both legs done; media.delete / CDR */
};

struct sg_attempt_rec {
	char gateway[64];
	int code;
	int64_t start_ms, end_ms; /* wall clock */
};

/* card number + PIN of a phone-card call (billingd/card.h) */
#define SG_CARD_MAX 49

struct sg_call {
	struct sg_call *next, *prev; /* in sg->calls (calls.c) */
	struct sg_call *hnext;	     /* its id's chain (calls.c) */
	struct sg *sg;		     /* borrowed */
	su_home_t *home;	     /* owned */
	struct sg_tables *tables;    /* ref */
	const struct sg_mgw *mgw;    /* borrowed from tables */
	enum sg_call_state state;
	char id[SW_UUID_LEN + 1]; /* CDR id and media session id */

	char callid_a[256];
	char callid_b[256];
	char caller_in[SG_NUM_MAX], callee_in[SG_NUM_MAX];
	unsigned max_forwards; /* for the B leg: the caller's less one */
	char caller[SG_NUM_MAX], callee[SG_NUM_MAX];
	char caller_out[SG_NUM_MAX], callee_out[SG_NUM_MAX];
	char src_ip[64], dst_ip[64];
	char routing_gw[64];
	char account[SG_NAME_MAX];     /* billed: the gateway's, or a card's */
	char card[SG_CARD_MAX];	       /* phone card number, once authorized */
	char card_digits[SG_CARD_MAX]; /* card number + PIN until then */

	/* A leg */
	nta_incoming_t *irq; /* owned: INVITE server transaction */
	nta_leg_t *leg_a;    /* owned */
	bool a_final;	     /* final response sent to the caller */
	bool a_100rel;	     /* the caller supports 100rel (RFC 3262) */
	bool a_tls;	     /* the caller came over TLS */
	char *sdp_to_a;	     /* owned: last SDP sent to the caller */
	char *sdp_to_b;	     /* owned: SDP offered to vendors */

	/* B leg: the current attempt */
	nta_leg_t *leg_b;	/* owned */
	nta_outgoing_t *orq;	/* owned: INVITE client transaction */
	const struct sg_gw *gw; /* borrowed from tables, or phone_gw */
	struct sg_gw *phone_gw; /* owned: a registered phone called (its
				   contact as a gateway, failover.c) */
	bool b_1xx;
	bool b_rel;	   /* the vendor's last provisional came reliably */
	bool srtp_refused; /* a gateway was skipped: SRTP would be relayed */
	uint32_t b_rseq;   /* the last RSeq PRACKed (RFC 3262) */
	uint32_t b_invite_cseq; /* of the INVITE: its ACK's */
	bool b_ack_wait; /* media not relayed, the caller sent no offer: the
			    vendor's 2xx is ACKed with the caller's ACK */
	char *b_ack_sdp; /* owned: the answer that ACK carried */
	bool b_line;	 /* holds a line of gw */
	su_timer_t *t_noprov;	     /* owned */
	su_timer_t *t_timer_b;	     /* owned */
	struct sg_route_cand *cands; /* owned: SG_CALL_MAX_CANDS until the
					answer (failover.c), then NULL */
	size_t ncands, next_cand;
	bool busy_skipped;
	char pool_key[SG_POOL_KEY_MAX];	 /* caller pool number held, or "" */
	struct sg_attempt_rec *attempts; /* owned: grown as tried */
	size_t nattempts, attempts_cap;

	/* media */
	struct sg_media_node *node; /* borrowed: nodes are never freed */
	bool media_up;
	size_t media_try;
	size_t media_sdp_refused; /* nodes that refused the caller's leg */
	struct sg_media_node *media_nodes[SG_CALL_MAX_NODES]; /* borrowed */
	size_t media_nnodes;
	char a_local_ip[64], b_local_ip[64];
	int a_local_port, b_local_port;
	json_t *rtp; /* owned: stats from media.delete */
	char codec_a[32], codec_b[32];

	/* bus requests in flight; their replies are dropped after free */
	struct sg_auth_ctx *auth_req;
	struct sg_media_req *media_req;
	bool authorized;  /* auth.release owed at the end */
	bool admitted;	  /* holds admission slots */
	int retry_after;  /* Retry-After of the final reply */
	bool b_media_set; /* media.answer sent for this attempt */

	/* limits */
	int64_t max_duration_s;	     /* from auth.reply, 0 = none */
	su_timer_t *t_maxdur;	     /* owned */
	bool extendable;	     /* billingd may grant more (auth.extend) */
	int64_t slice_s;	     /* the last grant's size */
	su_timer_t *t_extend;	     /* owned: next auth.extend */
	struct sg_auth_ctx *ext_req; /* auth.extend in flight */
	su_timer_t *t_reap;	     /* owned: safety timer when ending */
	su_timer_t *t_free;	     /* owned: deferred free */

	/* times: wall for the CDR, monotonic for durations */
	int64_t setup_ms, ringing_ms, answer_ms, end_ms;
	int64_t setup_mono, answer_mono, end_mono, pdd_ms;
	int64_t media_lost_mono; /* its media node died then (0 = no) */

	/* outcome */
	int end_code;
	char end_text[128];
	char end_reason[64];
	char end_dir[8]; /* caller | callee | server */
	unsigned byes;	 /* BYE/INFO transactions in flight */

	/* dialog addresses for the recovery journal (in home) */
	char *a_local_hdr, *a_remote_hdr; /* To/From of the INVITE */
	char *b_local_hdr, *b_remote_hdr; /* From/To we sent */
	bool journaled;			  /* in calls.journal */
	bool kept; /* stopping: left up for the next start (sg_call_keep) */
	json_t *recovered_cdr; /* owned: CDR so far (recovered) */

	/* re-INVITE relay: one at a time (491 otherwise) */
	nta_incoming_t *reinv_irq; /* owned: the re-INVITE or UPDATE
				      received */
	nta_outgoing_t *reinv_orq; /* owned: the one we sent on */
	bool reinv_from_a;
	bool reinv_update; /* it is an UPDATE (RFC 3311): no ACK */
	bool cdr_done;
	struct sg_cm cm; /* its media: SDP, codec decision (callmedia.c) */
	struct sg_st st; /* session timers of both legs (sestimer.c) */
	unsigned min_se_reply; /* 422: the Min-SE we require */
};

void sg_call_guard(const struct sg_call *c, bool leg_a, struct sg_media_leg *l);
void sg_call_incoming(struct sg *sg, msg_t *msg, sip_t *sip,
		      const struct sg_mgw *mgw, const char *src_ip);

/* shared by call.c, dialog.c, failover.c and recovery */
static inline const struct sg_params *params_of(const struct sg_call *c)
{
	return &c->tables->params;
}

sip_contact_t const *sg_call_contact(const struct sg_call *c, bool leg_a);
bool sg_call_ack(nta_leg_t *leg, uint32_t cseq, sip_contact_t const *m,
		 const char *sdp, tport_t *tp);
tport_t *sg_call_tport(const struct sg_call *c, const nta_leg_t *leg);
void sg_call_txn_done(struct sg_call *c);
int sg_call_txn_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip);
int sg_call_send_info(struct sg_call *c, bool to_a, const char *type,
		      const char *body);
int sg_call_a_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq,
		      sip_t const *sip);
int sg_call_a_irq(void *magic, nta_incoming_t *irq, sip_t const *sip);
/* a response no transaction took (sip.c): a 2xx of an INVITE of ours
 * retransmitted because our ACK was lost is ACKed again (dialog.c) */
void sg_call_stray_response(nta_agent_t *agent, sip_t const *sip);

/* used by failover.c */
void sg_call_relay_provisional(struct sg_call *c, sip_t const *sip);
void sg_call_relay_answer(struct sg_call *c, sip_t const *sip);
void sg_call_fail(struct sg_call *c, int code, const char *phrase,
		  const char *reason, const char *dir);
void sg_call_anchor(struct sg_call *c);
int sg_call_b_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq,
		      sip_t const *sip);

/* a caller number from an INVITE by source (from | display | rpid; an
 * absent one falls back to the From user); false when cut to size */
bool sg_call_number_of(char *dst, size_t size, sip_t const *sip,
		       const char *source);

/* end an established or early call from outside (limits, rtp timeout,
 * operator); BYE/CANCEL both legs as needed */
void sg_call_terminate(struct sg_call *c, const char *reason, const char *dir);
void sg_call_terminate_all(struct sg *sg, const char *reason);
void sg_call_media_lost(struct sg_media_node *n, int64_t since_mono, void *arg);
unsigned sg_call_keep_answered(struct sg *sg);
unsigned sg_call_detach_kept(struct sg *sg);
unsigned sg_call_finish_unfinished(struct sg *sg);
void sg_call_drain_counts(const struct sg *sg, unsigned *unfinished,
			  unsigned *lingering);
void sg_call_free_all(struct sg *sg);
void sg_call_billing_restarted(void *sg);

/* recovery after a restart (recovery.c drives it) */
struct sg_call *sg_call_restore(struct sg *sg, const json_t *rec);

/* in cdr.c */
struct sw_jw;
bool sg_cdr_write(struct sw_jw *w, const struct sg_call *c);
int sg_q850_of(int sip_code);

#endif /* SG_CALL_H */
