/*
 * metrics.h - mediaproxyd's Prometheus metrics (tandem_media_*)
 *
 * What the node counts for /metrics beyond what it holds anyway: sessions
 * created, the packet counters of sessions that ended (a live session's
 * are read from its relay at render time, so the packet path gains no
 * work), bus requests by type, offers refused for lack of capacity and the
 * time media.offer takes.  mp_metrics_render() writes every family from
 * the node's state; the node publishes it at start and on its 1 s tick
 * (common/metrics.h serves it on metrics_listen).
 *
 * Ownership: the node embeds its struct mp_metrics and owns the server.
 * Threading: mediaproxyd main loop only.
 * Bus:       none (counts the requests of control.c).
 */
#ifndef MP_METRICS_H
#define MP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/metrics.h"
#include "mediaproxy/stats.h"

struct mp_node;
struct mp_relay;

/* bus request types counted; MP_REQ_OTHER = anything else */
enum mp_req_type {
	MP_REQ_OFFER,
	MP_REQ_ANSWER,
	MP_REQ_UPDATE,
	MP_REQ_DELETE,
	MP_REQ_QUERY,
	MP_REQ_PLAY_DTMF,
	MP_REQ_PING,
	MP_REQ_OTHER,
	MP_REQ_N
};

/* why a session was refused for lack of capacity */
enum mp_refusal {
	MP_REFUSE_PORTS,	 /* port range exhausted */
	MP_REFUSE_XCODE_BUDGET,	 /* xcode_budget used up */
	MP_REFUSE_ACCOUNT_SHARE, /* account_port_share_pct */
	MP_REFUSE_FDS,		 /* out of file descriptors */
	MP_REFUSE_DRAINING,	 /* SIGTERM drain: no new session */
	MP_REFUSE_N
};

struct mp_metrics {
	struct sw_metrics *srv;	      /* owned: NULL = no metrics_listen */
	uint64_t sessions;	      /* created since start */
	struct mp_media_totals ended; /* of the sessions that ended */
	uint64_t lost_shown;	      /* highest loss rendered (monotonic) */
	uint64_t requests[MP_REQ_N];
	uint64_t refused[MP_REFUSE_N];
	struct sw_mhist offer; /* media.offer handling time */
};

int mp_metrics_start(struct mp_node *node, char *err, size_t errsz);
void mp_metrics_publish(struct mp_node *node);
void mp_metrics_stop(struct mp_metrics *m);
void mp_metrics_render(struct sw_mtext *t, struct mp_node *node);
void mp_metrics_session_end(struct mp_metrics *m, const struct mp_relay *relay);
enum mp_req_type mp_metrics_req_type(const char *type);
void mp_metrics_request(struct mp_metrics *m, enum mp_req_type rt, int64_t us);

#endif /* MP_METRICS_H */
