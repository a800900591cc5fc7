/*
 * media.c - media node pool and media.* requests
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "media"
#include "common/bus.h"
#include "common/json.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/swtime.h"
#include "proto/media.h"
#include "proto/proto.h"
#include "signaling/media.h"
#include "signaling/tables.h"

#define SG_MEDIA_BATCH 64 /* requests per bus message at most */

struct sg_media {
	struct sw_bus *bus;	     /* borrowed */
	struct sg_media_node *nodes; /* owned */
	unsigned refused;	     /* heartbeats ignored since last warned */
	int64_t warned_ms;
};

/* Count an ignored heartbeat; say so at most every 10 s. */
static void refuse(struct sg_media *m, const char *id, const char *why)
{
	int64_t now = sw_time_mono_ms();

	m->refused++;
	if (now - m->warned_ms < 10000)
		return;
	sw_warn("node.heartbeat for %s ignored: %s (%u ignored in %lld s)", id,
		why, m->refused, (long long)(now - m->warned_ms) / 1000);
	m->refused = 0;
	m->warned_ms = now;
}

/* requests whose handler has not run yet */
static unsigned inflight;
/* the text of a request's body, kept between requests (the loop's only) */
static struct sw_jw body_text;

/* a request whose body is the text in w (one object) */
static int request(struct sg_media_node *n, const char *type,
		   const struct sw_jw *w, int timeout_ms, sw_bus_resp_h *h,
		   void *arg)
{
	int err;

	if (!n || !n->peer)
		return ESHUTDOWN;
	if (w->oom)
		return ENOMEM;
	err = sw_bus_request_raw(NULL, n->peer, type, w->buf, w->len,
				 timeout_ms, h, arg);
	if (!err)
		inflight++;
	return err;
}

/* Requests still waiting for their handler (shutdown drains to 0). */
unsigned sg_media_inflight(void)
{
	return inflight;
}

struct sg_media_req {
	struct sg_media_node *node; /* borrowed */
	int64_t sent_us;	    /* monotonic */
	sg_media_offer_h *offer_h;
	sg_media_done_h *done_h;
	void *arg;
};

static unsigned count_live(const struct sg_media *m)
{
	unsigned n = 0;

	for (const struct sg_media_node *x = m->nodes; x; x = x->next)
		n += !x->retired;
	return n;
}

/* Retire heartbeat nodes silent for SG_MEDIA_FORGET_MS: no more redials. */
static void sweep(struct sg_media *m)
{
	int64_t now = sw_time_mono_ms();

	for (struct sg_media_node *n = m->nodes; n; n = n->next) {
		if (n->retired || n->is_static || !n->heard ||
		    now - n->last_seen_ms < SG_MEDIA_FORGET_MS)
			continue;
		sw_info("media node %s at %s forgotten (silent %lld s)",
			n->node_id, n->url,
			(long long)(now - n->last_seen_ms) / 1000);
		sw_bus_peer_close(n->peer);
		n->peer = NULL;
		json_decref(n->hb);
		n->hb = NULL;
		n->retired = true;
	}
}

/*
 * Dial a node's REP at url (id: the certificate's name, NULL = any); what
 * one loop turn asks of it goes as one message (docs/bus.md "Batches"):
 * its handlers answer at once, so no item waits for a slow one.
 */
static int dial(struct sg_media *m, struct sw_bus_peer **peerp, const char *url,
		const char *id)
{
	int err = sw_bus_dial_req(peerp, m->bus, url, SW_ROLE_MEDIA, id);

	if (!err)
		sw_bus_peer_batch(*peerp, SG_MEDIA_BATCH);
	return err;
}

static struct sg_media_node *node_add(struct sg_media *m, const char *id,
				      const char *url, bool is_static)
{
	struct sg_media_node *n = NULL;
	struct sw_bus_peer *peer = NULL;

	sweep(m);
	if (count_live(m) >= SG_MEDIA_MAX_NODES)
		return NULL;
	if (dial(m, &peer, url, is_static ? NULL : id)) {
		sw_err("media node %s: cannot dial %s", id, url);
		return NULL;
	}
	for (struct sg_media_node *x = m->nodes; x && !n; x = x->next)
		if (x->retired)
			n = x; /* reuse the slot: memory stays bounded */
	if (n) {
		struct sg_media_node *next = n->next;

		memset(n, 0, sizeof(*n));
		n->next = next;
	} else {
		n = calloc(1, sizeof(*n));
		if (!n) {
			sw_bus_peer_close(peer);
			return NULL;
		}
		n->next = m->nodes;
		m->nodes = n;
	}
	snprintf(n->node_id, sizeof(n->node_id), "%s", id);
	snprintf(n->url, sizeof(n->url), "%s", url);
	n->is_static = is_static;
	n->peer = peer;
	sw_info("media node %s at %s added (%s)", id, url,
		is_static ? "static" : "heartbeat");
	return n;
}

