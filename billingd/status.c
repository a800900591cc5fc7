/*
 * status.c - what GET /api/v1/status and health.ping report
 */
#define SW_LOG_MODULE "status"

#include <errno.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/daemon.h"
#include "billingd/db.h"
#include "billingd/resv.h"
#include "billingd/sgpeers.h"
#include "billingd/status.h"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/sysperf.h"
#include "proto/proto.h"

#define MAX_MEDIA_NODES 1024

struct collect_ctx {
	struct bd *bd; /* borrowed */
	bd_status_h *h;
	void *arg;
};

/* billingd's own entry (also the body of its health.ping reply). */
/* this host, for the API's performance page (status.c's own) */
static struct sw_sysperf perf;

json_t *bd_status_self(const struct bd *bd)
{
	struct bd_db_stats st;
	const char *health = "ok", *detail = "";
	json_t *o;

	bd_db_stats(bd->db, &st);
	if (bd->draining) {
		health = "degraded";
		detail = "shutting down";
	} else if (!st.conns_up) {
		health = "degraded";
		detail = "database unavailable";
	}

	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I}", "daemon",
		      BD_DAEMON_NAME, "node_id", bd->conf.node_id, "version",
		      TANDEM_VERSION, "uptime_s", (json_int_t)bd_uptime_s(bd),
		      "health", health, "detail", detail, "boot", bd->boot,
		      "reservations", (json_int_t)bd_resv_count(bd->resv));
	if (o)
		json_object_set_new(o, "host", sw_sysperf_json(&perf));
	if (o)
		json_object_set_new(o, "db",
				    json_pack("{s:i, s:i, s:I, s:I}",
					      "connections_up",
					      (int)st.conns_up, "connections",
					      (int)st.conns_total, "queued",
					      (json_int_t)st.queued, "busy",
					      (json_int_t)st.busy));
	return o;
}

static json_t *down_entry(const char *daemon, const char *url,
			  const char *detail)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "daemon",
			 daemon, "node_id", "", "version", "", "uptime_s", 0,
			 "health", "down", "detail", detail, "url", url);
}

static const char *const healths[] = {"ok", "degraded", NULL};

static json_t *media_node(struct sw_jv *v, const json_t *n)
{
	static const char *const ints[] = {
	    "uptime_s",	  "sessions", "xcode_sessions", "xcode_budget",
	    "free_ports", "cpu_pct",  "last_seen_ms",	NULL,
	};
	json_t *o = json_object();
	bool online;

	if (!o)
		return NULL;
	json_object_set_new(
	    o, "node_id",
	    json_string(sw_jv_str(v, n, "node_id", 64, true, "")));
	json_object_set_new(
	    o, "url", json_string(sw_jv_str(v, n, "url", 256, false, "")));
	json_object_set_new(
	    o, "version",
	    json_string(sw_jv_str(v, n, "version", 32, false, "")));
	for (const char *const *k = ints; *k; k++)
		json_object_set_new(
		    o, *k,
		    json_integer(sw_jv_int(v, n, *k, 0, INT64_MAX, false, 0)));
	online = sw_jv_bool(v, n, "online", false, true);
	json_object_set_new(o, "online", json_boolean(online));
	json_object_set_new(o, "health", json_string(online ? "ok" : "down"));
	if (json_is_object(json_object_get(n, "host")))
		json_object_set(o, "host", json_object_get(n, "host"));

	return o;
}

/*
 * A signalingd's entry from its health.ping answer r, with its URL; its
 * media nodes, validated, go to *media_nodesp (a new array, empty when
 * none).  Never NULL unless out of memory.
 */
