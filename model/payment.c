/*
 * payment.c - the operator's money movements: one writer for tandemctl
 * and the HTTP API
 *
 *   topup | deduct | refund ACCOUNT AMOUNT
 *   credit ACCOUNT LIMIT               (sets the credit limit)
 *   transfer AGENT SUB_ACCOUNT AMOUNT  (agent's money to a direct
 *                                       sub-account; needs the agent's
 *                                       pay_sub_accounts authorization)
 *
 * Each movement is one transaction: the accounts' rows locked (in id
 * order), the checks, the balance (or credit limit) changed, a payments row
 * (kind, amount, who, memo, what it left) and, when the balance moves, a
 * balance_history row (reason 'payment', ref = the payment id).  So the
 * ledger and the balances can never disagree: for every account, the sum
 * of balance_history deltas is its balance.  A deduction or transfer never
 * takes what the account's live calls hold (p->held, asked of billingd by
 * the caller).
 *
 * Threading: blocking libpq on the caller's connection.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/money.h"
#include "model/model.h"

struct acct {
	char id[24];
	int64_t balance, credit_limit;
	bool pay_subs;
	char agent_id[24];
};

static int refuse(struct md_payment *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(struct md_payment *p, const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(p->field, sizeof(p->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return EINVAL;
}

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

/* lock and read one account by name: 0, ENOENT, EIO (err) */
static int lock_acct(PGconn *conn, const char *name, struct acct *a, char *err,
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
		return EIO;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return ENOENT;
	}
	snprintf(a->id, sizeof(a->id), "%s", col_str(r, "id"));
	a->balance = col_i64(r, "balance");
	a->credit_limit = col_i64(r, "credit_limit");
	a->pay_subs = !strcmp(col_str(r, "pay_subs"), "t");
	snprintf(a->agent_id, sizeof(a->agent_id), "%s",
		 col_str(r, "agent_id"));
	PQclear(r);
	return 0;
}

/* the payments row and, when the balance moved, its ledger row */
static int record(PGconn *conn, const struct md_payment *pm,
		  const struct acct *a, const char *kind, int64_t amount,
		  const struct acct *peer, char *pay_id, size_t idsz, char *err,
		  size_t errsz)
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
	p[3] = pm->memo ? pm->memo : "";
	p[4] = pm->by ? pm->by : "";
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

/* the database kind of a movement, NULL when unknown */
const char *md_payment_kind(const char *kind)
{
	static const char *const map[][2] = {{"topup", "topup"},
					     {"deduct", "deduction"},
					     {"refund", "refund"},
					     {"credit", "credit_limit"},
					     {"transfer", "transfer_out"}};

	for (size_t i = 0; kind && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i][0], kind))
			return map[i][1];
	return NULL;
}