static int add_static(const char *url, void *arg)
{
	node_add(arg, url, url, true);
	return 0;
}

/* Create the pool with the static nodes of "url1,url2,...". */
int sg_media_alloc(struct sg_media **mp, struct sw_bus *bus,
		   const char *static_urls)
{
	struct sg_media *m;
	if (!mp || !bus)
		return EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	m->bus = bus;
	(void)sw_bus_url_each(static_urls, add_static, m);
	*mp = m;
	return 0;
}

/* Close every node's peer: outstanding requests end with an error on the
 * next drain; the nodes stay allocated until sg_media_free(). */
void sg_media_close(struct sg_media *m)
{
	for (struct sg_media_node *n = m ? m->nodes : NULL; n; n = n->next) {
		sw_bus_peer_close(n->peer);
		n->peer = NULL;
	}
}

void sg_media_free(struct sg_media *m)
{
	struct sg_media_node *n, *next;

	if (!m)
		return;
	for (n = m->nodes; n; n = next) {
		next = n->next;
		sw_bus_peer_close(n->peer);
		json_decref(n->hb);
		free(n);
	}
	free(m);
	sw_jw_free(&body_text);
}

/* A static node is usable until heartbeats say otherwise. */
bool sg_media_online(const struct sg_media_node *n)
{
	if (!n || n->retired || n->lost)
		return false;
	if (!n->heard)
		return n->is_static;
	return sw_time_mono_ms() - n->last_seen_ms <= SG_MEDIA_STALE_MS;
}

/*
 * Find the nodes that died (signalingd's tick, every 500 ms): a node whose
 * heartbeat connection closed (a crash or kill closes the TCP connection
 * at once) and that sent no heartbeat on a new one within
 * SG_MEDIA_GONE_MS, or that has been silent for SG_MEDIA_LOST_MS, is lost:
 * h is
 * called once with the time it was last heard (its calls' media stopped
 * then), and it is out of the pool until a heartbeat brings it back.
 */
void sg_media_check(struct sg_media *m, sg_media_lost_h *h, void *arg)
{
	int64_t now = sw_time_mono_ms();

	for (struct sg_media_node *n = m ? m->nodes : NULL; n; n = n->next) {
		bool closed, silent;

		if (n->retired || !n->heard || n->lost)
			continue;
		closed = !sw_bus_pipe_open(n->pipe) &&
			 now - n->last_seen_ms >= SG_MEDIA_GONE_MS;
		silent = now - n->last_seen_ms >= SG_MEDIA_LOST_MS;
		if (!closed && !silent)
			continue;
		n->lost = true;
		sw_warn("media node %s lost (%s, last heard %lld ms ago): "
			"its calls end as MediaNodeLost",
			n->node_id, closed ? "its connection closed" : "silent",
			(long long)(now - n->last_seen_ms));
		h(n, n->last_seen_ms, arg);
	}
}

/*
 * Is n dying: lost, or its heartbeat connection closed and no heartbeat
 * since (the grace of sg_media_check not over yet)?  *since_mono: when it
 * was last heard.
 */
bool sg_media_failing(const struct sg_media_node *n, int64_t *since_mono)
{
	if (!n || n->retired || !n->heard)
		return false;
	if (!n->lost && sw_bus_pipe_open(n->pipe))
		return false;
	*since_mono = n->last_seen_ms;
	return true;
}

/*
 * Register or refresh a node from a node.heartbeat body.  EBADMSG (with
 * err filled) when the body is invalid.
 */
