/*
 * ctl.c - control (REP) and events (PULL) bus handlers
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SW_LOG_MODULE "ctl"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/swtime.h"
#include "common/sysperf.h"
#include "proto/media.h"
#include "proto/proto.h"
#include "signaling/admission.h"
#include "signaling/billing.h"
#include "signaling/call.h"
#include "signaling/calls.h"
#include "signaling/calldtmf.h"
#include "signaling/ctl.h"
#include "signaling/edge.h"
#include "signaling/failover.h"
#include "signaling/keepalive.h"
#include "signaling/media.h"
#include "signaling/route.h"
#include "signaling/lines.h"
#include "signaling/outreg.h"
#include "signaling/registrar.h"
#include "signaling/sg.h"
#include "signaling/sip.h"
#include "signaling/spool.h"
#include "signaling/stats.h"
#include "signaling/tables.h"

#define CALL_STATS_TIMEOUT_MS 1000 /* call.list stats: per media.query */

static const char *const state_names[] = {
    "auth", "media", "routing", "early", "answered", "confirmed", "ended",
};

/* this host, for the API's performance page (ctl.c's own) */
static struct sw_sysperf perf;

static void health_ping(struct sg *sg, struct sw_bus_req *req)
{
	json_t *nodes = sg_media_nodes_json(sg->media);
	json_t *offline, *full;
	const struct sg_call *longest = NULL;
	int64_t now = sw_time_mono_ms();
	char detail[256] = "";
	bool media_ok = false;

	for (size_t i = 0; i < json_array_size(nodes); i++)
		if (json_is_true(
			json_object_get(json_array_get(nodes, i), "online")))
			media_ok = true;
	if (!sg_billing_reachable(sg->billing))
		snprintf(detail, sizeof(detail), "billingd not reachable");
	else if (!media_ok &&
		 sg->tables->params.media_mode != SW_MEDIA_MODE_OFF)
		snprintf(detail, sizeof(detail), "no media node online");
	if (sg_spool_pending(sg->spool) > 100 && !detail[0])
		snprintf(detail, sizeof(detail), "%zu CDRs not acknowledged",
			 sg_spool_pending(sg->spool));

	/* routing gateways at their line limit, and the longest call: the
	 * capacity and long-call alarms (billingd) */
	full = json_array();
	for (size_t i = 0; i < sg->tables->ngws; i++) {
		const struct sg_gw *g = &sg->tables->gws[i];

		if (g->line_limit > 0 && sg_lines_active(sg->lines, g->name) >=
					     (unsigned)g->line_limit)
			json_array_append_new(full, json_string(g->name));
	}
	for (struct sg_call *c = sg_calls_first(sg->calls); c; c = c->next)
		if (c->answer_mono && c->state != SG_CALL_ENDED &&
		    (!longest || c->answer_mono < longest->answer_mono))
			longest = c;
	/* routing gateways the OPTIONS keepalive marks offline */
	offline = json_array();
	for (size_t i = 0; i < sg->tables->ngws; i++)
		if (sg->tables->gws[i].keepalive &&
		    sg_keepalive_offline(sg, sg->tables->gws[i].name))
			json_array_append_new(
			    offline, json_string(sg->tables->gws[i].name));

	sw_bus_reply(
	    req,
	    json_pack(
		"{s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:o, s:I,"
		" s:i, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o}",
		"daemon", "signalingd", "node_id", sg->cfg.node_id, "version",
		TANDEM_VERSION, "uptime_s",
		(json_int_t)((sw_time_mono_ms() - sg->start_mono_ms) / 1000),
		"health", detail[0] ? "degraded" : "ok", "detail", detail,
		"calls", (int)sg_calls_count(sg->calls), "media_nodes", nodes,
		"cdr_pending", (json_int_t)sg_spool_pending(sg->spool),
		"registrations",
		(int)sg_registrar_count(sg->registrar, sw_time_mono_ms()),
		"gateways_offline", offline, "registrations_failed",
		sg_outreg_failed_json(sg), "host", sw_sysperf_json(&perf),
		"calls_started", (json_int_t)sg_calls_started(sg->calls),
		"gateways_full", full, "refused", sg_admit_json(sg), "edge",
		sg_edge_json(sg->edge, now), "longest_call",
		longest ? json_pack(
			      "{s:s, s:s, s:I}", "id", longest->id, "account",
			      longest->account, "duration_s",
			      (json_int_t)((now - longest->answer_mono) / 1000))
			: json_null()));
}

