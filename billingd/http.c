/*
 * http.c - routing and JSON replies of the HTTP API
 */
#define SW_LOG_MODULE "http"

#include <errno.h>
#include <string.h>

#include <jansson.h>
#include "billingd/libre.h"

#include "billingd/daemon.h"
#include "billingd/http.h"
#include "billingd/status.h"
#include "common/log.h"

struct bd_http {
	struct http_sock *sock;	/* owned */
	struct bd *bd;		/* borrowed */
};

struct route {
	const char *path;
	const char *method;
	void (*h)(struct bd_http *http, struct http_conn *conn,
		  const struct http_msg *msg);
};

static int reply_text(struct http_conn *conn, uint16_t code,
		      const char *reason, const char *extra, const char *body)
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

static void get_status(struct bd_http *http, struct http_conn *conn,
		       const struct http_msg *msg)
{
	int err;

	(void)msg;
	/* the connection must outlive the wait for signalingd's reply */
	err = bd_status_collect(http->bd, status_done, mem_ref(conn));
	if (err) {
		mem_deref(conn);
		reply_error(conn, 500, "Internal Server Error", NULL,
			    "internal", "cannot query signalingd");
	}
}

static const struct route routes[] = {
	{"/api/v1/status", "GET", get_status},
};

static void req_h(struct http_conn *conn, const struct http_msg *msg,
		  void *arg)
{
	struct bd_http *http = arg;
	char message[320];

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		char allow[64];

		if (pl_strcmp(&msg->path, routes[i].path))
			continue;
		if (pl_strcmp(&msg->met, routes[i].method)) {
			snprintf(allow, sizeof(allow), "Allow: %s\r\n",
				 routes[i].method);
			snprintf(message, sizeof(message),
				 "method %.*s not allowed on %s",
				 (int)(msg->met.l > 16 ? 16 : msg->met.l),
				 msg->met.p, routes[i].path);
			reply_error(conn, 405, "Method Not Allowed", allow,
				    "method_not_allowed", message);
			return;
		}
		routes[i].h(http, conn, msg);
		return;
	}

	snprintf(message, sizeof(message), "no such resource: %.*s",
		 (int)(msg->path.l > 256 ? 256 : msg->path.l), msg->path.p);
	reply_error(conn, 404, "Not Found", NULL, "not_found", message);
}

static void destructor(void *arg)
{
	struct bd_http *http = arg;

	mem_deref(http->sock);
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

	err = http_listen(&http->sock, &sa, req_h, http);
	if (err) {
		sw_err("http_listen %s: %s", laddr, strerror(err));
		mem_deref(http);
		return err;
	}
	sw_info("HTTP API on http://%s", laddr);

	*httpp = http;
	return 0;
}