int sg_media_heartbeat(struct sg_media *m, const json_t *body, uint32_t pipe,
		       char *err, size_t errsz)
{
	struct sg_media_node *n;
	const char *id, *url;
	int64_t sessions, free_ports, cpu;
	bool draining;
	struct sw_jv v;

	sw_jv_init(&v, "body");
	id = sw_jv_str(&v, body, "node_id", 64, true, NULL);
	url = sw_jv_str(&v, body, "url", 256, true, NULL);
	sessions = sw_jv_int(&v, body, "sessions", 0, INT32_MAX, false, 0);
	free_ports = sw_jv_int(&v, body, "free_ports", 0, INT32_MAX, false, 0);
	cpu = sw_jv_int(&v, body, "cpu_pct", 0, 100, false, 0);
	draining = sw_jv_bool(&v, body, "draining", false, false);
	sw_jv_str(&v, body, "version", 32, false, "");
	if (!v.bad && (!*id || !*url))
		sw_jv_fail(&v, "node_id", "must not be empty");
	if (v.bad) {
		snprintf(err, errsz, "%s", v.err);
		return EBADMSG;
	}

	sweep(m);
	for (n = m->nodes; n; n = n->next)
		if (!n->retired &&
		    (!strcmp(n->node_id, id) || !strcmp(n->url, url)))
			break;
	/*
	 * A live node belongs to the connection it speaks on: another one
	 * (another process, another certificate) cannot take its id or its
	 * URL until it is silent or its connection is gone.
	 */
	if (n && n->heard && n->pipe != pipe && sg_media_online(n) &&
	    sw_bus_pipe_open(n->pipe)) {
		refuse(m, id,
		       strcmp(n->node_id, id)
			   ? "its URL belongs to another live node"
			   : "the node is live on another connection");
		return EPERM;
	}
	if (n && strcmp(n->node_id, id) && !n->is_static) {
		/* an offline node's URL, now under a new id: dial it anew so
		 * that TLS checks the certificate against the new id */
		struct sw_bus_peer *peer = NULL;

		if (dial(m, &peer, url, id))
			return ENOMEM;
		sw_bus_peer_close(n->peer);
		n->peer = peer;
	}
	if (n && strcmp(n->url, url)) {
		/* same node id, new URL: redial */
		struct sw_bus_peer *peer = NULL;

		if (dial(m, &peer, url, id) == 0) {
			sw_bus_peer_close(n->peer);
			n->peer = peer;
			snprintf(n->url, sizeof(n->url), "%s", url);
			sw_info("media node %s moved to %s", id, url);
		}
	}
	if (!n)
		n = node_add(m, id, url, false);
	if (!n) {
		refuse(m, id, "the pool is full (SG_MEDIA_MAX_NODES)");
		return ENOSPC;
	}

	if (!n->heard || !sg_media_online(n))
		sw_info("media node %s online (%s)", id, url);
	n->lost = false;
	snprintf(n->node_id, sizeof(n->node_id), "%s", id);
	n->heard = true;
	n->pipe = pipe;
	n->last_seen_ms = sw_time_mono_ms();
	n->sessions = sessions;
	n->free_ports = free_ports;
	n->cpu_pct = cpu;
	if (draining && !n->draining)
		sw_info("media node %s is draining: no new call goes to it",
			id);
	n->draining = draining;
	json_decref(n->hb);
	n->hb = json_deep_copy(body);
	return 0;
}

/* The media_nodes array of health.ping.reply. */
json_t *sg_media_nodes_json(const struct sg_media *m)
{
	json_t *arr = json_array();
	int64_t now = sw_time_mono_ms();

	for (const struct sg_media_node *n = m ? m->nodes : NULL; n;
	     n = n->next) {
		json_t *o;

		if (n->retired)
			continue;
		o = n->hb ? json_deep_copy(n->hb) : json_object();

		if (!n->hb) {
			json_object_set_new(o, "node_id",
					    json_string(n->node_id));
			json_object_set_new(o, "url", json_string(n->url));
		}
		json_object_set_new(
		    o, "last_seen_ms",
		    json_integer(n->heard ? now - n->last_seen_ms : -1));
		json_object_set_new(o, "online",
				    json_boolean(sg_media_online(n)));
		json_object_set_new(o, "static", json_boolean(n->is_static));
		json_array_append_new(arr, o);
	}
	return arr;
}

static long headroom(const struct sg_media_node *n)
{
	/* fewer sessions first; a node with recent errors last */
	return (long)n->sessions + (long)n->failures * 100000L;
}

/*
 * Online nodes in the order a new call should try them (most headroom
 * first); returns how many were written to out.
 */
