/*
 * control.c - media.* and health.ping handlers of mediaproxyd
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define SW_LOG_MODULE "control"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/swtime.h"
#include "mediaproxy/control.h"
#include "mediaproxy/libre.h"
#include "mediaproxy/metrics.h"
#include "mediaproxy/node.h"
#include "mediaproxy/session.h"
#include "proto/media.h"
#include "proto/proto.h"

#define DSCP_DEFAULT 46 /* SS_QOS_RTP default (EF) */

static const char *const directions[] = {
    "sendrecv", "sendonly", "recvonly", "inactive", NULL,
};

static bool token_ok(const char *s)
{
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("._-/", *s))
			return false;
	}
	return true;
}

/*
 * Decode one leg plan (docs/bus.md "Leg plan") from obj into plan; problems
 * go to v, whose path names the leg ("body.a").  Every field is optional
 * (an offer may know nothing of leg b yet); absent = unknown.
 */
void mp_control_decode_plan(struct mp_plan *plan, struct sw_jv *v,
			    const json_t *obj)
{
	unsigned char buf[sizeof(struct in6_addr)];
	const char *s;
	int64_t n;

	memset(plan, 0, sizeof(*plan));

	s = sw_jv_str(v, obj, "remote_ip", 64, false, "");
	if (*s && inet_pton(AF_INET, s, buf) != 1 &&
	    inet_pton(AF_INET6, s, buf) != 1)
		sw_jv_fail(v, "remote_ip", "'%.64s' is not an IP address", s);
	(void)snprintf(plan->remote_ip, sizeof(plan->remote_ip), "%s", s);

	plan->remote_port =
	    (uint16_t)sw_jv_int(v, obj, "remote_port", 0, 65535, false, 0);

	s = sw_jv_str(v, obj, "codec", 32, false, "");
	if (!token_ok(s))
		sw_jv_fail(v, "codec", "bad characters");
	(void)snprintf(plan->codec, sizeof(plan->codec), "%s", s);

	plan->pt = (int)sw_jv_int(v, obj, "pt", 0, 127, false, -1);
	plan->rate = (uint32_t)sw_jv_int(v, obj, "rate", 0, 192000, false, 0);
	if (plan->rate && plan->rate < 1000)
		sw_jv_fail(v, "rate", "must be 0 (unknown) or 1000..192000");

	n = sw_jv_int(v, obj, "ptime", 0, 60, false, 0);
	if (n && n < 10)
		sw_jv_fail(v, "ptime", "must be 0 (unknown) or 10..60");
	plan->ptime = (int)n;

	s = sw_jv_str(v, obj, "fmtp", 256, false, "");
	(void)snprintf(plan->fmtp, sizeof(plan->fmtp), "%s", s);

	plan->te_pt = (int)sw_jv_int(v, obj, "te_pt", 0, 127, false, 0);

	s = sw_jv_enum(v, obj, "dtmf_send", sw_dtmf_names, false, "none");
	(void)snprintf(plan->dtmf_send, sizeof(plan->dtmf_send), "%s", s);
	s = sw_jv_enum(v, obj, "dtmf_recv", sw_dtmf_names, false, "none");
	(void)snprintf(plan->dtmf_recv, sizeof(plan->dtmf_recv), "%s", s);
	s = sw_jv_enum(v, obj, "direction", directions, false, "sendrecv");
	(void)snprintf(plan->direction, sizeof(plan->direction), "%s", s);

	s = sw_jv_str(v, obj, "sig_ip", 64, false, "");
	if (*s && inet_pton(AF_INET, s, buf) != 1 &&
	    inet_pton(AF_INET6, s, buf) != 1)
		sw_jv_fail(v, "sig_ip", "'%.64s' is not an IP address", s);
	(void)snprintf(plan->sig_ip, sizeof(plan->sig_ip), "%s", s);
	plan->handover = sw_jv_bool(v, obj, "handover", false, false);
}

/* the node relays within one address family: the plan must use rtp_ip's */
static void check_family(struct sw_jv *v, const struct mp_node *node,
			 const struct mp_plan *plan)
{
	bool v6;

	if (!plan->remote_ip[0])
		return;
	v6 = strchr(plan->remote_ip, ':') != NULL;
	if (v6 != (sa_af(&node->laddr) == AF_INET6)) {
		sw_jv_fail(v, "remote_ip",
			   "%s address but the node's rtp_ip "
			   "is %s",
			   v6 ? "IPv6" : "IPv4", v6 ? "IPv4" : "IPv6");
	}
}

