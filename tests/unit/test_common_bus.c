/*
 * test_common_bus.c - envelope validation and the bus on real sockets
 *
 * The bus tests run twice: clients and servers on nng sockets
 * (TANDEM_BUS_NNG=1, ipc:// URLs) and as connections on the loop
 * (busconn.c, tcp:// URLs).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/bus.h"
#include "common/envelope.h"
#include "common/json.h"
#include "common/swtime.h"
#include "proto/proto.h"

#define ID "0b5c6f5e-8a5b-4d7e-9a63-6a4f1d0e2c11"

static bool direct; /* this group's clients are connections on the loop */

/* the URL of test endpoint n for this group */
static void test_url(char *buf, size_t size, const char *name, int n)
{
	if (direct)
		snprintf(buf, size, "tcp://127.0.0.1:%d",
			 20000 + (int)(getpid() % 1600) * 6 + n);
	else
		snprintf(buf, size, "ipc:///tmp/tandem-ut-%s-%d", name,
			 (int)getpid());
}

static int group_nng(void **state)
{
	(void)state;
	direct = false;
	return setenv("TANDEM_BUS_NNG", "1", 1);
}

static int group_direct(void **state)
{
	(void)state;
	direct = true;
	return unsetenv("TANDEM_BUS_NNG");
}

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
	char last_code[64];	 /* of the last error reply */
	struct sw_bus_req *held; /* request answered later */
	struct sw_bus_req *parked[8];
	int nparked;
	uint32_t pipe; /* the connection the last request came on */
};

