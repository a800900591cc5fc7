/*
 * db.c - routing tables from PostgreSQL, blocking at start-up, async later
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define SW_LOG_MODULE "db"
#include "common/log.h"
#include "common/swtime.h"
#include "signaling/db.h"

/* the blacklist (edge.h): addresses only, the active entries, those
 * without expiry and the longest-lived first should the table be full */
#define BL_SQL                                                                 \
	"SELECT host(ip) AS ip, coalesce((extract(epoch FROM expires_at - "    \
	"now()) * 1000)::bigint, -1) AS left_ms FROM blacklist"                \
	" WHERE (expires_at IS NULL OR expires_at > now())"                    \
	" AND masklen(ip) = CASE family(ip) WHEN 4 THEN 32 ELSE 128 END"       \
	" ORDER BY expires_at DESC NULLS FIRST LIMIT " SG_BL_MAX_S ";"
#define LOAD_RESULTS 8 /* results of load_sql; the blacklist is the last */

/* the statements, in the order their results arrive */
static const char load_sql[] =
    "SELECT name, value FROM system_parameters;"
    "SELECT m.id, m.name, a.name AS account, a.billing_type, m.auth_mode,"
    " array_to_string(m.ips, ',') AS ips,"
    " array_to_string(m.ports, ',') AS ports,"
    " m.max_call_duration_s, (m.locked OR a.locked) AS locked,"
    " m.cps_limit, m.max_concurrent_calls AS max_calls,"
    " a.max_concurrent_calls AS account_max_calls,"
    " m.caller_dial_plan::text AS caller_dial_plan,"
    " m.callee_dial_plan::text AS callee_dial_plan,"
    " m.priority_customer, m.caller_source,"
    " coalesce(m.username, '') AS username, coalesce(m.ha1, '') AS ha1,"
    " m.media::text AS media, m.phone_card_mode, m.phone_card_prefix,"
    " m.media_handover"
    " FROM mapping_gateways m JOIN accounts a ON a.id = m.account_id"
    " ORDER BY m.id;"
    "SELECT g.id, g.name, coalesce(a.name, ''), g.address, g.port,"
    " g.transport, g.priority, g.line_limit, g.gateway_prefix,"
    " g.switch_until_connect, array_to_string(g.stop_codes, ','),"
    " g.protect_route, g.locked,"
    " (SELECT count(*) FROM routing_gateway_prefixes p"
    "   WHERE p.routing_gateway_id = g.id),"
    " coalesce((SELECT string_agg(p.prefix, ',' ORDER BY p.prefix)"
    "   FROM routing_gateway_prefixes p"
    "   WHERE p.routing_gateway_id = g.id), ''),"
    " g.options_keepalive, g.mapping_filter_mode,"
    " cardinality(g.mapping_filter), array_to_string(g.mapping_filter, ','),"
    " g.caller_dial_plan::text, g.callee_dial_plan::text,"
    " coalesce(gg.name, ''), coalesce(gg.capacity, 0),"
    " coalesce(gg.reserved_lines, 0), coalesce(a.buy_rate_table_id, 0),"
    " coalesce(g.work_calendar_id, 0), g.active_period, g.media::text,"
    " g.media_handover"
    " FROM routing_gateways g LEFT JOIN accounts a ON a.id = g.account_id"
    " LEFT JOIN gateway_groups gg ON gg.id = g.gateway_group_id"
    " ORDER BY g.id;"
    "SELECT id, coalesce(agent_id, 0), name,"
    " cardinality(number_allow), array_to_string(number_allow, ','),"
    " cardinality(number_deny), array_to_string(number_deny, ',')"
    " FROM accounts ORDER BY id;"
    "SELECT e.rate_table_id, e.prefix, e.first_rate, e.next_rate"
    " FROM rate_entries e WHERE e.rate_table_id IN"
    " (SELECT buy_rate_table_id FROM accounts"
    "  WHERE buy_rate_table_id IS NOT NULL)"
    " AND length(e.prefix) <= 32;"
    "SELECT c.id, c.time_zone, array_to_string(c.working_days, ','),"
    " extract(epoch FROM c.work_start)::int,"
    " extract(epoch FROM c.work_end)::int,"
    " (SELECT count(*) FROM holidays h WHERE h.calendar_id = c.id),"
    " coalesce((SELECT string_agg(to_char(h.day, 'YYYY-MM-DD'), ',')"
    "   FROM holidays h WHERE h.calendar_id = c.id), '')"
    " FROM work_calendars c ORDER BY c.id;"
    "SELECT p.number, p.ha1, a.name AS account, a.billing_type,"
    " a.locked, a.max_concurrent_calls AS account_max_calls"
    " FROM phones p JOIN accounts a ON a.id = p.account_id ORDER BY "
    "p.id;" BL_SQL;