size_t sg_media_pick(struct sg_media *m, struct sg_media_node **out, size_t max)
{
	size_t n = 0;

	for (struct sg_media_node *x = m ? m->nodes : NULL; x && n < max;
	     x = x->next) {
		size_t i;

		if (!sg_media_online(x) || x->draining)
			continue;
		if (x->heard && !sw_bus_pipe_open(x->pipe))
			continue; /* its connection just closed */
		if (x->heard && x->free_ports == 0 && x->hb &&
		    json_object_get(x->hb, "free_ports"))
			continue; /* no ports left */
		/* insertion sort by headroom */
		for (i = n; i > 0 && headroom(out[i - 1]) > headroom(x); i--)
			out[i] = out[i - 1];
		out[i] = x;
		n++;
	}
	return n;
}

/*
 * The leg plan of media.offer / media.answer / media.update (docs/bus.md
 * "Leg plan"), written to w as one object.  The SDP's strings (address,
 * fmtp, direction) are sanitised as any string from the wire.
 */
void sg_media_leg_write(struct sw_jw *w, const struct sg_media_leg *l)
{
	const struct sg_cp_plan *p = l->plan;
	unsigned char buf[sizeof(struct in6_addr)];

	sw_jw_raw(w, "{");
	sw_jw_key(w, "remote_ip", true);
	sw_jw_text(w, l->ip ? l->ip : "");
	sw_jw_ki64(w, "remote_port", l->port);
	sw_jw_kstr(w, "codec", p->codec);
	sw_jw_ki64(w, "pt", p->pt);
	sw_jw_ki64(w, "rate", p->rate ? p->rate : 8000);
	sw_jw_ki64(w, "ptime",
		   p->ptime >= 10 && p->ptime <= 60 ? p->ptime : 20);
	sw_jw_ktext(w, "fmtp", p->fmtp);
	sw_jw_ki64(w, "te_pt", p->te_pt);
	sw_jw_kstr(w, "dtmf_send", p->dtmf_send);
	sw_jw_kstr(w, "dtmf_recv", p->dtmf_recv);
	sw_jw_ktext(w, "direction",
		    l->direction && l->direction[0] ? l->direction
						    : "sendrecv");
	if (l->sig_ip && (inet_pton(AF_INET, l->sig_ip, buf) == 1 ||
			  inet_pton(AF_INET6, l->sig_ip, buf) == 1))
		sw_jw_kstr(w, "sig_ip", l->sig_ip);
	sw_jw_key(w, "handover", false);
	sw_jw_raw(w, l->handover ? "true}" : "false}");
}

static int local_of(struct sw_jv *v, const json_t *body, const char *leg,
		    char *ip, size_t ipsz, int *port)
{
	json_t *o = sw_jv_obj(v, body, leg, true);

	if (!o)
		return EBADMSG;
	snprintf(ip, ipsz, "%s", sw_jv_str(v, o, "local_ip", 63, true, ""));
	*port = (int)sw_jv_int(v, o, "local_port", 1, 65535, true, 0);
	return v->bad ? EBADMSG : 0;
}

static void offer_resp(int err, const struct sw_env *env, void *arg)
{
	struct sg_media_req *req = arg;
	struct sg_media_local loc;
	const char *code = "";
	struct sw_jv v;

	inflight--;
	memset(&loc, 0, sizeof(loc));
	if (!err && !strcmp(env->type, SW_MSG_ERROR)) {
		code = sw_json_str_or(env->body, "code", "internal");
		sw_warn("media node %s refused media.offer: %s: %s",
			req->node->node_id, code,
			sw_json_str_or(env->body, "message", ""));
		err = EPROTO;
	} else if (!err) {
		sw_jv_init(&v, "body");
		if (local_of(&v, env->body, "a", loc.a_ip, sizeof(loc.a_ip),
			     &loc.a_port) ||
		    local_of(&v, env->body, "b", loc.b_ip, sizeof(loc.b_ip),
			     &loc.b_port)) {
			sw_warn("media node %s: bad media.offer.reply: %s",
				req->node->node_id, v.err);
			err = EBADMSG;
		}
	} else {
		sw_warn("media node %s: media.offer: %s", req->node->node_id,
			strerror(err));
	}
	req->node->failures =
	    err && err != EPROTO ? req->node->failures + 1 : 0;
	if (!err || err == EPROTO)
		sw_mhist_observe(&req->node->offer_lat,
				 sw_time_mono_us() - req->sent_us);
	if (req->offer_h)
		req->offer_h(err, code, err ? NULL : &loc, req->arg);
	free(req);
}

