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

#define RATE_COLS "e.prefix, e.connect_fee, e.first_interval, e.first_rate," \
		  " e.next_interval, e.next_rate"

static const char sql_lookup[] =
	"SELECT 'c', a.id, a.name, a.balance, a.credit_limit, " RATE_COLS
	" FROM accounts a LEFT JOIN rate_entries e"
	"  ON e.rate_table_id = a.rate_table_id AND e.prefix = ANY($2::text[])"
	" WHERE a.name = $1"
	" UNION ALL "
	"SELECT 'v', a.id, a.name, a.balance, a.credit_limit, " RATE_COLS
	" FROM routing_gateways g JOIN accounts a ON a.id = g.account_id"
	" LEFT JOIN rate_entries e"
	"  ON e.rate_table_id = a.buy_rate_table_id"
	"  AND e.prefix = ANY($2::text[])"
	" WHERE g.name = $3";

enum {
	COL_SIDE = 0, COL_ID, COL_NAME, COL_BALANCE, COL_CREDIT, COL_PREFIX,
	COL_CONNECT, COL_FIRST_S, COL_FIRST_RATE, COL_NEXT_S, COL_NEXT_RATE,
	NCOLS
};

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

static int decode_row(struct bd_lookup *lk, const PGresult *res, int row)
{
	const char *side = PQgetvalue(res, row, COL_SIDE);
	struct bd_account *acc;
	struct bd_rate *r;
	int err = 0;

	acc = (side && side[0] == 'v') ? &lk->vendor : &lk->customer;
	if (!acc->found) {
		acc->found = true;
		err |= get_i64(&acc->id, res, row, COL_ID);
		err |= get_i64(&acc->balance, res, row, COL_BALANCE);
		err |= get_i64(&acc->credit_limit, res, row, COL_CREDIT);
		str_ncpy(acc->name, PQgetvalue(res, row, COL_NAME),
			 sizeof(acc->name));
	}

	if (PQgetisnull(res, row, COL_PREFIX))
		return err ? EBADMSG : 0;	/* no matching entry */
	if (acc->nrates >= BD_LOOKUP_MAX_RATES)
		return 0;	/* cannot happen: one entry per prefix */

	r = &acc->rates[acc->nrates];
	memset(r, 0, sizeof(*r));
	str_ncpy(r->prefix, PQgetvalue(res, row, COL_PREFIX),
		 sizeof(r->prefix));
	err |= get_i64(&r->connect_fee, res, row, COL_CONNECT);
	err |= get_i64(&r->first_s, res, row, COL_FIRST_S);
	err |= get_i64(&r->first_rate, res, row, COL_FIRST_RATE);
	err |= get_i64(&r->next_s, res, row, COL_NEXT_S);
	err |= get_i64(&r->next_rate, res, row, COL_NEXT_RATE);
	if (!err)
		acc->nrates++;

	return err ? EBADMSG : 0;
}

static void query_h(int err, const PGresult *res, void *arg)
{
	struct lookup_ctx *ctx = arg;

	if (err) {
		if (err == EBADMSG)
			sw_err("lookup failed: %s", bd_db_errmsg(res));
		ctx->h(err, NULL, ctx->arg);
		goto out;
	}
	if (PQnfields(res) != NCOLS) {
		ctx->h(EBADMSG, NULL, ctx->arg);
		goto out;
	}

	for (int i = 0; i < PQntuples(res); i++) {
		if (decode_row(&ctx->lk, res, i))
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
	      const char *routing_gateway, bd_lookup_h *h, void *arg)
{
	char prefixes[8192];
	const char *params[3];
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
	params[2] = (routing_gateway && *routing_gateway) ? routing_gateway
							   : NULL;

	err = bd_db_query(db, sql_lookup, 3, params, query_h, ctx);
	if (err)
		mem_deref(ctx);

	return err;
}
