/*
 * test_mp_node.c - a whole mediaproxyd node driven over a real bus
 *
 * Each test brings a node up on ipc:// bus URLs inside the test's own
 * re_main loop, talks to it as signalingd would (REQ for media.* and
 * health.ping, PULL for node.heartbeat and media.event), and pushes RTP
 * through its ports on loopback (30950..30999).  Every bus contract of
 * docs/bus.md that mediaproxyd serves is checked against the real code.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/bus.h"
#include "common/metrics.h"
#include "mediaproxy/libre.h"
#include "mediaproxy/metrics.h"
#include "mediaproxy/node.h"
#include "proto/proto.h"

/* ipc, not inproc: nng 1.5.2's inproc transport can leak a message that is
 * in flight when its sockets close */
static char REP_URL[96], PULL_URL[96];
#define S1 "aaaaaaaa-0000-4000-8000-000000000001"
#define S2 "aaaaaaaa-0000-4000-8000-000000000002"
#define S3 "aaaaaaaa-0000-4000-8000-000000000003"

/* the signalingd side of the test */
struct fixture {
	struct mp_node *node;
	struct sw_bus *bus; /* the client's own bus */
	struct sw_bus_peer *req;
	struct tmr guard;
	char type[64]; /* last reply */
	json_t *body;  /* last reply body (owned) */
	bool replied;
	int heartbeats;
	json_t *last_hb; /* owned */
	int timeouts;	 /* rtp_timeout events */
	char timeout_session[40];
};

static struct fixture fx;
static char metrics_listen[64]; /* for the next node_up, "" = none */

static void client_readable(int flags, void *arg)
{
	(void)flags;
	sw_bus_drain(arg);
}

static void on_event(const struct sw_env *env, void *arg)
{
	(void)arg;
	if (!strcmp(env->type, SW_MSG_NODE_HEARTBEAT)) {
		fx.heartbeats++;
		json_decref(fx.last_hb);
		fx.last_hb = json_incref(env->body);
	} else if (!strcmp(env->type, SW_MSG_MEDIA_EVENT)) {
		const char *ev =
		    json_string_value(json_object_get(env->body, "event"));

		if (ev && !strcmp(ev, "rtp_timeout")) {
			fx.timeouts++;
			snprintf(fx.timeout_session, sizeof(fx.timeout_session),
				 "%s",
				 json_string_value(
				     json_object_get(env->body, "session")));
		}
	}
}

static void on_reply(int err, const struct sw_env *env, void *arg)
{
	(void)arg;
	assert_int_equal(err, 0);
	snprintf(fx.type, sizeof(fx.type), "%s", env->type);
	json_decref(fx.body);
	fx.body = json_incref(env->body);
	fx.replied = true;
	re_cancel();
}

static void guard_expired(void *arg)
{
	(void)arg;
	re_cancel();
}

/* run the loop for ms, or until a reply when stop_on_reply */
static void run(unsigned ms)
{
	tmr_start(&fx.guard, ms, guard_expired, NULL);
	(void)re_main(NULL);
	tmr_cancel(&fx.guard);
}

/* send type/body (JSON text) and wait for the reply */
static void request(const char *type, const char *body_json)
{
	json_t *body = json_loads(body_json, 0, NULL);

	assert_non_null(body);
	fx.replied = false;
	assert_int_equal(
	    sw_bus_request(NULL, fx.req, type, body, 3000, on_reply, NULL), 0);
	run(4000);
	assert_true(fx.replied);
}

static const char *err_code(void)
{
	assert_string_equal(fx.type, SW_MSG_ERROR);
	return json_string_value(json_object_get(fx.body, "code"));
}

static const char *err_message(void)
{
	return json_string_value(json_object_get(fx.body, "message"));
}

static int64_t local_port(const char *leg)
{
	return json_integer_value(
	    json_object_get(json_object_get(fx.body, leg), "local_port"));
}

static int64_t stat_of(const char *leg, const char *key)
{
	json_t *st = json_object_get(json_object_get(fx.body, "stats"), leg);

	assert_non_null(json_object_get(st, key));
	return json_integer_value(json_object_get(st, key));
}