/* decode body.<key> as a leg plan; false (and v failed) when invalid */
static bool decode_leg(struct mp_plan *plan, bool *present, struct sw_jv *v,
		       const struct mp_node *node, const json_t *body,
		       const char *key, bool required)
{
	char path[16];
	struct sw_jv lv;
	json_t *obj;

	*present = false;
	obj = sw_jv_obj(v, body, key, required);
	if (!obj)
		return !v->bad;

	(void)snprintf(path, sizeof(path), "%s.%s", v->path, key);
	sw_jv_init(&lv, path);
	mp_control_decode_plan(plan, &lv, obj);
	if (!lv.bad && node)
		check_family(&lv, node, plan);
	if (lv.bad) {
		if (!v->bad++)
			(void)snprintf(v->err, sizeof(v->err), "%s", lv.err);
		return false;
	}
	*present = true;

	return true;
}

/*
 * Decode body.media (the SS_* values signalingd reads, docs/bus.md) into
 * mc, starting from the defaults; *present tells whether it was there.
 * False (and v failed, naming the field) when invalid.
 */
static bool decode_media(struct mp_xcode_conf *mc, bool *present,
			 struct sw_jv *v, const json_t *body)
{
	struct sw_jv mv;
	json_t *obj;
	int64_t n;

	mp_xcode_conf_default(mc);
	*present = false;
	obj = sw_jv_obj(v, body, "media", false);
	if (!obj)
		return !v->bad;

	sw_jv_init(&mv, "body.media");
	mc->jb_mode = (int)sw_jv_int(&mv, obj, "jb_mode", 0, 1, false, 1);
	mc->jb_min_ms =
	    (uint32_t)sw_jv_int(&mv, obj, "jb_min_ms", 10, 1000, false, 20);
	mc->jb_max_ms =
	    (uint32_t)sw_jv_int(&mv, obj, "jb_max_ms", 10, 1000, false, 200);
	mc->jb_default_ms =
	    (uint32_t)sw_jv_int(&mv, obj, "jb_default_ms", 10, 1000, false, 60);
	if (!mv.bad && mc->jb_min_ms > mc->jb_max_ms)
		sw_jv_fail(&mv, "jb_max_ms", "must be >= jb_min_ms (%u)",
			   mc->jb_min_ms);
	mc->echo_cancel = sw_jv_bool(&mv, obj, "echo_cancel", false, false);
	n = sw_jv_int(&mv, obj, "echo_tail_ms", 64, 256, false, 128);
	if (!mv.bad && n != 64 && n != 128 && n != 256)
		sw_jv_fail(&mv, "echo_tail_ms", "must be 64, 128 or 256");
	mc->ec_tail_ms = (uint32_t)n;
	mc->gain_db =
	    (int)sw_jv_int(&mv, obj, "voice_gain_db", -10, 10, false, 0);
	mc->comfort_noise = sw_jv_bool(&mv, obj, "comfort_noise", false, false);
	mc->te_passthrough =
	    sw_jv_bool(&mv, obj, "te_passthrough", false, false);
	if (mv.bad) {
		if (!v->bad++)
			(void)snprintf(v->err, sizeof(v->err), "%s", mv.err);
		return false;
	}
	*present = true;

	return true;
}

