/*
 * card.c - tandemctl card: phone card batches (SPEC §2, docs/phone-cards.md)
 *
 *   tandemctl card batch NAME COUNT VALUE RATE_TABLE [--agent A]
 *             [--expires YYYY-MM-DD] [--number-prefix P] [--number-digits N]
 *             [--pin-digits N] [--by W]
 *   tandemctl card list BATCH
 *   tandemctl card lock|unlock NUMBER
 *   tandemctl card expire NUMBER YYYY-MM-DD|never
 *
 * A batch is one transaction: the batch row, then per card its own prepaid
 * account ("card-<number>", the batch's rate table, the batch's agent as
 * agent), the card row, and the face value as a payments top-up with its
 * balance_history line, so the ledger holds every card's money from the
 * start.  Numbers and PINs are drawn from getrandom(2); a number that
 * exists, or that is a prefix of another card's number (or has one as a
 * prefix), is drawn again, because billingd finds a card by the longest
 * number that starts the dialled digits.  `batch` prints the new cards as
 * CSV (number,pin) on stdout: the only time the PINs are shown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/money.h"
#include "tools/ctl.h"

#define CARD_COUNT_MAX	100000
#define CARD_DIGITS_MAX 32 /* the schema's number check */
#define PIN_DIGITS_MAX	16
#define DRAWS_MAX	20 /* per card, before giving up */

struct card {
	char number[CARD_DIGITS_MAX + 1];
	char pin[PIN_DIGITS_MAX + 1];
};