/* call.list {"stats": true}: the answer waits for every call's media.query */
struct list_ctx {
	struct sw_bus_req *req; /* answered when pending reaches 0 */
	json_t *calls;		/* owned */
	unsigned pending;
};

struct list_item {
	struct list_ctx *ctx;
	json_t *call; /* borrowed from ctx->calls */
};

static void list_reply(struct list_ctx *ctx)
{
	sw_bus_reply(ctx->req, json_pack("{s:o}", "calls", ctx->calls));
	free(ctx);
}

static void list_stats_h(int err, json_t *body, void *arg)
{
	struct list_item *it = arg;
	struct list_ctx *ctx = it->ctx;
	json_t *stats = body ? json_object_get(body, "stats") : NULL;

	if (!err && json_is_object(stats))
		json_object_set(it->call, "rtp", stats);
	free(it);
	if (--ctx->pending == 0)
		list_reply(ctx);
}

static void call_list(struct sg *sg, struct sw_bus_req *req, const json_t *body)
{
	struct list_ctx *ctx = calloc(1, sizeof(*ctx));
	bool stats = json_is_true(json_object_get(body, "stats"));
	int64_t now = sw_time_mono_ms();
	json_t *arr = json_array();

	if (!ctx) {
		json_decref(arr);
		sw_bus_reply_error(req, SW_ERR_INTERNAL, "out of memory");
		return;
	}
	ctx->req = req;
	ctx->calls = arr;
	ctx->pending = 1; /* this function's own share */
	for (struct sg_call *c = sg_calls_first(sg->calls); c; c = c->next) {
		const char *dtmf_a, *dtmf_b;
		json_t *o;
		struct list_item *it;

		sg_calldtmf_modes(c, &dtmf_a, &dtmf_b);
		o = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I,"
		    " s:s, s:s, s:s, s:s, s:s}",
		    "id", c->id, "call_id_a", c->callid_a, "caller", c->caller,
		    "callee", c->callee, "account", c->account,
		    "mapping_gateway", c->mgw->name, "routing_gateway",
		    c->routing_gw, "state", state_names[c->state], "duration_s",
		    (json_int_t)(c->answer_mono ? (now - c->answer_mono) / 1000
						: 0),
		    "codec_a", c->codec_a, "codec_b", c->codec_b, "dtmf_a",
		    dtmf_a, "dtmf_b", dtmf_b, "media_node",
		    c->node && c->media_up ? c->node->node_id : "");

		json_array_append_new(arr, o);
		if (!stats || !c->media_up || !c->node ||
		    !(it = calloc(1, sizeof(*it))))
			continue;
		it->ctx = ctx;
		it->call = o;
		ctx->pending++;
		if (sg_media_query(NULL, c->node, c->id, CALL_STATS_TIMEOUT_MS,
				   list_stats_h, it)) {
			ctx->pending--;
			free(it);
		}
	}
	if (--ctx->pending == 0)
		list_reply(ctx);
}

/*
 * route.analyze {"callee", "mapping_gateway"?}: what a call placed now
 * would do, from the very function real calls route with
 * (sg_failover_plan): the candidates in attempt order, each with the
 * reason it would be skipped without an INVITE at this moment (line
 * limit, group capacity, reserved lines: sg_failover_busy), and the
 * gateways with a matching prefix that are left out, with the reason.
 * Sends nothing.
 */
