/*
 * ctl.c - control (REP) and events (PULL) bus handlers
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SW_LOG_MODULE "ctl"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/swtime.h"
#include "proto/proto.h"
#include "signaling/billing.h"
#include "signaling/call.h"
#include "signaling/ctl.h"
#include "signaling/media.h"
#include "signaling/sg.h"
#include "signaling/spool.h"
#include "signaling/tables.h"

static const char *const state_names[] = {
	"auth", "media", "routing", "early", "answered", "confirmed", "ended",
};

static void health_ping(struct sg *sg, struct sw_bus_req *req)
{
	json_t *nodes = sg_media_nodes_json(sg->media);
	char detail[256] = "";
	bool media_ok = false;

	for (size_t i = 0; i < json_array_size(nodes); i++)
		if (json_is_true(json_object_get(json_array_get(nodes, i),
						 "online")))
			media_ok = true;
	if (!sg_billing_reachable(sg->billing))
		snprintf(detail, sizeof(detail), "billingd not reachable");
	else if (!media_ok && sg->tables->params.media_mode != 0)
		snprintf(detail, sizeof(detail), "no media node online");
	if (sg_spool_pending(sg->spool) > 100 && !detail[0])
		snprintf(detail, sizeof(detail), "%zu CDRs not acknowledged",
			 sg_spool_pending(sg->spool));

	sw_bus_reply(req,
		     json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:o, s:I}",
			       "daemon", "signalingd", "node_id",
			       sg->cfg.node_id, "version", TANDEM_VERSION,
			       "uptime_s",
			       (json_int_t)((sw_time_mono_ms() -
					     sg->start_mono_ms) / 1000),
			       "health", detail[0] ? "degraded" : "ok",
			       "detail", detail, "calls", (int)sg->ncalls,
			       "media_nodes", nodes, "cdr_pending",
			       (json_int_t)sg_spool_pending(sg->spool)));
}

static void call_list(struct sg *sg, struct sw_bus_req *req)
{
	json_t *arr = json_array();
	int64_t now = sw_time_mono_ms();

	for (struct sg_call *c = sg->calls; c; c = c->next) {
		json_array_append_new(
			arr,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I,"
				  " s:s, s:s, s:s}",
				  "id", c->id, "call_id_a", c->callid_a,
				  "caller", c->caller, "callee", c->callee,
				  "mapping_gateway", c->mgw->name,
				  "routing_gateway", c->routing_gw, "state",
				  state_names[c->state], "duration_s",
				  (json_int_t)(c->answer_mono
						       ? (now - c->answer_mono) /
								 1000
						       : 0),
				  "codec_a", c->codec_a, "codec_b", c->codec_b,
				  "media_node",
				  c->node && c->media_up ? c->node->node_id
							 : ""));
	}
	sw_bus_reply(req, json_pack("{s:o}", "calls", arr));
}

static void control_request(struct sw_bus_req *req, const struct sw_env *env,
			    void *arg)
{
	struct sg *sg = arg;

	if (!strcmp(env->type, SW_MSG_HEALTH_PING))
		health_ping(sg, req);
	else if (!strcmp(env->type, SW_MSG_CALL_LIST))
		call_list(sg, req);
	else if (sw_proto_known(env->type))
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
	c = sg_call_by_id(sg, session);
	if (!c) {
		sw_debug("media.event %s for unknown session %s", event,
			 session);
		return;
	}
	if (!strcmp(event, "rtp_timeout")) {
		sw_cinfo(c->callid_a, "media node reports RTP timeout");
		sg_call_terminate(c, "RtpTimeout", "server");
	}
}

static void event_message(const struct sw_env *env, void *arg)
{
	struct sg *sg = arg;
	char err[256];

	if (!strcmp(env->type, SW_MSG_NODE_HEARTBEAT)) {
		if (sg_media_heartbeat(sg->media, env->body, err, sizeof(err)))
			sw_warn("bad node.heartbeat ignored: %s", err);
	} else if (!strcmp(env->type, SW_MSG_MEDIA_EVENT)) {
		media_event(sg, env->body);
	} else {
		sw_warn("unexpected %s on the events socket ignored",
			env->type);
	}
}

/* Listen on bus_control (REP) and bus_events (PULL). */
int sg_ctl_start(struct sg *sg, char *err, size_t errsz)
{
	int e;

	e = sw_bus_listen_rep(sg->bus, sg->cfg.bus_control, 8,
			      control_request, sg);
	if (e) {
		snprintf(err, errsz, "bus_control %s: %s", sg->cfg.bus_control,
			 strerror(e));
		return e;
	}
	e = sw_bus_listen_pull(sg->bus, sg->cfg.bus_events, event_message, sg);
	if (e) {
		snprintf(err, errsz, "bus_events %s: %s", sg->cfg.bus_events,
			 strerror(e));
		return e;
	}
	return 0;
}