static void test_conf(struct mp_conf *conf, int64_t port_min, int64_t port_max,
		      int64_t xcode_budget)
{
	char err[256];

	assert_int_equal(mp_conf_load(conf, NULL, err, sizeof(err)), 0);
	snprintf(conf->node_id, sizeof(conf->node_id), "mp-unit");
	snprintf(conf->bus_listen, sizeof(conf->bus_listen), "%s", REP_URL);
	snprintf(conf->signaling_url, sizeof(conf->signaling_url), "%s",
		 PULL_URL);
	conf->port_min = port_min;
	conf->port_max = port_max;
	conf->rtp_timeout_s = 1;
	conf->heartbeat_ms = 100;
	conf->xcode_budget = xcode_budget;
	conf->log_level = SW_LOG_WARN;
	snprintf(conf->metrics_listen, sizeof(conf->metrics_listen), "%s",
		 metrics_listen);
}

static void node_up(int64_t port_min, int64_t port_max, int64_t xcode_budget)
{
	struct mp_conf conf;

	memset(&fx, 0, sizeof(fx));
	tmr_init(&fx.guard);
	test_conf(&conf, port_min, port_max, xcode_budget);

	assert_int_equal(sw_bus_alloc(&fx.bus), 0);
	assert_int_equal(
	    sw_bus_listen_pull(fx.bus, PULL_URL, SW_ROLE_LOCAL, on_event, NULL),
	    0);
	assert_int_equal(
	    fd_listen(sw_bus_fd(fx.bus), FD_READ, client_readable, fx.bus), 0);
	assert_int_equal(mp_node_alloc(&fx.node, &conf, NULL), 0);
	assert_int_equal(
	    sw_bus_dial_req(&fx.req, fx.bus, REP_URL, SW_ROLE_LOCAL, NULL), 0);
}

static void node_down(void)
{
	/* let what is in flight on the bus arrive before the sockets close
	 * (nng 1.5.2 leaks a message received while its socket closes) */
	fx.node->hb = mem_deref(fx.node->hb);
	run(60);
	mp_node_free(fx.node);
	fd_close(sw_bus_fd(fx.bus));
	sw_bus_free(fx.bus);
	json_decref(fx.body);
	json_decref(fx.last_hb);
	fx.body = fx.last_hb = NULL;
}

static int setup(void **state)
{
	(void)state;
	snprintf(REP_URL, sizeof(REP_URL), "ipc:///tmp/mp-unit-%d-rep.sock",
		 (int)getpid());
	snprintf(PULL_URL, sizeof(PULL_URL), "ipc:///tmp/mp-unit-%d-pull.sock",
		 (int)getpid());
	(void)unlink(REP_URL + 6);
	(void)unlink(PULL_URL + 6);
	return libre_init();
}

static int teardown(void **state)
{
	(void)state;
	libre_close();
	(void)unlink(REP_URL + 6);
	(void)unlink(PULL_URL + 6);
	return 0;
}

/* the node's metrics as rendered now (static buffer, one at a time) */
static const char *metrics_text(void)
{
	static char text[16384];
	struct sw_mtext t = {0};

	mp_metrics_render(&t, fx.node);
	assert_false(t.oom);
	assert_non_null(t.buf);
	snprintf(text, sizeof(text), "%s", t.buf);
	sw_mt_free(&t);
	return text;
}

/* the text holds the line "sample value" */
static void assert_metric(const char *text, const char *sample, long long v)
{
	char line[256];
	const char *p;

	snprintf(line, sizeof(line), "%s %lld\n", sample, v);
	p = strstr(text, line);
	if (!p || (p != text && p[-1] != '\n')) {
		fprintf(stderr, "%s", text);
		fail_msg("no line '%s %lld'", sample, v);
	}
}