static void route_analyze(struct sg *sg, struct sw_bus_req *req,
			  const json_t *body)
{
	const struct sg_tables *t = sg->tables;
	struct sg_route_cand cands[SG_CALL_MAX_CANDS];
	struct sg_route_excl excl[SG_CALL_MAX_CANDS];
	const struct sg_mgw *m = NULL;
	const char *callee, *mgw;
	char rewritten[64] = "";
	json_t *list, *excluded;
	struct sw_jv v;
	size_t n, nx = 0;

	sw_jv_init(&v, "body");
	callee = sw_jv_str(&v, body, "callee", 63, true, NULL);
	mgw = sw_jv_str(&v, body, "mapping_gateway", 63, false, "");
	if (!v.bad && !*callee)
		sw_jv_fail(&v, "callee", "must not be empty");
	if (v.bad) {
		sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}
	/* the mapping gateway's callee dial plan applies before routing */
	for (size_t i = 0; *mgw && i < t->nmgws; i++)
		if (!strcmp(t->mgws[i].name, mgw))
			m = &t->mgws[i];
	if (m)
		sg_dialplan_apply(&m->callee_dp, callee, rewritten,
				  sizeof(rewritten));
	if (!rewritten[0])
		snprintf(rewritten, sizeof(rewritten), "%s", callee);
	callee = rewritten;

	n = sg_failover_plan(sg, t, mgw, callee, sg->rr, cands,
			     SG_CALL_MAX_CANDS, excl, SG_CALL_MAX_CANDS, &nx);
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct sg_gw *g = cands[i].gw;
		const char *busy =
		    sg_failover_busy(sg, g, m && m->priority_customer);
		const struct sg_rate *rate = sg_tables_buy_rate(t, g, callee);
		unsigned att, ans;
		json_t *o;

		sg_stats_get(sg->stats, g->name, t->params.asr.window_s,
			     sw_time_mono_ms(), &att, &ans);
		o = json_pack("{s:s, s:s#, s:i, s:b, s:i, s:i, s:s, s:s,"
			      " s:s, s:i, s:i, s:b}",
			      "gateway", g->name, "prefix", callee,
			      (int)cands[i].prefix_len, "priority", g->priority,
			      "protect", g->protect, "line_use",
			      (int)sg_lines_active(sg->lines, g->name),
			      "line_limit", g->line_limit, "address",
			      g->address, "gateway_prefix", g->tech_prefix,
			      "skip", busy ? busy : "", "attempts", (int)att,
			      "answered", (int)ans, "asr_below_threshold",
			      cands[i].below);
		/* buy rate per minute in micro-units, -1 when unknown */
		json_object_set_new(o, "buy_rate",
				    json_integer(rate ? rate->first_rate : -1));
		json_array_append_new(list, o);
	}
	excluded = json_array();
	for (size_t i = 0; i < nx; i++)
		json_array_append_new(excluded,
				      json_pack("{s:s, s:s#, s:s}", "gateway",
						excl[i].gw->name, "prefix",
						callee, (int)excl[i].prefix_len,
						"reason", excl[i].reason));
	sw_bus_reply(
	    req, json_pack("{s:s, s:s, s:b, s:I, s:o, s:o}", "callee", callee,
			   "mapping_gateway", mgw, "prefix_fallback",
			   t->params.prefix_fallback != 0, "switch_limit",
			   (json_int_t)t->params.switch_limit, "candidates",
			   list, "excluded", excluded));
}

