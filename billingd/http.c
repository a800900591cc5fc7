/*
 * http.c - routing and JSON replies of the HTTP API
 */
#define SW_LOG_MODULE "http"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include "billingd/libre.h"

#include "billingd/api.h"
#include "billingd/daemon.h"
#include "billingd/http.h"
#include "billingd/web.h"
#include "billingd/lookup.h"
#include "billingd/resv.h"
#include "billingd/params.h"
#include "billingd/rate.h"
#include "billingd/status.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/money.h"
#include "common/swtime.h"

struct bd_http {
	struct http_sock *sock; /* owned */
	struct bd_api *api;	/* owned */
	struct bd_web *web;	/* owned; NULL without web_root */
	struct bd *bd;		/* borrowed */
};

static int reply_text(struct http_conn *conn, uint16_t code, const char *reason,
		      const char *extra, const char *body)
{
	return http_reply(conn, code, reason,
			  "Content-Type: application/json\r\n"
			  "Content-Length: %zu\r\n"
			  "Cache-Control: no-store\r\n"
			  "%s"
			  "\r\n"
			  "%s",
			  strlen(body), extra ? extra : "", body);
}

/* Send obj (stolen) as the JSON body of a reply. */
static void reply_json(struct http_conn *conn, uint16_t code,
		       const char *reason, const char *extra, json_t *obj)
{
	char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	int err;

	json_decref(obj);
	if (!body) {
		(void)reply_text(conn, 500, "Internal Server Error", NULL,
				 "{\"error\":{\"code\":\"internal\","
				 "\"message\":\"out of memory\"}}");
		return;
	}
	err = reply_text(conn, code, reason, extra, body);
	if (err)
		sw_debug("reply %u not sent: %s", code, strerror(err));
	free(body);
}

static void reply_error(struct http_conn *conn, uint16_t code,
			const char *reason, const char *extra,
			const char *ecode, const char *message)
{
	reply_json(conn, code, reason, extra,
		   json_pack("{s:{s:s, s:s}}", "error", "code", ecode,
			     "message", message));
}

static void status_done(json_t *status, void *arg)
{
	struct http_conn *conn = arg;

	if (!status)
		reply_error(conn, 500, "Internal Server Error", NULL,
			    "internal", "cannot build the status");
	else
		reply_json(conn, 200, "OK", NULL, status);
	mem_deref(conn);
}

static void get_status(struct bd *bd, struct http_conn *conn,
		       const struct http_msg *msg)
{
	int err;

	(void)msg;
	/* the connection must outlive the wait for signalingd's reply */
	err = bd_status_collect(bd, status_done, mem_ref(conn));
	if (err) {
		mem_deref(conn);
		reply_error(conn, 500, "Internal Server Error", NULL,
			    "internal", "cannot query signalingd");
	}
}

/*
 * GET /api/v1/performance: each host of the switch as its daemon reports it
 * ({"hosts": [{"role", "node_id", "online", "host": sysperf}]})
 */
static void performance_done(json_t *status, void *arg)
{
	struct http_conn *conn = arg;
	json_t *hosts, *o;
	size_t i;

	if (!status) {
		reply_error(conn, 500, "Internal Server Error", NULL,
			    "internal", "cannot build the status");
		mem_deref(conn);
		return;
	}
	hosts = json_array();
	json_array_foreach(json_object_get(status, "daemons"), i, o)
	{
		json_t *h = json_object_get(o, "host");

		json_array_append_new(
		    hosts,
		    json_pack(
			"{s:s, s:s, s:b, s:O}", "role",
			json_string_value(json_object_get(o, "daemon")) ?: "",
			"node_id",
			json_string_value(json_object_get(o, "node_id")) ?: "",
			"online",
			strcmp(json_string_value(json_object_get(o, "health"))
				   ?: "down",
			       "down") != 0,
			"host", h ? h : json_null()));
	}
	json_array_foreach(json_object_get(status, "media_nodes"), i, o)
	{
		json_t *h = json_object_get(o, "host");

		json_array_append_new(
		    hosts,
		    json_pack(
			"{s:s, s:s, s:b, s:O}", "role", "mediaproxyd",
			"node_id",
			json_string_value(json_object_get(o, "node_id")) ?: "",
			"online", json_is_true(json_object_get(o, "online")),
			"host", h ? h : json_null()));
	}
	json_decref(status);
	reply_json(conn, 200, "OK", NULL, json_pack("{s:o}", "hosts", hosts));
	mem_deref(conn);
}

