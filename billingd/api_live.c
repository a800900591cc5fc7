/*
 * api_live.c - live calls and routing, asked of signalingd over the bus
 *
 *   GET    /api/v1/calls[?account=][&rtp=1]   current calls (call.list;
 *                                     rtp=1: each leg's RTP counters,
 *                                     loss and jitter from its media
 *                                     node)
 *   DELETE /api/v1/calls/<id>         hang a call up (call.hangup)
 *   GET    /api/v1/route?callee=[&mapping_gateway=]
 *                                     routing analysis (route.analyze)
 *
 * and, after PATCH /api/v1/routing_gateways/<name> changed "locked", the
 * gateway.lock that makes signalingd apply it before the answer leaves.
 *
 * With several signalingd (sgpeers.h): call.list, call.hangup and
 * gateway.lock go to every one (the lists merged, the hangup done if one
 * found the call), route.analyze to one that answers.
 *
 * Threading: re_main thread (these run after the worker authenticated
 * the caller).
 */
#define SW_LOG_MODULE "api"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/api_int.h"
#include "billingd/daemon.h"
#include "billingd/sgpeers.h"
#include "common/bus.h"
#include "common/envelope.h"
#include "common/log.h"
#include "proto/proto.h"

#define LIVE_TIMEOUT_MS 3000

/* signalingd's failure as an API error: err (no reply) or the body of
 * its error reply */
static void bus_error(struct api_req *r, int err, const json_t *body)
{
	const char *code, *msg;

	if (err || !body) {
		api_error(r, 503, "unavailable", NULL,
			  "signalingd did not answer: %s",
			  strerror(err ? err : EIO));
		return;
	}
	code = json_string_value(json_object_get(body, "code"));
	msg = json_string_value(json_object_get(body, "message"));
	if (code && !strcmp(code, SW_ERR_NOT_FOUND))
		api_error(r, 404, "not_found", NULL, "%s", msg ? msg : code);
	else if (code && !strcmp(code, SW_ERR_BAD_REQUEST))
		api_error(r, 400, "invalid", NULL, "%s", msg ? msg : code);
	else
		api_error(r, 503, "unavailable", NULL, "signalingd: %s",
			  msg ? msg : "error");
}

static bool is_error(const struct sw_env *env)
{
	return !env || !strcmp(env->type, SW_MSG_ERROR);
}

/* every signalingd's call.list is in (or timed out): their calls in one
 * list; the ones that gave none in "unreachable", unless none did */
static void calls_h(const struct bd_sg_reply *rep, size_t n, void *arg)
{
	struct api_req *r = arg;
	char account[80];
	json_t *items, *down = NULL, *o;
	size_t i;

	if (!api_query(r, "account", account, sizeof(account)))
		account[0] = '\0';
	items = bd_sg_merge_calls(rep, n, account, &down);
	if (!items) {
		bus_error(r, rep[0].err, rep[0].body);
		json_decref(down);
		api_finish(r);
		return;
	}
	json_array_foreach(down, i, o)
	{
		sw_warn("call list without signalingd %s: %s",
			json_string_value(json_object_get(o, "url")),
			json_string_value(json_object_get(o, "detail")));
	}
	o = json_pack("{s:o}", "items", items);
	if (o && json_array_size(down))
		json_object_set(o, "unreachable", down);
	json_decref(down);
	api_ok(r, 200, o);
	api_finish(r);
}

void api_calls(struct bd *bd, struct api_req *r)
{
	char rtp[8];
	bool stats = api_query(r, "rtp", rtp, sizeof(rtp)) &&
		     (!strcmp(rtp, "1") || !strcmp(rtp, "true"));

	if (bd_sgpeers_all(bd->sgpeers, SW_MSG_CALL_LIST,
			   json_pack("{s:b}", "stats", stats), LIVE_TIMEOUT_MS,
			   calls_h, r)) {
		bus_error(r, EIO, NULL);
		api_finish(r);
	}
}

static void passthrough_h(int err, const struct sw_env *env, void *arg)
{
	struct api_req *r = arg;

	if (err || is_error(env))
		bus_error(r, err, env ? env->body : NULL);
	else
		api_ok(r, 200, json_incref(env->body));
	api_finish(r);
}

/* the call is hung up if one signalingd had it (bd_sg_pick_hangup) */
static void hangup_h(const struct bd_sg_reply *rep, size_t n, void *arg)
{
	struct api_req *r = arg;
	size_t i = bd_sg_pick_hangup(rep, n);

	if (bd_sg_reply_ok(&rep[i]))
		api_ok(r, 204, NULL);
	else
		bus_error(r, rep[i].err, rep[i].body);
	api_finish(r);
}

void api_call_hangup(struct bd *bd, struct api_req *r)
{
	if (strlen(r->sub) != 36) {
		api_error(r, 404, "not_found", NULL, "no such call");
		api_finish(r);
		return;
	}
	sw_info("%s hangs up call %s", r->who.user, r->sub);
	if (bd_sgpeers_all(bd->sgpeers, SW_MSG_CALL_HANGUP,
			   json_pack("{s:s}", "id", r->sub), LIVE_TIMEOUT_MS,
			   hangup_h, r)) {
		bus_error(r, EIO, NULL);
		api_finish(r);
	}
}

void api_route(struct bd *bd, struct api_req *r)
{
	char callee[80], mgw[80];

	if (!api_query(r, "callee", callee, sizeof(callee)) || !*callee ||
	    strlen(callee) > 63 ||
	    strspn(callee, "0123456789+*#") != strlen(callee)) {
		api_error(r, 400, "invalid", "callee",
			  "callee: 1..63 of 0-9 + * #");
		api_finish(r);
		return;
	}
	if (!api_query(r, "mapping_gateway", mgw, sizeof(mgw)))
		mgw[0] = '\0';
	/* the routing tables are the same on every signalingd */
	if (bd_sgpeers_first(bd->sgpeers, SW_MSG_ROUTE_ANALYZE,
			     json_pack("{s:s, s:s}", "callee", callee,
				       "mapping_gateway", mgw),
			     LIVE_TIMEOUT_MS, passthrough_h, r)) {
		bus_error(r, EIO, NULL);
		api_finish(r);
	}
}

static void lock_h(const struct bd_sg_reply *rep, size_t n, void *arg)
{
	struct api_req *r = arg;

	/* the change is committed either way: a signalingd applies it from
	 * the notified reload if it missed this message */
	for (size_t i = 0; i < n; i++) {
		if (bd_sg_reply_ok(&rep[i]))
			continue;
		sw_warn("gateway.lock %s not confirmed by signalingd %s (%s): "
			"the reload applies it",
			r->sub, bd_sg_reply_name(&rep[i]),
			rep[i].err ? strerror(rep[i].err)
				   : json_string_value(json_object_get(
					 rep[i].body, "message"))
					 ?: "error");
	}
	api_finish(r);
}

/* after a committed PATCH of a routing gateway's "locked": to every
 * signalingd */
void api_gateway_lock(struct bd *bd, struct api_req *r)
{
	json_t *locked = json_object_get(r->reply, "locked");

	if (r->status != 200 || !json_is_boolean(locked) ||
	    bd_sgpeers_all(
		bd->sgpeers, SW_MSG_GATEWAY_LOCK,
		json_pack("{s:s, s:O}", "gateway", r->sub, "locked", locked),
		1000, lock_h, r))
		api_finish(r);
}