/* call.hangup {"id"} (CDR id) or {"call_id"} (caller Call-ID) */
static void call_hangup(struct sg *sg, struct sw_bus_req *req,
			const json_t *body)
{
	const char *id, *callid;
	struct sg_call *c = NULL;
	struct sw_jv v;

	sw_jv_init(&v, "body");
	id = sw_jv_str(&v, body, "id", 36, false, "");
	callid = sw_jv_str(&v, body, "call_id", 255, false, "");
	if (!v.bad && !*id && !*callid)
		sw_jv_fail(&v, "id", "id or call_id required");
	if (v.bad) {
		sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}
	for (c = sg_calls_first(sg->calls); c; c = c->next) {
		if (c->state == SG_CALL_ENDED)
			continue;
		if ((*id && !strcmp(c->id, id)) ||
		    (*callid && !strcmp(c->callid_a, callid)))
			break;
	}
	if (!c) {
		sw_bus_reply_error(req, SW_ERR_NOT_FOUND, "no such call");
		return;
	}
	sw_bus_reply(req, json_pack("{s:s}", "id", c->id));
	sw_cinfo(c->callid_a, "hangup requested over the bus");
	sg_call_terminate(c, "OperatorHangup", "server");
}

/*
 * gateway.lock {"gateway", "locked"}: lock or unlock a routing gateway now,
 * in the routing snapshot in force.  billingd sends it after committing
 * the same change to routing_gateways.locked, so the reload the change
 * notifies keeps it; a lock sent without the database change lasts until
 * the next reload.
 */
static void gateway_lock(struct sg *sg, struct sw_bus_req *req,
			 const json_t *body)
{
	struct sg_tables *t = sg->tables;
	const char *name;
	json_t *locked;
	struct sw_jv v;

	sw_jv_init(&v, "body");
	name = sw_jv_str(&v, body, "gateway", SG_NAME_MAX - 1, true, NULL);
	locked = json_object_get(body, "locked");
	if (!v.bad && !json_is_boolean(locked))
		sw_jv_fail(&v, "locked", "must be true or false");
	if (v.bad) {
		sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}
	for (size_t i = 0; i < t->ngws; i++) {
		if (strcmp(t->gws[i].name, name))
			continue;
		t->gws[i].locked = json_is_true(locked);
		sw_info("routing gateway %s %s over the bus", name,
			t->gws[i].locked ? "locked" : "unlocked");
		sw_bus_reply(req, json_pack("{s:s, s:b}", "gateway", name,
					    "locked", t->gws[i].locked));
		return;
	}
	sw_bus_reply_error(req, SW_ERR_NOT_FOUND, "no routing gateway %s",
			   name);
}

/*
 * stats.asr {"window_s", "gateways": [{"gateway", "attempts",
 * "answered"}]}: billingd's switch-wide counts for the ASR sorting.
 */
static void stats_asr(struct sg *sg, struct sw_bus_req *req, const json_t *body)
{
	const json_t *list, *g;
	int64_t window, now = sw_time_mono_ms();
	size_t i, n = 0;
	struct sw_jv v;

	sw_jv_init(&v, "body");
	window = sw_jv_int(&v, body, "window_s", 60, 7 * 86400, true, 0);
	list = sw_jv_arr(&v, body, "gateways", 100000, true);
	if (v.bad) {
		sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}
	json_array_foreach(list, i, g)
	{
		struct sw_jv gv;
		const char *name;
		int64_t att, ans;

		sw_jv_init(&gv, "body.gateways[]");
		name = sw_jv_str(&gv, g, "gateway", 63, true, "");
		att = sw_jv_int(&gv, g, "attempts", 0, UINT32_MAX, true, 0);
		ans = sw_jv_int(&gv, g, "answered", 0, UINT32_MAX, true, 0);
		if (gv.bad || !*name)
			continue;
		sg_stats_feed(sg->stats, name, (unsigned)att, (unsigned)ans,
			      (int)window, now);
		n++;
	}
	sw_bus_reply(req, json_pack("{s:I}", "gateways", (json_int_t)n));
}

