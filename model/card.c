/*
 * card.c - phone card batches and cards (SPEC §2, docs/phone-cards.md): one
 * writer for `tandemctl card` and the HTTP API
 *
 * A batch is one transaction: the batch row, then per card its own prepaid
 * account ("card-<number>", the batch's rate table, the batch's agent as
 * agent), the card row, and the face value as a payments top-up with its
 * balance_history line, so the ledger holds every card's money from the
 * start.  Numbers and PINs are drawn from getrandom(2); a number that
 * exists, or that is a prefix of another card's number (or has one as a
 * prefix), is drawn again, because billingd finds a card by the longest
 * number that starts the dialled digits.  The PINs are returned once, to
 * the caller that made the batch.
 *
 * Threading: blocking libpq on the caller's connection.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "model/model.h"

#define DRAWS_MAX 20 /* per card, before giving up */

static int refuse(struct md_card_batch *b, const char *field, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

static int refuse(struct md_card_batch *b, const char *field, const char *fmt,
		  ...)
{
	va_list ap;

	snprintf(b->field, sizeof(b->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return EINVAL;
}

/* n random decimal digits (no modulo bias) */
static int draw_digits(char *out, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char buf[64];
		ssize_t got = getrandom(buf, sizeof(buf), 0);

		if (got <= 0)
			return errno ? errno : EIO;
		for (ssize_t k = 0; k < got && i < n; k++)
			if (buf[k] < 250)
				out[i++] = (char)('0' + buf[k] % 10);
	}
	out[n] = '\0';
	return 0;
}

static const char *col(const PGresult *r, int row, const char *name)
{
	int c = PQfnumber(r, name);

	return c < 0 || PQgetisnull(r, row, c) ? "" : PQgetvalue(r, row, c);
}

/* is number taken, or prefix-related to a card that exists? */
static int clashes(PGconn *conn, const char *number, bool *clash, char *err,
		   size_t errsz)
{
	const char *p[1] = {number};
	PGresult *r = md_pq_exec(
	    conn,
	    "SELECT EXISTS (SELECT 1 FROM phone_cards WHERE"
	    " starts_with($1, number) OR starts_with(number, $1))"
	    " OR EXISTS (SELECT 1 FROM accounts WHERE name = 'card-' || $1)"
	    " AS clash",
	    1, p, err, errsz);

	if (!r)
		return EIO;
	*clash = !strcmp(col(r, 0, "clash"), "t");
	PQclear(r);
	return 0;
}

/* one card: account, card row, top-up and its ledger line */
static int insert_card(PGconn *conn, const char *batch_id, const char *agent_id,
		       const char *table_id, const char *value,
		       const char *expires, const struct md_card *cd,
		       const char *memo, const char *by, char *err,
		       size_t errsz)
{
	const char *p[9] = {cd->number, agent_id, value, table_id, batch_id,
			    cd->pin,	expires,  memo,	 by};
	PGresult *r = md_pq_exec(
	    conn,
	    "WITH a AS (INSERT INTO accounts (name, agent_id, type, balance,"
	    "  billing_type, rate_table_id) VALUES ('card-' || $1,"
	    "  $2::bigint, 'customer', $3::bigint, 'prepaid', $4::bigint)"
	    "  RETURNING id),"
	    " c AS (INSERT INTO phone_cards (batch_id, number, pin, account_id,"
	    "  expires_at) SELECT $5::bigint, $1, $6, id,"
	    "  $7::timestamptz FROM a),"
	    " p AS (INSERT INTO payments (account_id, kind, amount, memo,"
	    "  created_by, balance_after, credit_limit_after)"
	    "  SELECT id, 'topup', $3::bigint, $8, $9, $3::bigint, 0 FROM a"
	    "  WHERE $3::bigint > 0 RETURNING id, account_id)"
	    " INSERT INTO balance_history (account_id, delta, balance, reason,"
	    "  ref) SELECT account_id, $3::bigint, $3::bigint, 'payment',"
	    "  id::text FROM p",
	    9, p, err, errsz);

	if (!r)
		return EIO;
	PQclear(r);
	return 0;
}

static int make(PGconn *conn, struct md_card_batch *b)
{
	const char *pfx = b->number_prefix ? b->number_prefix : "";
	char err[512] = "", value[24], expires[40] = "", batch_id[24],
	     table_id[24], agent_id[24] = "", memo[128];
	PGresult *r;

	snprintf(value, sizeof(value), "%" PRId64, b->face_value);
	snprintf(memo, sizeof(memo), "phone card batch %s", b->name);
	r = md_pq_exec(conn, "SELECT id FROM rate_tables WHERE name = $1", 1,
		       (const char *const[]){b->rate_table}, err, sizeof(err));
	if (!r)
		goto dberr;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return refuse(b, "rate_table", "rate_table: no rate table '%s'",
			      b->rate_table);
	}
	snprintf(table_id, sizeof(table_id), "%s", col(r, 0, "id"));
	PQclear(r);
	if (b->agent) {
		r = md_pq_exec(conn,
			       "SELECT id, 'manage_phone_cards' = ANY"
			       " (agent_authorizations) AS may FROM accounts"
			       " WHERE name = $1",
			       1, (const char *const[]){b->agent}, err,
			       sizeof(err));
		if (!r)
			goto dberr;
		if (PQntuples(r) != 1) {
			PQclear(r);
			return refuse(b, "agent", "agent: no account '%s'",
				      b->agent);
		}
		if (strcmp(col(r, 0, "may"), "t")) {
			PQclear(r);
			return refuse(b, "agent",
				      "agent: '%s' lacks the "
				      "manage_phone_cards authorization",
				      b->agent);
		}
		snprintf(agent_id, sizeof(agent_id), "%s", col(r, 0, "id"));
		PQclear(r);
	}
	if (b->expires) {
		if (strlen(b->expires) != 10 || b->expires[4] != '-' ||
		    b->expires[7] != '-' ||
		    strspn(b->expires, "0123456789-") != 10)
			return refuse(b, "expires",
				      "expires: '%s' is not a date "
				      "(YYYY-MM-DD) from today on",
				      b->expires);
		r = md_pq_exec(conn,
			       "SELECT ($1::date + 1)::timestamptz AS at,"
			       " ($1::date + 1)::timestamptz > now() AS later",
			       1, (const char *const[]){b->expires}, err,
			       sizeof(err));
		if (!r || strcmp(col(r, 0, "later"), "t")) {
			PQclear(r);
			return refuse(b, "expires",
				      "expires: '%s' is not a date "
				      "(YYYY-MM-DD) from today on",
				      b->expires);
		}
		snprintf(expires, sizeof(expires), "%s", col(r, 0, "at"));
		PQclear(r);
	}
	r = md_pq_exec(
	    conn,
	    "INSERT INTO phone_card_batches (name, agent_id, rate_table_id,"
	    " face_value, expires_at, created_by) VALUES ($1, $2::bigint,"
	    " $3::bigint, $4::bigint, $5::timestamptz, $6)"
	    " ON CONFLICT (name) DO NOTHING RETURNING id",
	    6,
	    (const char *const[]){b->name, *agent_id ? agent_id : NULL,
				  table_id, value, *expires ? expires : NULL,
				  b->by ? b->by : ""},
	    err, sizeof(err));
	if (!r)
		goto dberr;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return refuse(b, "name", "name: a batch '%s' exists", b->name);
	}
	snprintf(batch_id, sizeof(batch_id), "%s", col(r, 0, "id"));
	PQclear(r);

	for (int i = 0; i < b->count; i++) {
		struct md_card *cd = &b->cards[i];
		bool clash = true;

		for (int d = 0; clash && d < DRAWS_MAX; d++) {
			size_t plen = strlen(pfx);

			memcpy(cd->number, pfx, plen);
			if (draw_digits(cd->number + plen,
					(size_t)b->number_digits - plen))
				return refuse(b, "count", "no random numbers");
			if (clashes(conn, cd->number, &clash, err, sizeof(err)))
				goto dberr;
		}
		if (clash)
			return refuse(b, "number_digits",
				      "number_digits: no free number left "
				      "with prefix '%s'",
				      pfx);
		if (draw_digits(cd->pin, (size_t)b->pin_digits))
			return refuse(b, "count", "no random numbers");
		if (insert_card(conn, batch_id, *agent_id ? agent_id : NULL,
				table_id, value, *expires ? expires : NULL, cd,
				memo, b->by ? b->by : "", err, sizeof(err)))
			goto dberr;
	}
	return 0;
dberr:
	snprintf(b->err, sizeof(b->err), "%s", err);
	return EIO;
}