__attribute__((format(printf, 2, 3))) static int refuse(PGconn *conn,
							const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tandemctl: card refused: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (conn) {
		PQclear(PQexec(conn, "ROLLBACK"));
		PQfinish(conn);
	}
	return 1;
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

static int int_opt(const char *s, int lo, int hi, int *vp)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return EINVAL;
	*vp = (int)v;
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
		       const char *expires, const struct card *cd,
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

static int batch(const struct tc_opts *o, int argc, char **argv)
{
	const char *name = argv[1], *rt = argv[4];
	const char *pfx = o->card_prefix ? o->card_prefix : "";
	const char *by = o->by ? o->by : (getenv("USER") ? getenv("USER") : "");
	int count, ndigits = 12, npin = 6;
	char err[512] = "", value[24], expires[40] = "", batch_id[24],
	     table_id[24], agent_id[24] = "", memo[128];
	int64_t face;
	struct card *cards;
	PGconn *conn;
	PGresult *r;

	(void)argc;
	if (!*name || strlen(name) > 64)
		return refuse(NULL, "name: 1 to 64 characters");
	if (int_opt(argv[2], 1, CARD_COUNT_MAX, &count))
		return refuse(NULL, "count: '%s' is not 1..100000", argv[2]);
	if (sw_money_parse(&face, argv[3]) || face < 0)
		return refuse(NULL,
			      "value: '%s' is not an amount of 0 or more "
			      "(a decimal string with at most 6 decimals)",
			      argv[3]);
	if (o->card_digits &&
	    int_opt(o->card_digits, 4, CARD_DIGITS_MAX, &ndigits))
		return refuse(NULL, "number_digits: '%s' is not 4..32",
			      o->card_digits);
	if (o->pin_digits && int_opt(o->pin_digits, 4, PIN_DIGITS_MAX, &npin))
		return refuse(NULL, "pin_digits: '%s' is not 4..16",
			      o->pin_digits);
	if (strspn(pfx, "0123456789") != strlen(pfx) ||
	    strlen(pfx) + 4 > (size_t)ndigits)
		return refuse(NULL,
			      "number_prefix: '%s' must be digits, at least 4 "
			      "shorter than the number",
			      pfx);
	snprintf(value, sizeof(value), "%" PRId64, face);
	snprintf(memo, sizeof(memo), "phone card batch %s", name);

	conn = tc_db_connect(o);
	if (!conn)
		return 1;
	PQclear(PQexec(conn, "BEGIN"));
	r = md_pq_exec(conn, "SELECT id FROM rate_tables WHERE name = $1", 1,
		       (const char *const[]){rt}, err, sizeof(err));
	if (!r || PQntuples(r) != 1) {
		PQclear(r);
		return refuse(conn, "rate_table: no rate table '%s'", rt);
	}
	snprintf(table_id, sizeof(table_id), "%s", col(r, 0, "id"));
	PQclear(r);
	if (o->agent) {
		r = md_pq_exec(conn,
			       "SELECT id, 'manage_phone_cards' = ANY"
			       " (agent_authorizations) AS may FROM accounts"
			       " WHERE name = $1",
			       1, (const char *const[]){o->agent}, err,
			       sizeof(err));
		if (!r || PQntuples(r) != 1) {
			PQclear(r);
			return refuse(conn, "agent: no account '%s'", o->agent);
		}
		if (strcmp(col(r, 0, "may"), "t")) {
			PQclear(r);
			return refuse(conn,
				      "agent: '%s' lacks the "
				      "manage_phone_cards authorization",
				      o->agent);
		}
		snprintf(agent_id, sizeof(agent_id), "%s", col(r, 0, "id"));
		PQclear(r);
	}
	if (o->expires) {
		r = md_pq_exec(conn,
			       "SELECT ($1::date + 1)::timestamptz AS at,"
			       " ($1::date + 1)::timestamptz > now() AS later",
			       1, (const char *const[]){o->expires}, err,
			       sizeof(err));
		if (!r || strcmp(col(r, 0, "later"), "t")) {
			PQclear(r);
			return refuse(conn,
				      "expires: '%s' is not a date "
				      "(YYYY-MM-DD) from today on",
				      o->expires);
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
	    (const char *const[]){name, *agent_id ? agent_id : NULL, table_id,
				  value, *expires ? expires : NULL, by},
	    err, sizeof(err));
	if (!r || PQntuples(r) != 1) {
		PQclear(r);
		return refuse(conn, "name: %s",
			      *err ? err : "a batch of that name exists");
	}
	snprintf(batch_id, sizeof(batch_id), "%s", col(r, 0, "id"));
	PQclear(r);

	cards = calloc((size_t)count, sizeof(*cards));
	if (!cards)
		return refuse(conn, "out of memory");
	for (int i = 0; i < count; i++) {
		struct card *cd = &cards[i];
		bool clash = true;

		for (int d = 0; clash && d < DRAWS_MAX; d++) {
			size_t plen = strlen(pfx);

			memcpy(cd->number, pfx, plen);
			if (draw_digits(cd->number + plen,
					(size_t)ndigits - plen) ||
			    clashes(conn, cd->number, &clash, err,
				    sizeof(err))) {
				free(cards);
				return refuse(conn, "%s",
					      *err ? err : "no random numbers");
			}
		}
		if (clash) {
			free(cards);
			return refuse(conn,
				      "number_digits: no free number left "
				      "with prefix '%s'",
				      pfx);
		}
		if (draw_digits(cd->pin, (size_t)npin) ||
		    insert_card(conn, batch_id, *agent_id ? agent_id : NULL,
				table_id, value, *expires ? expires : NULL, cd,
				memo, by, err, sizeof(err))) {
			free(cards);
			return refuse(conn, "%s", err);
		}
	}
	if (md_pq_cmd(conn, "COMMIT", err, sizeof(err))) {
		free(cards);
		return refuse(conn, "%s", err);
	}
	printf("number,pin\n");
	for (int i = 0; i < count; i++)
		printf("%s,%s\n", cards[i].number, cards[i].pin);
	fprintf(stderr, "batch %s: %d cards of %s, accounts card-<number>\n",
		name, count, argv[3]);
	free(cards);
	PQfinish(conn);
	return 0;
}

static int list(const struct tc_opts *o, const char *name)
{
	char err[512], money[32];
	PGconn *conn = tc_db_connect(o);
	PGresult *r;

	if (!conn)
		return 1;
	r = md_pq_exec(conn,
		       "SELECT c.number, a.balance, a.name AS account,"
		       " coalesce(c.expires_at::text, '') AS expires_at,"
		       " c.wrong_pins, c.locked,"
		       " coalesce(c.first_used_at::text, '') AS first_used_at,"
		       " coalesce(c.last_used_at::text, '') AS last_used_at"
		       " FROM phone_cards c"
		       " JOIN phone_card_batches b ON b.id = c.batch_id"
		       " JOIN accounts a ON a.id = c.account_id"
		       " WHERE b.name = $1 ORDER BY c.number",
		       1, (const char *const[]){name}, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "tandemctl: %s\n", err);
		PQfinish(conn);
		return 1;
	}
	printf("number|account|balance|expires_at|wrong_pins|locked|"
	       "first_used_at|last_used_at\n");
	for (int i = 0; i < PQntuples(r); i++) {
		sw_money_format(money, sizeof(money),
				strtoll(col(r, i, "balance"), NULL, 10), 4);
		printf("%s|%s|%s|%s|%s|%s|%s|%s\n", col(r, i, "number"),
		       col(r, i, "account"), money, col(r, i, "expires_at"),
		       col(r, i, "wrong_pins"), col(r, i, "locked"),
		       col(r, i, "first_used_at"), col(r, i, "last_used_at"));
	}
	PQclear(r);
	PQfinish(conn);
	return 0;
}

/* lock, unlock (clears the wrong-PIN count) or set the expiry of a card */
static int set_card(const struct tc_opts *o, const char *what,
		    const char *number, const char *date)
{
	char err[512] = "";
	PGconn *conn = tc_db_connect(o);
	const char *sql;
	PGresult *r;

	if (!conn)
		return 1;
	if (!strcmp(what, "lock"))
		sql = "UPDATE phone_cards SET locked = true WHERE number = $1"
		      " RETURNING number";
	else if (!strcmp(what, "unlock"))
		sql = "UPDATE phone_cards SET locked = false, wrong_pins = 0"
		      " WHERE number = $1 RETURNING number";
	else if (!date || !strcmp(date, "never"))
		sql = "UPDATE phone_cards SET expires_at = NULL"
		      " WHERE number = $1 RETURNING number";
	else
		sql = "UPDATE phone_cards SET expires_at ="
		      " ($2::date + 1)::timestamptz WHERE number = $1"
		      " RETURNING number";
	r = md_pq_exec(conn, sql, strstr(sql, "$2") ? 2 : 1,
		       (const char *const[]){number, date}, err, sizeof(err));
	if (!r || PQntuples(r) != 1) {
		PQclear(r);
		PQfinish(conn);
		fprintf(
		    stderr, "tandemctl: card refused: %s\n",
		    *err ? (strstr(err, "date") ? "date: not YYYY-MM-DD" : err)
			 : "number: no such card");
		return 1;
	}
	PQclear(r);
	PQfinish(conn);
	printf("card %s: %s%s%s\n", number, what, date ? " " : "",
	       date ? date : "");
	return 0;
}

/* argv: SUBCOMMAND ARGS... (after "card") */
int tc_cmd_card(const struct tc_opts *o, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";

	if (!strcmp(sub, "batch") && argc == 5)
		return batch(o, argc, argv);
	if (!strcmp(sub, "list") && argc == 2)
		return list(o, argv[1]);
	if ((!strcmp(sub, "lock") || !strcmp(sub, "unlock")) && argc == 2)
		return set_card(o, sub, argv[1], NULL);
	if (!strcmp(sub, "expire") && argc == 3)
		return set_card(o, sub, argv[1], argv[2]);
	fprintf(stderr,
		"usage: tandemctl card batch NAME COUNT VALUE RATE_TABLE "
		"[--agent A] [--expires DATE]\n"
		"         [--number-prefix P] [--number-digits N] "
		"[--pin-digits N] [--by W]\n"
		"       tandemctl card list BATCH | lock NUMBER | unlock "
		"NUMBER |\n"
		"       tandemctl card expire NUMBER YYYY-MM-DD|never\n");
	return 2;
}
