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
#include "signaling/lastgood.h"

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
    " m.media_handover, m.support_privacy"
    " FROM mapping_gateways m JOIN accounts a ON a.id = m.account_id"
    " ORDER BY m.id;"
    "SELECT g.id, g.name, coalesce(a.name, '') AS account, g.address,"
    " g.port, g.transport, g.priority, g.line_limit, g.gateway_prefix,"
    " g.switch_until_connect,"
    " array_to_string(g.stop_codes, ',') AS stop_codes,"
    " g.protect_route, g.locked,"
    " (SELECT count(*) FROM routing_gateway_prefixes p"
    "   WHERE p.routing_gateway_id = g.id) AS nprefix,"
    " coalesce((SELECT string_agg(p.prefix, ',' ORDER BY p.prefix)"
    "   FROM routing_gateway_prefixes p"
    "   WHERE p.routing_gateway_id = g.id), '') AS prefixes,"
    " g.options_keepalive, coalesce(g.register_username, '')"
    " AS register_username, coalesce(g.register_password, '')"
    " AS register_password, g.mapping_filter_mode,"
    " cardinality(g.mapping_filter) AS nfilter,"
    " array_to_string(g.mapping_filter, ',') AS mapping_filter,"
    " g.caller_dial_plan::text AS caller_dial_plan,"
    " g.callee_dial_plan::text AS callee_dial_plan,"
    " coalesce(gg.name, '') AS gateway_group,"
    " coalesce(gg.capacity, 0) AS group_capacity,"
    " coalesce(gg.reserved_lines, 0) AS group_reserved,"
    " coalesce(a.buy_rate_table_id, 0) AS buy_rate_table_id,"
    " coalesce(g.work_calendar_id, 0) AS work_calendar_id,"
    " g.active_period, g.media::text AS media, g.media_handover,"
    " g.identity::text AS identity, g.caller_pool::text AS caller_pool"
    " FROM routing_gateways g LEFT JOIN accounts a ON a.id = g.account_id"
    " LEFT JOIN gateway_groups gg ON gg.id = g.gateway_group_id"
    " ORDER BY g.id;"
    "SELECT id, coalesce(agent_id, 0) AS agent_id, name,"
    " cardinality(number_allow) AS nallow,"
    " array_to_string(number_allow, ',') AS number_allow,"
    " cardinality(number_deny) AS ndeny,"
    " array_to_string(number_deny, ',') AS number_deny"
    " FROM accounts ORDER BY id;"
    "SELECT e.rate_table_id, e.prefix, e.first_rate, e.next_rate"
    " FROM rate_entries e WHERE e.rate_table_id IN"
    " (SELECT buy_rate_table_id FROM accounts"
    "  WHERE buy_rate_table_id IS NOT NULL)"
    " AND length(e.prefix) <= 32;"
    "SELECT c.id, c.time_zone,"
    " array_to_string(c.working_days, ',') AS working_days,"
    " extract(epoch FROM c.work_start)::int AS work_start_s,"
    " extract(epoch FROM c.work_end)::int AS work_end_s,"
    " (SELECT count(*) FROM holidays h WHERE h.calendar_id = c.id)"
    " AS nholiday,"
    " coalesce((SELECT string_agg(to_char(h.day, 'YYYY-MM-DD'), ',')"
    "   FROM holidays h WHERE h.calendar_id = c.id), '') AS holidays"
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
	bool keep;    /* results kept for the last good tables */
	PGresult *kept[LOAD_RESULTS];
	int nresult;
	int err;
	char why[256];
};

