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
 * model/card.c makes batches and changes cards (the HTTP API uses it too).
 * `batch` prints the new cards as CSV (number,pin) on stdout: the only
 * time the PINs are shown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/money.h"
#include "tools/ctl.h"

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

static int batch(const struct tc_opts *o, char **argv)
{
	struct md_card_batch b = {0};
	PGconn *conn;
	int rc;

	b.name = argv[1];
	b.rate_table = argv[4];
	b.agent = o->agent;
	b.expires = o->expires;
	b.number_prefix = o->card_prefix;
	b.by = o->by ? o->by : (getenv("USER") ? getenv("USER") : "");
	if (int_opt(argv[2], 1, MD_CARD_COUNT_MAX, &b.count)) {
		fprintf(stderr,
			"tandemctl: card refused: count: '%s' is not "
			"1..100000\n",
			argv[2]);
		return 1;
	}
	if (sw_money_parse(&b.face_value, argv[3]) || b.face_value < 0) {
		fprintf(stderr,
			"tandemctl: card refused: value: '%s' is not an amount "
			"of 0 or more (a decimal string with at most 6 "
			"decimals)\n",
			argv[3]);
		return 1;
	}
	if ((o->card_digits &&
	     int_opt(o->card_digits, 1, 1000, &b.number_digits)) ||
	    (o->pin_digits && int_opt(o->pin_digits, 1, 1000, &b.pin_digits))) {
		fprintf(stderr, "tandemctl: card refused: number_digits and "
				"pin_digits: whole numbers\n");
		return 1;
	}
	conn = tc_db_connect(o);
	if (!conn)
		return 1;
	rc = md_card_batch_create(conn, &b);
	PQfinish(conn);
	if (rc) {
		fprintf(stderr, "tandemctl: card refused: %s\n", b.err);
		return 1;
	}
	printf("number,pin\n");
	for (int i = 0; i < b.count; i++)
		printf("%s,%s\n", b.cards[i].number, b.cards[i].pin);
	fprintf(stderr, "batch %s: %d cards of %s, accounts card-<number>\n",
		b.name, b.count, argv[3]);
	free(b.cards);
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
	int rc;

	if (!conn)
		return 1;
	rc = md_card_set(conn, number, what,
			 date && strcmp(date, "never") ? date : NULL, err,
			 sizeof(err));
	PQfinish(conn);
	if (rc) {
		fprintf(stderr, "tandemctl: card refused: %s\n",
			rc == EINVAL   ? "date: not YYYY-MM-DD"
			: rc == ENOENT ? "number: no such card"
				       : err);
		return 1;
	}
	printf("card %s: %s%s%s\n", number, what, date ? " " : "",
	       date ? date : "");
	return 0;
}

/* argv: SUBCOMMAND ARGS... (after "card") */
int tc_cmd_card(const struct tc_opts *o, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";

	if (!strcmp(sub, "batch") && argc == 5)
		return batch(o, argv);
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