static struct sg_media_req *req_new(struct sg_media_node *n, void *arg)
{
	struct sg_media_req *req = calloc(1, sizeof(*req));

	if (req) {
		req->node = n;
		req->arg = arg;
	}
	return req;
}

/* media.offer of legs a and b, with the node's decoded-path settings */
int sg_media_offer(struct sg_media_req **reqp, struct sg_media_node *n,
		   const char *session, const char *call_id,
		   const char *account, const struct sg_media_leg *a,
		   const struct sg_media_leg *b, int dscp,
		   const struct sg_params *media, int timeout_ms,
		   sg_media_offer_h *h, void *arg)
{
	struct sw_jw *w = &body_text;
	struct sg_media_req *req;
	int err;

	sw_jw_reset(w);
	sw_jw_raw(w, "{");
	sw_jw_key(w, "session", true);
	sw_jw_str(w, session);
	sw_jw_ktext(w, "call_id", call_id);
	sw_jw_ktext(w, "account", account ? account : "");
	sw_jw_key(w, "a", false);
	sg_media_leg_write(w, a);
	sw_jw_key(w, "b", false);
	sg_media_leg_write(w, b);
	sw_jw_ki64(w, "dscp", dscp);
	if (media) {
		sw_jw_key(w, "media", false);
		sg_params_media_write(w, media);
	}
	sw_jw_raw(w, "}");
	if (!n || w->oom || !(req = req_new(n, arg)))
		return ENOMEM;
	req->offer_h = h;
	req->sent_us = sw_time_mono_us();
	err = request(n, SW_MSG_MEDIA_OFFER, w, timeout_ms, offer_resp, req);
	if (err)
		free(req);
	else if (reqp)
		*reqp = req;
	return err;
}

static void answer_resp(int err, const struct sw_env *env, void *arg)
{
	(void)arg;
	inflight--;
	if (err)
		sw_warn("media.answer: %s", strerror(err));
	else if (!strcmp(env->type, SW_MSG_ERROR))
		sw_warn("media.answer refused: %s",
			sw_json_str_or(env->body, "message", ""));
}

/* a body {"session": session, leg: <plan of l>} in body_text */
static const struct sw_jw *leg_body(const char *session, const char *leg,
				    const struct sg_media_leg *l)
{
	struct sw_jw *w = &body_text;

	sw_jw_reset(w);
	sw_jw_raw(w, "{");
	sw_jw_key(w, "session", true);
	sw_jw_str(w, session);
	sw_jw_key(w, leg, false);
	sg_media_leg_write(w, l);
	sw_jw_raw(w, "}");
	return w;
}

/* media.update of one leg ("a" or "b") with a new plan, e.g. on a
 * re-INVITE; fire and forget. */
int sg_media_update(struct sg_media_node *n, const char *session,
		    const char *leg, const struct sg_media_leg *l,
		    int timeout_ms)
{
	if (!n || !l)
		return EINVAL;
	return request(n, SW_MSG_MEDIA_UPDATE, leg_body(session, leg, l),
		       timeout_ms, answer_resp, NULL);
}

/* media.answer with the vendor leg's plan; fire and forget. */
int sg_media_answer(struct sg_media_node *n, const char *session,
		    const struct sg_media_leg *b, int timeout_ms)
{
	if (!n || !b)
		return EINVAL;
	return request(n, SW_MSG_MEDIA_ANSWER, leg_body(session, "b", b),
		       timeout_ms, answer_resp, NULL);
}

static void done_resp(int err, const struct sw_env *env, void *arg)
{
	struct sg_media_req *req = arg;
	json_t *body = NULL;

	inflight--;
	if (!err && !strcmp(env->type, SW_MSG_ERROR)) {
		sw_warn("media node %s: media.delete refused: %s",
			req->node->node_id,
			sw_json_str_or(env->body, "message", ""));
		err = EPROTO;
	} else if (!err) {
		body = env->body;
	}
	if (req->done_h)
		req->done_h(err, body, req->arg);
	free(req);
}