static void get_performance(struct bd *bd, struct http_conn *conn,
			    const struct http_msg *msg)
{
	int err;

	(void)msg;
	err = bd_status_collect(bd, performance_done, mem_ref(conn));
	if (err) {
		mem_deref(conn);
		reply_error(conn, 500, "Internal Server Error", NULL,
			    "internal", "cannot query signalingd");
	}
}

/* ---- GET /api/v1/rate: a rating dry run (SPEC §9, tandemctl rate) ---- */

struct quote {
	struct http_conn *conn; /* referenced */
	struct bd *bd;		/* borrowed */
	char number[BD_NUMBER_MAX + 1];
	int64_t duration_s, at_ms;
};

static void quote_destructor(void *arg)
{
	struct quote *q = arg;

	mem_deref(q->conn);
}

static json_t *money_json(int64_t v)
{
	char buf[32];

	sw_money_format(buf, sizeof(buf), v, 6);
	return json_string(buf);
}

static void quote_h(int err, const struct bd_lookup *lk, void *arg)
{
	struct quote *q = arg;
	const struct bd_param_values *pv = bd_params_get(q->bd->params);
	const struct bd_rate *r;
	struct bd_rate_result res;

	if (err) {
		reply_error(q->conn, 503, "Service Unavailable", NULL,
			    "unavailable", "database unavailable");
		goto out;
	}
	if (!lk->customer.found) {
		reply_error(q->conn, 404, "Not Found", NULL, "not_found",
			    "account: no such account");
		goto out;
	}
	r = bd_account_rate(&lk->customer);
	if (!r) {
		reply_error(q->conn, 404, "Not Found", NULL, "no_rate",
			    "number: no entry of the rate table in force "
			    "matches it");
		goto out;
	}
	if (bd_rate_calc(&res, r, &pv->rate, q->duration_s * 1000)) {
		reply_error(q->conn, 500, "Internal Server Error", NULL,
			    "internal", "the fee overflows");
		goto out;
	}
	reply_json(
	    q->conn, 200, "OK", NULL,
	    json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:{s:s, s:o, s:I, s:o,"
		      " s:I, s:o}, s:I, s:I, s:o}",
		      "account", lk->customer.name, "number", q->number,
		      "duration_s", (json_int_t)q->duration_s, "at_ms",
		      (json_int_t)q->at_ms, "period", lk->customer.period,
		      "rate_table", lk->customer.table, "entry", "prefix",
		      r->prefix, "connect_fee", money_json(r->connect_fee),
		      "first_interval", (json_int_t)r->first_s, "first_rate",
		      money_json(r->first_rate), "next_interval",
		      (json_int_t)r->next_s, "next_rate",
		      money_json(r->next_rate), "billable_s",
		      (json_int_t)res.billable_s, "fee_s",
		      (json_int_t)res.fee_s, "fee", money_json(res.fee)));
out:
	mem_deref(q);
}

/* value of key in a query string "a=1&b=2" (no decoding: names and
 * numbers only), copied into buf; false when absent or too long */
static bool query_get(const struct pl *prm, const char *key, char *buf,
		      size_t size)
{
	const char *p = prm->p, *end = prm->p + prm->l;
	size_t klen = strlen(key);

	if (p < end && *p == '?')
		p++;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;

		if ((size_t)(stop - p) > klen && !memcmp(p, key, klen) &&
		    p[klen] == '=') {
			size_t n = (size_t)(stop - p) - klen - 1;

			if (n >= size)
				return false;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return true;
		}
		p = amp ? amp + 1 : end;
	}
	return false;
}

