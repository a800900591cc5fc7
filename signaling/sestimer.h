/*
 * sestimer.h - session timers (RFC 4028), each leg of a call on its own
 *
 * A call is two dialogs, and each has its own session interval and its own
 * refresher:
 *   - the caller's: its INVITE's Session-Expires / Min-SE / Supported:
 *     timer are read; a Session-Expires below our Min-SE gets 422 with
 *     ours; the 200 says the interval and who refreshes (the caller when it
 *     supports timers, else us);
 *   - the vendor's: our INVITE offers SS_SESSION_EXPIRES with our Min-SE
 *     and Supported: timer; the vendor's 200 decides (no Session-Expires:
 *     no timer on that leg); a 422 is retried once on the same gateway
 *     with the interval it asks for.
 * On a leg we refresh, an UPDATE without SDP (or a re-INVITE with the SDP
 * last sent, for a peer that does not allow UPDATE) goes at half the
 * interval; on a leg the peer refreshes, any re-INVITE or UPDATE from it
 * is a refresh, and none before the interval runs out (less a third, at
 * most 32 s) ends the call with end reason SessionExpired.  A refresh we
 * sent that gets 408 or 481 ends it too.
 *
 * The decisions (sg_st_*) are pure and unit tested
 * (tests/unit/test_sg_sestimer.c); sg_call_st_* apply them to a live call.
 * Ownership: struct sg_st is part of struct sg_call (c->st); its timers
 * are stopped by sg_st_stop().
 * Threading: su_root thread only.
 */
#ifndef SG_SESTIMER_H
#define SG_SESTIMER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "signaling/sofia.h"

struct sg_call;

#define SG_ST_HDR_MAX 32 /* "86400;refresher=uac" */

struct sg_st_leg {
	unsigned se;	 /* the interval, s; 0 = no session timer */
	bool we_refresh; /* we send the refreshes (else the peer does) */
	bool update_ok;	 /* the peer allows UPDATE: refreshes are UPDATEs */
	bool require;	 /* the peer supports timer: Require: timer in 2xx */
	su_timer_t *t;	 /* owned: refresh due, or expiry */
};

struct sg_st {
	/* the caller's INVITE, until the answer */
	unsigned a_req_se;  /* its Session-Expires, 0 = none */
	unsigned a_req_min; /* its Min-SE, 0 = none */
	char a_req_refresher[4];
	bool a_supported; /* Supported: timer */
	bool a_update_ok; /* Allow: UPDATE */
	/* the vendor leg's offer: raised by a 422 */
	unsigned b_offer;
	bool b_retried; /* a 422 was retried once */
	struct sg_st_leg a, b;
};

/* the pure decisions */
unsigned sg_st_too_small(sip_t const *sip, unsigned min_se);
void sg_st_caller_request(struct sg_st *st, sip_t const *sip);
void sg_st_caller_decide(struct sg_st *st, unsigned ours, unsigned min_se);
void sg_st_vendor_decide(struct sg_st *st, sip_t const *sip);
void sg_st_refresh_seen(struct sg_st_leg *l, sip_t const *sip);
int sg_st_header(const struct sg_st_leg *l, bool in_request, char *buf,
		 size_t size);
unsigned sg_st_expiry_s(unsigned se);

/* on a live call */
void sg_call_st_answered(struct sg_call *c, sip_t const *vendor_200);
void sg_call_st_refreshed(struct sg_call *c, bool from_a, sip_t const *sip);
void sg_call_st_sent(struct sg_call *c, bool to_a);
void sg_st_stop(struct sg_st *st);

/* the answered call's timers kept across a restart (recovery.c) */
json_t *sg_st_journal(const struct sg_st *st);
void sg_st_from_journal(struct sg_st *st, const json_t *j);
void sg_call_st_restored(struct sg_call *c);

#endif /* SG_SESTIMER_H */
