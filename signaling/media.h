/*
 * media.h - signalingd's client of the media nodes (mediaproxyd)
 *
 * Keeps the pool of media nodes: static ones from media_nodes in the config
 * and those that register by node.heartbeat (PULL on bus_events); a node
 * that missed 3 heartbeats (SG_MEDIA_STALE_MS) is out of the pool.
 *
 * Trust: a node id is bound to the bus connection (pipe) its heartbeats
 * come on; heartbeats for that id from another connection are ignored
 * while the bound one is open and the node is online.  Over tls+tcp:// a
 * node is dialled requiring a certificate named after its node id, so a
 * node id is bound to its certificate as well.  The pool holds at most
 * SG_MEDIA_MAX_NODES nodes; a heartbeat node silent for SG_MEDIA_FORGET_MS
 * is retired (its connection closed) and its slot reused.  Orders
 * the online nodes by headroom for a new call, and sends media.offer /
 * media.answer / media.delete with leg plans built from the SDP.
 *
 * Ownership: the pool owns its nodes and their bus peers; nodes are never
 * freed before the pool, so calls may keep borrowed pointers (a retired
 * slot reused by another node answers a late media.delete "not_found").
 * Threading: su_root thread only.
 * Bus: node.heartbeat (in), media.offer, media.answer, media.update,
 *      media.delete (out).
 */
#ifndef SG_MEDIA_H
#define SG_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/metrics.h"
#include "signaling/codecpol.h"

#define SG_MEDIA_STALE_MS 3500
/* a node silent this long has lost its calls; one whose connection closed
 * without a heartbeat on a new one (a redial) within SG_MEDIA_GONE_MS */
#define SG_MEDIA_LOST_MS   10000
#define SG_MEDIA_GONE_MS   1500
#define SG_MEDIA_FORGET_MS 60000
#define SG_MEDIA_MAX_NODES 64

struct sw_bus;
struct sg_params;
struct sg_media;
struct sg_media_req;

struct sg_media_node {
	struct sg_media_node *next;
	char node_id[64];
	char url[256];
	struct sw_bus_peer *peer; /* owned */
	bool is_static;
	bool retired;	      /* forgotten; the slot may be reused */
	bool heard;	      /* at least one heartbeat */
	uint32_t pipe;	      /* bus connection heartbeats come on */
	int64_t last_seen_ms; /* monotonic */
	json_t *hb;	      /* owned: last heartbeat body */
	int64_t sessions, free_ports, cpu_pct;
	bool draining;		   /* stopping: takes no new call (heartbeat) */
	bool lost;		   /* gone: its connection closed or silent
				      SG_MEDIA_LOST_MS; its calls were ended */
	unsigned failures;	   /* consecutive request errors */
	struct sw_mhist offer_lat; /* media.offer answered by the node */
};

struct sg_media_local {
	char a_ip[64], b_ip[64];
	int a_port, b_port;
};

/* err: 0, ETIMEDOUT..., EPROTO (node answered error; code in errcode) */
typedef void(sg_media_offer_h)(int err, const char *errcode,
			       const struct sg_media_local *loc, void *arg);
typedef void(sg_media_done_h)(int err, json_t *reply_body, void *arg);

int sg_media_alloc(struct sg_media **mp, struct sw_bus *bus,
		   const char *static_urls);
void sg_media_close(struct sg_media *m);
void sg_media_free(struct sg_media *m);
unsigned sg_media_inflight(void);
int sg_media_heartbeat(struct sg_media *m, const json_t *body, uint32_t pipe,
		       char *err, size_t errsz);
json_t *sg_media_nodes_json(const struct sg_media *m);
void sg_media_metrics(const struct sg_media *m, struct sw_mtext *t);
size_t sg_media_pick(struct sg_media *m, struct sg_media_node **out,
		     size_t max);
bool sg_media_online(const struct sg_media_node *n);
typedef void(sg_media_lost_h)(struct sg_media_node *n, int64_t since_mono,
			      void *arg);
void sg_media_check(struct sg_media *m, sg_media_lost_h *h, void *arg);
bool sg_media_failing(const struct sg_media_node *n, int64_t *since_mono);

/*
 * One leg's plan as media.offer, media.answer and media.update carry it
 * (docs/bus.md "Leg plan"), every pointer borrowed for the call it is
 * passed to: the plan toward the peer at ip:port whose SDP says direction
 * ("" = sendrecv); who may send that leg's media besides its SDP address:
 * sig_ip, the address its signalling comes from (written only when it is
 * an IP literal), and handover, its gateway's media_handover.
 */
struct sg_media_leg {
	const struct sg_cp_plan *plan;
	const char *ip;
	int port;
	const char *direction;
	const char *sig_ip;
	bool handover;
};

struct sw_jw;
void sg_media_leg_write(struct sw_jw *w, const struct sg_media_leg *l);
int sg_media_offer(struct sg_media_req **reqp, struct sg_media_node *n,
		   const char *session, const char *call_id,
		   const char *account, const struct sg_media_leg *a,
		   const struct sg_media_leg *b, int dscp,
		   const struct sg_params *media, int timeout_ms,
		   sg_media_offer_h *h, void *arg);
int sg_media_answer(struct sg_media_node *n, const char *session,
		    const struct sg_media_leg *b, int timeout_ms);
int sg_media_update(struct sg_media_node *n, const char *session,
		    const char *leg, const struct sg_media_leg *l,
		    int timeout_ms);
int sg_media_delete(struct sg_media_req **reqp, struct sg_media_node *n,
		    const char *session, const char *reason, int timeout_ms,
		    sg_media_done_h *h, void *arg);
int sg_media_query(struct sg_media_req **reqp, struct sg_media_node *n,
		   const char *session, int timeout_ms, sg_media_done_h *h,
		   void *arg);
void sg_media_req_cancel(struct sg_media_req *req);
struct sg_media_node *sg_media_node_for(struct sg_media *m, const char *node_id,
					const char *url);

#endif /* SG_MEDIA_H */