static void on_req(struct sw_bus_req *req, const struct sw_env *env, void *arg)
{
	struct ctx *c = arg;
	const char *what = sw_json_str_or(env->body, "what", "");

	c->pipe = env->pipe;
	if (!strcmp(what, "hold")) {
		c->held = req; /* answered after another request */
		return;
	}
	if (!strcmp(what, "park") && c->nparked < 8) {
		c->parked[c->nparked++] = req;
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
	if (!strcmp(env->type, SW_MSG_ERROR)) {
		c->errors++;
		snprintf(c->last_code, sizeof(c->last_code), "%s",
			 sw_json_str_or(env->body, "code", ""));
	} else
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
	test_url(rep_url, sizeof(rep_url), "rep", 0);
	test_url(pull_url, sizeof(pull_url), "pull", 1);

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

static int one_reply(struct ctx *c)
{
	return c->replies >= 1;
}
static int answered4(struct ctx *c)
{
	return c->replies >= 4;
}
static int nothing(struct ctx *c)
{
	(void)c;
	return 0;
}

/*
 * A server's connections: the pipe a request came on is open while its
 * client is connected and closed after; on the loop, past four times
 * nctx requests in flight the next are refused at once (nng leaves them
 * in its socket instead).
 */
static void server_connections(void **state)
{
	char url[64];
	struct sw_bus_peer *req;
	struct sw_bus *bus;
	struct ctx c = {0};
	int64_t end;

	(void)state;
	test_url(url, sizeof(url), "conns", 5);
	assert_int_equal(sw_bus_alloc(&bus), 0);
	assert_int_equal(
	    sw_bus_listen_rep(bus, url, SW_ROLE_LOCAL, 1, on_req, &c), 0);
	assert_int_equal(sw_bus_dial_req(&req, bus, url, SW_ROLE_LOCAL, NULL),
			 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(
		    sw_bus_request(NULL, req, SW_MSG_HEALTH_PING,
				   json_pack("{s:s}", "what", "park"),
				   direct ? 3000 : 300, on_resp, &c),
		    0);
	if (direct) {
		pump(bus, &c, 3000, one_error);
		pump(bus, &c, 200, nothing);
		assert_int_equal(c.nparked, 4);
		assert_int_equal(c.errors, 2);
		assert_string_equal(c.last_code, SW_ERR_UNAVAILABLE);
	} else {
		pump(bus, &c, 1000, one_timeout);
		pump(bus, &c, 500, nothing);
		assert_int_equal(c.nparked, 1); /* one context */
	}
	assert_true(c.pipe != 0);
	assert_true(sw_bus_pipe_open(c.pipe));
	for (int i = 0; i < c.nparked; i++)
		assert_int_equal(sw_bus_reply(c.parked[i], NULL), 0);
	if (!direct) { /* nng: its one context takes the next parked one */
		sw_bus_free(bus);
		return;
	}
	pump(bus, &c, 3000, answered4);
	assert_int_equal(c.replies, 4);

	/* the client goes: its pipe is closed, the server serves on */
	sw_bus_peer_close(req);
	end = sw_time_mono_ms() + 3000;
	while (sw_bus_pipe_open(c.pipe) && sw_time_mono_ms() < end)
		pump(bus, &c, 20, nothing);
	assert_false(sw_bus_pipe_open(c.pipe));
	c.replies = c.errors = 0;
	assert_int_equal(sw_bus_dial_req(&req, bus, url, SW_ROLE_LOCAL, NULL),
			 0);
	assert_int_equal(sw_bus_request(NULL, req, SW_MSG_HEALTH_PING,
					json_pack("{s:s}", "what", "now"), 2000,
					on_resp, &c),
			 0);
	pump(bus, &c, 3000, one_reply);
	assert_int_equal(c.replies, 1);
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

/* ---- batches (docs/bus.md "Batches") ---- */

/* the body of item i of a parsed batch.reply, and its type */
static json_t *item(const struct sw_env *env, size_t i, const char **typep)
{
	json_t *it = json_array_get(json_object_get(env->body, "items"), i);

	*typep = json_string_value(json_object_get(it, "type"));
	return json_object_get(it, "body");
}

/* receive one message on a raw socket while the bus is pumped */
static int raw_recv(nng_socket s, struct sw_bus *bus, struct sw_env *env)
{
	int64_t end = sw_time_mono_ms() + 3000;
	struct pollfd p = {.fd = sw_bus_fd(bus), .events = POLLIN};
	char err[256];
	nng_msg *m;

	while (sw_time_mono_ms() < end) {
		if (nng_recvmsg(s, &m, NNG_FLAG_NONBLOCK) == 0) {
			int rv = sw_env_parse(env, nng_msg_body(m),
					      nng_msg_len(m), err, sizeof(err));

			nng_msg_free(m);
			return rv;
		}
		if (poll(&p, 1, 5) > 0)
			sw_bus_drain(bus);
	}
	return ETIMEDOUT;
}

static void raw_send(nng_socket s, const char *type, json_t *body)
{
	size_t len;
	char *buf = sw_env_encode(type, NULL, body, &len);

	assert_non_null(buf);
	assert_int_equal(nng_send(s, buf, len, 0), 0);
	free(buf);
}

/* a request from a raw REQ socket: sent once it is connected, the bus
 * pumped meanwhile (a server on the loop answers the connection only
 * then) */
static void raw_request(nng_socket s, struct sw_bus *bus, const char *type,
			json_t *body)
{
	int64_t end = sw_time_mono_ms() + 3000;
	struct pollfd p = {.fd = sw_bus_fd(bus), .events = POLLIN};
	size_t len;
	char *buf = sw_env_encode(type, NULL, body, &len);
	int rv;

	assert_non_null(buf);
	while ((rv = nng_send(s, buf, len, NNG_FLAG_NONBLOCK)) == NNG_EAGAIN &&
	       sw_time_mono_ms() < end)
		if (poll(&p, 1, 5) > 0)
			sw_bus_drain(bus);
	assert_int_equal(rv, 0);
	free(buf);
}

/* A batch to a REP server: each item answered in its place, bad ones
 * refused alone, the reply sent when the last (held) item is answered. */
static void batch_received(void **state)
{
	char url[64];
	struct sw_bus *bus;
	struct ctx c = {0};
	struct sw_env env = {0};
	const char *type;
	nng_socket raw;
	json_t *items, *b;

	(void)state;
	test_url(url, sizeof(url), "batch", 2);
	assert_int_equal(sw_bus_alloc(&bus), 0);
	assert_int_equal(
	    sw_bus_listen_rep(bus, url, SW_ROLE_LOCAL, 4, on_req, &c), 0);
	assert_int_equal(nng_req0_open(&raw), 0);
	/* not waiting for the connection: a direct server (tcp) greets it
	 * only when the bus is pumped */
	assert_int_equal(nng_dial(raw, url, NULL, NNG_FLAG_NONBLOCK), 0);

	items = json_pack(
	    "[{s:s, s:{s:s}}, {s:s, s:{}}, {s:s, s:{}}, {s:i, s:{}},"
	    " {s:s, s:{s:s}}, {s:s, s:[]}, {s:s, s:{s:s}}]",
	    "type", "health.ping", "body", "what", "a", "type", "no.such.thing",
	    "body", "type", "batch", "body", "type", 5, "body", "type",
	    "health.ping", "body", "what", "hold", "type", "health.ping",
	    "body", "type", "health.ping", "body", "what", "b");
	raw_request(raw, bus, SW_MSG_BATCH, json_pack("{s:o}", "items", items));

	/* the held item keeps the whole reply back */
	pump(bus, &c, 3000, held);
	assert_non_null(c.held);
	assert_int_equal(
	    nng_recvmsg(raw, &(nng_msg *){NULL}, NNG_FLAG_NONBLOCK),
	    NNG_EAGAIN);
	assert_int_equal(sw_bus_reply(c.held, json_pack("{s:s}", "late", "y")),
			 0);
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, "batch.reply");
	assert_int_equal(json_array_size(json_object_get(env.body, "items")),
			 7);
	b = item(&env, 0, &type);
	assert_string_equal(type, "health.ping.reply");
	assert_string_equal(sw_json_str_or(b, "echo", ""), "a");
	b = item(&env, 1, &type);
	assert_string_equal(type, "error");
	assert_string_equal(sw_json_str_or(b, "code", ""), SW_ERR_UNKNOWN_TYPE);
	for (size_t i = 2; i <= 3; i++) { /* a nested batch, no type */
		b = item(&env, i, &type);
		assert_string_equal(type, "error");
		assert_string_equal(sw_json_str_or(b, "code", ""),
				    SW_ERR_BAD_REQUEST);
	}
	b = item(&env, 4, &type);
	assert_string_equal(sw_json_str_or(b, "late", ""), "y");
	b = item(&env, 5, &type); /* a body that is not an object */
	assert_string_equal(sw_json_str_or(b, "code", ""), SW_ERR_BAD_REQUEST);
	b = item(&env, 6, &type);
	assert_string_equal(sw_json_str_or(b, "echo", ""), "b");
	sw_env_reset(&env);

	/* no items, too many, not an array: the whole batch is refused */
	items = json_array();
	for (int i = 0; i <= SW_BUS_BATCH_MAX; i++)
		json_array_append_new(items, json_pack("{s:s, s:{}}", "type",
						       "health.ping", "body"));
	raw_request(raw, bus, SW_MSG_BATCH, json_pack("{s:o}", "items", items));
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, "error");
	assert_string_equal(sw_json_str_or(env.body, "code", ""),
			    SW_ERR_BAD_REQUEST);
	sw_env_reset(&env);
	raw_request(raw, bus, SW_MSG_BATCH, json_pack("{s:[]}", "items"));
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, "error");
	sw_env_reset(&env);
	raw_request(raw, bus, SW_MSG_BATCH, json_pack("{s:s}", "items", "x"));
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, "error");
	sw_env_reset(&env);

	nng_close(raw);
	sw_bus_free(bus);
}