/*
 * Make the batch b describes (count cards into b->cards, which the caller
 * frees with free()).  Returns 0, EINVAL (b->field, b->err: nothing
 * written) or EIO (the database: b->err).
 */
int md_card_batch_create(PGconn *conn, struct md_card_batch *b)
{
	const char *pfx = b->number_prefix ? b->number_prefix : "";
	char err[256];
	int ret;

	b->cards = NULL;
	b->field[0] = b->err[0] = '\0';
	if (!b->name || !*b->name || strlen(b->name) > 64)
		return refuse(b, "name", "name: 1 to 64 characters");
	if (b->count < 1 || b->count > MD_CARD_COUNT_MAX)
		return refuse(b, "count", "count: 1..%d", MD_CARD_COUNT_MAX);
	if (b->face_value < 0)
		return refuse(b, "value", "value: an amount of 0 or more");
	if (!b->rate_table)
		return refuse(b, "rate_table", "rate_table: required");
	if (!b->number_digits)
		b->number_digits = 12;
	if (!b->pin_digits)
		b->pin_digits = 6;
	if (b->number_digits < 4 || b->number_digits > MD_CARD_DIGITS_MAX)
		return refuse(b, "number_digits", "number_digits: 4..%d",
			      MD_CARD_DIGITS_MAX);
	if (b->pin_digits < 4 || b->pin_digits > MD_PIN_DIGITS_MAX)
		return refuse(b, "pin_digits", "pin_digits: 4..%d",
			      MD_PIN_DIGITS_MAX);
	if (strspn(pfx, "0123456789") != strlen(pfx) ||
	    strlen(pfx) + 4 > (size_t)b->number_digits)
		return refuse(b, "number_prefix",
			      "number_prefix: '%s' must be digits, at least 4 "
			      "shorter than the number",
			      pfx);
	b->cards = calloc((size_t)b->count, sizeof(*b->cards));
	if (!b->cards)
		return refuse(b, "count", "out of memory");
	if (md_pq_cmd(conn, "BEGIN", err, sizeof(err))) {
		snprintf(b->err, sizeof(b->err), "%s", err);
		return EIO;
	}
	ret = make(conn, b);
	if (!ret && md_pq_cmd(conn, "COMMIT", err, sizeof(err))) {
		snprintf(b->err, sizeof(b->err), "%s", err);
		ret = EIO;
	}
	if (ret) {
		md_pq_cmd(conn, "ROLLBACK", NULL, 0);
		free(b->cards);
		b->cards = NULL;
	}
	return ret;
}