/* answer a failed mp_session_create/replan */
static void reply_session_err(struct sw_bus_req *req, struct mp_node *node,
			      const char *id, int err, const char *msg)
{
	switch (err) {

	case ENOSPC:
		node->metrics.refused[MP_REFUSE_PORTS]++;
		sw_cwarn(id, "refused: port range exhausted");
		(void)sw_bus_reply_error(req, SW_ERR_NO_CAPACITY,
					 "port range exhausted (%lld..%lld)",
					 (long long)node->conf.port_min,
					 (long long)node->conf.port_max);
		break;
	case EDQUOT:
		node->metrics.refused[MP_REFUSE_XCODE_BUDGET]++;
		sw_cwarn(id, "refused: transcoding budget exhausted");
		(void)sw_bus_reply_error(req, SW_ERR_NO_CAPACITY,
					 "transcoding budget exhausted "
					 "(%lld sessions)",
					 (long long)node->conf.xcode_budget);
		break;
	case EUSERS:
		/* a customer over its share may be flooding: one line per
		 * 10 s with the count, not one per offer */
		node->share_refused++;
		node->metrics.refused[MP_REFUSE_ACCOUNT_SHARE]++;
		if (!node->share_log_ms ||
		    sw_time_mono_ms() - node->share_log_ms >= 10000) {
			sw_warn("refused %llu offers since the last line: the "
				"account (last %s) holds its share of the "
				"ports (%lld %%)",
				(unsigned long long)(node->share_refused -
						     node->share_logged),
				msg,
				(long long)node->conf.account_port_share_pct);
			node->share_logged = node->share_refused;
			node->share_log_ms = sw_time_mono_ms();
		}
		(void)sw_bus_reply_error(
		    req, SW_ERR_NO_CAPACITY,
		    "the account holds its share of the "
		    "port range (%lld %%)",
		    (long long)node->conf.account_port_share_pct);
		break;
	case EMFILE:
	case ENFILE:
		node->metrics.refused[MP_REFUSE_FDS]++;
		sw_cwarn(id, "refused: out of file descriptors");
		(void)sw_bus_reply_error(req, SW_ERR_NO_CAPACITY,
					 "out of file descriptors");
		break;
	case EINVAL:
	case ENOTSUP:
	case ERANGE:
		sw_cwarn(id, "refused: %s", msg);
		(void)sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s",
					 msg[0] ? msg : "plans refused");
		break;
	default:
		sw_cerr(id, "session not created/updated: %s", strerror(err));
		(void)sw_bus_reply_error(req, SW_ERR_INTERNAL, "session: %s",
					 strerror(err));
		break;
	}
}

static json_t *local_json(const struct mp_node *node,
			  const struct mp_session *sess, enum mp_leg_id leg)
{
	return json_pack("{s:s, s:i}", "local_ip",
			 mp_conf_advertise_ip(&node->conf), "local_port",
			 (int)mp_relay_port(sess->relay, leg));
}

static json_t *stats_json(const struct mp_session *sess, enum mp_leg_id leg)
{
	struct mp_leg_stats st;

	mp_session_stats(sess, leg, &st);

	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:s, s:I, s:I, s:I, s:I}",
	    "rx_packets", (json_int_t)st.rx_packets, "rx_bytes",
	    (json_int_t)st.rx_bytes, "tx_packets", (json_int_t)st.tx_packets,
	    "tx_bytes", (json_int_t)st.tx_bytes, "rtcp_rx",
	    (json_int_t)st.rtcp_rx, "rtcp_tx", (json_int_t)st.rtcp_tx, "lost",
	    (json_int_t)st.lost, "jitter_ms", (json_int_t)st.jitter_ms,
	    "rtt_ms", (json_int_t)st.rtt_ms, "mos_x10", (json_int_t)st.mos_x10,
	    "dropped", (json_int_t)st.dropped, "strangers",
	    (json_int_t)st.strangers, "remote", st.remote, "dtmf_rx",
	    (json_int_t)st.dtmf_rx, "dtmf_dropped", (json_int_t)st.dtmf_dropped,
	    "concealed", (json_int_t)st.concealed, "jb_delay_ms",
	    (json_int_t)st.jb_delay_ms);
}

static void reply_or_internal(struct sw_bus_req *req, json_t *body)
{
	int err;

	if (!body) {
		(void)sw_bus_reply_error(req, SW_ERR_INTERNAL, "out of memory");
		return;
	}
	err = sw_bus_reply(req, body);
	if (err)
		sw_warn("reply not sent: %s", strerror(err));
}

static void offer_reply(struct sw_bus_req *req, const struct mp_node *node,
			const struct mp_session *sess)
{
	json_t *a = local_json(node, sess, MP_LEG_A);
	json_t *b = local_json(node, sess, MP_LEG_B);
	json_t *body = NULL;

	if (a && b)
		body = json_pack("{s:s, s:o, s:o}", "session", sess->id, "a", a,
				 "b", b);
	else {
		json_decref(a);
		json_decref(b);
	}
	reply_or_internal(req, body);
}

