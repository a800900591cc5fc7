/*
 * lookup.c - the account + rate entries query shared by auth and CDRs
 *
 * The rate entries are matched with `prefix = ANY(<every prefix of the
 * number>)` so that the (rate_table_id, prefix) primary key serves the
 * lookup whatever the size of the table; bd_rate_select() then picks the
 * longest in C (the same function the unit tests exercise).
 */
#define SW_LOG_MODULE "lookup"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/db.h"
#include "billingd/lookup.h"
#include "common/log.h"

struct lookup_ctx {
	bd_lookup_h *h;
	void *arg;
	struct bd_lookup lk;
};

#define RATE_COLS                                                              \
	"e.prefix, e.connect_fee, e.first_interval, e.first_rate,"             \
	" e.next_interval, e.next_rate"

/*
 * The customer's rate table in force at $4 (epoch ms; SPEC §6): with
 * SERVER_PERIOD_RATE_ENABLED ($5) and a package period rate, the package's
 * calendar in its own time zone (PostgreSQL's tz database) says working
 * (weekday listed, not a holiday, hour in [start, end)) or non-working;
 * with SERVER_WORK_CALENDAR_ENABLED ($6) off every moment is working.
 * Otherwise the account's own table ("default"), or the package's working
 * table when it has none.
 */
static const char sql_lookup[] =
    "WITH RECURSIVE chain AS ("
    " SELECT id, agent_id, 0 AS depth FROM accounts WHERE name = $1"
    " UNION ALL"
    " SELECT p.id, p.agent_id, chain.depth + 1 FROM accounts p"
    " JOIN chain ON p.id = chain.agent_id"
    " WHERE chain.depth < " BD_AGENT_MAX_STR "),"
    " c AS ("
    " SELECT a.id, a.name, a.balance, a.credit_limit, chain.depth,"
    "  CASE WHEN $5::boolean AND p.id IS NOT NULL THEN"
    "   CASE WHEN NOT $6::boolean THEN 'working'"
    "    WHEN extract(isodow FROM l.t)::integer = ANY (w.working_days)"
    "     AND NOT EXISTS (SELECT 1 FROM holidays h"
    "      WHERE h.calendar_id = w.id AND h.day = l.t::date)"
    "     AND l.t::time >= w.work_start AND l.t::time < w.work_end"
    "    THEN 'working' ELSE 'non_working' END"
    "  ELSE 'default' END AS period,"
    "  p.working_rate_table_id AS wt, p.non_working_rate_table_id AS nt,"
    "  a.rate_table_id AS dt"
    " FROM chain JOIN accounts a ON a.id = chain.id"
    " LEFT JOIN package_period_rates p ON p.id = a.package_period_rate_id"
    " LEFT JOIN work_calendars w ON w.id = p.calendar_id"
    " LEFT JOIN LATERAL (SELECT to_timestamp($4::bigint / 1000.0)"
    "  AT TIME ZONE w.time_zone AS t) l ON true)"
    ", ct AS (SELECT c.*, CASE c.period WHEN 'working' THEN c.wt"
    "  WHEN 'non_working' THEN c.nt ELSE coalesce(c.dt, c.wt) END AS tid"
    "  FROM c)"
    "SELECT CASE ct.depth WHEN 0 THEN 'c' ELSE 'a' END AS side,"
    " ct.depth, ct.id, ct.name, ct.balance, ct.credit_limit,"
    " ct.period, coalesce(t.name, '') AS rate_table, " RATE_COLS
    " FROM ct LEFT JOIN rate_tables t ON t.id = ct.tid"
    " LEFT JOIN LATERAL (SELECT * FROM rate_entries"
    "  WHERE rate_table_id = ct.tid AND prefix = ANY ($2::text[])) e"
    " ON true"
    " UNION ALL "
    "SELECT 'v', 0, a.id, a.name, a.balance, a.credit_limit, 'default',"
    " coalesce((SELECT name FROM rate_tables WHERE id = a.buy_rate_table_id),"
    " ''), " RATE_COLS
    " FROM routing_gateways g JOIN accounts a ON a.id = g.account_id"
    " LEFT JOIN rate_entries e"
    "  ON e.rate_table_id = a.buy_rate_table_id"
    "  AND e.prefix = ANY ($2::text[])"
    " WHERE g.name = $3";

