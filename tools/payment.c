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

/* refuse: the message (field first) on stderr, nothing written */
static int fail(PGconn *conn, const char *msg)
{
	fprintf(stderr, "tandemctl: payment refused: %s\n", msg);
	PQclear(PQexec(conn, "ROLLBACK"));
	PQfinish(conn);
	return 1;
}

#define FAIL(...)                                                              \
	do {                                                                   \
		char msg_[600];                                                \
		snprintf(msg_, sizeof(msg_), __VA_ARGS__);                     \
		return fail(conn, msg_);                                       \
	} while (0)

static int64_t col_i64(const PGresult *r, const char *name)
{
	int c = PQfnumber(r, name);

	return c < 0 || PQgetisnull(r, 0, c)
		   ? 0
		   : strtoll(PQgetvalue(r, 0, c), NULL, 10);
}

static const char *col_str(const PGresult *r, const char *name)
{
	int c = PQfnumber(r, name);

	return c < 0 || PQgetisnull(r, 0, c) ? "" : PQgetvalue(r, 0, c);
}

/* lock and read one account by name; false when unknown */
static bool lock_acct(PGconn *conn, const char *name, struct acct *a, char *err,
		      size_t errsz)
{
	const char *p[1] = {name};
	PGresult *r = md_pq_exec(
	    conn,
	    "SELECT id, balance, credit_limit, coalesce(agent_id::text, '')"
	    " AS agent_id, 'pay_sub_accounts' = ANY (agent_authorizations)"
	    " AS pay_subs FROM accounts WHERE name = $1 FOR UPDATE",
	    1, p, err, errsz);

	if (!r)
		return false;
	if (PQntuples(r) != 1) {
		snprintf(err, errsz, "account: no account '%s'", name);
		PQclear(r);
		return false;
	}
	snprintf(a->id, sizeof(a->id), "%s", col_str(r, "id"));
	a->balance = col_i64(r, "balance");
	a->credit_limit = col_i64(r, "credit_limit");
	a->pay_subs = !strcmp(col_str(r, "pay_subs"), "t");
	snprintf(a->agent_id, sizeof(a->agent_id), "%s",
		 col_str(r, "agent_id"));
	PQclear(r);
	return true;
}

/* the payments row and, when the balance moved, its ledger row */
static int record(PGconn *conn, const struct tc_opts *o, const struct acct *a,
		  const char *kind, int64_t amount, const struct acct *peer,
		  char *pay_id, size_t idsz, char *err, size_t errsz)
{
	char amt[24], bal[24], lim[24];
	const char *p[8];
	PGresult *r;

	snprintf(amt, sizeof(amt), "%" PRId64, amount);
	snprintf(bal, sizeof(bal), "%" PRId64, a->balance);
	snprintf(lim, sizeof(lim), "%" PRId64, a->credit_limit);
	p[0] = a->id;
	p[1] = kind;
	p[2] = amt;
	p[3] = o->memo ? o->memo : "";
	p[4] = o->by ? o->by : (getenv("USER") ? getenv("USER") : "");
	p[5] = bal;
	p[6] = lim;
	p[7] = peer ? peer->id : NULL;
	r = md_pq_exec(conn,
		       "INSERT INTO payments (account_id, kind, amount, memo,"
		       " created_by, balance_after, credit_limit_after,"
		       " peer_account_id) VALUES ($1, $2, $3, $4, $5, $6, $7,"
		       " $8) RETURNING id",
		       8, p, err, errsz);
	if (!r)
		return EIO;
	snprintf(pay_id, idsz, "%s", col_str(r, "id"));
	PQclear(r);
	if (!strcmp(kind, "credit_limit"))
		return 0;
	p[3] = pay_id;
	r = md_pq_exec(
	    conn,
	    "INSERT INTO balance_history (account_id, delta, balance,"
	    " reason, ref) VALUES ($1, CASE WHEN $2 IN ('deduction',"
	    " 'transfer_out') THEN -$3::bigint ELSE $3::bigint END,"
	    " $5, 'payment', $4)",
	    5, (const char *const[]){a->id, kind, amt, pay_id, bal}, err,
	    errsz);
	if (!r)
		return EIO;
	PQclear(r);
	return 0;
}

