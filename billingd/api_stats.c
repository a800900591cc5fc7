/*
 * api_stats.c - statistics and alarms over HTTP
 *
 *   GET   /api/v1/stats/gateways?from=&to=   per routing gateway: attempts,
 *                                           answered, ASR, ACD, PDD,
 *                                           minutes, cost
 *   GET   /api/v1/stats/accounts?from=&to=   per account: calls, answered,
 *                                           ASR, ACD, PDD, failover rate,
 *                                           minutes, income, cost, profit
 *   GET   /api/v1/stats/today?tz=            today's calls, income, cost,
 *                                           profit and the top 10s
 *   GET   /api/v1/alarms?active=&limit=&offset=
 *   PATCH /api/v1/alarms/<id> {"acknowledged": true}
 *
 * Everything is computed from the CDR table in one query, so the numbers
 * are the CDRs' (docs/api.md defines each).  from/to as for CDRs; default
 * the last hour.  Agents and customers get the accounts of their subtree
 * (themselves) only.
 *
 * Threading: API worker.
 */
#define SW_LOG_MODULE "api"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "billingd/alarm.h"
#include "billingd/api_int.h"
#include "billingd/daemon.h"
#include "common/log.h"
#include "common/swtime.h"

/* from/to in ms (default: the last hour); false with a 400 set */
static bool range(struct api_req *r, char *from, char *to, size_t size)
{
	char v[64];
	int64_t f, t, now_ms;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	f = now_ms - 3600 * 1000LL;
	t = now_ms + 60 * 1000LL;
	if (api_query(r, "from", v, sizeof(v)) && !sw_time_parse(v, &f)) {
		api_error(r, 400, "invalid", "from",
			  "from: milliseconds since 1970 or ISO 8601");
		return false;
	}
	if (api_query(r, "to", v, sizeof(v)) && !sw_time_parse(v, &t)) {
		api_error(r, 400, "invalid", "to",
			  "to: milliseconds since 1970 or ISO 8601");
		return false;
	}
	if (t <= f) {
		api_error(r, 400, "invalid", "to", "to: after from, please");
		return false;
	}
	snprintf(from, size, "%lld", (long long)f);
	snprintf(to, size, "%lld", (long long)t);
	return true;
}

static void reply_rows(struct api_req *r, PGresult *res, const char *from,
		       const char *to)
{
	json_t *items =
	    json_loads(PQgetvalue(res, 0, PQfnumber(res, "j")), 0, NULL);

	api_ok(r, 200,
	       json_pack("{s:o, s:I, s:I}", "items",
			 items ? items : json_array(), "from",
			 (json_int_t)strtoll(from, NULL, 10), "to",
			 (json_int_t)strtoll(to, NULL, 10)));
}