static void ping_and_heartbeat(void **state)
{
	(void)state;
	node_up(30950, 30999, 2);

	request(SW_MSG_HEALTH_PING, "{}");
	assert_string_equal(fx.type, "health.ping.reply");
	assert_string_equal(
	    json_string_value(json_object_get(fx.body, "daemon")),
	    "mediaproxyd");
	assert_string_equal(
	    json_string_value(json_object_get(fx.body, "node_id")), "mp-unit");
	assert_string_equal(
	    json_string_value(json_object_get(fx.body, "health")), "ok");

	run(350);
	assert_true(fx.heartbeats >= 2);
	assert_string_equal(
	    json_string_value(json_object_get(fx.last_hb, "url")), REP_URL);
	assert_int_equal(
	    json_integer_value(json_object_get(fx.last_hb, "free_ports")), 25);
	assert_int_equal(
	    json_integer_value(json_object_get(fx.last_hb, "xcode_budget")), 2);
	assert_non_null(json_object_get(fx.last_hb, "cpu_pct"));
	assert_non_null(json_object_get(fx.last_hb, "xcode_sessions"));
	node_down();
}

static void offer_query_delete(void **state)
{
	int64_t pa, pb;

	(void)state;
	node_up(30950, 30999, 2);

	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"call_id\":"
		"\"c1\",\"a\":{\"remote_ip\":\"127.0.0.1\",\"remote_port\":"
		"30990,\"codec\":\"PCMA\",\"pt\":8,\"rate\":8000},\"b\":{}}");
	assert_string_equal(fx.type, "media.offer.reply");
	pa = local_port("a");
	pb = local_port("b");
	assert_true(pa >= 30950 && pa <= 30998 && pa % 2 == 0);
	assert_true(pb >= 30950 && pb <= 30998 && pb % 2 == 0);
	assert_int_not_equal(pa, pb);
	assert_int_equal(fx.node->nsessions, 1);
	assert_int_equal(mp_ports_free_count(&fx.node->ports), 23);

	/* a repeated offer gets the same ports */
	request(SW_MSG_MEDIA_OFFER, "{\"session\":\"" S1 "\",\"a\":{},"
				    "\"b\":{}}");
	assert_int_equal(local_port("a"), pa);
	assert_int_equal(local_port("b"), pb);
	assert_int_equal(fx.node->nsessions, 1);

	request(SW_MSG_MEDIA_ANSWER,
		"{\"session\":\"" S1 "\",\"b\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":30992}}");
	assert_string_equal(fx.type, "media.answer.reply");
	request(SW_MSG_MEDIA_UPDATE, "{\"session\":\"" S1 "\"}");
	assert_string_equal(fx.type, "media.update.reply");

	request(SW_MSG_MEDIA_QUERY, "{\"session\":\"" S1 "\"}");
	assert_string_equal(fx.type, "media.query.reply");
	assert_int_equal(stat_of("a", "rx_packets"), 0);
	assert_int_equal(stat_of("b", "tx_packets"), 0);
	assert_int_equal(stat_of("a", "lost"), 0);
	assert_int_equal(stat_of("a", "jitter_ms"), 0);
	assert_int_equal(stat_of("a", "dropped"), 0);
	assert_int_equal(stat_of("a", "rtcp_rx"), 0);

	request(SW_MSG_MEDIA_DELETE, "{\"session\":\"" S1 "\",\"reason\":"
				     "\"bye\"}");
	assert_string_equal(fx.type, "media.delete.reply");
	assert_int_equal(stat_of("b", "rx_bytes"), 0);
	assert_int_equal(fx.node->nsessions, 0);
	assert_int_equal(mp_ports_free_count(&fx.node->ports), 25);

	request(SW_MSG_MEDIA_DELETE, "{\"session\":\"" S1 "\"}");
	assert_string_equal(err_code(), SW_ERR_NOT_FOUND);
	node_down();
}