/* result columns, found by name in each result */
struct cols {
	int side, depth, id, name, balance, credit, period, table, prefix,
	    connect, first_s, first_rate, next_s, next_rate;
};

static bool cols_of(struct cols *c, const PGresult *res)
{
	c->side = PQfnumber(res, "side");
	c->depth = PQfnumber(res, "depth");
	c->id = PQfnumber(res, "id");
	c->name = PQfnumber(res, "name");
	c->balance = PQfnumber(res, "balance");
	c->credit = PQfnumber(res, "credit_limit");
	c->period = PQfnumber(res, "period");
	c->table = PQfnumber(res, "rate_table");
	c->prefix = PQfnumber(res, "prefix");
	c->connect = PQfnumber(res, "connect_fee");
	c->first_s = PQfnumber(res, "first_interval");
	c->first_rate = PQfnumber(res, "first_rate");
	c->next_s = PQfnumber(res, "next_interval");
	c->next_rate = PQfnumber(res, "next_rate");
	return c->side >= 0 && c->depth >= 0 && c->id >= 0 && c->name >= 0 &&
	       c->balance >= 0 && c->credit >= 0 && c->period >= 0 &&
	       c->table >= 0 && c->prefix >= 0 && c->connect >= 0 &&
	       c->first_s >= 0 && c->first_rate >= 0 && c->next_s >= 0 &&
	       c->next_rate >= 0;
}

/*
 * Write the PostgreSQL text[] literal of every prefix of number, the empty
 * one included: {"","1","12",...}.  Elements are quoted and escaped, so any
 * byte of a number is safe.  ENOSPC when buf is too small.
 */
int bd_lookup_prefixes(char *buf, size_t size, const char *number)
{
	size_t len, o = 0;

	if (!buf || !size || !number)
		return EINVAL;

	len = strlen(number);
	for (size_t n = 0; n <= len; n++) {
		if (o + 2 > size)
			return ENOSPC;
		buf[o++] = n ? ',' : '{';
		buf[o++] = '"';
		for (size_t i = 0; i < n; i++) {
			if (number[i] == '"' || number[i] == '\\') {
				if (o + 1 > size)
					return ENOSPC;
				buf[o++] = '\\';
			}
			if (o + 1 > size)
				return ENOSPC;
			buf[o++] = number[i];
		}
		if (o + 1 > size)
			return ENOSPC;
		buf[o++] = '"';
	}
	if (o + 2 > size)
		return ENOSPC;
	buf[o++] = '}';
	buf[o] = '\0';

	return 0;
}

static int get_i64(int64_t *vp, const PGresult *res, int row, int col)
{
	const char *s = PQgetvalue(res, row, col);
	char *end;
	long long n;

	if (PQgetisnull(res, row, col) || !s || !*s)
		return EINVAL;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end)
		return EINVAL;
	*vp = n;
	return 0;
}