static void control_request(struct sw_bus_req *req, const struct sw_env *env,
			    void *arg)
{
	struct sg *sg = arg;

	if (!strcmp(env->type, SW_MSG_HEALTH_PING))
		health_ping(sg, req);
	else if (!strcmp(env->type, SW_MSG_CALL_LIST))
		call_list(sg, req, env->body);
	else if (!strcmp(env->type, SW_MSG_ROUTE_ANALYZE))
		route_analyze(sg, req, env->body);
	else if (!strcmp(env->type, SW_MSG_CALL_HANGUP))
		call_hangup(sg, req, env->body);
	else if (!strcmp(env->type, SW_MSG_GATEWAY_LOCK))
		gateway_lock(sg, req, env->body);
	else if (!strcmp(env->type, SW_MSG_STATS_ASR))
		stats_asr(sg, req, env->body);
	else if (!strcmp(env->type, SW_MSG_CONFIG_CHANGED)) {
		sw_info("config.changed: reloading routing tables");
		sg_reload_tables(sg);
		sw_bus_reply(req, json_pack("{s:b}", "reloading", 1));
	} else if (sw_proto_known(env->type))
		sw_bus_reply_error(req, SW_ERR_UNKNOWN_TYPE,
				   "%s is not implemented by signalingd yet",
				   env->type);
	else
		sw_bus_reply_error(req, SW_ERR_UNKNOWN_TYPE,
				   "unknown message type");
}

static void media_event(struct sg *sg, const json_t *body)
{
	static const char *const events[] = {"rtp_timeout", "dtmf", "stats",
					     NULL};
	const char *session, *event;
	struct sg_call *c;
	struct sw_jv v;

	sw_jv_init(&v, "body");
	session = sw_jv_uuid(&v, body, "session", true);
	sw_jv_str(&v, body, "node_id", 64, false, "");
	event = sw_jv_enum(&v, body, "event", events, true, NULL);
	if (v.bad) {
		sw_warn("bad media.event ignored: %s", v.err);
		return;
	}
	c = sg_calls_find(sg->calls, session);
	if (!c) {
		sw_debug("media.event %s for unknown session %s", event,
			 session);
		return;
	}
	if (!strcmp(event, "rtp_timeout")) {
		sw_cinfo(c->callid_a, "media node reports RTP timeout");
		sg_call_terminate(c, "RtpTimeout", "server");
	} else if (!strcmp(event, "dtmf")) {
		sg_calldtmf_event(c, body);
	}
}

static void event_message(const struct sw_env *env, void *arg)
{
	struct sg *sg = arg;
	char err[256];

	if (!strcmp(env->type, SW_MSG_NODE_HEARTBEAT)) {
		if (sg_media_heartbeat(sg->media, env->body, env->pipe, err,
				       sizeof(err)) == EBADMSG)
			sw_warn("bad node.heartbeat ignored: %s", err);
	} else if (!strcmp(env->type, SW_MSG_MEDIA_EVENT)) {
		media_event(sg, env->body);
	} else if (!strcmp(env->type, SW_MSG_CONFIG_CHANGED)) {
		sw_info("config.changed: reloading routing tables");
		sg_reload_tables(sg);
	} else {
		sw_warn("unexpected %s on the events socket ignored",
			env->type);
	}
}

/* Listen on bus_control (REP) and bus_events (PULL). */
int sg_ctl_start(struct sg *sg, char *err, size_t errsz)
{
	int e;

	e = sw_bus_listen_rep(sg->bus, sg->cfg.bus_control, SW_ROLE_BILLING, 8,
			      control_request, sg);
	if (e) {
		snprintf(err, errsz, "bus_control %s: %s", sg->cfg.bus_control,
			 strerror(e));
		return e;
	}
	e = sw_bus_listen_pull(sg->bus, sg->cfg.bus_events, SW_ROLE_MEDIA,
			       event_message, sg);
	if (e) {
		snprintf(err, errsz, "bus_events %s: %s", sg->cfg.bus_events,
			 strerror(e));
		return e;
	}
	return 0;
}