static void handle_offer(struct sw_bus_req *req, struct mp_node *node,
			 const json_t *body)
{
	struct mp_xcode_conf mc;
	struct mp_plan a, b;
	struct mp_session *sess;
	const char *id, *call_id, *account;
	bool has_a, has_b, has_media = false;
	int64_t rtp_timeout_s = -1;
	char msg[256];
	struct sw_jv v;
	int dscp, err;

	if (node->draining) {
		node->metrics.refused[MP_REFUSE_DRAINING]++;
		(void)sw_bus_reply_error(req, SW_ERR_UNAVAILABLE,
					 "draining: no new session");
		return;
	}
	sw_jv_init(&v, "body");
	id = sw_jv_uuid(&v, body, "session", true);
	call_id = sw_jv_str(&v, body, "call_id", 256, false, "");
	account = sw_jv_str(&v, body, "account", 64, false, "");
	dscp = (int)sw_jv_int(&v, body, "dscp", 0, 63, false, DSCP_DEFAULT);
	if (!v.bad)
		(void)decode_leg(&a, &has_a, &v, node, body, "a", true);
	if (!v.bad)
		(void)decode_leg(&b, &has_b, &v, node, body, "b", true);
	if (!v.bad)
		(void)decode_media(&mc, &has_media, &v, body);
	if (!v.bad && has_media) {
		/* the call's RTP timeout (SS_RTP_TIMEOUT), else the node's */
		struct sw_jv mv;

		sw_jv_init(&mv, "body.media");
		rtp_timeout_s = sw_jv_int(&mv, json_object_get(body, "media"),
					  "rtp_timeout_s", 0, 86400, false, -1);
		if (mv.bad && !v.bad++)
			(void)snprintf(v.err, sizeof(v.err), "%s", mv.err);
	}
	if (v.bad) {
		(void)sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}

	/* a repeated offer (signalingd retried after a timeout) gets the
	 * same ports back with the plans refreshed */
	sess = mp_session_find(node, id);
	if (sess) {
		err = mp_session_replan(sess, &a, &b, has_media ? &mc : NULL,
					msg, sizeof(msg));
		if (err) {
			reply_session_err(req, node, id, err, msg);
			return;
		}
		offer_reply(req, node, sess);
		return;
	}

	err = mp_session_create(&sess, node, id, call_id, account, &a, &b, &mc,
				dscp, msg, sizeof(msg));
	if (err) {
		reply_session_err(req, node, id, err, msg);
		return;
	}
	sess->rtp_timeout_ms = rtp_timeout_s < 0 ? -1 : rtp_timeout_s * 1000;
	offer_reply(req, node, sess);
}

/* media.answer and media.update: replace the plans of the legs given */
static void handle_replan(struct sw_bus_req *req, struct mp_node *node,
			  const json_t *body)
{
	struct mp_xcode_conf mc;
	struct mp_plan a, b;
	struct mp_session *sess;
	bool has_a = false, has_b = false, has_media = false;
	const char *id;
	char msg[256];
	struct sw_jv v;
	int err;

	sw_jv_init(&v, "body");
	id = sw_jv_uuid(&v, body, "session", true);
	if (!v.bad)
		(void)decode_leg(&a, &has_a, &v, node, body, "a", false);
	if (!v.bad)
		(void)decode_leg(&b, &has_b, &v, node, body, "b", false);
	if (!v.bad)
		(void)decode_media(&mc, &has_media, &v, body);
	if (v.bad) {
		(void)sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}

	sess = mp_session_find(node, id);
	if (!sess) {
		(void)sw_bus_reply_error(req, SW_ERR_NOT_FOUND,
					 "body.session: no session %s", id);
		return;
	}

	err = mp_session_replan(sess, has_a ? &a : NULL, has_b ? &b : NULL,
				has_media ? &mc : NULL, msg, sizeof(msg));
	if (err) {
		reply_session_err(req, node, id, err, msg);
		return;
	}
	sess->answered = true; /* the RTP timeout applies from now on */
	reply_or_internal(req, json_pack("{s:s}", "session", id));
}