/*
 * Lock, unlock (clearing the wrong-PIN count) or set the expiry of card
 * number ("lock", "unlock", "expire" with date YYYY-MM-DD or NULL for
 * never).  Returns 0, ENOENT, EINVAL (a bad date) or EIO (err).
 */
int md_card_set(PGconn *conn, const char *number, const char *what,
		const char *date, char *err, size_t errsz)
{
	const char *sql;
	PGresult *r;
	int n;

	if (!strcmp(what, "lock"))
		sql = "UPDATE phone_cards SET locked = true WHERE number = $1"
		      " RETURNING number";
	else if (!strcmp(what, "unlock"))
		sql = "UPDATE phone_cards SET locked = false, wrong_pins = 0"
		      " WHERE number = $1 RETURNING number";
	else if (!date)
		sql = "UPDATE phone_cards SET expires_at = NULL"
		      " WHERE number = $1 RETURNING number";
	else if (strlen(date) != 10 || date[4] != '-' || date[7] != '-' ||
		 strspn(date, "0123456789-") != 10)
		return EINVAL;
	else
		sql = "UPDATE phone_cards SET expires_at ="
		      " ($2::date + 1)::timestamptz WHERE number = $1"
		      " RETURNING number";
	r = md_pq_exec(conn, sql, strstr(sql, "$2") ? 2 : 1,
		       (const char *const[]){number, date}, err, errsz);
	if (!r)
		return strstr(err, "date") ? EINVAL : EIO;
	n = PQntuples(r);
	PQclear(r);
	return n == 1 ? 0 : ENOENT;
}