/* the blacklist alone: what a change of only the blacklist reloads */
static const char bl_sql[] = BL_SQL;

struct loader {
	struct sg_tables *t;
	bool bl_only; /* bl_sql: the blacklist alone */
	int nresult;
	int err;
	char why[256];
};

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static int to_int(const char *s)
{
	long v = strtol(s ? s : "0", NULL, 10);

	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

/* column `name` of row i ("" when the query has no such column) */
static const char *col(const PGresult *r, int i, const char *name)
{
	int c = PQfnumber(r, name);

	return c < 0 ? "" : PQgetvalue(r, i, c);
}

static bool truthy(const char *s)
{
	return s && (s[0] == 't' || s[0] == '1');
}

/* split "a,b,,c" keeping empty items; returns count or -1 */
static long split(char ***outp, const char *s, size_t expect)
{
	char **v;
	size_t n = 0;
	const char *p = s;

	v = calloc(expect ? expect : 1, sizeof(*v));
	if (!v)
		return -1;
	while (n < expect) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		v[n] = strndup(p, len);
		if (!v[n])
			goto fail;
		n++;
		if (!c)
			break;
		p = c + 1;
	}
	*outp = v;
	return (long)n;
fail:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -1;
}

/* a bad plan is logged and left empty: the gateway still works */
static void load_plan(struct sg_dialplan *dp, const char *json,
		      const char *kind, const char *name, const char *which)
{
	char err[160];

	if (sg_dialplan_parse(dp, json, err, sizeof(err)))
		sw_warn("%s gateway %s: %s dial plan ignored: %s", kind, name,
			which, err);
}

/* codec/DTMF settings: a bad value keeps its default (logged) */
static void load_media(struct sg_cp_conf *c, const char *json, const char *kind,
		       const char *name)
{
	char err[160];

	if (sg_cp_conf_parse(c, json, err, sizeof(err)))
		sw_warn("%s gateway %s: %s", kind, name, err);
}

static void load_params(struct loader *l, const PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		const char *val = PQgetvalue(r, i, 1);
		int err = sg_params_set(&l->t->params, name, val);

		if (err && err != ENOENT)
			sw_warn("system parameter %s='%s' ignored: %s", name,
				val, strerror(err));
	}
}

