/*
 * session.c - the session table, plans, hold and RTP timeout handling
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include "mediaproxy/libre.h"

#define SW_LOG_MODULE "session"
#include "common/bus.h"
#include "common/log.h"
#include "common/swtime.h"
#include "mediaproxy/node.h"
#include "mediaproxy/session.h"
#include "proto/proto.h"

static const char leg_name[2] = {'a', 'b'};

/* True when both codecs are known and differ: the decoded path. */
bool mp_plan_is_xcode(const struct mp_plan *a, const struct mp_plan *b)
{
	if (!a || !b || !a->codec[0] || !b->codec[0])
		return false;
	return strcasecmp(a->codec, b->codec) != 0;
}

/*
 * True when the leg is on hold: a direction other than sendrecv, or the
 * RFC 2543 style 0.0.0.0 address.
 */
bool mp_plan_on_hold(const struct mp_plan *p)
{
	if (!p)
		return false;
	if (p->direction[0] && strcmp(p->direction, "sendrecv"))
		return true;
	return !strcmp(p->remote_ip, "0.0.0.0");
}

static void session_destructor(void *arg)
{
	struct mp_session *sess = arg;

	hash_unlink(&sess->he);
	if (sess->node) {
		if (sess->node->nsessions)
			sess->node->nsessions--;
		if (sess->xcode && sess->node->nxcode)
			sess->node->nxcode--;
	}
	mem_deref(sess->relay);
}

/* push a leg's plan into the relay: remote address and jitter clock */
static void apply_plan(struct mp_session *sess, enum mp_leg_id id)
{
	const struct mp_plan *p = &sess->plan[id];
	struct sa remote;
	bool known;

	known = p->remote_ip[0] && p->remote_port &&
		!sa_set_str(&remote, p->remote_ip, p->remote_port) &&
		!sa_is_any(&remote);

	mp_relay_set_remote(sess->relay, id, known ? &remote : NULL);
	mp_relay_set_media(sess->relay, id, p->rate, p->pt);
}

static void log_plan(const struct mp_session *sess, enum mp_leg_id id)
{
	const struct mp_plan *p = &sess->plan[id];

	sw_cdebug(sess->id, "leg %c: local %u remote %s:%u codec %s/%u pt %d "
		 "te_pt %d %s", leg_name[id], mp_relay_port(sess->relay, id),
		 p->remote_ip[0] ? p->remote_ip : "-", p->remote_port,
		 p->codec[0] ? p->codec : "-", p->rate, p->pt, p->te_pt,
		 p->direction);
}

static bool id_cmp(struct le *le, void *arg)
{
	const struct mp_session *sess = le->data;

	return !strcmp(sess->id, arg);
}

/* The session with this id, or NULL. */
struct mp_session *mp_session_find(const struct mp_node *node, const char *id)
{
	struct le *le;

	if (!node || !id)
		return NULL;
	le = hash_lookup(node->sessions, hash_joaat_str(id), id_cmp,
			 (void *)(uintptr_t)id);

	return le ? le->data : NULL;
}

/*
 * Create a session with a port pair per leg and enter it in the node's
 * table.  ENOSPC: port range exhausted; EDQUOT: the plan needs the decoded
 * path and xcode_budget is used up; EEXIST: the id is taken.
 * dscp (0..63) marks every packet the session sends.
 */
