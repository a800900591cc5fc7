/*
 * api.c - the HTTP API's requests: routing, authentication, answers
 *
 * A request is copied out of libre's message into a struct api_req, sent
 * to an API worker (apiq.c) which authenticates the caller, checks the
 * route's roles and the CSRF token, and runs the route's work; the answer
 * goes back on the loop.  Routes that read billingd's memory run on the
 * loop after the worker has authenticated the caller.
 */
#define SW_LOG_MODULE "api"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "billingd/libre.h"

#include "billingd/api.h"
#include "billingd/api_int.h"
#include "billingd/apiq.h"
#include "billingd/daemon.h"
#include "common/log.h"

struct bd_api {
	struct bd *bd;	   /* borrowed */
	struct bd_apiq *q; /* owned */
	struct bd_api_loop_routes loop;
};

static void api_openapi(PGconn *conn, struct api_req *r);

static const struct api_route routes[] = {
    {"POST", "/api/v1/login", 0, api_login, 0},
    {"POST", "/api/v1/logout", ROLES_ANY, api_logout, 0},
    {"GET", "/api/v1/me", ROLES_ANY, api_me, 0},
    {"PATCH", "/api/v1/me", ROLES_ANY, api_me_update, 0},
    {"GET", "/api/v1/users", ROLE_ADMIN, api_users_list, 0},
    {"POST", "/api/v1/users", ROLE_ADMIN, api_user_create, 0},
    {"GET", "/api/v1/users/*", ROLE_ADMIN, api_user_get, 0},
    {"PATCH", "/api/v1/users/*", ROLE_ADMIN, api_user_update, 0},
    {"DELETE", "/api/v1/users/*", ROLE_ADMIN, api_user_delete, 0},
    {"GET", "/api/v1/tokens", ROLES_ANY, api_tokens_list, 0},
    {"POST", "/api/v1/tokens", ROLES_ANY, api_token_create, 0},
    {"DELETE", "/api/v1/tokens/*", ROLES_ANY, api_token_delete, 0},
    {"GET", "/api/v1/system_parameters", ROLE_ADMIN, api_params_get, 0},
    {"PATCH", "/api/v1/system_parameters", ROLE_ADMIN, api_params_update, 0},
    {"GET", "/api/v1/audit", ROLES_STAFF, api_audit_list, 0},
    {"GET", "/api/v1/calls", ROLES_STAFF, NULL, 0, false, api_calls},
    {"DELETE", "/api/v1/calls/*", ROLES_STAFF, NULL, 0, false, api_call_hangup},
    {"GET", "/api/v1/route", ROLES_STAFF, NULL, 0, false, api_route},
    {"GET", "/api/v1/payments", ROLES_ANY, api_payments_list, 0},
    {"POST", "/api/v1/payments", ROLE_ADMIN | ROLE_OPERATOR | ROLE_AGENT,
     api_payment_create, 0, false, NULL, api_payment_pre},
    {"GET", "/api/v1/phone_card_batches", ROLES_STAFF | ROLE_AGENT,
     api_card_batches_list, 0},
    {"POST", "/api/v1/phone_card_batches", ROLES_STAFF | ROLE_AGENT,
     api_card_batch_create, 0},
    {"GET", "/api/v1/phone_cards", ROLES_STAFF | ROLE_AGENT, api_cards_list, 0},
    {"PATCH", "/api/v1/phone_cards/*", ROLES_STAFF | ROLE_AGENT,
     api_card_update, 0},
    {"GET", "/api/v1/stats/*", ROLES_ANY, api_stats, 0},
    {"GET", "/api/v1/dashboard", ROLES_STAFF, api_dashboard, 0, false, NULL,
     api_dashboard_pre},
    {"GET", "/api/v1/alarms", ROLES_STAFF, api_alarms_list, 0},
    {"PATCH", "/api/v1/alarms/*", ROLES_STAFF, api_alarm_ack, 0},
    {"GET", "/api/v1/registrations", ROLES_STAFF, api_registrations_list, 0},
    {"GET", "/api/v1/cdrs", ROLES_ANY, api_cdrs_list, 0},
    {"GET", "/api/v1/cdrs.csv", ROLES_ANY, api_cdrs_export, 0, true},
    {"GET", "/api/v1/openapi.json", ROLES_ANY, api_openapi, 0},
    {"GET", "/api/v1/status", ROLES_STAFF, NULL, 1},
    {"GET", "/api/v1/rate", ROLES_STAFF, NULL, 2},
    {"GET", "/api/v1/reservations", ROLES_STAFF, NULL, 3},
    {"GET", "/api/v1/performance", ROLES_STAFF, NULL, 4},
};

