/*
 * api_money.c - payments over HTTP, through the one ledger writer
 *
 *   POST /api/v1/payments {"kind", "account", "amount", "sub_account"?,
 *                          "memo"?}
 *        kind topup | deduct | refund | credit (admin, operator) or
 *        transfer (also an agent, from its own account to a direct
 *        sub-account, with its pay_sub_accounts authorization)
 *   GET  /api/v1/payments?account=&limit=&offset=   newest first
 *
 * model/payment.c does the movement (tandemctl payment uses it too); what
 * the account's live calls hold is read from billingd's reservations on
 * the loop before the work, so a deduction never takes it.
 *
 * Threading: api_payment_pre on the loop; the rest on an API worker.
 */
#define SW_LOG_MODULE "api"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/api_int.h"
#include "billingd/daemon.h"
#include "billingd/resv.h"
#include "common/log.h"
#include "common/money.h"

/* on the loop: what the paying account's calls hold */
void api_payment_pre(struct bd *bd, struct api_req *r)
{
	json_t *body = r->body ? json_loadb(r->body, r->blen, 0, NULL) : NULL;
	const char *acc = json_string_value(json_object_get(body, "account"));

	r->held = acc ? bd_resv_held(bd->resv, acc) : 0;
	json_decref(body);
}

static json_t *money(int64_t v)
{
	char buf[32];

	sw_money_format(buf, sizeof(buf), v, 6);
	return json_string(buf);
}

void api_payment_create(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r);
	struct md_payment p = {0};
	const char *amount;
	const char *k;
	json_t *v;
	int rc;

	if (!body)
		return;
	json_object_foreach(body, k, v)
	{
		if (strcmp(k, "kind") && strcmp(k, "account") &&
		    strcmp(k, "sub_account") && strcmp(k, "amount") &&
		    strcmp(k, "memo")) {
			api_error(r, 400, "invalid", k, "%s: unknown field", k);
			goto out;
		}
		if (!json_is_string(v)) {
			api_error(r, 400, "invalid", k, "%s: must be a string",
				  k);
			goto out;
		}
	}
	p.kind = json_string_value(json_object_get(body, "kind"));
	p.account = json_string_value(json_object_get(body, "account"));
	p.sub_account = json_string_value(json_object_get(body, "sub_account"));
	p.memo = json_string_value(json_object_get(body, "memo"));
	amount = json_string_value(json_object_get(body, "amount"));
	if (!amount || sw_money_parse(&p.amount, amount)) {
		api_error(r, 400, "invalid", "amount",
			  "amount: a decimal string with at most 6 decimals");
		goto out;
	}
	if (!(r->who.role & ROLES_STAFF) &&
	    (!p.kind || strcmp(p.kind, "transfer") || !p.account ||
	     strcmp(p.account, r->who.account))) {
		api_error(r, 403, "forbidden", NULL,
			  "an agent may only transfer from its own account "
			  "to its sub-accounts");
		goto out;
	}
	p.held = r->held;
	p.by = r->who.user;
	rc = md_payment_apply(conn, &p);
	if (rc == EINVAL) {
		api_error(r, 400, "invalid", p.field, "%s", p.err);
		goto out;
	}
	if (rc) {
		api_db_error(r, p.err);
		goto out;
	}
	api_audit(conn, r, "payment", p.account,
		  json_pack("{s:s, s:s, s:s?, s:s}", "kind", p.kind, "amount",
			    amount, "sub_account", p.sub_account, "id", p.id));
	v = json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", p.id, "kind", p.kind,
		      "account", p.account, "balance_after",
		      money(p.balance_after), "credit_limit_after",
		      money(p.credit_limit_after));
	if (!strcmp(p.kind, "transfer")) {
		json_object_set_new(v, "sub_account",
				    json_string(p.sub_account));
		json_object_set_new(v, "sub_balance_after",
				    money(p.sub_balance_after));
	}
	api_ok(r, 201, v);
out:
	json_decref(body);
}

void api_payments_list(PGconn *conn, struct api_req *r)
{
	long limit, offset;
	char lim[24], off[24], acc[80], me[24], err[512];
	const char *params[4] = {lim, off, NULL, NULL};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	if (api_query(r, "account", acc, sizeof(acc)))
		params[2] = acc;
	if (!(r->who.role & ROLES_STAFF)) {
		snprintf(me, sizeof(me), "%lld", r->who.account_id);
		params[3] = me;
	}
	res = md_pq_exec(
	    conn,
	    "WITH RECURSIVE sub(id) AS (SELECT $4::bigint WHERE $4 IS NOT "
	    "NULL UNION ALL SELECT c.id FROM accounts c JOIN sub ON "
	    "c.agent_id = sub.id), f AS (SELECT p.*, a.name AS account, "
	    "q.name AS peer FROM payments p JOIN accounts a ON a.id = "
	    "p.account_id LEFT JOIN accounts q ON q.id = p.peer_account_id "
	    "WHERE ($3::text IS NULL OR a.name = $3) AND ($4::bigint IS NULL "
	    "OR p.account_id IN (SELECT id FROM sub))) SELECT coalesce(("
	    "SELECT json_agg(j) FROM (SELECT json_build_object('id', id::text, "
	    "'at', created_at, 'account', account, 'kind', kind, 'amount', "
	    "trim_scale(amount::numeric / 1000000)::text, 'balance_after', "
	    "trim_scale(balance_after::numeric / 1000000)::text, "
	    "'credit_limit_after', trim_scale(credit_limit_after::numeric / "
	    "1000000)::text, 'peer', peer, 'by', created_by, 'memo', memo) "
	    "AS j FROM f ORDER BY id DESC LIMIT $1::int OFFSET $2::int) x), "
	    "'[]')::text AS j, (SELECT count(*) FROM f) AS total",
	    4, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, api_page_json(res, limit, offset));
	PQclear(res);
}