int mp_session_create(struct mp_session **sessp, struct mp_node *node,
		      const char *id, const char *call_id,
		      const struct mp_plan *a, const struct mp_plan *b,
		      int dscp)
{
	struct mp_session *sess;
	bool xcode;
	int err;

	if (!sessp || !node || !id || !a || !b)
		return EINVAL;
	if (mp_session_find(node, id))
		return EEXIST;

	xcode = mp_plan_is_xcode(a, b);
	if (xcode && node->nxcode >= node->conf.xcode_budget)
		return EDQUOT;

	sess = mem_zalloc(sizeof(*sess), session_destructor);
	if (!sess)
		return ENOMEM;

	(void)snprintf(sess->id, sizeof(sess->id), "%s", id);
	(void)snprintf(sess->call_id, sizeof(sess->call_id), "%s",
		       call_id ? call_id : "");
	sess->plan[MP_LEG_A] = *a;
	sess->plan[MP_LEG_B] = *b;
	sess->idle_base_ms = sw_time_mono_ms();

	err = mp_relay_alloc(&sess->relay, &node->ports, &node->laddr,
			     sess->id);
	if (err)
		goto out;
	if (dscp > 0 && mp_relay_set_dscp(sess->relay, (unsigned)dscp))
		sw_cwarn(sess->id, "cannot set DSCP %d", dscp);

	/* counted from here on: the destructor undoes it */
	sess->node = node;
	node->nsessions++;
	hash_append(node->sessions, hash_joaat_str(sess->id), &sess->he,
		    sess);
	sess->xcode = xcode;
	if (xcode) {
		node->nxcode++;
		sw_cwarn(sess->id, "codecs %s/%s differ: transcoding not "
			 "wired yet, relaying unchanged", a->codec, b->codec);
	}

	apply_plan(sess, MP_LEG_A);
	apply_plan(sess, MP_LEG_B);
	sw_cinfo(sess->id, "created (call-id %s): a %u remote %s:%u %s, "
		 "b %u remote %s:%u %s", sess->call_id[0] ? sess->call_id : "-",
		 mp_relay_port(sess->relay, MP_LEG_A),
		 a->remote_ip[0] ? a->remote_ip : "-", a->remote_port,
		 a->codec[0] ? a->codec : "-",
		 mp_relay_port(sess->relay, MP_LEG_B),
		 b->remote_ip[0] ? b->remote_ip : "-", b->remote_port,
		 b->codec[0] ? b->codec : "-");
	log_plan(sess, MP_LEG_A);
	log_plan(sess, MP_LEG_B);

 out:
	if (err)
		mem_deref(sess);
	else
		*sessp = sess;

	return err;
}

/*
 * Replace the plans of the legs given (NULL = unchanged): answer, re-INVITE,
 * failover to another vendor.  EDQUOT when the new pair needs the decoded
 * path beyond the budget; nothing changes then.
 */
int mp_session_replan(struct mp_session *sess, const struct mp_plan *a,
		      const struct mp_plan *b)
{
	struct mp_node *node;
	bool xcode;

	if (!sess || !sess->node)
		return EINVAL;
	node = sess->node;

	xcode = mp_plan_is_xcode(a ? a : &sess->plan[MP_LEG_A],
				 b ? b : &sess->plan[MP_LEG_B]);
	if (xcode && !sess->xcode &&
	    node->nxcode >= node->conf.xcode_budget)
		return EDQUOT;

	if (xcode != sess->xcode) {
		if (xcode) {
			node->nxcode++;
		} else if (node->nxcode) {
			node->nxcode--;
		}
		sess->xcode = xcode;
	}

	if (a) {
		sess->plan[MP_LEG_A] = *a;
		apply_plan(sess, MP_LEG_A);
		log_plan(sess, MP_LEG_A);
	}
	if (b) {
		sess->plan[MP_LEG_B] = *b;
		apply_plan(sess, MP_LEG_B);
		log_plan(sess, MP_LEG_B);
	}
	if (xcode && (a || b)) {
		sw_cwarn(sess->id, "codecs %s/%s differ: transcoding not "
			 "wired yet, relaying unchanged",
			 sess->plan[MP_LEG_A].codec,
			 sess->plan[MP_LEG_B].codec);
	}
	sw_cinfo(sess->id, "re-planned:%s%s%s%s%s%s%s%s%s", a ? " a " : "",
		 a ? (a->remote_ip[0] ? a->remote_ip : "-") : "",
		 a ? " " : "", a ? (a->codec[0] ? a->codec : "-") : "",
		 a ? (mp_plan_on_hold(a) ? " hold" : "") : "",
		 b ? " b " : "",
		 b ? (b->remote_ip[0] ? b->remote_ip : "-") : "",
		 b ? " " : "", b ? (b->codec[0] ? b->codec : "-") : "");
	/* a new media path gets a whole timeout before it is judged */
	sess->idle_base_ms = sw_time_mono_ms();
	sess->timeout_sent_ms = 0;
	sess->timeout_sends = 0;

	return 0;
}

/* Counters of one leg. */
void mp_session_stats(const struct mp_session *sess, enum mp_leg_id leg,
		      struct mp_leg_stats *st)
{
	mp_relay_stats(sess ? sess->relay : NULL, leg, st);
}

