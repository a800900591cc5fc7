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
#include "common/bus.h"
#include "common/envelope.h"
#include "common/log.h"
#include "proto/proto.h"

#define LIVE_TIMEOUT_MS 3000

/* an error reply of signalingd as an API error */
static void bus_error(struct api_req *r, int err, const struct sw_env *env)
{
	const char *code, *msg;

	if (err || !env) {
		api_error(r, 503, "unavailable", NULL,
			  "signalingd did not answer: %s",
			  strerror(err ? err : EIO));
		return;
	}
	code = json_string_value(json_object_get(env->body, "code"));
	msg = json_string_value(json_object_get(env->body, "message"));
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

static void calls_h(int err, const struct sw_env *env, void *arg)
{
	struct api_req *r = arg;
	char account[80];
	json_t *calls, *keep;
	size_t i;
	json_t *c;

	if (err || is_error(env)) {
		bus_error(r, err, env);
		api_finish(r);
		return;
	}
	calls = json_object_get(env->body, "calls");
	keep = json_array();
	if (!api_query(r, "account", account, sizeof(account)))
		account[0] = '\0';
	json_array_foreach(calls, i, c)
	{
		if (*account &&
		    strcmp(json_string_value(json_object_get(c, "account"))
			       ?: "",
			   account))
			continue;
		json_array_append(keep, c);
	}
	api_ok(r, 200, json_pack("{s:o}", "items", keep));
	api_finish(r);
}

void api_calls(struct bd *bd, struct api_req *r)
{
	char rtp[8];
	bool stats = api_query(r, "rtp", rtp, sizeof(rtp)) &&
		     (!strcmp(rtp, "1") || !strcmp(rtp, "true"));

	if (sw_bus_request(NULL, bd->sg, SW_MSG_CALL_LIST,
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
		bus_error(r, err, env);
	else if (!strcmp(r->method, "DELETE"))
		api_ok(r, 204, NULL);
	else
		api_ok(r, 200, json_incref(env->body));
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
	if (sw_bus_request(NULL, bd->sg, SW_MSG_CALL_HANGUP,
			   json_pack("{s:s}", "id", r->sub), LIVE_TIMEOUT_MS,
			   passthrough_h, r)) {
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
	if (sw_bus_request(NULL, bd->sg, SW_MSG_ROUTE_ANALYZE,
			   json_pack("{s:s, s:s}", "callee", callee,
				     "mapping_gateway", mgw),
			   LIVE_TIMEOUT_MS, passthrough_h, r)) {
		bus_error(r, EIO, NULL);
		api_finish(r);
	}
}

static void lock_h(int err, const struct sw_env *env, void *arg)
{
	struct api_req *r = arg;

	/* the change is committed either way: signalingd applies it from
	 * the notified reload if it missed this message */
	if (err || is_error(env))
		sw_warn("gateway.lock %s not confirmed by signalingd (%s): the "
			"reload applies it",
			r->sub, err ? strerror(err) : "error");
	api_finish(r);
}

/* after a committed PATCH of a routing gateway's "locked" */
void api_gateway_lock(struct bd *bd, struct api_req *r)
{
	json_t *locked = json_object_get(r->reply, "locked");

	if (r->status != 200 || !json_is_boolean(locked) ||
	    sw_bus_request(
		NULL, bd->sg, SW_MSG_GATEWAY_LOCK,
		json_pack("{s:s, s:O}", "gateway", r->sub, "locked", locked),
		1000, lock_h, r))
		api_finish(r);
}
