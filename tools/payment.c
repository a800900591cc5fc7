/*
 * payment.c - tandemctl payment: the operator's money movements
 *
 *   tandemctl payment topup|deduct|refund ACCOUNT AMOUNT [--memo T] [--by W]
 *   tandemctl payment credit ACCOUNT LIMIT
 *   tandemctl payment transfer AGENT SUB_ACCOUNT AMOUNT
 *   tandemctl payment list ACCOUNT
 *
 * Each movement is one transaction: the accounts' rows locked (in id
 * order), the checks, the balance (or credit limit) changed, a payments row
 * (kind, amount, who, memo, what it left) and, when the balance moves, a
 * balance_history row (reason 'payment', ref = the payment id).  So the
 * ledger and the balances can never disagree: for every account, the sum of
 * balance_history deltas is its balance (provisioning's opening balance and
 * every CDR debit are rows there too).  Amounts are decimal strings
 * (common/money.h); a bad one is refused naming the field, before anything
 * is written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/money.h"
#include "tools/ctl.h"

struct acct {
	char id[24];
	int64_t balance, credit_limit;
	bool pay_subs;
	char agent_id[24];
};

/*
 * What the account's live calls hold in billingd (GET
 * /api/v1/reservations): money a deduction or transfer must leave alone.
 * 0 with a warning when billingd cannot be asked (it may be down: the
 * operator still has to be able to move money).
 */
static int64_t held_by_calls(const struct tc_opts *o, const char *account)
{
	char path[160], err[256];
	char *body = NULL;
	int status = 0;
	int64_t held = 0;
	const char *text;
	json_t *root;

	snprintf(path, sizeof(path), "/api/v1/reservations?account=%s",
		 account);
	if (tc_http_get(tc_api_base(o), path, o->timeout_ms, &status, &body,
			err, sizeof(err)) ||
	    status != 200) {
		fprintf(stderr,
			"tandemctl: warning: billingd (%s) not asked what "
			"%s's live calls hold: %s\n",
			tc_api_base(o), account, status ? "refused" : err);
		free(body);
		return 0;
	}
	root = json_loads(body, 0, NULL);
	text = json_string_value(json_object_get(root, "held"));
	if (!text || sw_money_parse(&held, text) || held < 0)
		held = 0;
	json_decref(root);
	free(body);
	return held;
}

static int list(PGconn *conn, const char *name)
{
	const char *p[1] = {name};
	char err[512];
	PGresult *r = md_pq_exec(
	    conn,
	    "SELECT p.id, p.created_at, p.kind, p.amount, p.balance_after,"
	    " p.credit_limit_after, p.created_by, p.memo,"
	    " coalesce(q.name, '') AS peer FROM payments p"
	    " JOIN accounts a ON a.id = p.account_id"
	    " LEFT JOIN accounts q ON q.id = p.peer_account_id"
	    " WHERE a.name = $1 ORDER BY p.id",
	    1, p, err, sizeof(err));

	if (!r) {
		fprintf(stderr, "tandemctl: %s\n", err);
		PQfinish(conn);
		return 1;
	}
	printf("id|time|kind|amount|balance_after|credit_limit_after|by|"
	       "peer|memo\n");
	for (int i = 0; i < PQntuples(r); i++) {
		char amt[32], bal[32], lim[32];

		sw_money_format(
		    amt, sizeof(amt),
		    strtoll(PQgetvalue(r, i, PQfnumber(r, "amount")), NULL, 10),
		    4);
		sw_money_format(
		    bal, sizeof(bal),
		    strtoll(PQgetvalue(r, i, PQfnumber(r, "balance_after")),
			    NULL, 10),
		    4);
		sw_money_format(
		    lim, sizeof(lim),
		    strtoll(
			PQgetvalue(r, i, PQfnumber(r, "credit_limit_after")),
			NULL, 10),
		    4);
		printf("%s|%s|%s|%s|%s|%s|%s|%s|%s\n",
		       PQgetvalue(r, i, PQfnumber(r, "id")),
		       PQgetvalue(r, i, PQfnumber(r, "created_at")),
		       PQgetvalue(r, i, PQfnumber(r, "kind")), amt, bal, lim,
		       PQgetvalue(r, i, PQfnumber(r, "created_by")),
		       PQgetvalue(r, i, PQfnumber(r, "peer")),
		       PQgetvalue(r, i, PQfnumber(r, "memo")));
	}
	PQclear(r);
	PQfinish(conn);
	return 0;
}

/* argv: KIND ARGS... (after "payment") */
int tc_cmd_payment(const struct tc_opts *o, int argc, char **argv)
{
	const char *kind = argc > 0 ? argv[0] : "";
	struct md_payment p = {0};
	char money[32];
	PGconn *conn;
	int e;

	if (!strcmp(kind, "list") && argc == 2) {
		conn = tc_db_connect(o);
		return conn ? list(conn, argv[1]) : 1;
	}
	if (!strcmp(kind, "transfer") ? argc != 4 : argc != 3) {
		fprintf(stderr,
			"usage: tandemctl payment topup|deduct|refund "
			"ACCOUNT AMOUNT | credit ACCOUNT LIMIT |\n"
			"       transfer AGENT SUB_ACCOUNT AMOUNT | list "
			"ACCOUNT [--memo TEXT] [--by NAME]\n");
		return 2;
	}
	if (!md_payment_kind(kind)) {
		fprintf(stderr,
			"tandemctl: payment: unknown kind '%s' "
			"(topup, deduct, refund, credit, transfer, "
			"list)\n",
			kind);
		return 2;
	}
	e = sw_money_parse(&p.amount, argv[argc - 1]);
	if (e || p.amount < 0 || (p.amount == 0 && strcmp(kind, "credit"))) {
		fprintf(stderr,
			"tandemctl: payment refused: amount: '%s' is not %s "
			"(a decimal string with at most 6 decimals, within "
			"the money range)\n",
			argv[argc - 1], e ? "an amount" : "a positive amount");
		return 1;
	}
	p.kind = kind;
	p.account = argv[1];
	p.sub_account = argc == 4 ? argv[2] : NULL;
	p.memo = o->memo;
	p.by = o->by ? o->by : (getenv("USER") ? getenv("USER") : "");

	/* asked before the rows are locked: a call may end meanwhile, which
	 * only frees money */
	if (!strcmp(kind, "transfer") || !strcmp(kind, "deduct"))
		p.held = held_by_calls(o, argv[1]);

	conn = tc_db_connect(o);
	if (!conn)
		return 1;
	e = md_payment_apply(conn, &p);
	PQfinish(conn);
	if (e == EINVAL) {
		fprintf(stderr, "tandemctl: payment refused: %s\n", p.err);
		return 1;
	}
	if (e) {
		fprintf(stderr, "tandemctl: database: %s\n", p.err);
		return 1;
	}
	sw_money_format(money, sizeof(money), p.balance_after, 4);
	printf("payment %s: %s %s %s, balance %s", p.id, kind, argv[1],
	       argv[argc - 1], money);
	if (!strcmp(kind, "transfer")) {
		sw_money_format(money, sizeof(money), p.sub_balance_after, 4);
		printf("; %s balance %s", argv[2], money);
	}
	putchar('\n');
	return 0;
}