static int set_acct(PGconn *conn, const struct acct *a, char *err, size_t errsz)
{
	char bal[24], lim[24];
	const char *p[3] = {a->id, bal, lim};
	PGresult *r;

	snprintf(bal, sizeof(bal), "%" PRId64, a->balance);
	snprintf(lim, sizeof(lim), "%" PRId64, a->credit_limit);
	r = md_pq_exec(conn,
		       "UPDATE accounts SET balance = $2, credit_limit = $3"
		       " WHERE id = $1",
		       3, p, err, errsz);
	if (!r)
		return EIO;
	PQclear(r);
	return 0;
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
	const char *dbkind;
	struct acct a, b;
	char err[512] = "", pay[24], pay2[24], money[32];
	int64_t amount, held = 0;
	__int128 nb;
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
	if (!strcmp(kind, "topup"))
		dbkind = "topup";
	else if (!strcmp(kind, "deduct"))
		dbkind = "deduction";
	else if (!strcmp(kind, "refund"))
		dbkind = "refund";
	else if (!strcmp(kind, "credit"))
		dbkind = "credit_limit";
	else if (!strcmp(kind, "transfer"))
		dbkind = "transfer_out";
	else {
		fprintf(stderr,
			"tandemctl: payment: unknown kind '%s' "
			"(topup, deduct, refund, credit, transfer, "
			"list)\n",
			kind);
		return 2;
	}
	e = sw_money_parse(&amount, argv[argc - 1]);
	if (e || amount < 0 ||
	    (amount == 0 && strcmp(dbkind, "credit_limit"))) {
		fprintf(stderr,
			"tandemctl: payment refused: amount: '%s' is not %s "
			"(a decimal string with at most 6 decimals, within "
			"the money range)\n",
			argv[argc - 1], e ? "an amount" : "a positive amount");
		return 1;
	}
	if (o->memo && strlen(o->memo) > 512) {
		fprintf(stderr, "tandemctl: payment refused: memo: longer "
				"than 512 bytes\n");
		return 1;
	}

	/* asked before the rows are locked: a call may end meanwhile, which
	 * only frees money */
	if (!strcmp(dbkind, "transfer_out") || !strcmp(dbkind, "deduction"))
		held = held_by_calls(o, argv[1]);

	conn = tc_db_connect(o);
	if (!conn)
		return 1;
	PQclear(PQexec(conn, "BEGIN"));
	if (!strcmp(dbkind, "transfer_out")) {
		/* lock both rows in id order: concurrent transfers never
		 * deadlock (names resolved first, without locks) */
		PGresult *r = md_pq_exec(
		    conn,
		    "SELECT name FROM accounts WHERE name IN ($1, $2)"
		    " ORDER BY id FOR UPDATE",
		    2, (const char *const[]){argv[1], argv[2]}, err,
		    sizeof(err));

		if (r)
			PQclear(r);
		if (!lock_acct(conn, argv[1], &a, err, sizeof(err)))
			FAIL("%s", err);
		if (!lock_acct(conn, argv[2], &b, err, sizeof(err)))
			FAIL("sub_%s", err);
		if (strcmp(b.agent_id, a.id))
			FAIL("sub_account: '%s' is not a sub-account "
			     "of '%s'",
			     argv[2], argv[1]);
		if (!a.pay_subs)
			FAIL("account: '%s' lacks the pay_sub_accounts "
			     "authorization",
			     argv[1]);
		if (amount > a.balance - held) {
			sw_money_format(money, sizeof(money), a.balance - held,
					4);
			FAIL("amount: more than the agent's balance "
			     "(%s, after what its calls hold)",
			     money);
		}
		nb = (__int128)b.balance + amount;
		if (nb > SW_MONEY_MAX)
			FAIL("amount: the sub-account's balance "
			     "would overflow");
		a.balance -= amount;
		b.balance = (int64_t)nb;
		if (set_acct(conn, &a, err, sizeof(err)) ||
		    set_acct(conn, &b, err, sizeof(err)) ||
		    record(conn, o, &a, "transfer_out", amount, &b, pay,
			   sizeof(pay), err, sizeof(err)) ||
		    record(conn, o, &b, "transfer_in", amount, &a, pay2,
			   sizeof(pay2), err, sizeof(err)))
			FAIL("%s", err);
	} else {
		if (!lock_acct(conn, argv[1], &a, err, sizeof(err)))
			FAIL("%s", err);
		if (!strcmp(dbkind, "credit_limit")) {
			int64_t old = a.credit_limit;

			a.credit_limit = amount;
			amount -= old;
		} else if (!strcmp(dbkind, "deduction")) {
			nb = (__int128)a.balance - amount;
			if (nb - held < -(__int128)a.credit_limit) {
				sw_money_format(
				    money, sizeof(money),
				    a.balance + a.credit_limit - held, 4);
				FAIL("amount: more than the account's "
				     "balance + credit limit (%s, after "
				     "what its calls hold)",
				     money);
			}
			a.balance = (int64_t)nb;
		} else {
			nb = (__int128)a.balance + amount;
			if (nb > SW_MONEY_MAX)
				FAIL("amount: the balance would "
				     "overflow");
			a.balance = (int64_t)nb;
		}
		if (set_acct(conn, &a, err, sizeof(err)) ||
		    record(conn, o, &a, dbkind, amount, NULL, pay, sizeof(pay),
			   err, sizeof(err)))
			FAIL("%s", err);
	}
	if (md_pq_cmd(conn, "COMMIT", err, sizeof(err)))
		FAIL("%s", err);
	sw_money_format(money, sizeof(money), a.balance, 4);
	printf("payment %s: %s %s %s, balance %s", pay, kind, argv[1],
	       argv[argc - 1], money);
	if (!strcmp(dbkind, "transfer_out")) {
		sw_money_format(money, sizeof(money), b.balance, 4);
		printf("; %s balance %s", argv[2], money);
	}
	putchar('\n');
	PQfinish(conn);
	return 0;
}