/* configuration sections: /api/v1/<section>[/<name>] */
static const struct api_route config_routes[] = {
    {"GET", "", ROLES_ANY, api_config_list, 0},
    {"POST", "", ROLES_STAFF, api_config_create, 0},
    {"GET", "*", ROLES_ANY, api_config_get, 0},
    {"PATCH", "*", ROLES_STAFF, api_config_update, 0},
    {"DELETE", "*", ROLES_STAFF, api_config_delete, 0},
};

/* accounts, mapping gateways, phones: agents too, within their
 * authorizations and subtree (api_config.c, agent_guard) */
static const struct api_route agent_config_routes[] = {
    {"GET", "", ROLES_ANY, api_config_list, 0},
    {"POST", "", ROLES_STAFF | ROLE_AGENT, api_config_create, 0},
    {"GET", "*", ROLES_ANY, api_config_get, 0},
    {"PATCH", "*", ROLES_STAFF | ROLE_AGENT, api_config_update, 0},
    {"DELETE", "*", ROLES_STAFF | ROLE_AGENT, api_config_delete, 0},
};

/* GET /api/v1/openapi.json: the document the API is checked against */
static void api_openapi(PGconn *conn, struct api_req *r)
{
	json_t *doc = md_openapi();

	(void)conn;
	if (!doc)
		api_error(r, 503, "unavailable", NULL, "out of memory");
	else
		api_ok(r, 200, doc);
}

/* ---- answers (worker side) ---- */

void api_error(struct api_req *r, uint16_t status, const char *code,
	       const char *field, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (field)
		json_object_set_new(e, "field", json_string(field));
	json_decref(r->reply);
	r->reply = json_pack("{s:o}", "error", e);
	r->status = status;
}

void api_ok(struct api_req *r, uint16_t status, json_t *reply)
{
	json_decref(r->reply);
	r->reply = reply;
	r->status = status;
}

void api_header(struct api_req *r, const char *fmt, ...)
{
	size_t n = strlen(r->headers);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->headers + n, sizeof(r->headers) - n, fmt, ap);
	va_end(ap);
}

void api_db_error(struct api_req *r, const char *err)
{
	sw_warn("%s %s: database: %s", r->method, r->path, err);
	api_error(r, 503, "unavailable", NULL, "database unavailable");
}

/* the body as a JSON object (else a 400 is set and NULL returned) */
json_t *api_body_object(struct api_req *r)
{
	json_error_t jerr;
	json_t *j;

	if (!r->body || !r->blen) {
		api_error(r, 400, "bad_request", NULL,
			  "a JSON object body is required");
		return NULL;
	}
	j = json_loadb(r->body, r->blen, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		api_error(r, 400, "bad_json", NULL, "not valid JSON: %s",
			  jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		api_error(r, 400, "bad_request", NULL,
			  "the body must be a JSON object");
		return NULL;
	}
	return j;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* percent-decode (and '+' as space when form) into out; false when bad */
static bool decode(const char *s, size_t n, char *out, size_t size, bool form)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return false;
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return false;
			c = h * 16 + l;
			i += 2;
		} else if (c == '+' && form) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= size)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

/*
 * The decoded value of a query parameter; false when absent.  A value too
 * long for buf comes back as "\x7f", which no check accepts and no name
 * matches (bad encodings were refused before: query_valid).
 */
bool api_query(const struct api_req *r, const char *key, char *buf, size_t size)
{
	const char *p = r->query, *end = r->query + strlen(r->query);
	size_t klen = strlen(key);

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;

		if ((size_t)(stop - p) >= klen && !memcmp(p, key, klen) &&
		    (p + klen == stop || p[klen] == '=')) {
			const char *v = p + klen + (p + klen < stop);

			/* too long for its use: a value no check accepts and
			 * no name matches (the query decodes: query_valid) */
			if (!decode(v, (size_t)(stop - v), buf, size, true) &&
			    size >= 2) {
				buf[0] = 0x7f;
				buf[1] = '\0';
			}
			return true;
		}
		p = amp ? amp + 1 : end;
	}
	return false;
}

