/*
 * card.c - phone-card number + PIN check for auth.request (card.h)
 */
#define SW_LOG_MODULE "card"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/card.h"
#include "billingd/db.h"
#include "common/log.h"

static const char sql_find[] =
    "SELECT c.id, c.number, c.pin, c.locked, a.name AS account,"
    " (c.expires_at IS NOT NULL AND c.expires_at <= now()) AS expired"
    " FROM phone_cards c JOIN accounts a ON a.id = c.account_id"
    " WHERE c.number = ANY ($1::text[])"
    " ORDER BY length(c.number) DESC LIMIT 1";

/* count a wrong PIN; the card locks when the count reaches $2 */
static const char sql_wrong[] =
    "UPDATE phone_cards SET wrong_pins = wrong_pins + 1,"
    " locked = locked OR wrong_pins + 1 >= $2::integer"
    " WHERE id = $1::bigint RETURNING wrong_pins, locked";

static const char sql_used[] =
    "UPDATE phone_cards SET wrong_pins = 0,"
    " first_used_at = coalesce(first_used_at, now()), last_used_at = now()"
    " WHERE id = $1::bigint";

struct card_ctx {
	bd_card_h *h;
	void *arg;
	struct bd_db *db;
	char id[24];
	char digits[BD_CARD_DIGITS_MAX + 1]; /* number + PIN: secret */
	int64_t max_wrong;
	struct bd_card_result r;
};

const char *bd_card_reason(enum bd_card_status s)
{
	switch (s) {
	case BD_CARD_OK:
		return "";
	case BD_CARD_UNKNOWN:
		return "CardNotFound";
	case BD_CARD_WRONG_PIN:
		return "CardPinWrong";
	case BD_CARD_LOCKED:
		return "CardLocked";
	case BD_CARD_EXPIRED:
		return "CardExpired";
	}
	return "CardRefused";
}

/* Unknown card and wrong PIN answer alike, so numbers cannot be probed. */
int bd_card_sip_code(enum bd_card_status s)
{
	return s == BD_CARD_OK ? 0 : 403;
}

static const char *col(const PGresult *res, const char *name)
{
	int c = PQfnumber(res, name);

	return c < 0 || PQgetisnull(res, 0, c) ? "" : PQgetvalue(res, 0, c);
}

/* compare without an early exit (the time does not tell the digits) */
static bool same_pin(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ (i < lb ? b[i] : 0));
	return d == 0;
}

static void done(struct card_ctx *ctx, int err)
{
	memset(ctx->digits, 0, sizeof(ctx->digits));
	ctx->h(err, err ? NULL : &ctx->r, ctx->arg);
	mem_deref(ctx);
}

static void used_h(int err, const PGresult *res, void *arg)
{
	(void)arg;
	if (err)
		sw_warn("phone card use not recorded: %s",
			err == EBADMSG ? bd_db_errmsg(res) : strerror(err));
}

static void wrong_h(int err, const PGresult *res, void *arg)
{
	struct card_ctx *ctx = arg;

	if (err) {
		if (err == EBADMSG)
			sw_err("wrong PIN count: %s", bd_db_errmsg(res));
		done(ctx, err);
		return;
	}
	if (PQntuples(res) == 1) {
		ctx->r.wrong_pins = strtoll(col(res, "wrong_pins"), NULL, 10);
		if (!strcmp(col(res, "locked"), "t"))
			ctx->r.status = BD_CARD_LOCKED;
	}
	sw_info("phone card %s: wrong PIN (%lld in a row)%s", ctx->r.number,
		(long long)ctx->r.wrong_pins,
		ctx->r.status == BD_CARD_LOCKED ? ", card locked" : "");
	done(ctx, 0);
}

static void find_h(int err, const PGresult *res, void *arg)
{
	struct card_ctx *ctx = arg;
	char pin[BD_CARD_DIGITS_MAX + 1];
	const char *p[2];

	if (err) {
		if (err == EBADMSG)
			sw_err("phone card lookup: %s", bd_db_errmsg(res));
		done(ctx, err);
		return;
	}
	if (PQntuples(res) != 1) {
		ctx->r.status = BD_CARD_UNKNOWN;
		done(ctx, 0);
		return;
	}
	str_ncpy(ctx->r.number, col(res, "number"), sizeof(ctx->r.number));
	str_ncpy(pin, ctx->digits + strlen(ctx->r.number), sizeof(pin));
	str_ncpy(ctx->id, col(res, "id"), sizeof(ctx->id));
	str_ncpy(ctx->r.account, col(res, "account"), sizeof(ctx->r.account));
	p[0] = ctx->id;

	if (!strcmp(col(res, "locked"), "t")) {
		ctx->r.status = BD_CARD_LOCKED;
	} else if (!same_pin(pin, col(res, "pin"))) {
		char max[24];

		ctx->r.status = BD_CARD_WRONG_PIN;
		snprintf(max, sizeof(max), "%lld", (long long)ctx->max_wrong);
		p[1] = max;
		err = bd_db_query(ctx->db, sql_wrong, 2, p, wrong_h, ctx);
		if (err)
			done(ctx, err);
		return;
	} else if (!strcmp(col(res, "expired"), "t")) {
		ctx->r.status = BD_CARD_EXPIRED;
	} else {
		ctx->r.status = BD_CARD_OK;
		if (bd_db_query(ctx->db, sql_used, 1, p, used_h, NULL))
			sw_warn("phone card use not recorded: database busy");
	}
	if (ctx->r.status != BD_CARD_OK)
		ctx->r.account[0] = '\0';
	done(ctx, 0);
}

int bd_card_prepare(struct bd_db *db)
{
	int err = bd_db_prepare(db, sql_find);

	err = err ? err : bd_db_prepare(db, sql_wrong);
	return err ? err : bd_db_prepare(db, sql_used);
}

/*
 * Check the digits between the access prefix and '#'.  max_wrong: wrong
 * PINs in a row that lock the card.  h runs once, from the loop.
 */
int bd_card_check(struct bd_db *db, const char *digits, int64_t max_wrong,
		  bd_card_h *h, void *arg)
{
	char prefixes[2048];
	const char *p[1] = {prefixes};
	struct card_ctx *ctx;
	int err;

	if (!db || !digits || !h || strlen(digits) > BD_CARD_DIGITS_MAX)
		return EINVAL;
	err = bd_lookup_prefixes(prefixes, sizeof(prefixes), digits);
	if (err)
		return err;
	ctx = mem_zalloc(sizeof(*ctx), NULL);
	if (!ctx)
		return ENOMEM;
	ctx->h = h;
	ctx->arg = arg;
	ctx->db = db;
	ctx->max_wrong = max_wrong;
	str_ncpy(ctx->digits, digits, sizeof(ctx->digits));
	err = bd_db_query(db, sql_find, 1, p, find_h, ctx);
	if (err)
		mem_deref(ctx);
	return err;
}
