/*
 * metrics.c - mediaproxyd's Prometheus metrics (metrics.h)
 */
#include <errno.h>
#include <string.h>

#include "mediaproxy/libre.h"

#define SW_LOG_MODULE "metrics"
#include "common/log.h"
#include "mediaproxy/metrics.h"
#include "mediaproxy/node.h"
#include "mediaproxy/relay.h"
#include "mediaproxy/session.h"
#include "proto/proto.h"

/* label values, in enum order */
static const char *const req_names[MP_REQ_N] = {
    SW_MSG_MEDIA_OFFER,	 SW_MSG_MEDIA_ANSWER,
    SW_MSG_MEDIA_UPDATE, SW_MSG_MEDIA_DELETE,
    SW_MSG_MEDIA_QUERY,	 SW_MSG_MEDIA_PLAY_DTMF,
    SW_MSG_HEALTH_PING,	 "other",
};
static const char *const refusal_names[MP_REFUSE_N] = {
    "ports", "xcode_budget", "account_share", "fds", "draining",
};

/*
 * Listen on metrics_listen ("" = no metrics) and publish the first text.
 * err says what failed ("metrics_listen 127.0.0.1:9642: Address already
 * in use").
 */
int mp_metrics_start(struct mp_node *node, char *err, size_t errsz)
{
	int e;

	if (!node)
		return EINVAL;
	e = sw_metrics_start(&node->metrics.srv, node->conf.metrics_listen, err,
			     errsz);
	if (e)
		return e;
	mp_metrics_publish(node);

	return 0;
}

/* Render the node's metrics and serve them from now on (no-op without). */
void mp_metrics_publish(struct mp_node *node)
{
	struct sw_mtext t = {0};

	if (!node || !node->metrics.srv)
		return;
	mp_metrics_render(&t, node);
	sw_metrics_publish(node->metrics.srv, &t);
}

/* Stop serving; m stays usable for its counters.  */
void mp_metrics_stop(struct mp_metrics *m)
{
	if (!m)
		return;
	sw_metrics_stop(m->srv);
	m->srv = NULL;
}

/* A session ends: its relay's counters go to the node's totals. */
void mp_metrics_session_end(struct mp_metrics *m, const struct mp_relay *relay)
{
	if (m)
		mp_relay_add_totals(relay, &m->ended);
}

/* The counted request type of a message type (MP_REQ_OTHER if none). */
enum mp_req_type mp_metrics_req_type(const char *type)
{
	int i;

	for (i = 0; i < MP_REQ_OTHER; i++) {
		if (type && !strcmp(type, req_names[i]))
			break;
	}
	return (enum mp_req_type)i;
}

/*
 * One bus request handled in us microseconds.  Classify it before the
 * handler runs: the envelope's type does not outlive the reply.
 */
void mp_metrics_request(struct mp_metrics *m, enum mp_req_type rt, int64_t us)
{
	if (!m || rt < 0 || rt >= MP_REQ_N)
		return;
	m->requests[rt]++;
	if (rt == MP_REQ_OFFER)
		sw_mhist_observe(&m->offer, us);
}

struct live {
	struct mp_media_totals sum;
	uint32_t engines; /* sessions with a media engine */
};

static bool add_session(struct le *le, void *arg)
{
	const struct mp_session *sess = le->data;
	struct live *l = arg;

	mp_relay_add_totals(sess->relay, &l->sum);
	if (sess->xc)
		l->engines++;
	return false;
}

/* one family with a sample per direction */
static void by_direction(struct sw_mtext *t, const char *name, const char *help,
			 uint64_t in, uint64_t out)
{
	const char *li[] = {"direction", "in"}, *lo[] = {"direction", "out"};

	sw_mt_family(t, name, "counter", help);
	sw_mt_sample(t, name, (int64_t)in, 1, li);
	sw_mt_sample(t, name, (int64_t)out, 1, lo);
}