/* does every key=value of the query decode cleanly? */
static bool query_valid(const char *q)
{
	char buf[sizeof(((struct api_req *)0)->query)];

	while (*q) {
		size_t n = strcspn(q, "&");

		if (n && !decode(q, n, buf, sizeof(buf), true))
			return false;
		q += n + (q[n] == '&');
	}
	return true;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12)
		return false;
	v = strtol(s, &end, 10);
	if (*end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* limit (1..API_PAGE_MAX, default API_PAGE_DEF) and offset; 400 if bad */
bool api_page(struct api_req *r, long *limit, long *offset)
{
	char buf[32];

	*limit = API_PAGE_DEF;
	*offset = 0;
	if (api_query(r, "limit", buf, sizeof(buf)) &&
	    !parse_long(buf, 1, API_PAGE_MAX, limit)) {
		api_error(r, 400, "bad_request", "limit",
			  "limit: a whole number 1..%d", API_PAGE_MAX);
		return false;
	}
	if (api_query(r, "offset", buf, sizeof(buf)) &&
	    !parse_long(buf, 0, 100000000L, offset)) {
		api_error(r, 400, "bad_request", "offset",
			  "offset: a whole number 0..100000000");
		return false;
	}
	return true;
}

/*
 * Web Access Control (SERVER_WEB_ACCESS_LIST): may r's address use the API
 * under list (NULL: the saved one)?  false with a 403 set (or a 503) when
 * not.
 */
bool api_access_allowed(PGconn *conn, struct api_req *r, const char *list)
{
	const char *params[2] = {r->ip, list};
	char err[256];
	PGresult *res;
	bool ok;

	res = md_pq_exec(
	    conn,
	    "SELECT coalesce((SELECT $1::inet <<= ANY (string_to_array("
	    "replace(l, ' ', ''), ',')::inet[]) FROM (SELECT coalesce($2, "
	    "(SELECT value FROM system_parameters WHERE name = "
	    "'SERVER_WEB_ACCESS_LIST')) AS l) x WHERE btrim(coalesce(l, '')) "
	    "<> ''), true) AS ok",
	    2, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return false;
	}
	ok = !strcmp(md_pq_get(res, 0, "ok"), "t");
	PQclear(res);
	if (!ok && !list) {
		sw_info("%s %s from %s refused: not in the web access list",
			r->method, r->path, r->ip);
		api_error(r, 403, "access_denied", NULL,
			  "this address may not use the API (Web Access "
			  "Control)");
	}
	return ok;
}

/*
 * A page answer from a query with columns "j" (the items, JSON text) and
 * "total": {"items", "total", "limit", "offset"}.
 */
json_t *api_page_json(PGresult *res, long limit, long offset)
{
	json_t *items =
	    json_loads(PQgetvalue(res, 0, PQfnumber(res, "j")), 0, NULL);

	return json_pack(
	    "{s:o, s:I, s:I, s:I}", "items", items ? items : json_array(),
	    "total",
	    (json_int_t)strtoll(PQgetvalue(res, 0, PQfnumber(res, "total")),
				NULL, 10),
	    "limit", (json_int_t)limit, "offset", (json_int_t)offset);
}

/* one audit_log row; detail is stolen */
void api_audit(PGconn *conn, const struct api_req *r, const char *action,
	       const char *object, json_t *detail)
{
	char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	const char *params[5] = {r->who.known ? r->who.user : "-", action,
				 object ? object : "", d ? d : "{}", r->ip};
	char err[256];
	PGresult *res;

	json_decref(detail);
	res =
	    md_pq_exec(conn,
		       "INSERT INTO audit_log (actor, action, object, detail, "
		       "source_ip) VALUES ($1, $2, $3, $4::jsonb, $5)",
		       5, params, err, sizeof(err));
	if (!res)
		sw_warn("audit %s %s: %s", action, object ? object : "", err);
	PQclear(res);
	free(d);
}

const char *api_role_name(enum api_role role)
{
	switch (role) {
	case ROLE_ADMIN:
		return "admin";
	case ROLE_OPERATOR:
		return "operator";
	case ROLE_AGENT:
		return "agent";
	case ROLE_CUSTOMER:
		return "customer";
	}
	return "?";
}

enum api_role api_role_of(const char *name)
{
	if (!strcmp(name, "admin"))
		return ROLE_ADMIN;
	if (!strcmp(name, "operator"))
		return ROLE_OPERATOR;
	if (!strcmp(name, "agent"))
		return ROLE_AGENT;
	if (!strcmp(name, "customer"))
		return ROLE_CUSTOMER;
	return 0;
}

/* ---- the request's life ---- */

static void req_destructor(void *arg)
{
	struct api_req *r = arg;

	mem_deref(r->stream);
	json_decref(r->pre_data);
	mem_deref(r->conn);
	mem_deref(r->msg);
	free(r->body);
	free(r->raw);
	json_decref(r->reply);
}

static bool unsafe_method(const char *m)
{
	return strcmp(m, "GET") && strcmp(m, "HEAD");
}

/* on a worker */
static void work(PGconn *conn, void *arg)
{
	struct api_req *r = arg;

	if (!conn) {
		api_error(r, 503, "unavailable", NULL, "database unavailable");
		return;
	}
	if (!api_access_allowed(conn, r, NULL))
		return;
	if (r->route->roles) {
		if (!api_authenticate(conn, r))
			return;
		if (!(r->route->roles & r->who.role)) {
			api_error(r, 403, "forbidden", NULL, "%s may not %s %s",
				  api_role_name(r->who.role), r->method,
				  r->path);
			return;
		}
		if (!r->who.token && unsafe_method(r->method) &&
		    (!*r->csrf_hdr || strcmp(r->csrf_hdr, r->who.csrf) != 0)) {
			api_error(r, 403, "csrf", NULL,
				  "writes need the session's X-CSRF-Token");
			return;
		}
	}
	if (r->route->work)
		r->route->work(conn, r);
}

static void send_reply(struct api_req *r)
{
	char *body = NULL;
	const char *type = "application/json";
	size_t len = 0;
	int err;

	if (r->raw) {
		body = r->raw;
		r->raw = NULL;
		type = r->raw_type ? r->raw_type : "text/plain";
	} else if (r->reply) {
		body = json_dumps(r->reply, JSON_COMPACT);
		if (!body) {
			r->status = 500;
			body = strdup("{\"error\":{\"code\":\"internal\","
				      "\"message\":\"out of memory\"}}");
		}
	}
	len = body ? strlen(body) : 0;
	if (r->status == 204)
		err =
		    http_reply(r->conn, 204, "No Content",
			       "Cache-Control: no-store\r\n%s\r\n", r->headers);
	else
		err =
		    http_reply(r->conn, r->status, r->reason ? r->reason : "-",
			       "Content-Type: %s\r\n"
			       "Content-Length: %zu\r\n"
			       "Cache-Control: no-store\r\n"
			       "%s"
			       "\r\n"
			       "%s",
			       type, len, r->headers, body ? body : "");
	if (err)
		sw_debug("reply %u not sent: %s", r->status, strerror(err));
	free(body);
}

static const char *reason_of(uint16_t s)
{
	switch (s) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 422:
		return "Unprocessable Entity";
	case 428:
		return "Precondition Required";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* on the loop */
static void done(void *arg)
{
	struct api_req *r = arg;
	struct bd_api *api = r->api;

	if (!r->status && r->route->loop) {
		bd_api_loop_h *const hs[] = {
		    NULL, api->loop.status, api->loop.rate,
		    api->loop.reservations, api->loop.performance};
		bd_api_loop_h *h = hs[r->route->loop];

		h(api->bd, r->conn, r->msg);
		mem_deref(r);
		return;
	}
	if (r->streamed) {
		mem_deref(r);
		return;
	}
	if (r->route->live && !r->status) {
		r->route->live(api->bd, r);
		return;
	}
	if (r->lock_changed && r->status == 200) {
		api_gateway_lock(api->bd, r);
		return;
	}
	api_finish(r);
}

/* send the answer the request holds and free it */
void api_finish(struct api_req *r)
{
	if (!r->status)
		api_error(r, 500, "internal", NULL, "no answer");
	r->reason = reason_of(r->status);
	send_reply(r);
	mem_deref(r);
}

static void pl_copy(const struct pl *pl, char *buf, size_t size)
{
	size_t n = pl->l < size - 1 ? pl->l : size - 1;

	memcpy(buf, pl->p, n);
	buf[n] = '\0';
}

/* the value of cookie name in the Cookie headers */
static void cookie_get(const struct http_msg *msg, const char *name, char *buf,
		       size_t size)
{
	const struct http_hdr *h;
	struct le *le;
	size_t nlen = strlen(name);

	buf[0] = '\0';
	LIST_FOREACH(&msg->hdrl, le)
	{
		const char *p, *end;

		h = le->data;
		if (pl_strcasecmp(&h->name, "Cookie"))
			continue;
		p = h->val.p;
		end = h->val.p + h->val.l;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			const char *stop = semi ? semi : end;

			while (p < stop && *p == ' ')
				p++;
			if ((size_t)(stop - p) > nlen &&
			    !memcmp(p, name, nlen) && p[nlen] == '=') {
				size_t n = (size_t)(stop - p) - nlen - 1;

				if (n < size) {
					memcpy(buf, p + nlen + 1, n);
					buf[n] = '\0';
				}
				return;
			}
			p = semi ? semi + 1 : end;
		}
	}
}

static void direct_error(struct http_conn *conn, uint16_t status,
			 const char *extra, const char *code,
			 const char *message)
{
	struct api_req tmp = {0};

	tmp.conn = conn;
	api_error(&tmp, status, code, NULL, "%s", message);
	tmp.reason = reason_of(status);
	if (extra)
		snprintf(tmp.headers, sizeof(tmp.headers), "%s", extra);
	send_reply(&tmp);
	json_decref(tmp.reply);
}

/* find the route of method + path; *allow gets the methods of the path */
static const struct api_route *route_find(const char *method, const char *path,
					  const struct md_section **secp,
					  char *sub, size_t subsz, char *allow,
					  size_t allowsz, bool *bad_name)
{
	const char *rest = path + strlen("/api/v1/");
	const char *slash;
	size_t seglen;

	*secp = NULL;
	*bad_name = false;
	allow[0] = '\0';
	sub[0] = '\0';
	if (strncmp(path, "/api/v1/", 8))
		return NULL;
	slash = strchr(rest, '/');
	seglen = slash ? (size_t)(slash - rest) : strlen(rest);

	/* fixed routes */
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const char *rp = routes[i].path;
		size_t rl = strlen(rp);
		bool match;

		if (rl > 2 && !strcmp(rp + rl - 2, "/*"))
			match = !strncmp(path, rp, rl - 1) && path[rl - 1] &&
				!strchr(path + rl - 1, '/');
		else
			match = !strcmp(path, rp);
		if (!match)
			continue;
		if (strlen(allow) + 8 < allowsz)
			snprintf(allow + strlen(allow), allowsz - strlen(allow),
				 "%s%s", *allow ? ", " : "", routes[i].method);
		if (strcmp(method, routes[i].method))
			continue;
		if (rl > 2 && !strcmp(rp + rl - 2, "/*") &&
		    !decode(path + rl - 1, strlen(path + rl - 1), sub, subsz,
			    false)) {
			*bad_name = true;
			return NULL;
		}
		return &routes[i];
	}

	/* configuration sections */
	for (size_t s = 0; s < md_nsections; s++) {
		const struct md_section *sec = &md_sections[s];

		if (strlen(sec->key) != seglen ||
		    strncmp(rest, sec->key, seglen))
			continue;
		if (slash && (!slash[1] || strchr(slash + 1, '/')))
			return NULL;
		bool agents = !strcmp(sec->key, "accounts") ||
			      !strcmp(sec->key, "mapping_gateways") ||
			      !strcmp(sec->key, "phones");
		const struct api_route *table =
		    agents ? agent_config_routes : config_routes;

		for (size_t i = 0;
		     i < sizeof(config_routes) / sizeof(config_routes[0]);
		     i++) {
			const struct api_route *cr = &table[i];

			if ((*cr->path == '*') != (slash != NULL))
				continue;
			if (strlen(allow) + 8 < allowsz)
				snprintf(allow + strlen(allow),
					 allowsz - strlen(allow), "%s%s",
					 *allow ? ", " : "", cr->method);
			if (strcmp(method, cr->method))
				continue;
			if (slash && !decode(slash + 1, strlen(slash + 1), sub,
					     subsz, false)) {
				*bad_name = true;
				return NULL;
			}
			*secp = sec;
			return cr;
		}
		return NULL;
	}
	return NULL;
}