static void bad_requests(void **state)
{
	static const struct {
		const char *type, *body, *code, *msg;
	} cases[] = {
	    {SW_MSG_MEDIA_OFFER, "{}", SW_ERR_BAD_REQUEST, "body.session: "},
	    {SW_MSG_MEDIA_OFFER,
	     "{\"session\":\"" S1 "\",\"a\":{},"
	     "\"b\":5}",
	     SW_ERR_BAD_REQUEST, "body.b: "},
	    {SW_MSG_MEDIA_OFFER,
	     "{\"session\":\"" S1 "\",\"a\":{"
	     "\"remote_port\":70000},\"b\":{}}",
	     SW_ERR_BAD_REQUEST, "body.a.remote_port: "},
	    {SW_MSG_MEDIA_OFFER,
	     "{\"session\":\"" S1 "\",\"a\":{},"
	     "\"b\":{\"remote_ip\":\"::1\"}}",
	     SW_ERR_BAD_REQUEST, "body.b.remote_ip: "},
	    {SW_MSG_MEDIA_OFFER,
	     "{\"session\":\"not-a-uuid\",\"a\":{},"
	     "\"b\":{}}",
	     SW_ERR_BAD_REQUEST, "body.session: "},
	    {SW_MSG_MEDIA_ANSWER, "{\"session\":\"" S2 "\",\"a\":{}}",
	     SW_ERR_NOT_FOUND, "body.session: "},
	    {SW_MSG_MEDIA_QUERY, "{\"session\":[1]}", SW_ERR_BAD_REQUEST,
	     "body.session: "},
	    {SW_MSG_MEDIA_DELETE, "{\"session\":\"" S1 "\",\"reason\":7}",
	     SW_ERR_BAD_REQUEST, "body.reason: "},
	    {"media.unknown", "{}", SW_ERR_UNKNOWN_TYPE, ""},
	};

	(void)state;
	node_up(30950, 30999, 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		request(cases[i].type, cases[i].body);
		assert_string_equal(err_code(), cases[i].code);
		assert_memory_equal(err_message(), cases[i].msg,
				    strlen(cases[i].msg));
	}
	/* still serving, nothing was created */
	request(SW_MSG_HEALTH_PING, "{}");
	assert_string_equal(fx.type, "health.ping.reply");
	assert_int_equal(fx.node->nsessions, 0);
	assert_int_equal(mp_ports_free_count(&fx.node->ports), 25);
	node_down();
}

static void capacity_ports_and_budget(void **state)
{
	const char *text;

	(void)state;
	/* 4 pairs: two sessions */
	node_up(30950, 30957, 1);

	request(SW_MSG_MEDIA_OFFER, "{\"session\":\"" S1 "\",\"a\":{\"codec\":"
				    "\"PCMA\"},\"b\":{\"codec\":\"G729\"}}");
	assert_string_equal(fx.type, "media.offer.reply");
	assert_int_equal(fx.node->nxcode, 1);

	/* budget 1: a second decoded-path session is refused */
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S2 "\",\"a\":{\"codec\":"
		"\"PCMU\"},\"b\":{\"codec\":\"opus\",\"pt\":111}}");
	assert_string_equal(err_code(), SW_ERR_NO_CAPACITY);

	request(SW_MSG_MEDIA_OFFER, "{\"session\":\"" S2 "\",\"a\":{\"codec\":"
				    "\"PCMU\"},\"b\":{\"codec\":\"PCMU\"}}");
	assert_string_equal(fx.type, "media.offer.reply");
	/* turning it into a decoded-path session is refused too */
	request(SW_MSG_MEDIA_UPDATE, "{\"session\":\"" S2 "\",\"b\":{"
				     "\"codec\":\"G722\"}}");
	assert_string_equal(err_code(), SW_ERR_NO_CAPACITY);

	/* ports exhausted */
	request(SW_MSG_MEDIA_OFFER, "{\"session\":\"" S3 "\",\"a\":{},"
				    "\"b\":{}}");
	assert_string_equal(err_code(), SW_ERR_NO_CAPACITY);
	request(SW_MSG_HEALTH_PING, "{}");
	assert_string_equal(
	    json_string_value(json_object_get(fx.body, "health")), "degraded");

	/* the decoded-path session ends: budget and ports come back */
	request(SW_MSG_MEDIA_DELETE, "{\"session\":\"" S1 "\"}");
	assert_int_equal(fx.node->nxcode, 0);
	request(SW_MSG_MEDIA_OFFER, "{\"session\":\"" S3 "\",\"a\":{\"codec\":"
				    "\"PCMA\"},\"b\":{\"codec\":\"G729\"}}");
	assert_string_equal(fx.type, "media.offer.reply");

	/* what /metrics says of it */
	text = metrics_text();
	assert_metric(text, "tandem_media_sessions_active", 2);
	assert_metric(text, "tandem_media_sessions_total", 3);
	assert_metric(text, "tandem_media_transcoded_sessions_active", 1);
	assert_metric(text, "tandem_media_decoded_sessions_active", 1);
	assert_metric(text, "tandem_media_xcode_budget", 1);
	assert_metric(text, "tandem_media_port_pairs", 4);
	assert_metric(text, "tandem_media_port_pairs_free", 0);
	assert_metric(
	    text, "tandem_media_capacity_refusals_total{reason=\"ports\"}", 1);
	assert_metric(
	    text,
	    "tandem_media_capacity_refusals_total{reason=\"xcode_budget\"}", 2);
	assert_metric(
	    text, "tandem_media_capacity_refusals_total{reason=\"draining\"}",
	    0);
	assert_metric(
	    text, "tandem_media_bus_requests_total{type=\"media.offer\"}", 5);
	assert_metric(
	    text, "tandem_media_bus_requests_total{type=\"media.update\"}", 1);
	assert_metric(
	    text, "tandem_media_bus_requests_total{type=\"health.ping\"}", 1);
	assert_metric(text, "tandem_media_offer_seconds_count", 5);
	assert_metric(text, "tandem_media_offer_seconds_bucket{le=\"+Inf\"}",
		      5);
	assert_metric(text, "tandem_media_draining", 0);
	node_down();
}