/* where the last good tables go ("" = nowhere) */
static char lastgood_path[4096];

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static int to_int(const char *s)
{
	long v = strtol(s ? s : "0", NULL, 10);

	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

static bool truthy(const char *s)
{
	return s && (s[0] == 't' || s[0] == '1');
}

/*
 * Rows are read by column name, never by position: each loader looks its
 * columns up once per result (find_cols), then reads every row with val()
 * and its typed forms.
 */

/* column c (a PQfnumber) of row i ("" when the query has no such column) */
static const char *val(const PGresult *r, int i, int c)
{
	return c < 0 ? "" : PQgetvalue(r, i, c);
}

static long long val_ll(const PGresult *r, int i, int c)
{
	return strtoll(val(r, i, c), NULL, 10);
}

static int val_int(const PGresult *r, int i, int c)
{
	return to_int(val(r, i, c));
}

static bool val_bool(const PGresult *r, int i, int c)
{
	return truthy(val(r, i, c));
}

/*
 * The numbers of the columns names[0..n) of r into c.  A name r lacks is a
 * mistake in load_sql: the load fails naming it (l->why) rather than read
 * "" in every row.
 */
static int find_cols(struct loader *l, const PGresult *r, const char *what,
		     const char *const *names, int *c, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		c[k] = PQfnumber(r, names[k]);
		if (c[k] < 0) {
			snprintf(l->why, sizeof(l->why), "%s: no column %s",
				 what, names[k]);
			return EIO;
		}
	}
	return 0;
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

/* caller identity and pool: a bad object leaves its defaults (logged) */
static void load_identity(struct sg_identity *id, struct sg_pool_conf *pool,
			  const char *json, const char *pool_json,
			  const char *name)
{
	char err[160];

	if (sg_identity_parse(id, json, err, sizeof(err)))
		sw_warn("routing gateway %s: %s: no identity headers", name,
			err);
	if (sg_pool_conf_parse(pool, pool_json, err, sizeof(err)))
		sw_warn("routing gateway %s: %s: no caller pool", name, err);
}

/* a column added after last good files were first written: "" when the
 * result has no such column */
static const char *opt_val(const PGresult *r, int row, const char *col)
{
	int c = PQfnumber(r, col);

	return c < 0 || PQgetisnull(r, row, c) ? "" : PQgetvalue(r, row, c);
}

static bool opt_bool(const PGresult *r, int row, const char *col)
{
	return opt_val(r, row, col)[0] == 't';
}

/* codec/DTMF settings: a bad value keeps its default (logged) */
static void load_media(struct sg_cp_conf *c, const char *json, const char *kind,
		       const char *name)
{
	char err[160];

	if (sg_cp_conf_parse(c, json, err, sizeof(err)))
		sw_warn("%s gateway %s: %s", kind, name, err);
}

static int load_params(struct loader *l, const PGresult *r)
{
	enum { P_NAME, P_VALUE, P_NCOLS };
	static const char *const names[P_NCOLS] = {"name", "value"};
	int c[P_NCOLS];

	if (find_cols(l, r, "system parameters", names, c, P_NCOLS))
		return EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = val(r, i, c[P_NAME]);
		const char *v = val(r, i, c[P_VALUE]);
		int err = sg_params_set(&l->t->params, name, v);

		if (err && err != ENOENT)
			sw_warn("system parameter %s='%s' ignored: %s", name, v,
				strerror(err));
	}
	return 0;
}

/* the mapping gateways' columns, as load_sql names them */
enum {
	MG_ID,
	MG_NAME,
	MG_ACCOUNT,
	MG_BILLING_TYPE,
	MG_AUTH_MODE,
	MG_IPS,
	MG_PORTS,
	MG_MAX_DURATION,
	MG_LOCKED,
	MG_CPS_LIMIT,
	MG_MAX_CALLS,
	MG_ACCOUNT_MAX_CALLS,
	MG_CALLER_DP,
	MG_CALLEE_DP,
	MG_PRIORITY_CUSTOMER,
	MG_CALLER_SOURCE,
	MG_USERNAME,
	MG_HA1,
	MG_MEDIA,
	MG_PHONE_CARD,
	MG_CARD_PREFIX,
	MG_HANDOVER,
	MG_NCOLS
};