static int decode_row(struct bd_lookup *lk, const PGresult *res, int row,
		      const struct cols *c)
{
	const char *side = PQgetvalue(res, row, c->side);
	struct bd_account *acc;
	struct bd_rate *r;
	int err = 0;

	if (side && side[0] == 'a') {
		int64_t depth = 0;

		if (get_i64(&depth, res, row, c->depth) || depth < 1 ||
		    depth > BD_AGENT_MAX)
			return EBADMSG;
		acc = &lk->agents[depth - 1];
		if ((size_t)depth > lk->nagents)
			lk->nagents = (size_t)depth;
	} else {
		acc = (side && side[0] == 'v') ? &lk->vendor : &lk->customer;
	}
	if (!acc->found) {
		acc->found = true;
		err |= get_i64(&acc->id, res, row, c->id);
		err |= get_i64(&acc->balance, res, row, c->balance);
		err |= get_i64(&acc->credit_limit, res, row, c->credit);
		str_ncpy(acc->name, PQgetvalue(res, row, c->name),
			 sizeof(acc->name));
		str_ncpy(acc->period, PQgetvalue(res, row, c->period),
			 sizeof(acc->period));
		str_ncpy(acc->table, PQgetvalue(res, row, c->table),
			 sizeof(acc->table));
	}

	if (PQgetisnull(res, row, c->prefix))
		return err ? EBADMSG : 0; /* no matching entry */
	if (acc->nrates >= BD_LOOKUP_MAX_RATES)
		return 0; /* cannot happen: one entry per prefix */

	r = &acc->rates[acc->nrates];
	memset(r, 0, sizeof(*r));
	str_ncpy(r->prefix, PQgetvalue(res, row, c->prefix), sizeof(r->prefix));
	err |= get_i64(&r->connect_fee, res, row, c->connect);
	err |= get_i64(&r->first_s, res, row, c->first_s);
	err |= get_i64(&r->first_rate, res, row, c->first_rate);
	err |= get_i64(&r->next_s, res, row, c->next_s);
	err |= get_i64(&r->next_rate, res, row, c->next_rate);
	if (!err)
		acc->nrates++;

	return err ? EBADMSG : 0;
}

static void query_h(int err, const PGresult *res, void *arg)
{
	struct lookup_ctx *ctx = arg;
	struct cols c;

	if (err) {
		if (err == EBADMSG)
			sw_err("lookup failed: %s", bd_db_errmsg(res));
		ctx->h(err, NULL, ctx->arg);
		goto out;
	}
	if (!cols_of(&c, res)) {
		ctx->h(EBADMSG, NULL, ctx->arg);
		goto out;
	}

	for (int i = 0; i < PQntuples(res); i++) {
		if (decode_row(&ctx->lk, res, i, &c))
			sw_warn("rate lookup: row %d has bad values, ignored",
				i);
	}
	ctx->h(0, &ctx->lk, ctx->arg);

out:
	mem_deref(ctx);
}

/* Have the pool prepare the lookup statement on every connection. */
int bd_lookup_prepare(struct bd_db *db)
{
	return bd_db_prepare(db, sql_lookup);
}

/*
 * Look up account (customer side) and, when routing_gateway is non-empty,
 * the gateway's vendor account, each with the rate entries matching callee.
 * h runs once, from the loop, never inside this call.
 */
int bd_lookup(struct bd_db *db, const char *account, const char *callee,
	      const char *routing_gateway, const struct bd_lookup_when *when,
	      bd_lookup_h *h, void *arg)
{
	char prefixes[8192], at[24];
	const char *params[6];
	struct lookup_ctx *ctx;
	int err;

	if (!db || !account || !callee || !h)
		return EINVAL;

	err = bd_lookup_prefixes(prefixes, sizeof(prefixes), callee);
	if (err)
		return err;

	ctx = mem_zalloc(sizeof(*ctx), NULL);
	if (!ctx)
		return ENOMEM;
	ctx->h = h;
	ctx->arg = arg;

	params[0] = account;
	params[1] = prefixes;
	params[2] =
	    (routing_gateway && *routing_gateway) ? routing_gateway : NULL;
	snprintf(at, sizeof(at), "%lld", (long long)when->at_ms);
	params[3] = at;
	params[4] = when->period_rates ? "t" : "f";
	params[5] = when->calendars ? "t" : "f";

	err = bd_db_query(db, sql_lookup, 6, params, query_h, ctx);
	if (err)
		mem_deref(ctx);

	return err;
}
