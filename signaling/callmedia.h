/*
 * callmedia.h - a call's media: each SDP read once and written once
 *
 * The one path every SDP of a call takes (docs/signalingd.md "The call's
 * media"):
 *   - the caller's offer is read (sdp.h) at the INVITE and kept until
 *     the answer;
 *   - per attempt, the codec policy (codecpol.h) makes the vendor's offer
 *     and the INVITE's SDP is written from the caller's text: addresses
 *     pointed at the media node's vendor side when media is relayed,
 *     formats replaced by the policy's;
 *   - the vendor's SDP (18x, 2xx) is read, the policy decides both legs'
 *     plans, the caller's SDP is written from the vendor's text;
 *   - a re-INVITE's SDP, either way, keeps the decided codecs;
 *   - a caller that sent no offer (delayed offer) is taken to have offered
 *     what its mapping gateway allows: the vendor gets an offer all the
 *     same, the caller is offered the decided codec (and, with
 *     transcoding, the others) in the 2xx, and its answer in the ACK
 *     decides its leg.
 * Pass-through is the policy that keeps every format: it is what a
 * call without a decision gets (a vendor answer the policy cannot use, a
 * call recovered after a restart), and media mode 0 never touches
 * addresses.
 *
 * The functions on struct sg_cm are pure (tests/unit/test_sg_callmedia.c);
 * the sg_callmedia_* functions apply them to a live call and send the
 * plans to its media node.
 *
 * Ownership: struct sg_cm is part of struct sg_call (c->cm); what it
 * points to is freed by sg_cm_settled() / sg_cm_free().
 * Threading: su_root thread only (the call functions); any (the others).
 * Bus: media.update (leg a), media.answer (leg b) (out).
 */
#ifndef SG_CALLMEDIA_H
#define SG_CALLMEDIA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "signaling/codecpol.h"
#include "signaling/sdp.h"

struct sg_call;
struct sg_gw;

/* a leg plan for the media node and the peer it sends to */
struct sg_cm_leg {
	bool set; /* false: this leg's plan is unchanged */
	struct sg_cp_plan plan;
	char name[32]; /* the codec as the CDR names it */
	char ip[64];
	int port;
	char direction[12];
};

struct sg_cm {
	char *text;		   /* owned until the answer: the caller's
				      offer as received, or NULL */
	struct sg_sdp *caller;	   /* owned until the answer: text read,
				      NULL when unreadable or none */
	struct sg_cp_offer *offer; /* owned until the answer: this
				      attempt's, NULL = pass-through */
	struct sg_cp_answer ans;   /* the decision (have_ans) */
	bool have_ans;
	bool late;	       /* the caller sent no offer: it is offered
				  in the 2xx and answers in its ACK */
	struct sg_sdp *vendor; /* owned, late only: the vendor's answer,
				  until the caller's ACK */
	bool codec_refused;    /* a gateway was skipped for codecs */
	char lock[2][8];       /* per sending leg: the first DTMF method seen
				  (receive "all", calldtmf.c) */
};

/* the pure steps */
int sg_cm_read_offer(struct sg_cm *m, const char *sdp, size_t len);
int sg_cm_late_offer(struct sg_cm *m, const struct sg_cp_conf *mg);
int sg_cm_late_answer(struct sg_cm *m, const char *sdp, size_t len,
		      const struct sg_cp_conf *mg, const struct sg_cp_conf *rg,
		      struct sg_cm_leg *a, const char **why);
int sg_cm_check(const struct sg_cm *m, const struct sg_cp_conf *mg, bool relay,
		const char **why);
void sg_cm_node_legs(const struct sg_cm *m, struct sg_cm_leg *a,
		     struct sg_cm_leg *b);
int sg_cm_offer(struct sg_cm *m, const struct sg_cp_conf *mg,
		const struct sg_cp_conf *rg, const char *node_ip, int node_port,
		char **outp, const char **why);
int sg_cm_answer(struct sg_cm *m, const char *sdp, size_t len,
		 const struct sg_cp_conf *mg, const struct sg_cp_conf *rg,
		 const char *node_ip, int node_port, char **outp,
		 struct sg_cm_leg *a, struct sg_cm_leg *b, const char **why);
int sg_cm_across(const struct sg_cm *m, bool from_a, const char *sdp,
		 size_t len, const char *node_ip, int node_port, char **outp,
		 struct sg_cm_leg *leg);
bool sg_cm_relay_wanted(const struct sg_cm *m, int mode,
			const struct sg_cp_conf *mg,
			const struct sg_cp_conf *rg, const char *src_ip,
			const char **why);
bool sg_cm_addr_private(const char *ip);
void sg_cm_settled(struct sg_cm *m);
void sg_cm_free(struct sg_cm *m);

/* on a live call */
const struct sg_cp_conf *sg_callmedia_mg(const struct sg_call *c);
const struct sg_cp_conf *sg_callmedia_rg(const struct sg_call *c);
bool sg_callmedia_relayed(const struct sg_call *c);
bool sg_callmedia_relay_for(const struct sg_call *c, const struct sg_gw *gw);
int sg_callmedia_offer(struct sg_call *c, const char *sdp, size_t len);
int sg_callmedia_late(struct sg_call *c);
int sg_callmedia_late_ack(struct sg_call *c, const char *sdp, size_t len);
int sg_callmedia_check(struct sg_call *c);
struct sg_media_leg;
void sg_callmedia_node_plans(struct sg_call *c, struct sg_cm_leg *la,
			     struct sg_cm_leg *lb, struct sg_media_leg *a,
			     struct sg_media_leg *b);
int sg_callmedia_attempt(struct sg_call *c, const struct sg_gw *gw);
void sg_callmedia_answer(struct sg_call *c, const char *sdp, size_t len);
int sg_callmedia_across(struct sg_call *c, bool from_a, const char *sdp,
			size_t len, char **outp);

#endif /* SG_CALLMEDIA_H */