static const char *const mgw_cols[MG_NCOLS] = {
    [MG_ID] = "id",
    [MG_NAME] = "name",
    [MG_ACCOUNT] = "account",
    [MG_BILLING_TYPE] = "billing_type",
    [MG_AUTH_MODE] = "auth_mode",
    [MG_IPS] = "ips",
    [MG_PORTS] = "ports",
    [MG_MAX_DURATION] = "max_call_duration_s",
    [MG_LOCKED] = "locked",
    [MG_CPS_LIMIT] = "cps_limit",
    [MG_MAX_CALLS] = "max_calls",
    [MG_ACCOUNT_MAX_CALLS] = "account_max_calls",
    [MG_CALLER_DP] = "caller_dial_plan",
    [MG_CALLEE_DP] = "callee_dial_plan",
    [MG_PRIORITY_CUSTOMER] = "priority_customer",
    [MG_CALLER_SOURCE] = "caller_source",
    [MG_USERNAME] = "username",
    [MG_HA1] = "ha1",
    [MG_MEDIA] = "media",
    [MG_PHONE_CARD] = "phone_card_mode",
    [MG_CARD_PREFIX] = "phone_card_prefix",
    [MG_HANDOVER] = "media_handover",
};

static int load_mgws(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	struct sg_tables *t = l->t;
	int c[MG_NCOLS];

	if (find_cols(l, r, "mapping gateways", mgw_cols, c, MG_NCOLS))
		return EIO;
	t->mgws = calloc((size_t)n + 1, sizeof(*t->mgws));
	if (!t->mgws)
		return ENOMEM;

	for (int i = 0; i < n; i++) {
		struct sg_mgw *m = &t->mgws[t->nmgws];
		const char *ips = val(r, i, c[MG_IPS]);
		const char *ports = val(r, i, c[MG_PORTS]);
		char **items = NULL;
		long k;

		m->id = val_ll(r, i, c[MG_ID]);
		copy(m->name, sizeof(m->name), val(r, i, c[MG_NAME]));
		copy(m->account, sizeof(m->account), val(r, i, c[MG_ACCOUNT]));
		m->postpaid =
		    !strcmp(val(r, i, c[MG_BILLING_TYPE]), "postpaid");
		copy(m->auth_mode, sizeof(m->auth_mode),
		     val(r, i, c[MG_AUTH_MODE]));
		m->max_duration_s = val_ll(r, i, c[MG_MAX_DURATION]);
		m->locked = val_bool(r, i, c[MG_LOCKED]);
		m->cps_limit = val_ll(r, i, c[MG_CPS_LIMIT]);
		m->max_calls = val_ll(r, i, c[MG_MAX_CALLS]);
		m->account_max_calls = val_ll(r, i, c[MG_ACCOUNT_MAX_CALLS]);
		t->nmgws++;
		load_plan(&m->caller_dp, val(r, i, c[MG_CALLER_DP]), "mapping",
			  m->name, "caller");
		load_plan(&m->callee_dp, val(r, i, c[MG_CALLEE_DP]), "mapping",
			  m->name, "callee");
		m->priority_customer = val_bool(r, i, c[MG_PRIORITY_CUSTOMER]);
		copy(m->caller_source, sizeof(m->caller_source),
		     val(r, i, c[MG_CALLER_SOURCE]));
		copy(m->username, sizeof(m->username),
		     val(r, i, c[MG_USERNAME]));
		copy(m->ha1, sizeof(m->ha1), val(r, i, c[MG_HA1]));
		load_media(&m->media, val(r, i, c[MG_MEDIA]), "mapping",
			   m->name);
		/* optional: a last good file of an older version lacks it */
		m->support_privacy = opt_bool(r, i, "support_privacy");
		m->phone_card = val_bool(r, i, c[MG_PHONE_CARD]);
		copy(m->card_prefix, sizeof(m->card_prefix),
		     val(r, i, c[MG_CARD_PREFIX]));
		m->media_handover = val_bool(r, i, c[MG_HANDOVER]);

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

/* the routing gateways' columns, as load_sql names them */
enum {
	GW_ID,
	GW_NAME,
	GW_ACCOUNT,
	GW_ADDRESS,
	GW_PORT,
	GW_TRANSPORT,
	GW_PRIORITY,
	GW_LINE_LIMIT,
	GW_TECH_PREFIX,
	GW_SWITCH,
	GW_STOPS,
	GW_PROTECT,
	GW_LOCKED,
	GW_NPREFIX,
	GW_PREFIXES,
	GW_KEEPALIVE,
	GW_REG_USER,
	GW_REG_PASSWORD,
	GW_FILTER_MODE,
	GW_NFILTER,
	GW_FILTER,
	GW_CALLER_DP,
	GW_CALLEE_DP,
	GW_GROUP,
	GW_GROUP_CAPACITY,
	GW_GROUP_RESERVED,
	GW_BUY_TABLE,
	GW_CALENDAR,
	GW_PERIOD,
	GW_MEDIA,
	GW_HANDOVER,
	GW_NCOLS
};

static const char *const gw_cols[GW_NCOLS] = {
    [GW_ID] = "id",
    [GW_NAME] = "name",
    [GW_ACCOUNT] = "account",
    [GW_ADDRESS] = "address",
    [GW_PORT] = "port",
    [GW_TRANSPORT] = "transport",
    [GW_PRIORITY] = "priority",
    [GW_LINE_LIMIT] = "line_limit",
    [GW_TECH_PREFIX] = "gateway_prefix",
    [GW_SWITCH] = "switch_until_connect",
    [GW_STOPS] = "stop_codes",
    [GW_PROTECT] = "protect_route",
    [GW_LOCKED] = "locked",
    [GW_NPREFIX] = "nprefix",
    [GW_PREFIXES] = "prefixes",
    [GW_KEEPALIVE] = "options_keepalive",
    [GW_REG_USER] = "register_username",
    [GW_REG_PASSWORD] = "register_password",
    [GW_FILTER_MODE] = "mapping_filter_mode",
    [GW_NFILTER] = "nfilter",
    [GW_FILTER] = "mapping_filter",
    [GW_CALLER_DP] = "caller_dial_plan",
    [GW_CALLEE_DP] = "callee_dial_plan",
    [GW_GROUP] = "gateway_group",
    [GW_GROUP_CAPACITY] = "group_capacity",
    [GW_GROUP_RESERVED] = "group_reserved",
    [GW_BUY_TABLE] = "buy_rate_table_id",
    [GW_CALENDAR] = "work_calendar_id",
    [GW_PERIOD] = "active_period",
    [GW_MEDIA] = "media",
    [GW_HANDOVER] = "media_handover",
};

static int load_gws(struct loader *l, const PGresult *r)
{
	int n = PQntuples(r);
	struct sg_tables *t = l->t;
	int c[GW_NCOLS];

	if (find_cols(l, r, "routing gateways", gw_cols, c, GW_NCOLS))
		return EIO;
	t->gws = calloc((size_t)n + 1, sizeof(*t->gws));
	if (!t->gws)
		return ENOMEM;

	for (int i = 0; i < n; i++) {
		struct sg_gw *g = &t->gws[t->ngws];
		const char *stops = val(r, i, c[GW_STOPS]);
		const char *mode = val(r, i, c[GW_FILTER_MODE]);
		const char *period = val(r, i, c[GW_PERIOD]);
		long nprefix = strtol(val(r, i, c[GW_NPREFIX]), NULL, 10);
		long nfilter = strtol(val(r, i, c[GW_NFILTER]), NULL, 10);
		char **items = NULL;
		long k;

		g->id = val_ll(r, i, c[GW_ID]);
		copy(g->name, sizeof(g->name), val(r, i, c[GW_NAME]));
		copy(g->account, sizeof(g->account), val(r, i, c[GW_ACCOUNT]));
		copy(g->address, sizeof(g->address), val(r, i, c[GW_ADDRESS]));
		g->port = val_int(r, i, c[GW_PORT]);
		g->tcp = !strcmp(val(r, i, c[GW_TRANSPORT]), "tcp");
		g->tls = !strcmp(val(r, i, c[GW_TRANSPORT]), "tls");
		g->priority = val_int(r, i, c[GW_PRIORITY]);
		g->line_limit = val_int(r, i, c[GW_LINE_LIMIT]);
		copy(g->tech_prefix, sizeof(g->tech_prefix),
		     val(r, i, c[GW_TECH_PREFIX]));
		g->switch_until_connect = val_bool(r, i, c[GW_SWITCH]);
		g->protect = val_bool(r, i, c[GW_PROTECT]);
		g->locked = val_bool(r, i, c[GW_LOCKED]);
		g->keepalive = val_bool(r, i, c[GW_KEEPALIVE]);
		copy(g->register_username, sizeof(g->register_username),
		     val(r, i, c[GW_REG_USER]));
		copy(g->register_password, sizeof(g->register_password),
		     val(r, i, c[GW_REG_PASSWORD]));
		load_plan(&g->caller_dp, val(r, i, c[GW_CALLER_DP]), "routing",
			  g->name, "caller");
		load_plan(&g->callee_dp, val(r, i, c[GW_CALLEE_DP]), "routing",
			  g->name, "callee");
		copy(g->group, sizeof(g->group), val(r, i, c[GW_GROUP]));
		g->group_capacity = val_int(r, i, c[GW_GROUP_CAPACITY]);
		g->group_reserved = val_int(r, i, c[GW_GROUP_RESERVED]);
		g->buy_table_id = val_ll(r, i, c[GW_BUY_TABLE]);
		g->calendar_id = val_ll(r, i, c[GW_CALENDAR]);
		if (!strcmp(period, "working"))
			g->period = SG_PERIOD_WORKING;
		else if (!strcmp(period, "non_working"))
			g->period = SG_PERIOD_NON_WORKING;
		load_media(&g->media, val(r, i, c[GW_MEDIA]), "routing",
			   g->name);
		g->media_handover = val_bool(r, i, c[GW_HANDOVER]);
		load_identity(&g->identity, &g->pool, opt_val(r, i, "identity"),
			      opt_val(r, i, "caller_pool"), g->name);
		if (!strcmp(mode, "allow"))
			g->filter_mode = SG_FILTER_ALLOW;
		else if (!strcmp(mode, "forbid"))
			g->filter_mode = SG_FILTER_FORBID;
		t->ngws++;

		if (nfilter > 0) {
			k = split(&g->filter, val(r, i, c[GW_FILTER]),
				  (size_t)nfilter);
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
			k = split(&g->prefixes, val(r, i, c[GW_PREFIXES]),
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
	enum {
		A_ID,
		A_AGENT,
		A_NAME,
		A_NALLOW,
		A_ALLOW,
		A_NDENY,
		A_DENY,
		A_NCOLS
	};
	static const char *const names[A_NCOLS] = {
	    "id",	    "agent_id", "name",	      "nallow",
	    "number_allow", "ndeny",	"number_deny"};
	int n = PQntuples(r);
	struct sg_tables *t = l->t;
	int c[A_NCOLS];

	if (find_cols(l, r, "accounts", names, c, A_NCOLS))
		return EIO;
	t->accounts = calloc((size_t)n + 1, sizeof(*t->accounts));
	if (!t->accounts)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sg_account *a = &t->accounts[t->naccounts++];
		long na = strtol(val(r, i, c[A_NALLOW]), NULL, 10);
		long nd = strtol(val(r, i, c[A_NDENY]), NULL, 10);
		long k;

		a->id = val_ll(r, i, c[A_ID]);
		a->agent_id = val_ll(r, i, c[A_AGENT]);
		copy(a->name, sizeof(a->name), val(r, i, c[A_NAME]));
		if (na > 0) {
			k = split(&a->allow, val(r, i, c[A_ALLOW]), (size_t)na);
			if (k < 0)
				return ENOMEM;
			a->nallow = (size_t)k;
		}
		if (nd > 0) {
			k = split(&a->deny, val(r, i, c[A_DENY]), (size_t)nd);
			if (k < 0)
				return ENOMEM;
			a->ndeny = (size_t)k;
		}
	}
	return 0;
}

static int load_rates(struct loader *l, const PGresult *r)
{
	enum { R_TABLE, R_PREFIX, R_FIRST, R_NEXT, R_NCOLS };
	static const char *const names[R_NCOLS] = {"rate_table_id", "prefix",
						   "first_rate", "next_rate"};
	int n = PQntuples(r);
	struct sg_tables *t = l->t;
	int c[R_NCOLS];

	if (find_cols(l, r, "buy rates", names, c, R_NCOLS))
		return EIO;
	t->rates = calloc((size_t)n + 1, sizeof(*t->rates));
	if (!t->rates)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sg_rate *e = &t->rates[t->nrates++];

		e->table_id = val_ll(r, i, c[R_TABLE]);
		copy(e->prefix, sizeof(e->prefix), val(r, i, c[R_PREFIX]));
		e->first_rate = val_ll(r, i, c[R_FIRST]);
		e->next_rate = val_ll(r, i, c[R_NEXT]);
	}
	return 0;
}

static int load_calendars(struct loader *l, const PGresult *r)
{
	enum { C_ID, C_TZ, C_DAYS, C_START, C_END, C_NHOL, C_HOL, C_NCOLS };
	static const char *const names[C_NCOLS] = {
	    "id",	  "time_zone", "working_days", "work_start_s",
	    "work_end_s", "nholiday",  "holidays"};
	int n = PQntuples(r);
	struct sg_tables *t = l->t;
	int c[C_NCOLS];

	if (find_cols(l, r, "work calendars", names, c, C_NCOLS))
		return EIO;
	t->cals = calloc((size_t)n + 1, sizeof(*t->cals));
	if (!t->cals)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sg_calendar *cal = &t->cals[t->ncals++];
		const char *days = val(r, i, c[C_DAYS]);
		long nh = strtol(val(r, i, c[C_NHOL]), NULL, 10);
		const char *h = val(r, i, c[C_HOL]);

		cal->id = val_ll(r, i, c[C_ID]);
		copy(cal->tz, sizeof(cal->tz), val(r, i, c[C_TZ]));
		for (const char *p = days; *p;) {
			char *end;
			long d = strtol(p, &end, 10);

			if (end == p)
				break;
			if (d >= 1 && d <= 7)
				cal->days |= 1U << d;
			p = *end == ',' ? end + 1 : end;
			if (!*end || *end != ',')
				break;
		}
		cal->start_s = val_int(r, i, c[C_START]);
		cal->end_s = val_int(r, i, c[C_END]);
		if (nh > 0) {
			cal->holidays =
			    calloc((size_t)nh, sizeof(*cal->holidays));
			if (!cal->holidays)
				return ENOMEM;
			while (*h && cal->nholidays < (size_t)nh) {
				snprintf(cal->holidays[cal->nholidays++],
					 sizeof(*cal->holidays), "%.10s", h);
				h = strchr(h, ',');
				if (!h)
					break;
				h++;
			}
		}
		sg_calendar_prepare(cal);
	}
	sg_calendar_refresh(t->cals, t->ncals, time(NULL));
	return 0;
}

/* phones become mapping gateways of their own: auth_mode "phone",
 * name "phone:<number>", digest user = the number */
static int load_phones(struct loader *l, const PGresult *r)
{
	enum {
		PH_NUMBER,
		PH_HA1,
		PH_ACCOUNT,
		PH_BILLING,
		PH_LOCKED,
		PH_MAX,
		PH_NCOLS
	};
	static const char *const names[PH_NCOLS] = {
	    "number",	    "ha1",    "account",
	    "billing_type", "locked", "account_max_calls"};
	int n = PQntuples(r);
	struct sg_tables *t = l->t;
	struct sg_mgw *m;
	int c[PH_NCOLS];

	if (find_cols(l, r, "phones", names, c, PH_NCOLS))
		return EIO;
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
			 val(r, i, c[PH_NUMBER]));
		copy(m->username, sizeof(m->username), val(r, i, c[PH_NUMBER]));
		copy(m->ha1, sizeof(m->ha1), val(r, i, c[PH_HA1]));
		copy(m->account, sizeof(m->account), val(r, i, c[PH_ACCOUNT]));
		m->postpaid = !strcmp(val(r, i, c[PH_BILLING]), "postpaid");
		m->locked = val_bool(r, i, c[PH_LOCKED]);
		m->account_max_calls = val_ll(r, i, c[PH_MAX]);
		copy(m->auth_mode, sizeof(m->auth_mode), "phone");
		copy(m->caller_source, sizeof(m->caller_source), "from");
	}
	return 0;
}