struct got {
	int n, err[10];
	char type[10][64];
	long val[10];
};

static void on_got(int err, const struct sw_env *env, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < 10);
	g->err[g->n] = err;
	if (!err) {
		snprintf(g->type[g->n], sizeof(g->type[0]), "%s", env->type);
		g->val[g->n] =
		    (long)json_integer_value(json_object_get(env->body, "n"));
	}
	g->n++;
}

static void pump_got(struct sw_bus *bus, struct got *g, int want)
{
	int64_t end = sw_time_mono_ms() + 3000;
	struct pollfd p = {.fd = sw_bus_fd(bus), .events = POLLIN};

	while (g->n < want && sw_time_mono_ms() < end)
		if (poll(&p, 1, 5) > 0)
			sw_bus_drain(bus);
}

/* Requests of one loop turn leave as batches of at most max; each handler
 * gets its own item, or the error of the whole batch; a lone request goes
 * as itself; a cancelled one's handler never runs. */
static void batch_sent(void **state)
{
	char url[64];
	struct sw_bus *bus;
	struct sw_bus_peer *peer;
	struct sw_bus_call *call[6];
	struct got g = {0};
	struct sw_env env = {0};
	nng_socket raw;
	json_t *items;

	(void)state;
	test_url(url, sizeof(url), "batch2", 3);
	assert_int_equal(nng_rep0_open(&raw), 0);
	assert_int_equal(nng_listen(raw, url, NULL, 0), 0);
	assert_int_equal(sw_bus_alloc(&bus), 0);
	assert_int_equal(sw_bus_dial_req(&peer, bus, url, SW_ROLE_LOCAL, NULL),
			 0);
	sw_bus_peer_batch(peer, 4);

	/* the second and the sixth with their bodies as text */
	for (int i = 0; i < 6; i++) {
		char text[32];

		snprintf(text, sizeof(text), "{\"n\":%d}", i);
		if (i == 1 || i == 5)
			assert_int_equal(sw_bus_request_raw(&call[i], peer,
							    SW_MSG_AUTH_REQUEST,
							    text, strlen(text),
							    2000, on_got, &g),
					 0);
		else
			assert_int_equal(
			    sw_bus_request(&call[i], peer, SW_MSG_AUTH_REQUEST,
					   json_pack("{s:i}", "n", i), 2000,
					   on_got, &g),
			    0);
	}
	sw_bus_call_cancel(call[2]);

	/* the first four in one message, in order */
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, SW_MSG_BATCH);
	items = json_object_get(env.body, "items");
	assert_int_equal(json_array_size(items), 4);
	for (size_t i = 0; i < 4; i++) {
		const char *type;
		json_t *b = item(&env, i, &type);

		assert_string_equal(type, SW_MSG_AUTH_REQUEST);
		assert_int_equal(json_integer_value(json_object_get(b, "n")),
				 (json_int_t)i);
	}
	sw_env_reset(&env);
	raw_send(raw, "batch.reply",
		 json_pack("{s:[{s:s, s:{s:i}}, {s:s, s:{s:s, s:s}},"
			   " {s:s, s:{s:i}}, {s:s, s:{s:i}}]}",
			   "items", "type", "auth.request.reply", "body", "n",
			   10, "type", "error", "body", "code", "forbidden",
			   "message", "no", "type", "auth.request.reply",
			   "body", "n", 12, "type", "auth.request.reply",
			   "body", "n", 13));
	pump_got(bus, &g, 3);
	assert_int_equal(g.n, 3); /* the cancelled third is not called */
	assert_string_equal(g.type[0], "auth.request.reply");
	assert_int_equal(g.val[0], 10);
	assert_string_equal(g.type[1], "error");
	assert_int_equal(g.val[2], 13);

	/* the other two: the whole batch refused */
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_int_equal(json_array_size(json_object_get(env.body, "items")),
			 2);
	sw_env_reset(&env);
	raw_send(
	    raw, "error",
	    json_pack("{s:s, s:s}", "code", "bad_request", "message", "x"));
	pump_got(bus, &g, 5);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.type[3], "error");
	assert_string_equal(g.type[4], "error");

	/* alone: a plain request (its body given as text) */
	assert_int_equal(sw_bus_request_raw(NULL, peer, SW_MSG_HEALTH_PING,
					    "{\"what\":\"text\"}", 15, 2000,
					    on_got, &g),
			 0);
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, SW_MSG_HEALTH_PING);
	assert_string_equal(
	    json_string_value(json_object_get(env.body, "what")), "text");
	sw_env_reset(&env);
	raw_send(raw, "batch.reply", json_pack("{s:[]}", "items"));
	pump_got(bus, &g, 6);
	assert_int_equal(g.n, 6);
	assert_string_equal(g.type[5], "batch.reply");

	/* a batch reply with the wrong number of items: each gets EBADMSG */
	for (int i = 0; i < 2; i++)
		sw_bus_request(NULL, peer, SW_MSG_HEALTH_PING, NULL, 2000,
			       on_got, &g);
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	sw_env_reset(&env);
	raw_send(raw, "batch.reply", json_pack("{s:[{}]}", "items"));
	pump_got(bus, &g, 8);
	assert_int_equal(g.n, 8);
	assert_int_equal(g.err[6], EBADMSG);
	assert_int_equal(g.err[7], EBADMSG);

	/* one type per batch: auth, auth, ping, auth -> [auth x3], ping */
	for (int i = 0; i < 4; i++)
		sw_bus_request(NULL, peer,
			       i == 2 ? SW_MSG_HEALTH_PING
				      : SW_MSG_AUTH_REQUEST,
			       json_pack("{s:i}", "n", i), 2000,
			       i == 2 ? on_got : NULL, &g);
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, SW_MSG_BATCH);
	assert_int_equal(json_array_size(json_object_get(env.body, "items")),
			 3);
	{
		const char *type;
		json_t *b = item(&env, 2, &type);

		assert_string_equal(type, SW_MSG_AUTH_REQUEST);
		assert_int_equal(json_integer_value(json_object_get(b, "n")),
				 3);
	}
	sw_env_reset(&env);
	raw_send(raw, "error", NULL);
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, SW_MSG_HEALTH_PING);
	sw_env_reset(&env);
	raw_send(raw, "health.ping.reply", NULL);
	pump_got(bus, &g, 9);
	assert_string_equal(g.type[8], "health.ping.reply");

	sw_bus_free(bus);
	nng_close(raw);
}