void bd_api_handle(struct bd_api *api, struct http_conn *conn,
		   const struct http_msg *msg)
{
	struct api_req *r;
	const struct http_hdr *h;
	char allow[96], extra[128];
	bool bad_name;
	int err;

	r = mem_zalloc(sizeof(*r), req_destructor);
	if (!r) {
		direct_error(conn, 503, NULL, "unavailable", "out of memory");
		return;
	}
	r->api = api;
	r->tls = *api->bd->conf.http_tls_cert != '\0';
	pl_copy(&msg->met, r->method, sizeof(r->method));
	if (msg->path.l >= sizeof(r->path)) {
		direct_error(conn, 404, NULL, "not_found", "path too long");
		mem_deref(r);
		return;
	}
	pl_copy(&msg->path, r->path, sizeof(r->path));
	r->route = route_find(r->method, r->path, &r->sec, r->sub,
			      sizeof(r->sub), allow, sizeof(allow), &bad_name);
	if (!r->route) {
		if (bad_name) {
			direct_error(conn, 400, NULL, "bad_request",
				     "the name in the path is badly encoded");
		} else if (*allow) {
			snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
			direct_error(conn, 405, extra, "method_not_allowed",
				     "method not allowed on this resource");
		} else {
			direct_error(conn, 404, NULL, "not_found",
				     "no such resource");
		}
		mem_deref(r);
		return;
	}
	if (msg->prm.l >= sizeof(r->query)) {
		direct_error(conn, 400, NULL, "bad_request",
			     "query string too long");
		mem_deref(r);
		return;
	}
	pl_copy(&msg->prm, r->query, sizeof(r->query));
	if (r->query[0] == '?')
		memmove(r->query, r->query + 1, strlen(r->query));
	if (!query_valid(r->query)) {
		direct_error(conn, 400, NULL, "bad_request",
			     "the query string is badly encoded (or holds "
			     "control characters)");
		mem_deref(r);
		return;
	}
	sa_ntop(http_conn_peer(conn), r->ip, sizeof(r->ip));
	if (msg->mb && mbuf_get_left(msg->mb)) {
		r->blen = mbuf_get_left(msg->mb);
		r->body = malloc(r->blen + 1);
		if (!r->body) {
			direct_error(conn, 503, NULL, "unavailable",
				     "out of memory");
			mem_deref(r);
			return;
		}
		memcpy(r->body, mbuf_buf(msg->mb), r->blen);
		r->body[r->blen] = '\0';
	}
	cookie_get(msg, "tandem_session", r->cookie, sizeof(r->cookie));
	h = http_msg_hdr(msg, HTTP_HDR_AUTHORIZATION);
	if (h && h->val.l > 7 && !strncasecmp(h->val.p, "Bearer ", 7) &&
	    h->val.l - 7 < sizeof(r->bearer)) {
		memcpy(r->bearer, h->val.p + 7, h->val.l - 7);
		r->bearer[h->val.l - 7] = '\0';
	}
	h = http_msg_xhdr(msg, "X-CSRF-Token");
	if (h)
		pl_copy(&h->val, r->csrf_hdr, sizeof(r->csrf_hdr));
	h = http_msg_hdr(msg, HTTP_HDR_IF_MATCH);
	if (h)
		pl_copy(&h->val, r->if_match, sizeof(r->if_match));
	r->conn = mem_ref(conn);
	{
		/* libre hands the message const; the reference keeps it */
		union {
			const struct http_msg *c;
			struct http_msg *m;
		} u = {.c = msg};

		r->msg = mem_ref(u.m);
	}

	if (r->route->pre)
		r->route->pre(api->bd, r);
	err = r->route->stream ? api_stream_alloc(r) : 0;
	if (!err)
		err = bd_apiq_run(api->q, work, done, r);
	if (err) {
		direct_error(conn, 503, "Retry-After: 1\r\n", "unavailable",
			     "the API is busy; try again");
		mem_deref(r);
	}
}

static void destructor(void *arg)
{
	struct bd_api *api = arg;

	api_cdr_stop();
	mem_deref(api->q);
}

int bd_api_alloc(struct bd_api **apip, struct bd *bd,
		 const struct bd_api_loop_routes *loop)
{
	struct bd_api *api;
	int err;

	if (!apip || !bd || !loop)
		return EINVAL;
	api = mem_zalloc(sizeof(*api), destructor);
	if (!api)
		return ENOMEM;
	api->bd = bd;
	api->loop = *loop;
	err = bd_apiq_alloc(&api->q, bd->conf.db, BD_APIQ_WORKERS);
	if (err) {
		mem_deref(api);
		return err;
	}
	*apip = api;
	return 0;
}
