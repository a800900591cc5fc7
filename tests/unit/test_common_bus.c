/* test_common_bus.c - envelope validation and the bus on a real nng socket */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/bus.h"
#include "common/envelope.h"
#include "common/json.h"
#include "common/swtime.h"
#include "proto/proto.h"

#define ID "0b5c6f5e-8a5b-4d7e-9a63-6a4f1d0e2c11"

static int parse(const char *s, char *err, size_t errsz)
{
	struct sw_env env;
	int ret = sw_env_parse(&env, s, strlen(s), err, errsz);

	sw_env_reset(&env);
	return ret;
}

static void envelope_valid(void **state)
{
	struct sw_env env;
	char err[256];
	const char *s = "{\"v\":1,\"type\":\"media.offer\",\"id\":\"" ID
			"\",\"ts\":5,\"body\":{\"x\":1}}";

	(void)state;
	assert_int_equal(sw_env_parse(&env, s, strlen(s), err, sizeof(err)), 0);
	assert_string_equal(env.type, "media.offer");
	assert_string_equal(env.id, ID);
	assert_int_equal(env.ts, 5);
	assert_int_equal(json_integer_value(json_object_get(env.body, "x")), 1);
	sw_env_reset(&env);
}

static void envelope_rejects(void **state)
{
	char err[256];
	char *big;

	(void)state;
	assert_int_equal(parse("", err, sizeof(err)), EBADMSG);
	assert_int_equal(parse("not json", err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "invalid JSON"));
	assert_int_equal(parse("[1,2]", err, sizeof(err)), EBADMSG);
	assert_int_equal(parse("{\"v\":2,\"type\":\"a\",\"id\":\"" ID
			       "\",\"ts\":1,\"body\":{}}",
			       err, sizeof(err)),
			 EBADMSG);
	assert_string_equal(err, "v: must be 1");
	assert_int_equal(parse("{\"v\":1,\"type\":\"A B\",\"id\":\"" ID
			       "\",\"ts\":1,\"body\":{}}",
			       err, sizeof(err)),
			 EBADMSG);
	assert_non_null(strstr(err, "type"));
	assert_int_equal(parse("{\"v\":1,\"type\":\"a\",\"id\":\"nope\","
			       "\"ts\":1,\"body\":{}}",
			       err, sizeof(err)),
			 EBADMSG);
	assert_string_equal(err, "id: must be a UUID");
	assert_int_equal(parse("{\"v\":1,\"type\":\"a\",\"id\":\"" ID
			       "\",\"ts\":-1,\"body\":{}}",
			       err, sizeof(err)),
			 EBADMSG);
	assert_int_equal(parse("{\"v\":1,\"type\":\"a\",\"id\":\"" ID
			       "\",\"ts\":1,\"body\":[]}",
			       err, sizeof(err)),
			 EBADMSG);
	assert_string_equal(err, "body: must be an object");
	assert_int_equal(parse("{\"v\":1,\"v\":1}", err, sizeof(err)), EBADMSG);

	big = malloc(SW_ENV_MAX_SIZE + 2);
	assert_non_null(big);
	memset(big, ' ', SW_ENV_MAX_SIZE + 1);
	big[SW_ENV_MAX_SIZE + 1] = '\0';
	assert_int_equal(parse(big, err, sizeof(err)), EMSGSIZE);
	free(big);
}

static void validator(void **state)
{
	json_t *o = json_pack("{s:s, s:i, s:b, s:s}", "name", "gw1", "port",
			      70000, "on", 1, "mode", "auto");
	static const char *const modes[] = {"auto", "specified", NULL};
	static const char *const keys[] = {"name", "port", "on", "mode", NULL};
	struct sw_jv v;

	(void)state;
	sw_jv_init(&v, "body");
	assert_string_equal(sw_jv_str(&v, o, "name", 64, true, NULL), "gw1");
	assert_true(sw_jv_bool(&v, o, "on", true, false));
	assert_string_equal(sw_jv_enum(&v, o, "mode", modes, true, NULL),
			    "auto");
	sw_jv_known(&v, o, keys);
	assert_int_equal(v.bad, 0);
	assert_int_equal(sw_jv_int(&v, o, "port", 1, 65535, true, 5060), 5060);
	assert_int_equal(v.bad, 1);
	assert_string_equal(v.err, "body.port: must be 1..65535");

	sw_jv_init(&v, "body");
	sw_jv_str(&v, o, "name", 2, true, NULL);
	assert_string_equal(v.err, "body.name: longer than 2 bytes");
	sw_jv_init(&v, "body");
	sw_jv_str(&v, o, "missing", 2, true, NULL);
	assert_string_equal(v.err, "body.missing: required");
	json_decref(o);
}

/* ---- live bus: REP + REQ + PULL + PUSH in one process ---- */

struct ctx {
	int replies, errors, timeouts, pulled;
	char last_type[64];
	struct sw_bus_req *held; /* request answered later */
};

static void on_req(struct sw_bus_req *req, const struct sw_env *env, void *arg)
{
	struct ctx *c = arg;
	const char *what = sw_json_str_or(env->body, "what", "");

	if (!strcmp(what, "hold")) {
		c->held = req; /* answered after another request */
		return;
	}
	if (!strcmp(what, "ignore"))
		return; /* never answered: the client times out */
	if (!sw_proto_known(env->type)) {
		sw_bus_reply_error(req, SW_ERR_UNKNOWN_TYPE, "type %s",
				   env->type);
		return;
	}
	sw_bus_reply(req, json_pack("{s:s}", "echo", what));
}