/* Queued requests of a closed peer end with ECANCELED; unanswered ones
 * time out together. */
static void batch_timeout_and_close(void **state)
{
	struct sw_bus *bus;
	struct sw_bus_peer *peer;
	struct got g = {0};

	(void)state;
	assert_int_equal(sw_bus_alloc(&bus), 0);
	assert_int_equal(sw_bus_dial_req(&peer, bus, "tcp://127.0.0.1:1",
					 SW_ROLE_LOCAL, NULL),
			 0);
	sw_bus_peer_batch(peer, 8);
	for (int i = 0; i < 3; i++)
		sw_bus_request(NULL, peer, SW_MSG_HEALTH_PING, NULL, 150,
			       on_got, &g);
	pump_got(bus, &g, 3);
	assert_int_equal(g.n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(g.err[i], ETIMEDOUT);

	for (int i = 0; i < 2; i++)
		sw_bus_request(NULL, peer, SW_MSG_HEALTH_PING, NULL, 2000,
			       on_got, &g);
	sw_bus_peer_close(peer);
	pump_got(bus, &g, 5);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.err[3], ECANCELED);
	assert_int_equal(g.err[4], ECANCELED);
	sw_bus_free(bus);
}

/*
 * A request waits for a server that is not there yet; one the server took
 * and never answered ends with ECONNRESET when the connection is lost
 * (never sent twice); the next request goes on the new connection.
 */