static int udp_peer(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sa a;

	assert_true(fd >= 0);
	assert_int_equal(sa_set_str(&a, "127.0.0.1", port), 0);
	assert_int_equal(bind(fd, &a.u.sa, a.len), 0);
	return fd;
}

static void rtp_through_and_timeout(void **state)
{
	uint8_t pkt[172];
	const char *text;
	struct sa dst;
	int fa, fb;
	int64_t pa;

	(void)state;
	node_up(30950, 30979, 2);
	fa = udp_peer(30990);
	fb = udp_peer(30992);

	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":30990,\"pt\":8},"
		"\"b\":{\"remote_ip\":\"127.0.0.1\",\"remote_port\":30992,"
		"\"pt\":8}}");
	pa = local_port("a");

	memset(pkt, 0xd5, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 8;
	assert_int_equal(sa_set_str(&dst, "127.0.0.1", (uint16_t)pa), 0);
	for (int i = 0; i < 20; i++) {
		if (i == 7)
			continue; /* one lost */
		pkt[3] = (uint8_t)i;
		pkt[7] = (uint8_t)(160 * i);
		pkt[6] = (uint8_t)((160 * i) >> 8);
		assert_int_equal(
		    sendto(fa, pkt, sizeof(pkt), 0, &dst.u.sa, dst.len),
		    (ssize_t)sizeof(pkt));
	}
	/* until the node has read them all (a loaded machine is slow) */
	for (int i = 0; i < 50; i++) {
		run(100);
		request(SW_MSG_MEDIA_QUERY, "{\"session\":\"" S1 "\"}");
		if (stat_of("a", "rx_packets") == 19 &&
		    stat_of("b", "tx_packets") == 19)
			break;
	}
	assert_int_equal(stat_of("a", "rx_packets"), 19);
	assert_int_equal(stat_of("a", "rx_bytes"), 19 * 172);
	assert_int_equal(stat_of("a", "lost"), 1);
	assert_int_equal(stat_of("b", "tx_packets"), 19);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(fx.body, "stats"), "a"),
		"remote")),
	    "127.0.0.1:30990");
	text = metrics_text();
	assert_metric(text, "tandem_media_sessions_active", 1);
	assert_metric(text, "tandem_media_packets_total{direction=\"in\"}", 19);
	assert_metric(text, "tandem_media_packets_total{direction=\"out\"}",
		      19);
	assert_metric(text, "tandem_media_bytes_total{direction=\"in\"}",
		      19 * 172);
	assert_metric(text, "tandem_media_bytes_total{direction=\"out\"}",
		      19 * 172);
	assert_metric(text, "tandem_media_packets_lost_total", 1);
	assert_metric(text, "tandem_media_transcoded_sessions_active", 0);

	/* not answered yet: silence is judged by the hold timeout (3600 s) */
	run(1500);
	assert_int_equal(fx.timeouts, 0);
	request(SW_MSG_MEDIA_ANSWER,
		"{\"session\":\"" S1 "\",\"b\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":30992,"
		"\"pt\":8}}");

	/* answered, then silence: rtp_timeout_s is 1 (judged on the 1 s
	 * tick: 2 s at the earliest; wait up to 10 s for a loaded machine) */
	run(2300);
	for (int i = 0; i < 77 && !fx.timeouts; i++)
		run(100);
	assert_true(fx.timeouts >= 1);
	assert_string_equal(fx.timeout_session, S1);
	/* nobody deletes it: a period after the event the node frees it
	 * (ticks are 1 s apart; allow for a loaded machine) */
	for (int i = 0; i < 40 && fx.node->nsessions; i++)
		run(100);
	assert_int_equal(fx.node->nsessions, 0);
	assert_int_equal(mp_ports_free_count(&fx.node->ports), 15);

	/* the session ended: its packets still count */
	text = metrics_text();
	assert_metric(text, "tandem_media_sessions_active", 0);
	assert_metric(text, "tandem_media_sessions_total", 1);
	assert_metric(text, "tandem_media_packets_total{direction=\"in\"}", 19);
	assert_metric(text, "tandem_media_packets_total{direction=\"out\"}",
		      19);
	assert_metric(text, "tandem_media_bytes_total{direction=\"out\"}",
		      19 * 172);
	assert_metric(text, "tandem_media_packets_lost_total", 1);

	close(fa);
	close(fb);
	node_down();
}

