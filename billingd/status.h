/*
 * status.h - health of billingd, signalingd and the media nodes
 *
 * billingd's own entry is built locally (database pool state, draining);
 * one entry per signalingd of signaling_url (in its order, with its "url")
 * and the media node list come from a health.ping request to each, whose
 * reply carries media_nodes (docs/bus.md).  No reply within
 * BD_STATUS_TIMEOUT_MS makes that signalingd's entry "down".  A media node
 * several signalingd report is listed once (sgpeers.c bd_sg_merge_nodes).
 *
 *   {"daemons": [{daemon, node_id, version, uptime_s, health, detail},
 *                {daemon: signalingd, ..., url}, ...],
 *    "media_nodes": [{node_id, url, version, uptime_s, health, online,
 *                     last_seen_ms, sessions, xcode_sessions, xcode_budget,
 *                     free_ports, cpu_pct, seen_by}, ...]}
 *
 * health is "ok", "degraded" or "down".
 *
 * Threading: re_main thread only.
 * Bus:       answers health.ping (via daemon.c); sends health.ping.
 */
#ifndef BD_STATUS_H
#define BD_STATUS_H

#include <jansson.h>

#define BD_STATUS_TIMEOUT_MS 1000

struct bd;
struct bd_sg_reply;

/* status is owned by the handler */
typedef void(bd_status_h)(json_t *status, void *arg);

json_t *bd_status_self(const struct bd *bd);
int bd_status_collect(struct bd *bd, bd_status_h *h, void *arg);
json_t *bd_status_peer(const struct bd_sg_reply *r, json_t **media_nodesp);

#endif /* BD_STATUS_H */