/* media.play_dtmf: a digit signalingd received by SIP INFO from body.leg */
static void handle_play_dtmf(struct sw_bus_req *req, struct mp_node *node,
			     const json_t *body)
{
	static const char *const legs[] = {"a", "b", NULL};
	struct mp_session *sess;
	const char *id, *leg, *digit;
	uint32_t duration;
	struct sw_jv v;
	int err;

	sw_jv_init(&v, "body");
	id = sw_jv_uuid(&v, body, "session", true);
	leg = sw_jv_enum(&v, body, "leg", legs, true, NULL);
	digit = sw_jv_str(&v, body, "digit", 1, true, "");
	if (!v.bad &&
	    (strlen(digit) != 1 || !strchr("0123456789*#ABCD!", digit[0])))
		sw_jv_fail(&v, "digit", "must be one of 0-9 * # A-D !");
	duration =
	    (uint32_t)sw_jv_int(&v, body, "duration_ms", 0, 10000, false, 0);
	if (v.bad) {
		(void)sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}

	sess = mp_session_find(node, id);
	if (!sess) {
		(void)sw_bus_reply_error(req, SW_ERR_NOT_FOUND,
					 "body.session: no session %s", id);
		return;
	}

	err = mp_session_play_dtmf(sess, leg[0] == 'b' ? MP_LEG_B : MP_LEG_A,
				   digit[0], duration);
	if (err == ENOTCONN) {
		(void)sw_bus_reply_error(req, SW_ERR_UNAVAILABLE,
					 "body.session: no media engine yet "
					 "(codecs not known) to send the digit "
					 "as RFC 2833 or tones");
		return;
	}
	if (err) {
		(void)sw_bus_reply_error(req, SW_ERR_BAD_REQUEST,
					 "body.digit: refused: %s",
					 strerror(err));
		return;
	}
	reply_or_internal(req, json_pack("{s:s}", "session", id));
}

/* media.delete (del = true) and media.query */
static void handle_stats(struct sw_bus_req *req, struct mp_node *node,
			 const json_t *body, bool del)
{
	struct mp_session *sess;
	const char *id, *reason;
	json_t *a, *b, *reply = NULL;
	struct sw_jv v;

	sw_jv_init(&v, "body");
	id = sw_jv_uuid(&v, body, "session", true);
	reason = sw_jv_str(&v, body, "reason", 64, false, "");
	if (v.bad) {
		(void)sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}

	sess = mp_session_find(node, id);
	if (!sess) {
		(void)sw_bus_reply_error(req, SW_ERR_NOT_FOUND,
					 "body.session: no session %s", id);
		return;
	}

	a = stats_json(sess, MP_LEG_A);
	b = stats_json(sess, MP_LEG_B);
	if (a && b) {
		reply = json_pack("{s:s, s:{s:o, s:o}}", "session", id, "stats",
				  "a", a, "b", b);
	} else {
		json_decref(a);
		json_decref(b);
	}
	/* id points into the request body, which outlives the session */
	if (del)
		mp_session_close(sess, reason);
	reply_or_internal(req, reply);
}

static void handle_ping(struct sw_bus_req *req, struct mp_node *node)
{
	bool full = mp_node_free_pairs(node) < 2;

	reply_or_internal(
	    req, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:I, s:b}",
			   "daemon", "mediaproxyd", "node_id",
			   node->conf.node_id, "version", TANDEM_VERSION,
			   "uptime_s", (json_int_t)mp_node_uptime_s(node),
			   "health", full ? "degraded" : "ok", "detail",
			   full ? "port range exhausted" : "", "calls",
			   (int)node->nsessions, "share_refused",
			   (json_int_t)node->share_refused, "draining",
			   node->draining));
}

/* The REP handler: every request of bus_listen arrives here. */
void mp_control_request(struct sw_bus_req *req, const struct sw_env *env,
			void *arg)
{
	struct mp_node *node = arg;
	const char *type = env ? env->type : "";
	enum mp_req_type rt = mp_metrics_req_type(type);
	int64_t t0 = sw_time_mono_us();

	if (!req)
		return;
	if (!env || !node) {
		(void)sw_bus_reply_error(req, SW_ERR_INTERNAL, "no request");
		return;
	}

	sw_debug("request %s id %s", type, env->id);

	if (!strcmp(type, SW_MSG_MEDIA_OFFER))
		handle_offer(req, node, env->body);
	else if (!strcmp(type, SW_MSG_MEDIA_ANSWER) ||
		 !strcmp(type, SW_MSG_MEDIA_UPDATE))
		handle_replan(req, node, env->body);
	else if (!strcmp(type, SW_MSG_MEDIA_DELETE))
		handle_stats(req, node, env->body, true);
	else if (!strcmp(type, SW_MSG_MEDIA_QUERY))
		handle_stats(req, node, env->body, false);
	else if (!strcmp(type, SW_MSG_HEALTH_PING))
		handle_ping(req, node);
	else if (!strcmp(type, SW_MSG_MEDIA_PLAY_DTMF))
		handle_play_dtmf(req, node, env->body);
	else
		(void)sw_bus_reply_error(req, SW_ERR_UNKNOWN_TYPE,
					 "unknown type '%s'", type);
	mp_metrics_request(&node->metrics, rt, sw_time_mono_us() - t0);
}