static int movement(PGconn *conn, struct md_payment *p, const char *dbkind)
{
	struct acct a, b;
	char err[512] = "", money[32];
	int64_t amount = p->amount;
	__int128 nb;
	int e;

	if (!strcmp(dbkind, "transfer_out")) {
		/* lock both rows in id order: concurrent transfers never
		 * deadlock (names resolved first, without locks) */
		PGresult *r = md_pq_exec(
		    conn,
		    "SELECT name FROM accounts WHERE name IN ($1, $2)"
		    " ORDER BY id FOR UPDATE",
		    2, (const char *const[]){p->account, p->sub_account}, err,
		    sizeof(err));

		if (!r)
			goto dberr;
		PQclear(r);
		e = lock_acct(conn, p->account, &a, err, sizeof(err));
		if (e == ENOENT)
			return refuse(p, "account", "account: no account '%s'",
				      p->account);
		if (e)
			goto dberr;
		e = lock_acct(conn, p->sub_account, &b, err, sizeof(err));
		if (e == ENOENT)
			return refuse(p, "sub_account",
				      "sub_account: no account '%s'",
				      p->sub_account);
		if (e)
			goto dberr;
		if (strcmp(b.agent_id, a.id))
			return refuse(p, "sub_account",
				      "sub_account: '%s' is not a "
				      "sub-account of '%s'",
				      p->sub_account, p->account);
		if (!a.pay_subs)
			return refuse(p, "account",
				      "account: '%s' lacks the "
				      "pay_sub_accounts authorization",
				      p->account);
		if (amount > a.balance - p->held) {
			sw_money_format(money, sizeof(money),
					a.balance - p->held, 4);
			return refuse(p, "amount",
				      "amount: more than the agent's balance "
				      "(%s, after what its calls hold)",
				      money);
		}
		nb = (__int128)b.balance + amount;
		if (nb > SW_MONEY_MAX)
			return refuse(p, "amount",
				      "amount: the sub-account's balance "
				      "would overflow");
		a.balance -= amount;
		b.balance = (int64_t)nb;
		if (set_acct(conn, &a, err, sizeof(err)) ||
		    set_acct(conn, &b, err, sizeof(err)) ||
		    record(conn, p, &a, "transfer_out", amount, &b, p->id,
			   sizeof(p->id), err, sizeof(err)) ||
		    record(conn, p, &b, "transfer_in", amount, &a, p->id2,
			   sizeof(p->id2), err, sizeof(err)))
			goto dberr;
		p->sub_balance_after = b.balance;
	} else {
		e = lock_acct(conn, p->account, &a, err, sizeof(err));
		if (e == ENOENT)
			return refuse(p, "account", "account: no account '%s'",
				      p->account);
		if (e)
			goto dberr;
		if (!strcmp(dbkind, "credit_limit")) {
			int64_t old = a.credit_limit;

			a.credit_limit = amount;
			amount -= old;
		} else if (!strcmp(dbkind, "deduction")) {
			nb = (__int128)a.balance - amount;
			if (nb - p->held < -(__int128)a.credit_limit) {
				sw_money_format(
				    money, sizeof(money),
				    a.balance + a.credit_limit - p->held, 4);
				return refuse(p, "amount",
					      "amount: more than the "
					      "account's balance + credit "
					      "limit (%s, after what its "
					      "calls hold)",
					      money);
			}
			a.balance = (int64_t)nb;
		} else {
			nb = (__int128)a.balance + amount;
			if (nb > SW_MONEY_MAX)
				return refuse(p, "amount",
					      "amount: the balance would "
					      "overflow");
			a.balance = (int64_t)nb;
		}
		if (set_acct(conn, &a, err, sizeof(err)) ||
		    record(conn, p, &a, dbkind, amount, NULL, p->id,
			   sizeof(p->id), err, sizeof(err)))
			goto dberr;
	}
	p->balance_after = a.balance;
	p->credit_limit_after = a.credit_limit;
	return 0;
dberr:
	snprintf(p->err, sizeof(p->err), "%s", err);
	return EIO;
}

/*
 * Make the movement p describes in one transaction.  Returns 0 (p->id,
 * p->balance_after, ...), EINVAL (refused: p->field, p->err; nothing
 * written) or EIO (the database: p->err).
 */
int md_payment_apply(PGconn *conn, struct md_payment *p)
{
	const char *dbkind = md_payment_kind(p->kind);
	char err[256];
	int ret;

	p->field[0] = p->err[0] = '\0';
	if (!dbkind)
		return refuse(p, "kind",
			      "kind: topup, deduct, refund, credit or "
			      "transfer");
	if (!p->account || !*p->account)
		return refuse(p, "account", "account: required");
	if (!strcmp(dbkind, "transfer_out") &&
	    (!p->sub_account || !*p->sub_account))
		return refuse(p, "sub_account", "sub_account: required");
	if (p->amount < 0 || p->amount > SW_MONEY_MAX ||
	    (p->amount == 0 && strcmp(dbkind, "credit_limit")))
		return refuse(p, "amount",
			      "amount: a positive amount (a decimal string "
			      "with at most 6 decimals)");
	if (p->memo && strlen(p->memo) > 512)
		return refuse(p, "memo", "memo: longer than 512 bytes");
	if (md_pq_cmd(conn, "BEGIN", err, sizeof(err))) {
		snprintf(p->err, sizeof(p->err), "%s", err);
		return EIO;
	}
	ret = movement(conn, p, dbkind);
	if (!ret && md_pq_cmd(conn, "COMMIT", err, sizeof(err))) {
		snprintf(p->err, sizeof(p->err), "%s", err);
		ret = EIO;
	}
	if (ret)
		md_pq_cmd(conn, "ROLLBACK", NULL, 0);
	return ret;
}
