/*
 * failover.h - attempts toward routing gateways (SPEC §3.5)
 *
 * Walks the call's candidate list: skips gateways at their line limit,
 * sends the INVITE (tech prefix prepended), arms the no-provisional timer
 * (SS_FAILOVER_NO_PROVISIONAL_MS) and Timer B (SS_SIP_TIMER_B_MS), and on a
 * failure (or either timer, counted as 408) decides with the failing
 * gateway's switch/stop settings whether to try the next gateway or to end
 * the call.  At most SS_GATEWAY_SWITCH_LIMIT attempts.
 *
 * Threading: su_root thread only.
 */
#ifndef SG_FAILOVER_H
#define SG_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "signaling/route.h"

struct sg;
struct sg_call;

size_t sg_failover_plan(struct sg *sg, const struct sg_tables *t,
			const char *mgw, const char *callee, unsigned rr,
			struct sg_route_cand *cands, size_t max,
			struct sg_route_excl *excl, size_t excl_max,
			size_t *nexcl);
const char *sg_failover_busy(struct sg *sg, const struct sg_gw *gw,
			     bool priority_customer);
int sg_failover_route(struct sg_call *c, bool *unroutable);
void sg_failover_next(struct sg_call *c);
void sg_failover_cancel(struct sg_call *c);
void sg_failover_stop(struct sg_call *c);
void sg_failover_ack(struct sg_call *c, const char *sdp, size_t len);

#endif /* SG_FAILOVER_H */
