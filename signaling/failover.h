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

struct sg_call;

int  sg_failover_route(struct sg_call *c);
void sg_failover_next(struct sg_call *c);
void sg_failover_cancel(struct sg_call *c);
void sg_failover_stop(struct sg_call *c);

#endif /* SG_FAILOVER_H */
