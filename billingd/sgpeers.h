/*
 * sgpeers.h - the signalingd billingd serves, and requests fanned out to them
 *
 * signaling_url lists the control (REP) URLs of one or more signalingd
 * (SPEC: one or two signaling hosts share one billingd).  This module owns
 * one REQ peer per URL and the two ways billingd asks them:
 *
 *  - bd_sgpeers_all(): the same request to every signalingd; one handler
 *    call with every answer (or the reason there is none) once the last is
 *    in or timed out.  call.list, call.hangup, gateway.lock, stats.asr,
 *    health.ping.
 *  - bd_sgpeers_first(): to one signalingd, the next one if it does not
 *    answer at all (an error reply is an answer).  route.analyze: the
 *    routing tables are the same on all.
 *
 * The bd_sg_* functions below them combine answers (pure, unit-tested).
 *
 * Ownership: struct bd holds the only reference; the peers belong to the
 * bus.  Requests still out when it is freed are cancelled: their handlers
 * never run (their owners are being freed too).  Free it before the bus.
 * Threading: re_main thread only.
 * Bus:       REQ to signalingd's bus_control (docs/bus.md); learns each
 *            signalingd's node_id from its health.ping replies.
 */
#ifndef BD_SGPEERS_H
#define BD_SGPEERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/bus.h"

#define BD_SG_MAX 16 /* signalingd in signaling_url at most */

struct bd_sgpeers;

/* one signalingd's answer to a request sent to all */
struct bd_sg_reply {
	const char *url;     /* borrowed: its signaling_url entry */
	const char *node_id; /* borrowed: its id as last seen, "" before */
	int err;	     /* 0, or why no reply came (ETIMEDOUT...) */
	bool error;	     /* the reply is an "error" {code, message} */
	json_t *body;	     /* the reply's body; NULL when err */
};

/* r[0..n-1] in signaling_url order, valid during the call only */
typedef void(bd_sg_all_h)(const struct bd_sg_reply *r, size_t n, void *arg);

int bd_sgpeers_alloc(struct bd_sgpeers **sp, struct sw_bus *bus,
		     const char *list);
size_t bd_sgpeers_count(const struct bd_sgpeers *s);
const char *bd_sgpeers_url(const struct bd_sgpeers *s, size_t i);
int bd_sgpeers_all(struct bd_sgpeers *s, const char *type, json_t *body,
		   int timeout_ms, bd_sg_all_h *h, void *arg);
int bd_sgpeers_first(struct bd_sgpeers *s, const char *type, json_t *body,
		     int timeout_ms, sw_bus_resp_h *h, void *arg);

/* combining answers */
bool bd_sg_reply_ok(const struct bd_sg_reply *r);
const char *bd_sg_reply_name(const struct bd_sg_reply *r);
size_t bd_sg_pick_hangup(const struct bd_sg_reply *r, size_t n);
json_t *bd_sg_merge_calls(const struct bd_sg_reply *r, size_t n,
			  const char *account, json_t **unreachablep);
void bd_sg_merge_nodes(json_t *into, const json_t *nodes, const char *sg);

#endif /* BD_SGPEERS_H */