/* a TCP listener on a free loopback port */
static int tcp_listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* GET /metrics from port: the whole response into out */
static void scrape(int port, char *out, size_t size)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t len = 0;
	ssize_t n;

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(fd, req, sizeof(req) - 1, 0),
			 (ssize_t)sizeof(req) - 1);
	while ((n = recv(fd, out + len, size - 1 - len, 0)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
}

static void metrics_served_on_tick(void **state)
{
	static char resp[16384];
	struct mp_node *node = NULL;
	struct mp_conf conf;
	int fd, port;

	(void)state;
	/* metrics_listen in use: the node does not start */
	fd = tcp_listener(&port);
	snprintf(metrics_listen, sizeof(metrics_listen), "127.0.0.1:%d", port);
	test_conf(&conf, 30950, 30999, 2);
	assert_int_not_equal(mp_node_alloc(&node, &conf, NULL), 0);
	assert_null(node);
	close(fd);

	/* free: served from the start, then as of the last tick */
	node_up(30950, 30999, 2);
	metrics_listen[0] = '\0';
	scrape(port, resp, sizeof(resp));
	assert_true(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(resp, "\ntandem_media_sessions_active 0\n"));
	assert_non_null(strstr(resp, "\ntandem_media_port_pairs_free 25\n"));

	request(SW_MSG_MEDIA_OFFER, "{\"session\":\"" S1 "\",\"a\":{},"
				    "\"b\":{}}");
	assert_string_equal(fx.type, "media.offer.reply");
	/* the text is rendered on the 1 s tick: the next one, or a later
	 * one on a loaded machine */
	run(1200);
	scrape(port, resp, sizeof(resp));
	for (int i = 0; i < 40 && !strstr(resp, "\ntandem_media_sessions_"
						"active 1\n");
	     i++) {
		run(200);
		scrape(port, resp, sizeof(resp));
	}
	assert_non_null(strstr(resp, "\ntandem_media_sessions_active 1\n"));
	assert_non_null(strstr(resp, "\ntandem_media_sessions_total 1\n"));
	assert_non_null(strstr(resp, "\ntandem_media_port_pairs_free 23\n"));
	assert_non_null(strstr(
	    resp,
	    "\ntandem_media_bus_requests_total{type=\"media.offer\"} 1\n"));
	node_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ping_and_heartbeat),
	    cmocka_unit_test(offer_query_delete),
	    cmocka_unit_test(bad_requests),
	    cmocka_unit_test(capacity_ports_and_budget),
	    cmocka_unit_test(rtp_through_and_timeout),
	    cmocka_unit_test(metrics_served_on_tick),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