/* End a session: log its counters, free its ports, drop it. */
void mp_session_close(struct mp_session *sess, const char *reason)
{
	struct mp_leg_stats st[2];

	if (!sess)
		return;

	for (int i = 0; i < 2; i++)
		mp_session_stats(sess, (enum mp_leg_id)i, &st[i]);
	sw_cinfo(sess->id, "closed (%s): a rx %llu tx %llu lost %llu "
		 "dropped %llu, b rx %llu tx %llu lost %llu dropped %llu",
		 reason && reason[0] ? reason : "normal",
		 (unsigned long long)st[0].rx_packets,
		 (unsigned long long)st[0].tx_packets,
		 (unsigned long long)st[0].lost,
		 (unsigned long long)st[0].dropped,
		 (unsigned long long)st[1].rx_packets,
		 (unsigned long long)st[1].tx_packets,
		 (unsigned long long)st[1].lost,
		 (unsigned long long)st[1].dropped);
	mem_deref(sess);
}

static bool close_one(struct le *le, void *arg)
{
	(void)arg;
	mp_session_close(le->data, "shutdown");
	return false;
}

/* Close every session (shutdown). */
void mp_session_close_all(struct mp_node *node)
{
	if (!node || !node->sessions)
		return;
	/* hash_apply tolerates unlinking the current element */
	(void)hash_apply(node->sessions, close_one, NULL);
}

static void push_timeout(struct mp_session *sess, int64_t idle_ms)
{
	struct mp_node *node = sess->node;
	json_t *body;
	int err;

	body = json_pack("{s:s, s:s, s:s, s:I}", "session", sess->id,
			 "node_id", node->conf.node_id, "event", "rtp_timeout",
			 "idle_ms", (json_int_t)idle_ms);
	if (!body) {
		sw_cerr(sess->id, "rtp_timeout event: out of memory");
		return;
	}
	err = node->sig ? sw_bus_push(node->sig, SW_MSG_MEDIA_EVENT, body) :
			  ENOTCONN;
	if (!node->sig)
		json_decref(body);
	if (err) {
		sw_cwarn(sess->id, "rtp_timeout event not sent: %s",
			 strerror(err));
	}
}

struct tick_ctx {
	int64_t now;
	int64_t timeout_ms;
	int64_t hold_ms;
};

static bool tick_one(struct le *le, void *arg)
{
	const struct tick_ctx *t = arg;
	struct mp_session *sess = le->data;
	int64_t last, idle, limit;

	last = mp_relay_last_rtp_ms(sess->relay);
	if (last < sess->idle_base_ms)
		last = sess->idle_base_ms;
	idle = t->now - last;

	/* ringing without early media is silence too: before the answer the
	 * call's own timers (signalingd) decide, the node only keeps the long
	 * hold timeout as a bound for sessions whose call was lost */
	limit = !sess->answered ||
				mp_plan_on_hold(&sess->plan[MP_LEG_A]) ||
				mp_plan_on_hold(&sess->plan[MP_LEG_B]) ?
			t->hold_ms :
			t->timeout_ms;

	if (idle < limit) {
		sess->timeout_sent_ms = 0;	/* media came back */
		sess->timeout_sends = 0;
		return false;
	}

	if (!sess->timeout_sends) {
		sw_cinfo(sess->id, "rtp timeout: no RTP for %lld ms",
			 (long long)idle);
		sess->timeout_sent_ms = t->now;
		sess->timeout_sends = 1;
		push_timeout(sess, idle);
	} else if (t->now - sess->timeout_sent_ms >= limit) {
		/* nobody deleted the session a whole period after the event:
		 * signalingd lost it; do not hold the ports forever */
		sw_cwarn(sess->id, "idle %lld ms and never deleted: reaped",
			 (long long)idle);
		mp_session_close(sess, "reaped");
	} else if (sess->timeout_sends == 1 &&
		   t->now - sess->timeout_sent_ms >= limit / 2) {
		sess->timeout_sends = 2;	/* once more, in case */
		push_timeout(sess, idle);
	}

	return false;
}

/*
 * Check every session for RTP timeout: no RTP from either leg for
 * rtp_timeout_s (rtp_hold_timeout_s when a leg is on hold or before the
 * first media.answer/update) pushes
 * media.event rtp_timeout to signalingd, once more half a period later;
 * a whole period after the first event the node frees the session itself.
 */
void mp_session_tick(struct mp_node *node)
{
	struct tick_ctx t;

	if (!node || !node->sessions)
		return;
	t.now = sw_time_mono_ms();
	t.timeout_ms = node->conf.rtp_timeout_s * 1000;
	t.hold_ms = node->conf.rtp_hold_timeout_s * 1000;
	(void)hash_apply(node->sessions, tick_one, &t);
}