static int load_mgws(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	struct sg_tables *t = l->t;

	t->mgws = calloc((size_t)n + 1, sizeof(*t->mgws));
	if (!t->mgws)
		return ENOMEM;

	for (int i = 0; i < n; i++) {
		struct sg_mgw *m = &t->mgws[t->nmgws];
		const char *ips = col(r, i, "ips");
		const char *ports = col(r, i, "ports");
		char **items = NULL;
		long k;

		m->id = strtoll(col(r, i, "id"), NULL, 10);
		copy(m->name, sizeof(m->name), col(r, i, "name"));
		copy(m->account, sizeof(m->account), col(r, i, "account"));
		m->postpaid = !strcmp(col(r, i, "billing_type"), "postpaid");
		copy(m->auth_mode, sizeof(m->auth_mode),
		     col(r, i, "auth_mode"));
		m->max_duration_s =
		    strtoll(col(r, i, "max_call_duration_s"), NULL, 10);
		m->locked = truthy(col(r, i, "locked"));
		m->cps_limit = strtoll(col(r, i, "cps_limit"), NULL, 10);
		m->max_calls = strtoll(col(r, i, "max_calls"), NULL, 10);
		m->account_max_calls =
		    strtoll(col(r, i, "account_max_calls"), NULL, 10);
		t->nmgws++;
		load_plan(&m->caller_dp, col(r, i, "caller_dial_plan"),
			  "mapping", m->name, "caller");
		load_plan(&m->callee_dp, col(r, i, "callee_dial_plan"),
			  "mapping", m->name, "callee");
		m->priority_customer = truthy(col(r, i, "priority_customer"));
		copy(m->caller_source, sizeof(m->caller_source),
		     col(r, i, "caller_source"));
		copy(m->username, sizeof(m->username), col(r, i, "username"));
		copy(m->ha1, sizeof(m->ha1), col(r, i, "ha1"));
		load_media(&m->media, col(r, i, "media"), "mapping", m->name);
		m->phone_card = truthy(col(r, i, "phone_card_mode"));
		copy(m->card_prefix, sizeof(m->card_prefix),
		     col(r, i, "phone_card_prefix"));
		m->media_handover = truthy(col(r, i, "media_handover"));

		if (*ips) {
			k = split(&items, ips, strlen(ips) / 2 + 1);
			if (k < 0)
				return ENOMEM;
			m->nets = calloc((size_t)k + 1, sizeof(*m->nets));
			for (long j = 0; j < k; j++) {
				if (m->nets &&
				    !sg_cidr_parse(&m->nets[m->nnets],
						   items[j]))
					m->nnets++;
				else if (m->nets)
					sw_warn("mapping gateway %s: bad ip "
						"'%s' ignored",
						m->name, items[j]);
				free(items[j]);
			}
			free(items);
			if (!m->nets)
				return ENOMEM;
		}
		if (*ports) {
			k = split(&items, ports, strlen(ports) / 2 + 1);
			if (k < 0)
				return ENOMEM;
			m->ports = calloc((size_t)k + 1, sizeof(*m->ports));
			for (long j = 0; j < k; j++) {
				if (m->ports)
					m->ports[m->nports++] =
					    to_int(items[j]);
				free(items[j]);
			}
			free(items);
			if (!m->ports)
				return ENOMEM;
		}
	}

	return 0;
}

static int load_gws(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	struct sg_tables *t = l->t;

	t->gws = calloc((size_t)n + 1, sizeof(*t->gws));
	if (!t->gws)
		return ENOMEM;

	for (int i = 0; i < n; i++) {
		struct sg_gw *g = &t->gws[t->ngws];
		const char *stops = PQgetvalue(r, i, 10);
		long nprefix = strtol(PQgetvalue(r, i, 13), NULL, 10);
		char **items = NULL;
		long k;

		g->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		copy(g->name, sizeof(g->name), PQgetvalue(r, i, 1));
		copy(g->account, sizeof(g->account), PQgetvalue(r, i, 2));
		copy(g->address, sizeof(g->address), PQgetvalue(r, i, 3));
		g->port = to_int(PQgetvalue(r, i, 4));
		g->tcp = !strcmp(PQgetvalue(r, i, 5), "tcp");
		g->priority = to_int(PQgetvalue(r, i, 6));
		g->line_limit = to_int(PQgetvalue(r, i, 7));
		copy(g->tech_prefix, sizeof(g->tech_prefix),
		     PQgetvalue(r, i, 8));
		g->switch_until_connect = truthy(PQgetvalue(r, i, 9));
		g->protect = truthy(PQgetvalue(r, i, 11));
		g->locked = truthy(PQgetvalue(r, i, 12));
		g->keepalive = truthy(PQgetvalue(r, i, 15));
		load_plan(&g->caller_dp, PQgetvalue(r, i, 19), "routing",
			  g->name, "caller");
		load_plan(&g->callee_dp, PQgetvalue(r, i, 20), "routing",
			  g->name, "callee");
		copy(g->group, sizeof(g->group), PQgetvalue(r, i, 21));
		g->group_capacity = to_int(PQgetvalue(r, i, 22));
		g->group_reserved = to_int(PQgetvalue(r, i, 23));
		g->buy_table_id = strtoll(PQgetvalue(r, i, 24), NULL, 10);
		g->calendar_id = strtoll(PQgetvalue(r, i, 25), NULL, 10);
		if (!strcmp(PQgetvalue(r, i, 26), "working"))
			g->period = SG_PERIOD_WORKING;
		else if (!strcmp(PQgetvalue(r, i, 26), "non_working"))
			g->period = SG_PERIOD_NON_WORKING;
		load_media(&g->media, PQgetvalue(r, i, 27), "routing", g->name);
		g->media_handover =
		    truthy(PQgetvalue(r, i, PQfnumber(r, "media_handover")));
		if (!strcmp(PQgetvalue(r, i, 16), "allow"))
			g->filter_mode = SG_FILTER_ALLOW;
		else if (!strcmp(PQgetvalue(r, i, 16), "forbid"))
			g->filter_mode = SG_FILTER_FORBID;
		t->ngws++;

		if (strtol(PQgetvalue(r, i, 17), NULL, 10) > 0) {
			k = split(
			    &g->filter, PQgetvalue(r, i, 18),
			    (size_t)strtol(PQgetvalue(r, i, 17), NULL, 10));
			if (k < 0)
				return ENOMEM;
			g->nfilter = (size_t)k;
		}

		if (*stops) {
			k = split(&items, stops, SG_STOP_MAX);
			if (k < 0)
				return ENOMEM;
			for (long j = 0; j < k; j++) {
				g->stop_codes[g->nstop++] = to_int(items[j]);
				free(items[j]);
			}
			free(items);
		}
		if (nprefix > 0) {
			k = split(&g->prefixes, PQgetvalue(r, i, 14),
				  (size_t)nprefix);
			if (k < 0)
				return ENOMEM;
			g->nprefixes = (size_t)k;
		}
	}

	return 0;
}