static void server_later_and_again(void **state)
{
	char url[64];
	struct sw_bus *bus;
	struct sw_bus_peer *peer;
	struct got g = {0};
	struct sw_env env = {0};
	nng_socket raw;
	int64_t until;

	(void)state;
	test_url(url, sizeof(url), "later", 4);
	assert_int_equal(sw_bus_alloc(&bus), 0);
	assert_int_equal(sw_bus_dial_req(&peer, bus, url, SW_ROLE_LOCAL, NULL),
			 0);
	assert_int_equal(sw_bus_request(NULL, peer, SW_MSG_HEALTH_PING,
					json_pack("{s:i}", "n", 7), 5000,
					on_got, &g),
			 0);
	/* nobody listens for a while: the request waits */
	until = sw_time_mono_ms() + 300;
	while (sw_time_mono_ms() < until) {
		struct pollfd p = {.fd = sw_bus_fd(bus), .events = POLLIN};

		if (poll(&p, 1, 5) > 0)
			sw_bus_drain(bus);
	}
	assert_int_equal(g.n, 0);

	/* the server starts, reads the request and goes away unanswered */
	assert_int_equal(nng_rep0_open(&raw), 0);
	assert_int_equal(nng_listen(raw, url, NULL, 0), 0);
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, SW_MSG_HEALTH_PING);
	sw_env_reset(&env);
	nng_close(raw);
	pump_got(bus, &g, 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.err[0], ECONNRESET);

	/* back again: a new request is answered */
	assert_int_equal(nng_rep0_open(&raw), 0);
	assert_int_equal(nng_listen(raw, url, NULL, 0), 0);
	assert_int_equal(sw_bus_request(NULL, peer, SW_MSG_HEALTH_PING,
					json_pack("{s:i}", "n", 9), 5000,
					on_got, &g),
			 0);
	assert_int_equal(raw_recv(raw, bus, &env), 0);
	assert_string_equal(env.type, SW_MSG_HEALTH_PING);
	assert_int_equal(json_integer_value(json_object_get(env.body, "n")), 9);
	sw_env_reset(&env);
	raw_send(raw, "health.ping.reply", json_pack("{s:i}", "n", 8));
	pump_got(bus, &g, 2);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.err[1], 0);
	assert_string_equal(g.type[1], "health.ping.reply");
	assert_int_equal(g.val[1], 8);

	sw_bus_free(bus);
	nng_close(raw);
}

int main(void)
{
	const struct CMUnitTest plain[] = {
	    cmocka_unit_test(envelope_valid),
	    cmocka_unit_test(envelope_rejects),
	    cmocka_unit_test(validator),
	};
	const struct CMUnitTest bus[] = {
	    cmocka_unit_test(live_bus),
	    cmocka_unit_test(unreachable_times_out),
	    cmocka_unit_test(batch_received),
	    cmocka_unit_test(batch_sent),
	    cmocka_unit_test(batch_timeout_and_close),
	    cmocka_unit_test(server_later_and_again),
	    cmocka_unit_test(server_connections),
	};
	int failed;

	if (getenv("TEST_ONLY"))
		cmocka_set_test_filter(getenv("TEST_ONLY"));
	failed = cmocka_run_group_tests_name("envelope", plain, NULL, NULL);

	failed +=
	    cmocka_run_group_tests_name("bus on nng", bus, group_nng, NULL);
	failed += cmocka_run_group_tests_name("bus on the loop", bus,
					      group_direct, NULL);
	return failed;
}