static void query_resp(int err, const struct sw_env *env, void *arg)
{
	struct sg_media_req *req = arg;
	json_t *body = NULL;

	inflight--;
	if (!err) {
		body = env->body;
		if (!strcmp(env->type, SW_MSG_ERROR))
			err = EPROTO;
	}
	if (req->done_h)
		req->done_h(err, body, req->arg);
	free(req);
}

/* media.delete; h gets the reply body (stats) while it runs. */
int sg_media_delete(struct sg_media_req **reqp, struct sg_media_node *n,
		    const char *session, const char *reason, int timeout_ms,
		    sg_media_done_h *h, void *arg)
{
	struct sw_jw *w = &body_text;
	struct sg_media_req *req;
	int err;

	sw_jw_reset(w);
	sw_jw_raw(w, "{");
	sw_jw_key(w, "session", true);
	sw_jw_str(w, session);
	sw_jw_kstr(w, "reason", reason);
	sw_jw_raw(w, "}");
	if (!n || !(req = req_new(n, arg)))
		return ENOMEM;
	req->done_h = h;
	err = request(n, SW_MSG_MEDIA_DELETE, w, timeout_ms, done_resp, req);
	if (err)
		free(req);
	else if (reqp)
		*reqp = req;
	return err;
}

/* The requester went away: the reply is dropped when it comes. */
void sg_media_req_cancel(struct sg_media_req *req)
{
	if (req) {
		req->offer_h = NULL;
		req->done_h = NULL;
		req->arg = NULL;
	}
}

/* The node of a recovered call: known by URL or id, else added static. */
struct sg_media_node *sg_media_node_for(struct sg_media *m, const char *node_id,
					const char *url)
{
	struct sg_media_node *n;

	for (n = m ? m->nodes : NULL; n; n = n->next)
		if (!n->retired && (!strcmp(n->url, url) ||
				    (*node_id && !strcmp(n->node_id, node_id))))
			return n;
	return m && *url ? node_add(m, *node_id ? node_id : url, url, true)
			 : NULL;
}

/* media.query; h gets the reply body while it runs (err EPROTO with the
 * error body when the node answered an error, e.g. not_found). */
int sg_media_query(struct sg_media_req **reqp, struct sg_media_node *n,
		   const char *session, int timeout_ms, sg_media_done_h *h,
		   void *arg)
{
	struct sw_jw *w = &body_text;
	struct sg_media_req *req;
	int err;

	sw_jw_reset(w);
	sw_jw_raw(w, "{");
	sw_jw_key(w, "session", true);
	sw_jw_str(w, session);
	sw_jw_raw(w, "}");
	if (!n || !(req = req_new(n, arg)))
		return ENOMEM;
	req->done_h = h;
	err = request(n, SW_MSG_MEDIA_QUERY, w, timeout_ms, query_resp, req);
	if (err)
		free(req);
	else if (reqp)
		*reqp = req;
	return err;
}

/* Media node gauges and each node's media.offer round trips. */
void sg_media_metrics(const struct sg_media *m, struct sw_mtext *t)
{
	int64_t online = 0, draining = 0, lost = 0;
	const char *st[2] = {"state", NULL};

	for (const struct sg_media_node *n = m->nodes; n; n = n->next) {
		if (n->retired)
			continue;
		if (n->lost)
			lost++;
		else if (n->draining)
			draining++;
		else if (sg_media_online(n))
			online++;
	}
	sw_mt_family(t, "tandem_signaling_media_nodes", "gauge",
		     "Media nodes known: online, draining (no new calls) or "
		     "lost");
	st[1] = "online";
	sw_mt_sample(t, "tandem_signaling_media_nodes", online, 1, st);
	st[1] = "draining";
	sw_mt_sample(t, "tandem_signaling_media_nodes", draining, 1, st);
	st[1] = "lost";
	sw_mt_sample(t, "tandem_signaling_media_nodes", lost, 1, st);
	sw_mt_family(t, "tandem_signaling_media_offer_seconds", "histogram",
		     "media.offer round trips, by media node");
	for (const struct sg_media_node *n = m->nodes; n; n = n->next) {
		const char *l[] = {"node", n->node_id};

		if (!n->retired && n->offer_lat.count)
			sw_mt_hist_series(
			    t, "tandem_signaling_media_offer_seconds",
			    &n->offer_lat, 1, l);
	}
}