static int load_accounts(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	struct sg_tables *t = l->t;

	t->accounts = calloc((size_t)n + 1, sizeof(*t->accounts));
	if (!t->accounts)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sg_account *a = &t->accounts[t->naccounts++];
		long na = strtol(PQgetvalue(r, i, 3), NULL, 10);
		long nd = strtol(PQgetvalue(r, i, 5), NULL, 10);
		long k;

		a->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		a->agent_id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		copy(a->name, sizeof(a->name), PQgetvalue(r, i, 2));
		if (na > 0) {
			k = split(&a->allow, PQgetvalue(r, i, 4), (size_t)na);
			if (k < 0)
				return ENOMEM;
			a->nallow = (size_t)k;
		}
		if (nd > 0) {
			k = split(&a->deny, PQgetvalue(r, i, 6), (size_t)nd);
			if (k < 0)
				return ENOMEM;
			a->ndeny = (size_t)k;
		}
	}
	return 0;
}

static int load_rates(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	struct sg_tables *t = l->t;

	t->rates = calloc((size_t)n + 1, sizeof(*t->rates));
	if (!t->rates)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sg_rate *e = &t->rates[t->nrates++];

		e->table_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		copy(e->prefix, sizeof(e->prefix), PQgetvalue(r, i, 1));
		e->first_rate = strtoll(PQgetvalue(r, i, 2), NULL, 10);
		e->next_rate = strtoll(PQgetvalue(r, i, 3), NULL, 10);
	}
	return 0;
}

static int load_calendars(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	struct sg_tables *t = l->t;

	t->cals = calloc((size_t)n + 1, sizeof(*t->cals));
	if (!t->cals)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sg_calendar *c = &t->cals[t->ncals++];
		const char *days = PQgetvalue(r, i, 2);
		long nh = strtol(PQgetvalue(r, i, 5), NULL, 10);
		const char *h = PQgetvalue(r, i, 6);

		c->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		copy(c->tz, sizeof(c->tz), PQgetvalue(r, i, 1));
		for (const char *p = days; *p;) {
			char *end;
			long d = strtol(p, &end, 10);

			if (end == p)
				break;
			if (d >= 1 && d <= 7)
				c->days |= 1U << d;
			p = *end == ',' ? end + 1 : end;
			if (!*end || *end != ',')
				break;
		}
		c->start_s = to_int(PQgetvalue(r, i, 3));
		c->end_s = to_int(PQgetvalue(r, i, 4));
		if (nh > 0) {
			c->holidays = calloc((size_t)nh, sizeof(*c->holidays));
			if (!c->holidays)
				return ENOMEM;
			while (*h && c->nholidays < (size_t)nh) {
				snprintf(c->holidays[c->nholidays++],
					 sizeof(*c->holidays), "%.10s", h);
				h = strchr(h, ',');
				if (!h)
					break;
				h++;
			}
		}
		sg_calendar_prepare(c);
	}
	sg_calendar_refresh(t->cals, t->ncals, time(NULL));
	return 0;
}