/* the active blacklist entries (edge.h applies them) */
static int load_blacklist(struct loader *l, const PGresult *r)
{
	enum { BL_IP, BL_LEFT, BL_NCOLS };
	static const char *const names[BL_NCOLS] = {"ip", "left_ms"};
	int n = PQntuples(r);
	struct sg_tables *t = l->t;
	int c[BL_NCOLS];

	if (find_cols(l, r, "blacklist", names, c, BL_NCOLS))
		return EIO;
	if (!n)
		return 0;
	t->bl = calloc((size_t)n, sizeof(*t->bl));
	if (!t->bl)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sg_bl_row *b = &t->bl[t->nbl];

		copy(b->ip, sizeof(b->ip), val(r, i, c[BL_IP]));
		b->left_ms = val_ll(r, i, c[BL_LEFT]);
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
		l->err = load_params(l, r);
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
	if (l->keep && !l->err && idx >= 0 && idx < LOAD_RESULTS)
		l->kept[idx] = r;
	else
		PQclear(r);
}

static void loader_unkeep(struct loader *l)
{
	for (size_t i = 0; i < LOAD_RESULTS; i++) {
		PQclear(l->kept[i]);
		l->kept[i] = NULL;
	}
}

static int loader_init(struct loader *l, bool bl_only)
{
	memset(l, 0, sizeof(*l));
	l->bl_only = bl_only;
	l->keep = !bl_only && lastgood_path[0];
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
		loader_unkeep(l);
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
			loader_unkeep(l);
			sg_tables_unref(l->t);
			l->t = NULL;
			return l->err;
		}
	}
	l->t->loaded_wall_ms = sw_time_wall_ms();
	if (l->keep) {
		sg_lastgood_save(lastgood_path, l->kept, LOAD_RESULTS);
		memset(l->kept, 0, sizeof(l->kept));
	}
	*tp = l->t;
	l->t = NULL;
	return 0;
}