json_t *bd_status_peer(const struct bd_sg_reply *r, json_t **media_nodesp)
{
	json_t *nodes = json_array(), *arr, *n, *o = NULL;
	const char *daemon, *node_id, *version, *health, *detail;
	char why[300];
	struct sw_jv v;
	int64_t uptime;
	size_t i;

	*media_nodesp = nodes;

	if (r->err) {
		snprintf(why, sizeof(why), "no reply: %s", strerror(r->err));
		return down_entry("signalingd", r->url, why);
	}
	if (r->error) {
		snprintf(why, sizeof(why), "error reply: %s",
			 sw_json_str_or(r->body, "message", "?"));
		return down_entry("signalingd", r->url, why);
	}

	sw_jv_init(&v, "body");
	daemon = sw_jv_str(&v, r->body, "daemon", 32, true, "");
	node_id = sw_jv_str(&v, r->body, "node_id", 64, true, "");
	version = sw_jv_str(&v, r->body, "version", 32, false, "");
	uptime = sw_jv_int(&v, r->body, "uptime_s", 0, INT64_MAX, false, 0);
	health = sw_jv_enum(&v, r->body, "health", healths, false, "ok");
	detail = sw_jv_str(&v, r->body, "detail", 256, false, "");
	arr = sw_jv_arr(&v, r->body, "media_nodes", MAX_MEDIA_NODES, false);
	if (v.bad) {
		sw_warn("bad health.ping reply from signalingd %s: %s", r->url,
			v.err);
		snprintf(why, sizeof(why), "bad health.ping reply: %s", v.err);
		return down_entry("signalingd", r->url, why);
	}

	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "daemon", daemon,
		      "node_id", node_id, "version", version, "uptime_s",
		      (json_int_t)uptime, "health", health, "detail", detail,
		      "url", r->url);
	if (o && json_object_get(r->body, "calls"))
		json_object_set_new(
		    o, "calls",
		    json_integer(sw_jv_int(&v, r->body, "calls", 0, INT64_MAX,
					   false, 0)));
	/* the host it runs on (sysperf), as it reports it */
	if (o && json_is_object(json_object_get(r->body, "host")))
		json_object_set(o, "host", json_object_get(r->body, "host"));

	json_array_foreach(arr, i, n)
	{
		struct sw_jv nv;
		char path[48];
		json_t *m;

		snprintf(path, sizeof(path), "body.media_nodes[%zu]", i);
		sw_jv_init(&nv, path);
		m = media_node(&nv, n);
		if (nv.bad) {
			sw_warn("signalingd media node ignored: %s", nv.err);
			json_decref(m);
			continue;
		}
		json_array_append_new(nodes, m);
	}

	return o;
}

/* every signalingd answered or timed out: billingd, each signalingd in
 * signaling_url order, the media nodes merged by node_id */
static void ping_h(const struct bd_sg_reply *r, size_t n, void *arg)
{
	struct collect_ctx *ctx = arg;
	json_t *daemons = json_array(), *nodes = json_array(), *out;

	json_array_append_new(daemons, bd_status_self(ctx->bd));
	for (size_t i = 0; i < n; i++) {
		json_t *mine = NULL, *sg = bd_status_peer(&r[i], &mine);

		bd_sg_merge_nodes(
		    nodes, mine,
		    json_string_value(json_object_get(sg, "node_id")));
		json_array_append_new(daemons, sg);
		json_decref(mine);
	}
	out = json_pack("{s:o, s:o}", "daemons", daemons, "media_nodes", nodes);
	ctx->h(out, ctx->arg);
	mem_deref(ctx);
}

/*
 * Build the full status: ping every signalingd, then h(status, arg) once,
 * from the loop.  An error return means h will not run.
 */
int bd_status_collect(struct bd *bd, bd_status_h *h, void *arg)
{
	struct collect_ctx *ctx;
	int err;

	if (!bd || !h)
		return EINVAL;

	ctx = mem_zalloc(sizeof(*ctx), NULL);
	if (!ctx)
		return ENOMEM;
	ctx->bd = bd;
	ctx->h = h;
	ctx->arg = arg;

	err = bd_sgpeers_all(bd->sgpeers, SW_MSG_HEALTH_PING, NULL,
			     BD_STATUS_TIMEOUT_MS, ping_h, ctx);
	if (err)
		mem_deref(ctx);

	return err;
}