/* phones become mapping gateways of their own: auth_mode "phone",
 * name "phone:<number>", digest user = the number */
static int load_phones(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	struct sg_tables *t = l->t;
	struct sg_mgw *m;

	if (!n)
		return 0;
	m = realloc(t->mgws, (t->nmgws + (size_t)n + 1) * sizeof(*m));
	if (!m)
		return ENOMEM;
	t->mgws = m;
	for (int i = 0; i < n; i++) {
		m = &t->mgws[t->nmgws++];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "phone:%s",
			 col(r, i, "number"));
		copy(m->username, sizeof(m->username), col(r, i, "number"));
		copy(m->ha1, sizeof(m->ha1), col(r, i, "ha1"));
		copy(m->account, sizeof(m->account), col(r, i, "account"));
		m->postpaid = !strcmp(col(r, i, "billing_type"), "postpaid");
		m->locked = truthy(col(r, i, "locked"));
		m->account_max_calls =
		    strtoll(col(r, i, "account_max_calls"), NULL, 10);
		copy(m->auth_mode, sizeof(m->auth_mode), "phone");
		copy(m->caller_source, sizeof(m->caller_source), "from");
	}
	return 0;
}

/* the active blacklist entries (edge.h applies them) */
static int load_blacklist(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	int cip = PQfnumber(r, "ip"), cleft = PQfnumber(r, "left_ms");
	struct sg_tables *t = l->t;

	if (!n)
		return 0;
	if (cip < 0 || cleft < 0)
		return EIO;
	t->bl = calloc((size_t)n, sizeof(*t->bl));
	if (!t->bl)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sg_bl_row *b = &t->bl[t->nbl];

		copy(b->ip, sizeof(b->ip), PQgetvalue(r, i, cip));
		b->left_ms = strtoll(PQgetvalue(r, i, cleft), NULL, 10);
		if (b->left_ms)
			t->nbl++;
	}
	return 0;
}

/* consume one result of load_sql */
static void collect(struct loader *l, PGresult *r)
{
	int idx = l->nresult++ + (l->bl_only ? LOAD_RESULTS - 1 : 0);

	if (l->err)
		goto out;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		l->err = EIO;
		snprintf(l->why, sizeof(l->why), "query %d: %s", idx,
			 PQresultErrorMessage(r));
		goto out;
	}
	switch (idx) {
	case 0:
		load_params(l, r);
		break;
	case 1:
		l->err = load_mgws(l, r);
		break;
	case 2:
		l->err = load_gws(l, r);
		break;
	case 3:
		l->err = load_accounts(l, r);
		break;
	case 4:
		l->err = load_rates(l, r);
		break;
	case 5:
		l->err = load_calendars(l, r);
		break;
	case 6:
		l->err = load_phones(l, r);
		break;
	case 7:
		l->err = load_blacklist(l, r);
		break;
	default:
		break;
	}
	if (l->err && !l->why[0])
		snprintf(l->why, sizeof(l->why), "%s", strerror(l->err));
out:
	PQclear(r);
}

static int loader_init(struct loader *l)
{
	memset(l, 0, sizeof(*l));
	l->t = sg_tables_alloc();
	return l->t ? 0 : ENOMEM;
}