static void on_resp(int err, const struct sw_env *env, void *arg)
{
	struct ctx *c = arg;

	if (err == ETIMEDOUT) {
		c->timeouts++;
		return;
	}
	assert_int_equal(err, 0);
	snprintf(c->last_type, sizeof(c->last_type), "%s", env->type);
	if (!strcmp(env->type, SW_MSG_ERROR))
		c->errors++;
	else
		c->replies++;
}

static void on_pull(const struct sw_env *env, void *arg)
{
	struct ctx *c = arg;

	assert_string_equal(env->type, SW_MSG_NODE_HEARTBEAT);
	c->pulled++;
}

static void pump(struct sw_bus *bus, struct ctx *c, int until_ms,
		 int (*done)(struct ctx *))
{
	int64_t end = sw_time_mono_ms() + until_ms;
	struct pollfd p = {.fd = sw_bus_fd(bus), .events = POLLIN};

	while (!done(c) && sw_time_mono_ms() < end) {
		if (poll(&p, 1, 20) > 0)
			sw_bus_drain(bus);
	}
}

static int two_replies(struct ctx *c)
{
	return c->replies >= 2;
}
static int held(struct ctx *c)
{
	return c->held != NULL && c->replies >= 1;
}
static int one_error(struct ctx *c)
{
	return c->errors >= 1;
}
static int one_timeout(struct ctx *c)
{
	return c->timeouts >= 1;
}
static int pulled3(struct ctx *c)
{
	return c->pulled >= 3;
}

static void live_bus(void **state)
{
	char rep_url[64], pull_url[64];
	struct sw_bus_peer *req, *push;
	struct sw_bus *bus;
	struct ctx c = {0};

	(void)state;
	snprintf(rep_url, sizeof(rep_url), "ipc:///tmp/tandem-ut-rep-%d",
		 (int)getpid());
	snprintf(pull_url, sizeof(pull_url), "ipc:///tmp/tandem-ut-pull-%d",
		 (int)getpid());

	assert_int_equal(sw_bus_alloc(&bus), 0);
	assert_int_equal(
	    sw_bus_listen_rep(bus, rep_url, SW_ROLE_LOCAL, 8, on_req, &c), 0);
	assert_int_equal(
	    sw_bus_listen_pull(bus, pull_url, SW_ROLE_LOCAL, on_pull, &c), 0);
	assert_int_equal(
	    sw_bus_dial_req(&req, bus, rep_url, SW_ROLE_LOCAL, NULL), 0);
	assert_int_equal(
	    sw_bus_dial_push(&push, bus, pull_url, SW_ROLE_LOCAL, NULL), 0);

	/* two requests in flight; the first is answered after the second */
	assert_int_equal(sw_bus_request(NULL, req, SW_MSG_HEALTH_PING,
					json_pack("{s:s}", "what", "hold"),
					2000, on_resp, &c),
			 0);
	assert_int_equal(sw_bus_request(NULL, req, SW_MSG_HEALTH_PING,
					json_pack("{s:s}", "what", "now"), 2000,
					on_resp, &c),
			 0);
	pump(bus, &c, 3000, held);
	assert_int_equal(c.replies, 1);
	assert_non_null(c.held);
	assert_int_equal(sw_bus_reply(c.held, NULL), 0);
	pump(bus, &c, 3000, two_replies);
	assert_int_equal(c.replies, 2);
	assert_string_equal(c.last_type, "health.ping.reply");

	/* unknown type -> error reply, server keeps serving */
	assert_int_equal(
	    sw_bus_request(NULL, req, "no.such.thing", NULL, 2000, on_resp, &c),
	    0);
	pump(bus, &c, 3000, one_error);
	assert_int_equal(c.errors, 1);

	/* an unanswered request times out on the client */
	assert_int_equal(sw_bus_request(NULL, req, SW_MSG_HEALTH_PING,
					json_pack("{s:s}", "what", "ignore"),
					200, on_resp, &c),
			 0);
	pump(bus, &c, 3000, one_timeout);
	assert_int_equal(c.timeouts, 1);

	/* one-way messages arrive in order */
	for (int i = 0; i < 3; i++)
		assert_int_equal(sw_bus_push(push, SW_MSG_NODE_HEARTBEAT,
					     json_pack("{s:i}", "n", i)),
				 0);
	pump(bus, &c, 3000, pulled3);
	assert_int_equal(c.pulled, 3);

	sw_bus_free(bus);
}

static void unreachable_times_out(void **state)
{
	struct sw_bus_peer *req;
	struct sw_bus *bus;
	struct ctx c = {0};

	(void)state;
	assert_int_equal(sw_bus_alloc(&bus), 0);
	assert_int_equal(sw_bus_dial_req(&req, bus, "tcp://127.0.0.1:1",
					 SW_ROLE_LOCAL, NULL),
			 0);
	assert_int_equal(sw_bus_request(NULL, req, SW_MSG_AUTH_REQUEST, NULL,
					150, on_resp, &c),
			 0);
	pump(bus, &c, 3000, one_timeout);
	assert_int_equal(c.timeouts, 1);
	sw_bus_free(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(envelope_valid),
	    cmocka_unit_test(envelope_rejects),
	    cmocka_unit_test(validator),
	    cmocka_unit_test(live_bus),
	    cmocka_unit_test(unreachable_times_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