static void gateways(PGconn *conn, struct api_req *r)
{
	char from[32], to[32], err[512];
	const char *p[2] = {from, to};
	PGresult *res;

	if (!(r->who.role & ROLES_STAFF)) {
		api_error(r, 403, "forbidden", NULL,
			  "gateway statistics are for staff");
		return;
	}
	if (!range(r, from, to, sizeof(from)))
		return;
	res = md_pq_exec(
	    conn,
	    "WITH c AS (SELECT * FROM cdr WHERE setup_time >= "
	    "to_timestamp($1::bigint / 1000.0) AND setup_time < "
	    "to_timestamp($2::bigint / 1000.0)), a AS (SELECT t.gateway, "
	    "count(*) AS attempts, count(*) FILTER (WHERE t.code = 200) AS "
	    "answered FROM c, jsonb_to_recordset(c.attempts) AS t(gateway "
	    "text, code integer) GROUP BY t.gateway), h AS (SELECT "
	    "routing_gateway AS gateway, "
	    "sum(hold_ms) AS hold_ms, count(*) FILTER (WHERE answer_ms > 0) "
	    "AS calls_answered, avg(pdd_ms) FILTER (WHERE pdd_ms > 0) AS "
	    "pdd, sum(vendor_cost) AS cost FROM c WHERE routing_gateway <> "
	    "'' GROUP BY routing_gateway) SELECT "
	    "coalesce(json_agg(json_build_object('gateway', a.gateway, "
	    "'attempts', a.attempts, 'answered', a.answered, 'asr', "
	    "round(100.0 * a.answered / a.attempts, 2), 'acd_s', CASE WHEN "
	    "coalesce(h.calls_answered, 0) > 0 THEN round(h.hold_ms / 1000.0 "
	    "/ h.calls_answered, 1) ELSE 0 END, 'pdd_ms', "
	    "coalesce(round(h.pdd), 0), 'minutes', round(coalesce(h.hold_ms, "
	    "0) / 60000.0, 2), 'cost', money_text(coalesce(h.cost, 0))) "
	    "ORDER BY a.gateway), '[]')::text AS j FROM a LEFT JOIN h ON "
	    "h.gateway = a.gateway",
	    2, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	reply_rows(r, res, from, to);
	PQclear(res);
}

static void accounts(PGconn *conn, struct api_req *r)
{
	char from[32], to[32], me[24], err[512];
	const char *p[3] = {from, to, NULL};
	PGresult *res;

	if (!range(r, from, to, sizeof(from)))
		return;
	if (!(r->who.role & ROLES_STAFF)) {
		snprintf(me, sizeof(me), "%lld", r->who.account_id);
		p[2] = me;
	}
	res = md_pq_exec(
	    conn,
	    "WITH RECURSIVE sub(id) AS (SELECT $3::bigint WHERE $3 IS NOT "
	    "NULL UNION ALL SELECT x.id FROM accounts x JOIN sub ON "
	    "x.agent_id = sub.id), c AS (SELECT c.*, "
	    "jsonb_array_length(c.attempts) AS tries FROM cdr c WHERE "
	    "setup_time >= to_timestamp($1::bigint / 1000.0) AND setup_time "
	    "< to_timestamp($2::bigint / 1000.0) AND ($3::bigint IS NULL OR "
	    "c.account_id IN (SELECT id FROM sub))), s AS (SELECT account, "
	    "count(*) AS calls, count(*) FILTER (WHERE answer_ms > 0) AS "
	    "answered, sum(hold_ms) AS hold_ms, avg(pdd_ms) FILTER (WHERE "
	    "pdd_ms > 0) AS pdd, count(*) FILTER (WHERE tries > 1) AS "
	    "failed_over, count(*) FILTER (WHERE tries > 0) AS routed, "
	    "sum(fee) AS income, sum(vendor_cost) AS cost FROM c GROUP BY "
	    "account) SELECT coalesce(json_agg(json_build_object('account', "
	    "account, 'calls', calls, 'answered', answered, 'asr', "
	    "round(100.0 * answered / calls, 2), 'acd_s', CASE WHEN answered "
	    "> 0 THEN round(hold_ms / 1000.0 / answered, 1) ELSE 0 END, "
	    "'pdd_ms', coalesce(round(pdd), 0), 'failover_rate', CASE WHEN "
	    "routed > 0 THEN round(100.0 * failed_over / routed, 2) ELSE 0 "
	    "END, 'minutes', round(hold_ms / 60000.0, 2), 'income', "
	    "money_text(income), 'cost', money_text(cost), 'profit', "
	    "money_text(income - cost)) ORDER BY account), '[]')::text AS j "
	    "FROM s",
	    3, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	reply_rows(r, res, from, to);
	PQclear(res);
}

/* today's figures in tz (checked by the caller), or NULL with err */
static json_t *today_json(PGconn *conn, const char *tz, char *err, size_t errsz)
{
	const char *p[1] = {tz};
	PGresult *res;
	json_t *j;

	res = md_pq_exec(
	    conn,
	    "WITH c AS (SELECT * FROM cdr WHERE setup_time >= "
	    "(date_trunc('day', now() AT TIME ZONE $1) AT TIME ZONE $1)), "
	    "acc AS (SELECT account, sum(fee) AS income FROM c GROUP BY "
	    "account ORDER BY sum(fee) DESC, account LIMIT 10), gw AS "
	    "(SELECT routing_gateway, sum(hold_ms) AS hold_ms FROM c WHERE "
	    "routing_gateway <> '' GROUP BY routing_gateway ORDER BY "
	    "sum(hold_ms) DESC, routing_gateway LIMIT 10), dst AS (SELECT "
	    "rate_prefix, sum(hold_ms) AS hold_ms FROM c WHERE answer_ms > 0 "
	    "GROUP BY rate_prefix ORDER BY sum(hold_ms) DESC, rate_prefix "
	    "LIMIT 10) SELECT json_build_object('tz', $1::text, 'since', "
	    "(date_trunc('day', now() AT TIME ZONE $1) AT TIME ZONE $1), "
	    "'calls', (SELECT count(*) FROM c), 'answered', (SELECT count(*) "
	    "FROM c WHERE answer_ms > 0), 'minutes', (SELECT "
	    "round(coalesce(sum(hold_ms), 0) / 60000.0, 2) FROM c), "
	    "'income', (SELECT money_text(coalesce(sum(fee), 0)) FROM c), "
	    "'cost', (SELECT money_text(coalesce(sum(vendor_cost), 0)) FROM "
	    "c), 'profit', (SELECT money_text(coalesce(sum(fee), 0) - "
	    "coalesce(sum(vendor_cost), 0)) FROM c), 'top_accounts', (SELECT "
	    "coalesce(json_agg(json_build_object('account', account, "
	    "'income', money_text(income))), '[]') FROM acc), "
	    "'top_gateways', (SELECT "
	    "coalesce(json_agg(json_build_object('gateway', routing_gateway, "
	    "'minutes', round(hold_ms / 60000.0, 2))), '[]') FROM gw), "
	    "'top_destinations', (SELECT "
	    "coalesce(json_agg(json_build_object('prefix', rate_prefix, "
	    "'minutes', round(hold_ms / 60000.0, 2))), '[]') FROM "
	    "dst))::text AS j",
	    1, p, err, errsz);
	if (!res)
		return NULL;
	j = json_loads(PQgetvalue(res, 0, PQfnumber(res, "j")), 0, NULL);
	PQclear(res);
	return j;
}

/* true when tz is a time zone PostgreSQL knows; else a 400 is set */
static bool tz_ok(PGconn *conn, struct api_req *r, const char *tz)
{
	const char *p[1] = {tz};
	char err[512];
	PGresult *res;
	bool ok;

	if (!*tz || strlen(tz) > 64) {
		api_error(r, 400, "invalid", "tz", "tz: an IANA time zone");
		return false;
	}
	res =
	    md_pq_exec(conn, "SELECT 1 FROM pg_timezone_names WHERE name = $1",
		       1, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return false;
	}
	ok = PQntuples(res) > 0;
	PQclear(res);
	if (!ok)
		api_error(r, 400, "invalid", "tz", "tz: unknown time zone");
	return ok;
}

static void today(PGconn *conn, struct api_req *r)
{
	char tz[80] = "UTC", err[512];
	json_t *j;

	if (!(r->who.role & ROLES_STAFF)) {
		api_error(r, 403, "forbidden", NULL,
			  "the switch's totals are for staff");
		return;
	}
	if (api_query(r, "tz", tz, sizeof(tz)) && !*tz)
		tz[0] = '\0';
	if (!tz_ok(conn, r, tz))
		return;
	j = today_json(conn, tz, err, sizeof(err));
	if (!j) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, j);
}

/*
 * The last `minutes` minutes, minute by minute, from the CDRs: calls up at
 * the minute's start (answered before, ended after), attempts set up in
 * it, answered ones and their ASR.  Calls still up have no CDR yet: the
 * dashboard adds its live count to the last point.
 */
static void timeline(PGconn *conn, struct api_req *r)
{
	char v[16], mins[16] = "60", err[512];
	const char *p[1] = {mins};
	PGresult *res;
	json_t *j;
	long m;

	if (!(r->who.role & ROLES_STAFF)) {
		api_error(r, 403, "forbidden", NULL,
			  "the switch's timeline is for staff");
		return;
	}
	if (api_query(r, "minutes", v, sizeof(v))) {
		char *end;

		m = strtol(v, &end, 10);
		if (*end || m < 1 || m > 1440) {
			api_error(r, 400, "invalid", "minutes",
				  "minutes: 1..1440");
			return;
		}
		snprintf(mins, sizeof(mins), "%ld", m);
	}
	res = md_pq_exec(
	    conn,
	    "WITH t AS (SELECT generate_series(date_trunc('minute', now()) - "
	    "make_interval(mins => $1::int - 1), date_trunc('minute', "
	    "now()), interval '1 minute') AS at), c AS (SELECT setup_ms, "
	    "answer_ms, end_ms FROM cdr WHERE setup_time >= "
	    "date_trunc('minute', now()) - make_interval(mins => $1::int) - "
	    "interval '1 day'), p AS (SELECT t.at, (extract(epoch FROM t.at) "
	    "* 1000)::bigint AS ms FROM t) SELECT "
	    "coalesce(json_agg(json_build_object('at', p.at, 'calls_up', "
	    "(SELECT count(*) FROM c WHERE c.answer_ms > 0 AND c.answer_ms "
	    "<= p.ms AND c.end_ms > p.ms), 'attempts', (SELECT count(*) FROM "
	    "c WHERE c.setup_ms >= p.ms AND c.setup_ms < p.ms + 60000), "
	    "'answered', (SELECT count(*) FROM c WHERE c.setup_ms >= p.ms "
	    "AND c.setup_ms < p.ms + 60000 AND c.answer_ms > 0)) ORDER BY "
	    "p.at), '[]')::text AS j FROM p",
	    1, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	j = json_loads(PQgetvalue(res, 0, PQfnumber(res, "j")), 0, NULL);
	PQclear(res);
	api_ok(r, 200, json_pack("{s:o}", "points", j ? j : json_array()));
}

/* on the loop: signalingd's last answer and the calls per second */
void api_dashboard_pre(struct bd *bd, struct api_req *r)
{
	double cps;
	json_t *h = bd_alarms_health(bd->alarms, &cps);

	r->pre_data =
	    json_pack("{s:o, s:f}", "health", h ? h : json_null(), "cps", cps);
}

/*
 * GET /api/v1/dashboard.  Phones online and password gateways registered
 * are counted from the table registrations, split as its list splits them
 * (a number that is a phone is a phone), not from signalingd's
 * registrations in health.ping, which counts both kinds together.
 */
void api_dashboard(PGconn *conn, struct api_req *r)
{
	json_t *h = json_object_get(r->pre_data, "health");
	json_t *offline = json_object_get(h, "gateways_offline");
	json_t *nodes = json_object_get(h, "media_nodes"), *n, *today, *out;
	char err[512], off[4096];
	const char *p[1] = {off};
	PGresult *res;
	size_t i, online = 0;
	char *offj;

	json_array_foreach(nodes, i, n)
	{
		if (json_is_true(json_object_get(n, "online")))
			online++;
	}
	offj = json_dumps(json_is_array(offline) ? offline : json_array(),
			  JSON_COMPACT);
	snprintf(off, sizeof(off), "%s", offj ? offj : "[]");
	free(offj);
	today = today_json(conn, "UTC", err, sizeof(err));
	if (!today) {
		api_db_error(r, err);
		return;
	}
	res = md_pq_exec(
	    conn,
	    "SELECT (SELECT count(*) FROM mapping_gateways) AS mg, (SELECT "
	    "count(*) FROM mapping_gateways WHERE locked) AS mg_locked, "
	    "(SELECT count(*) FROM routing_gateways) AS rg, (SELECT count(*) "
	    "FROM routing_gateways WHERE locked) AS rg_locked, (SELECT "
	    "count(*) FROM routing_gateways WHERE NOT locked AND name IN "
	    "(SELECT json_array_elements_text($1::json))) AS rg_offline, "
	    "(SELECT count(*) FROM phones) AS phones, (SELECT count(*) FROM "
	    "registrations g WHERE g.expires_at > now() AND EXISTS (SELECT 1 "
	    "FROM phones p WHERE p.number = g.number)) AS phones_online, "
	    "(SELECT count(*) FROM registrations g WHERE g.expires_at > now() "
	    "AND NOT EXISTS (SELECT 1 FROM phones p WHERE p.number = "
	    "g.number)) AS mg_registered, (SELECT count(*) FROM "
	    "alarms WHERE cleared_at IS NULL) AS alarms, (SELECT count(*) "
	    "FROM alarms WHERE cleared_at IS NULL AND severity = 'critical') "
	    "AS critical, (SELECT count(*) FROM alarms WHERE cleared_at IS "
	    "NULL AND acked_at IS NULL) AS unacked",
	    1, p, err, sizeof(err));
	if (!res) {
		json_decref(today);
		api_db_error(r, err);
		return;
	}
#define N(col)                                                                 \
	(json_int_t) strtoll(PQgetvalue(res, 0, PQfnumber(res, col)), NULL, 10)
	out = json_pack(
	    "{s:{s:b, s:I, s:f, s:I}, s:{s:I, s:I}, s:{s:I, s:I, s:I}, s:{s:I, "
	    "s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I, s:I}, s:o}",
	    "signalingd", "up", h && !json_is_null(h), "calls",
	    json_integer_value(json_object_get(h, "calls")), "cps",
	    json_real_value(json_object_get(r->pre_data, "cps")),
	    "calls_started",
	    json_integer_value(json_object_get(h, "calls_started")),
	    "media_nodes", "online", (json_int_t)online, "total",
	    (json_int_t)json_array_size(nodes), "mapping_gateways", "total",
	    N("mg"), "locked", N("mg_locked"), "registered", N("mg_registered"),
	    "routing_gateways", "total", N("rg"), "locked", N("rg_locked"),
	    "offline", N("rg_offline"), "phones", "total", N("phones"),
	    "online", N("phones_online"), "alarms", "active", N("alarms"),
	    "critical", N("critical"), "unacknowledged", N("unacked"), "today",
	    today);
#undef N
	PQclear(res);
	api_ok(r, 200, out);
}

void api_stats(PGconn *conn, struct api_req *r)
{
	if (!strcmp(r->sub, "gateways"))
		gateways(conn, r);
	else if (!strcmp(r->sub, "accounts"))
		accounts(conn, r);
	else if (!strcmp(r->sub, "today"))
		today(conn, r);
	else if (!strcmp(r->sub, "timeline"))
		timeline(conn, r);
	else
		api_error(r, 404, "not_found", NULL,
			  "statistics: gateways, accounts, today or timeline");
}

void api_alarms_list(PGconn *conn, struct api_req *r)
{
	long limit, offset;
	char lim[24], off[24], active[8], err[512];
	const char *p[3] = {lim, off, NULL};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	if (api_query(r, "active", active, sizeof(active))) {
		if (strcmp(active, "true") && strcmp(active, "false")) {
			api_error(r, 400, "invalid", "active",
				  "active: true or false");
			return;
		}
		p[2] = active;
	}
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	res = md_pq_exec(
	    conn,
	    "WITH f AS (SELECT * FROM alarms WHERE $3::boolean IS NULL OR "
	    "(cleared_at IS NULL) = $3::boolean) SELECT coalesce((SELECT "
	    "json_agg(j) FROM (SELECT json_build_object('id', id, 'kind', "
	    "kind, 'severity', severity, 'subject', subject, 'message', "
	    "message, 'raised_at', raised_at, 'cleared_at', cleared_at, "
	    "'acked_at', acked_at, 'acked_by', acked_by) AS j FROM f ORDER "
	    "BY id DESC LIMIT $1::int OFFSET $2::int) x), '[]')::text AS j, "
	    "(SELECT count(*) FROM f) AS total",
	    3, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, api_page_json(res, limit, offset));
	PQclear(res);
}

/*
 * GET /api/v1/registrations: the phones and password gateways registered
 * now (table registrations, written by signalingd), by user, with the
 * account (and the gateway's name) they belong to.  kind= keeps one kind,
 * q= the rows with that text (any case) in the user, contact, source,
 * node, account or gateway.  A number that is a phone is a phone, as on
 * the dashboard (api_dashboard).
 */
void api_registrations_list(PGconn *conn, struct api_req *r)
{
	long limit, offset;
	char lim[24], off[24], kind[24], q[72], err[512];
	const char *p[4] = {lim, off, NULL, NULL};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	if (api_query(r, "kind", kind, sizeof(kind))) {
		if (strcmp(kind, "phone") && strcmp(kind, "mapping_gateway")) {
			api_error(r, 400, "invalid", "kind",
				  "kind: phone or mapping_gateway");
			return;
		}
		p[2] = kind;
	}
	if (api_query(r, "q", q, sizeof(q)) && *q) {
		if (strlen(q) > 64 || (unsigned char)q[0] == 0x7f) {
			api_error(r, 400, "invalid", "q",
				  "q: 1..64 characters");
			return;
		}
		p[3] = q;
	}
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	res = md_pq_exec(
	    conn,
	    "WITH g AS (SELECT g.*, (SELECT a.name FROM phones p JOIN "
	    "accounts a ON a.id = p.account_id WHERE p.number = g.number) "
	    "AS phone_account, m.name AS gw, m.account AS gw_account FROM "
	    "registrations g LEFT JOIN LATERAL (SELECT mg.name, a.name AS "
	    "account FROM mapping_gateways mg JOIN accounts a ON a.id = "
	    "mg.account_id WHERE mg.username = g.number ORDER BY "
	    "mg.auth_mode <> 'password', mg.name LIMIT 1) m ON true WHERE "
	    "g.expires_at > now()), f AS (SELECT number, contact, source, "
	    "node, expires_at, updated_at, CASE WHEN phone_account IS NOT "
	    "NULL THEN 'phone' ELSE 'mapping_gateway' END AS kind, "
	    "coalesce(phone_account, gw_account) AS account, CASE WHEN "
	    "phone_account IS NULL THEN gw END AS gateway FROM g), s AS "
	    "(SELECT * FROM f WHERE ($3::text IS NULL OR kind = $3) AND "
	    "($4::text IS NULL OR strpos(lower(concat_ws(' ', number, "
	    "contact, source, node, account, gateway)), lower($4)) > 0)) "
	    "SELECT coalesce((SELECT json_agg(j) FROM (SELECT "
	    "json_build_object('user', number, 'kind', kind, 'account', "
	    "account, 'gateway', gateway, 'contact', contact, 'source', "
	    "source, 'node', node, 'expires_at', expires_at, 'updated_at', "
	    "updated_at) AS j FROM s ORDER BY number LIMIT $1::int OFFSET "
	    "$2::int) x), '[]')::text AS j, (SELECT count(*) FROM s) AS "
	    "total",
	    4, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, api_page_json(res, limit, offset));
	PQclear(res);
}

void api_alarm_ack(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r);
	const char *p[2] = {r->sub, r->who.user};
	char err[512];
	PGresult *res;

	if (!body)
		return;
	if (json_object_size(body) != 1 ||
	    !json_is_true(json_object_get(body, "acknowledged"))) {
		api_error(r, 400, "invalid", "acknowledged",
			  "acknowledged: true (and nothing else)");
		goto out;
	}
	if (!*r->sub || strlen(r->sub) > 18 ||
	    strspn(r->sub, "0123456789") != strlen(r->sub)) {
		api_error(r, 404, "not_found", NULL, "no such alarm");
		goto out;
	}
	res = md_pq_exec(
	    conn,
	    "UPDATE alarms SET acked_at = coalesce(acked_at, now()), "
	    "acked_by = coalesce(acked_by, $2) WHERE id = $1::bigint "
	    "RETURNING json_build_object('id', id, 'kind', kind, 'severity', "
	    "severity, 'subject', subject, 'message', message, 'raised_at', "
	    "raised_at, 'cleared_at', cleared_at, 'acked_at', acked_at, "
	    "'acked_by', acked_by)::text AS j",
	    2, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		goto out;
	}
	if (!PQntuples(res)) {
		PQclear(res);
		api_error(r, 404, "not_found", NULL, "no such alarm");
		goto out;
	}
	api_audit(conn, r, "acknowledge", "alarm",
		  json_pack("{s:s}", "id", r->sub));
	api_ok(r, 200, json_loads(md_pq_get(res, 0, "j"), 0, NULL));
	PQclear(res);
out:
	json_decref(body);
}