static int loader_finish(struct loader *l, struct sg_tables **tp)
{
	int want = l->bl_only ? 1 : LOAD_RESULTS;

	if (!l->err && l->nresult != want) {
		l->err = EIO;
		snprintf(l->why, sizeof(l->why), "expected %d results, got %d",
			 want, l->nresult);
	}
	if (l->err) {
		sg_tables_unref(l->t);
		l->t = NULL;
		return l->err;
	}
	for (size_t i = 0; i < l->t->nmgws; i++) {
		if (!strcmp(l->t->mgws[i].auth_mode, "phone"))
			l->t->has_phones = true;
		else if (!strcmp(l->t->mgws[i].auth_mode, "password"))
			l->t->has_password = true;
	}
	if (!l->bl_only) {
		l->err = sg_tables_index(l->t);
		if (l->err) {
			snprintf(l->why, sizeof(l->why),
				 "indexing prefixes: %s", strerror(l->err));
			sg_tables_unref(l->t);
			l->t = NULL;
			return l->err;
		}
	}
	l->t->loaded_wall_ms = sw_time_wall_ms();
	*tp = l->t;
	l->t = NULL;
	return 0;
}

/*
 * Load the tables with a blocking connection (start-up only).  err gets a
 * one-line reason on failure.
 */
int sg_db_load_sync(struct sg_tables **tp, const char *conninfo, char *err,
		    size_t errsz)
{
	struct loader l;
	PGconn *conn;
	PGresult *r;
	int ret;

	if (!tp || !conninfo)
		return EINVAL;
	ret = loader_init(&l);
	if (ret)
		return ret;

	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errsz, "connect: %s", PQerrorMessage(conn));
		PQfinish(conn);
		sg_tables_unref(l.t);
		return ECONNREFUSED;
	}
	if (!PQsendQuery(conn, load_sql)) {
		snprintf(err, errsz, "query: %s", PQerrorMessage(conn));
		PQfinish(conn);
		sg_tables_unref(l.t);
		return EIO;
	}
	while ((r = PQgetResult(conn)))
		collect(&l, r);
	PQfinish(conn);

	ret = loader_finish(&l, tp);
	if (ret)
		snprintf(err, errsz, "%s", l.why);

	return ret;
}

/* ---- asynchronous load (SIGHUP) ---- */

enum db_state { DB_CONNECTING, DB_SENDING, DB_READING };

struct sg_db {
	su_root_t *root; /* borrowed */
	PGconn *conn;	 /* owned */
	su_wait_t wait[1];
	int registered;
	int fd;
	int events;
	enum db_state state;
	struct loader l;
	sg_db_loaded_h *h;
	void *arg;
	int64_t start_ms;
};

static int db_readable(void *magic, su_wait_t *w, void *arg);

static void db_unwatch(struct sg_db *db)
{
	if (db->registered) {
		su_root_unregister(db->root, db->wait, db_readable, db);
		su_wait_destroy(db->wait);
		db->registered = 0;
	}
}

static int db_watch(struct sg_db *db, int events)
{
	int fd = PQsocket(db->conn);

	if (db->registered && fd == db->fd && events == db->events)
		return 0;
	db_unwatch(db);
	if (fd < 0)
		return EBADF;
	if (su_wait_create(db->wait, fd, events) < 0)
		return EIO;
	if (su_root_register(db->root, db->wait, db_readable, db, 0) < 0) {
		su_wait_destroy(db->wait);
		return EIO;
	}
	db->registered = 1;
	db->fd = fd;
	db->events = events;
	return 0;
}

static void db_free(struct sg_db *db)
{
	db_unwatch(db);
	if (db->conn)
		PQfinish(db->conn);
	if (db->l.t)
		sg_tables_unref(db->l.t);
	free(db);
}

static void db_done(struct sg_db *db, int err, const char *why)
{
	struct sg_tables *t = NULL;

	if (!err) {
		err = loader_finish(&db->l, &t);
		why = db->l.why;
	}
	if (err)
		sw_err("%s reload failed: %s",
		       db->l.bl_only ? "blacklist" : "routing tables", why);
	else if (db->l.bl_only)
		sw_debug("blacklist reloaded in %lld ms: %zu entries",
			 (long long)(sw_time_mono_ms() - db->start_ms), t->nbl);
	else
		sw_info("routing tables reloaded in %lld ms: %zu mapping, "
			"%zu routing gateways",
			(long long)(sw_time_mono_ms() - db->start_ms), t->nmgws,
			t->ngws);
	if (db->h)
		db->h(err, t, db->arg);
	else if (t)
		sg_tables_unref(t);
	db_free(db);
}