static void get_rate(struct bd *bd, struct http_conn *conn,
		     const struct http_msg *msg)
{
	const struct bd_param_values *pv = bd_params_get(bd->params);
	char account[BD_NAME_MAX + 1], num[BD_NUMBER_MAX + 1], dur[16], at[24];
	struct bd_lookup_when when;
	struct quote *q;
	const char *bad = NULL;
	int64_t d = 0, t = sw_time_wall_ms();

	if (!query_get(&msg->prm, "account", account, sizeof(account)) ||
	    !*account)
		bad = "account: required (1..64 characters)";
	else if (!query_get(&msg->prm, "number", num, sizeof(num)) || !*num)
		bad = "number: required (1..64 characters)";
	else if (!query_get(&msg->prm, "duration", dur, sizeof(dur)) ||
		 sw_parse_int(&d, dur, 0, 604800))
		bad = "duration: required, whole seconds 0..604800";
	else if (query_get(&msg->prm, "at", at, sizeof(at)) &&
		 sw_parse_int(&t, at, 1, 253402300799999LL))
		bad = "at: milliseconds since 1970 (UTC)";
	if (bad) {
		reply_error(conn, 400, "Bad Request", NULL, "bad_request", bad);
		return;
	}
	q = mem_zalloc(sizeof(*q), quote_destructor);
	if (!q) {
		reply_error(conn, 500, "Internal Server Error", NULL,
			    "internal", "out of memory");
		return;
	}
	q->conn = mem_ref(conn);
	q->bd = bd;
	str_ncpy(q->number, num, sizeof(q->number));
	q->duration_s = d;
	q->at_ms = t;
	when.at_ms = t;
	when.period_rates = pv->period_rates;
	when.calendars = pv->calendars;
	if (bd_lookup(bd->lookup, account, num, NULL, &when, quote_h, q)) {
		reply_error(conn, 503, "Service Unavailable", NULL,
			    "unavailable", "database unavailable");
		mem_deref(q);
	}
}

/*
 * GET /api/v1/reservations?account=NAME: what the account's live calls
 * hold ({"account", "held", "calls"}), so that money moved by an operator
 * never takes what calls in progress were granted.
 */
static void get_reservations(struct bd *bd, struct http_conn *conn,
			     const struct http_msg *msg)
{
	char account[BD_NAME_MAX + 1];

	if (!query_get(&msg->prm, "account", account, sizeof(account)) ||
	    !*account) {
		reply_error(conn, 400, "Bad Request", NULL, "bad_request",
			    "account: required (1..64 characters)");
		return;
	}
	reply_json(conn, 200, "OK", NULL,
		   json_pack("{s:s, s:o}", "account", account, "held",
			     money_json(bd_resv_held(bd->resv, account))));
}

/* GET /healthz: the one open endpoint, says nothing but "up" */
static void get_health(struct http_conn *conn)
{
	(void)reply_text(conn, 200, "OK", NULL, "{\"status\":\"ok\"}");
}

/*
 * Is the body framed by at most one plain Content-Length?  Anything else
 * is how requests are smuggled past a proxy that reads the framing another
 * way (RFC 9112 section 6.3): two Content-Length headers (equal or not), one
 * that is not 1*DIGIT ("-1", "+3", "3, 3": libre would read 0 and take the
 * body for the next request), or one with a Transfer-Encoding: 400.  A
 * Transfer-Encoding alone is a 501: libre reads no chunked bodies.  false after
 * answering and closing the connection, whose next bytes cannot be framed.
 */