/*
 * Every tandem_media_* family from the node's state: the live sessions'
 * counters (walked once) plus those of the sessions that ended.  The loss
 * of a live stream can shrink (late packets, a source restart; RFC 3550
 * A.3), so the rendered loss never goes below what was rendered before.
 */
void mp_metrics_render(struct sw_mtext *t, struct mp_node *node)
{
	struct mp_metrics *m;
	struct live l;
	uint64_t lost;

	if (!t || !node)
		return;
	m = &node->metrics;
	memset(&l, 0, sizeof(l));
	l.sum = m->ended;
	if (node->sessions)
		(void)hash_apply(node->sessions, add_session, &l);
	lost = l.sum.lost > m->lost_shown ? l.sum.lost : m->lost_shown;
	m->lost_shown = lost;

	sw_mt_one(t, "tandem_media_sessions_active", "gauge",
		  "media sessions open now", node->nsessions);
	sw_mt_one(t, "tandem_media_sessions_total", "counter",
		  "media sessions created since start", (int64_t)m->sessions);
	sw_mt_one(t, "tandem_media_transcoded_sessions_active", "gauge",
		  "sessions with a media engine (transcoding, DTMF conversion, "
		  "DSP)",
		  l.engines);
	sw_mt_one(t, "tandem_media_decoded_sessions_active", "gauge",
		  "sessions on the decoded path, counted against xcode_budget",
		  node->nxcode);
	sw_mt_one(t, "tandem_media_xcode_budget", "gauge",
		  "decoded-path sessions accepted at once (xcode_budget)",
		  node->conf.xcode_budget);
	by_direction(t, "tandem_media_packets_total",
		     "RTP packets received from (in) and sent to (out) the "
		     "peers",
		     l.sum.rx_packets, l.sum.tx_packets);
	by_direction(t, "tandem_media_bytes_total",
		     "RTP bytes (UDP payload) received from (in) and sent to "
		     "(out) the peers",
		     l.sum.rx_bytes, l.sum.tx_bytes);
	sw_mt_one(t, "tandem_media_packets_lost_total", "counter",
		  "RTP packets lost on the way to the node, from sequence "
		  "numbers (RFC 3550)",
		  (int64_t)lost);
	sw_mt_one(t, "tandem_media_packets_dropped_total", "counter",
		  "datagrams dropped: malformed RTP/RTCP or from a source "
		  "not latched",
		  (int64_t)l.sum.dropped);
	sw_mt_one(t, "tandem_media_port_pairs", "gauge",
		  "RTP/RTCP port pairs the node can hold (range, open-file "
		  "limit)",
		  mp_node_usable_pairs(node));
	sw_mt_one(t, "tandem_media_port_pairs_free", "gauge",
		  "port pairs a new session can get (two per session)",
		  mp_node_free_pairs(node));
	sw_mt_one(t, "tandem_media_draining", "gauge",
		  "1 while draining after SIGTERM (no new session), else 0",
		  node->draining ? 1 : 0);

	sw_mt_family(t, "tandem_media_bus_requests_total", "counter",
		     "bus requests handled, by message type");
	for (size_t i = 0; i < MP_REQ_N; i++) {
		const char *lb[] = {"type", req_names[i]};

		sw_mt_sample(t, "tandem_media_bus_requests_total",
			     (int64_t)m->requests[i], 1, lb);
	}
	sw_mt_family(t, "tandem_media_capacity_refusals_total", "counter",
		     "sessions refused (media.offer) or re-plans refused "
		     "(media.answer/update) for lack of capacity, by reason");
	for (size_t i = 0; i < MP_REFUSE_N; i++) {
		const char *lb[] = {"reason", refusal_names[i]};

		sw_mt_sample(t, "tandem_media_capacity_refusals_total",
			     (int64_t)m->refused[i], 1, lb);
	}
	sw_mt_hist(t, "tandem_media_offer_seconds",
		   "time to handle a media.offer request", &m->offer);
}