/* drive the connection one step; returns true when db was freed */
static bool db_step(struct sg_db *db)
{
	PGresult *r;
	int rv;

	switch (db->state) {
	case DB_CONNECTING:
		switch (PQconnectPoll(db->conn)) {
		case PGRES_POLLING_READING:
			if (db_watch(db, SU_WAIT_IN))
				goto fail;
			return false;
		case PGRES_POLLING_WRITING:
			if (db_watch(db, SU_WAIT_OUT))
				goto fail;
			return false;
		case PGRES_POLLING_OK:
			break;
		default:
			goto fail;
		}
		if (PQsetnonblocking(db->conn, 1) ||
		    !PQsendQuery(db->conn, db->l.bl_only ? bl_sql : load_sql))
			goto fail;
		db->state = DB_SENDING;
		/* fall through */
	case DB_SENDING:
		rv = PQflush(db->conn);
		if (rv < 0)
			goto fail;
		if (rv > 0) {
			if (db_watch(db, SU_WAIT_IN | SU_WAIT_OUT))
				goto fail;
			return false;
		}
		db->state = DB_READING;
		if (db_watch(db, SU_WAIT_IN))
			goto fail;
		return false;
	case DB_READING:
		if (!PQconsumeInput(db->conn))
			goto fail;
		while (!PQisBusy(db->conn)) {
			r = PQgetResult(db->conn);
			if (!r) {
				db_done(db, 0, NULL);
				return true;
			}
			collect(&db->l, r);
		}
		return false;
	}
	return false;

fail : {
	char why[256];

	snprintf(why, sizeof(why), "%s", PQerrorMessage(db->conn));
	why[strcspn(why, "\n")] = '\0';
	db_done(db, EIO, why);
}
	return true;
}

static int db_readable(void *magic, su_wait_t *w, void *arg)
{
	struct sg_db *db = arg;

	(void)magic;
	(void)w;
	db_step(db);
	return 0;
}

/*
 * Start loading the tables without blocking; h(err, tables, arg) runs on
 * the loop exactly once unless sg_db_cancel() is called first.
 */
static int load_async(struct sg_db **dbp, su_root_t *root, const char *conninfo,
		      sg_db_loaded_h *h, void *arg, bool bl_only)
{
	struct sg_db *db;
	int err;

	if (!root || !conninfo || !h)
		return EINVAL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return ENOMEM;
	err = loader_init(&db->l);
	if (err) {
		free(db);
		return err;
	}
	db->l.bl_only = bl_only;
	db->root = root;
	db->h = h;
	db->arg = arg;
	db->fd = -1;
	db->start_ms = sw_time_mono_ms();
	db->state = DB_CONNECTING;
	db->conn = PQconnectStart(conninfo);
	if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD) {
		db_free(db);
		return ECONNREFUSED;
	}
	if (dbp)
		*dbp = db;
	/* the first poll step decides what to wait for; any failure is
	 * reported through h like a later one */
	if (db_step(db) && dbp)
		*dbp = NULL;
	return 0;
}

/*
 * Load the tables on a non-blocking connection watched by root; h gets
 * them (or an error) on the loop.
 */
int sg_db_load_async(struct sg_db **dbp, su_root_t *root, const char *conninfo,
		     sg_db_loaded_h *h, void *arg)
{
	return load_async(dbp, root, conninfo, h, arg, false);
}

/*
 * The same for the blacklist alone (a change notified as "blacklist"): h
 * gets a struct sg_tables holding only bl/nbl.
 */
int sg_db_load_blacklist_async(struct sg_db **dbp, su_root_t *root,
			       const char *conninfo, sg_db_loaded_h *h,
			       void *arg)
{
	return load_async(dbp, root, conninfo, h, arg, true);
}

/* Abandon a load in progress; its handler never runs. */
void sg_db_cancel(struct sg_db *db)
{
	if (db)
		db_free(db);
}