static bool framing_ok(struct http_conn *conn, const struct http_msg *msg)
{
	const struct http_hdr *cl = http_msg_hdr(msg, HTTP_HDR_CONTENT_LENGTH);
	char ip[64];
	size_t i;

	if (http_msg_hdr(msg, HTTP_HDR_TRANSFER_ENCODING) && !cl) {
		reply_error(conn, 501, "Not Implemented",
			    "Connection: close\r\n", "not_implemented",
			    "Transfer-Encoding is not supported: send the "
			    "body with one Content-Length");
		goto refused;
	}
	if (!cl)
		return true;
	for (i = 0; i < cl->val.l && cl->val.p[i] >= '0' && cl->val.p[i] <= '9';
	     i++)
		;
	if (http_msg_hdr(msg, HTTP_HDR_TRANSFER_ENCODING) ||
	    http_msg_hdr_count(msg, HTTP_HDR_CONTENT_LENGTH) > 1 ||
	    !cl->val.l || i != cl->val.l || cl->val.l > 9) {
		reply_error(conn, 400, "Bad Request", "Connection: close\r\n",
			    "bad_request",
			    "one Content-Length of digits and no "
			    "Transfer-Encoding, please");
		goto refused;
	}
	return true;

refused:
	/* debug only: one line per request would be a log storm to order */
	if (sa_ntop(http_conn_peer(conn), ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	sw_debug("HTTP %.*s %.*s from %s refused: ambiguous body framing",
		 (int)msg->met.l, msg->met.p, (int)msg->path.l, msg->path.p,
		 ip);
	http_conn_close(conn);
	return false;
}

static void req_h(struct http_conn *conn, const struct http_msg *msg, void *arg)
{
	struct bd_http *http = arg;

	if (!framing_ok(conn, msg))
		return;
	if (!pl_strcmp(&msg->path, "/healthz")) {
		if (pl_strcmp(&msg->met, "GET"))
			reply_error(conn, 405, "Method Not Allowed",
				    "Allow: GET\r\n", "method_not_allowed",
				    "GET only");
		else
			get_health(conn);
		return;
	}
	if (msg->path.l >= 8 && !memcmp(msg->path.p, "/api/v1/", 8)) {
		bd_api_handle(http->api, conn, msg);
		return;
	}
	if (bd_web_handle(http->web, conn, msg))
		return;
	reply_error(conn, 404, "Not Found", NULL, "not_found",
		    "no such resource");
}

static void destructor(void *arg)
{
	struct bd_http *http = arg;

	mem_deref(http->sock);
	mem_deref(http->api);
	mem_deref(http->web);
}

/* Listen on laddr ("ip:port") and serve the API of bd. */
int bd_http_alloc(struct bd_http **httpp, struct bd *bd, const char *laddr)
{
	struct bd_http *http;
	struct sa sa;
	int err;

	if (!httpp || !bd || !laddr)
		return EINVAL;

	err = sa_decode(&sa, laddr, strlen(laddr));
	if (err)
		return err;

	http = mem_zalloc(sizeof(*http), destructor);
	if (!http)
		return ENOMEM;
	http->bd = bd;
	{
		const struct bd_api_loop_routes loop = {
		    get_status, get_rate, get_reservations, get_performance};

		err = bd_api_alloc(&http->api, bd, &loop);
		if (err) {
			sw_err("HTTP API: %s", strerror(err));
			mem_deref(http);
			return err;
		}
	}

	if (*bd->conf.web_root) {
		char why[256] = "";

		err = bd_web_load(&http->web, bd->conf.web_root, why,
				  sizeof(why));
		if (err) {
			sw_err("web manager (web_root): %s",
			       *why ? why : strerror(err));
			mem_deref(http);
			return err;
		}
	}

	if (*bd->conf.http_tls_cert)
		err = https_listen(&http->sock, &sa, bd->conf.http_tls_cert,
				   req_h, http);
	else
		err = http_listen(&http->sock, &sa, req_h, http);
	if (err) {
		sw_err("http_listen %s%s%s: %s", laddr,
		       *bd->conf.http_tls_cert ? " with " : "",
		       bd->conf.http_tls_cert, strerror(err));
		mem_deref(http);
		return err;
	}
	/* libre listens with a backlog of 5: a burst of connects would wait
	 * for SYN retransmissions (2 000 connects took 38 s) */
	err = tcp_sock_listen(http_sock_tcp(http->sock), BD_HTTP_BACKLOG);
	if (err)
		sw_warn("HTTP listen backlog %d: %s", BD_HTTP_BACKLOG,
			strerror(err));
	sw_info("HTTP API on %s://%s",
		*bd->conf.http_tls_cert ? "https" : "http", laddr);

	*httpp = http;
	return 0;
}
