/*
 * heartbeat.h - node.heartbeat: how a media node registers with signalingd
 *
 * Every heartbeat_ms the node pushes its URL, load and capacity to
 * signaling_url (docs/bus.md node.heartbeat); signalingd adds the node to
 * its pool on the first one and drops it after 3 missed.  The CPU share of
 * this process is measured between two heartbeats (getrusage).
 *
 * Ownership: the node owns its struct mp_heartbeat.
 * Threading: mediaproxyd main loop only (a libre timer).
 * Bus:       pushes node.heartbeat.
 */
#ifndef MP_HEARTBEAT_H
#define MP_HEARTBEAT_H

#include <stdint.h>

#include <jansson.h>

struct mp_node;
struct mp_heartbeat;

int  mp_heartbeat_alloc(struct mp_heartbeat **hbp, struct mp_node *node);
void mp_heartbeat_restart(struct mp_heartbeat *hb);
json_t *mp_heartbeat_body(struct mp_heartbeat *hb);
int  mp_cpu_pct(int64_t cpu_us, int64_t wall_us);

#endif /* MP_HEARTBEAT_H */