/** Keep the last good tables in dir (tables.json); "" = not at all. */
void sg_db_lastgood(const char *dir)
{
	if (!dir || !*dir ||
	    snprintf(lastgood_path, sizeof(lastgood_path), "%s/%s", dir,
		     SG_LASTGOOD_FILE) >= (int)sizeof(lastgood_path))
		lastgood_path[0] = '\0';
}

/*
 * The tables last loaded from PostgreSQL, from their file (start-up while
 * PostgreSQL is unreachable): the saved results go through the loader as
 * a live query's would.  *saved_ms: when they were loaded (wall clock).
 */
int sg_db_load_lastgood(struct sg_tables **tp, int64_t *saved_ms, char *err,
			size_t errsz)
{
	PGresult *res[SG_LASTGOOD_MAX];
	struct loader l;
	size_t n;
	int ret;

	if (!lastgood_path[0]) {
		snprintf(err, errsz, "no spool_dir to keep them in");
		return ENOENT;
	}
	ret = sg_lastgood_read(lastgood_path, res, SG_LASTGOOD_MAX, &n,
			       saved_ms, err, errsz);
	if (ret)
		return ret;
	ret = loader_init(&l, false);
	l.keep = false; /* the file stays as it is */
	for (size_t i = 0; i < n; i++) {
		if (ret)
			PQclear(res[i]);
		else
			collect(&l, res[i]);
	}
	if (!ret)
		ret = loader_finish(&l, tp);
	if (!ret)
		(*tp)->loaded_wall_ms = *saved_ms;
	if (ret)
		snprintf(err, errsz, "%s: %s", lastgood_path,
			 l.why[0] ? l.why : strerror(ret));
	return ret;
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
	ret = loader_init(&l, false);
	if (ret)
		return ret;

	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errsz, "connect: %s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
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

/* loads that failed since start (all instances) */
static uint64_t load_errors;

uint64_t sg_db_errors(void)
{
	return load_errors;
}

static void db_free(struct sg_db *db)
{
	db_unwatch(db);
	if (db->conn)
		PQfinish(db->conn);
	if (db->l.t)
		sg_tables_unref(db->l.t);
	loader_unkeep(&db->l);
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
		load_errors++;
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
	err = loader_init(&db->l, bl_only);
	if (err) {
		free(db);
		return err;
	}
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
