/*
 * api_cards.c - phone cards over HTTP, through model/card.c
 *
 *   GET   /api/v1/phone_card_batches?limit=&offset=
 *   POST  /api/v1/phone_card_batches {"name", "count", "value",
 *         "rate_table", "agent"?, "expires"?, "number_prefix"?,
 *         "number_digits"?, "pin_digits"?}    -> the cards with their PINs,
 *                                              the only time they are shown
 *   GET   /api/v1/phone_cards?batch=&limit=&offset=   (no PINs)
 *   PATCH /api/v1/phone_cards/<number> {"locked": bool} |
 *         {"expires": "YYYY-MM-DD" | null}
 *
 * Admin and operator.  PINs never reach a log or the audit log.
 *
 * Threading: API worker.
 */
#define SW_LOG_MODULE "api"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/api_int.h"
#include "common/log.h"
#include "common/money.h"

static json_t *page_of(PGresult *res, long limit, long offset)
{
	json_t *items =
	    json_loads(PQgetvalue(res, 0, PQfnumber(res, "j")), 0, NULL);

	return json_pack(
	    "{s:o, s:I, s:I, s:I}", "items", items ? items : json_array(),
	    "total",
	    (json_int_t)strtoll(PQgetvalue(res, 0, PQfnumber(res, "total")),
				NULL, 10),
	    "limit", (json_int_t)limit, "offset", (json_int_t)offset);
}

void api_card_batches_list(PGconn *conn, struct api_req *r)
{
	long limit, offset;
	char lim[24], off[24], err[512];
	const char *p[2] = {lim, off};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	res = md_pq_exec(
	    conn,
	    "SELECT coalesce((SELECT json_agg(j) FROM (SELECT "
	    "json_build_object('name', b.name, 'agent', a.name, 'rate_table', "
	    "t.name, 'value', money_text(b.face_value), 'expires_at', "
	    "b.expires_at, 'cards', (SELECT count(*) FROM "
	    "phone_cards c WHERE "
	    "c.batch_id = b.id), 'created_by', "
	    "b.created_by, 'created_at', "
	    "b.created_at) AS j FROM phone_card_batches b "
	    "LEFT JOIN accounts "
	    "a ON a.id = b.agent_id JOIN rate_tables t ON "
	    "t.id = "
	    "b.rate_table_id ORDER BY b.name COLLATE \"C\" "
	    "LIMIT $1::int "
	    "OFFSET $2::int) x), '[]')::text AS j, (SELECT "
	    "count(*) FROM "
	    "phone_card_batches) AS total",
	    2, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, page_of(res, limit, offset));
	PQclear(res);
}

static bool int_field(struct api_req *r, json_t *body, const char *key,
		      int *out)
{
	json_t *v = json_object_get(body, key);

	if (!v)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 1000000) {
		api_error(r, 400, "invalid", key, "%s: a whole number", key);
		return false;
	}
	*out = (int)json_integer_value(v);
	return true;
}

void api_card_batch_create(PGconn *conn, struct api_req *r)
{
	static const char *const keys[] = {
	    "name",    "count",		"value",	 "rate_table", "agent",
	    "expires", "number_prefix", "number_digits", "pin_digits", NULL};
	json_t *body = api_body_object(r), *cards, *v;
	struct md_card_batch b = {0};
	const char *value, *k;
	int rc;

	if (!body)
		return;
	json_object_foreach(body, k, v)
	{
		bool known = false;

		for (size_t i = 0; keys[i]; i++)
			known = known || !strcmp(keys[i], k);
		if (!known) {
			api_error(r, 400, "invalid", k, "%s: unknown field", k);
			goto out;
		}
		if (strcmp(k, "count") && strcmp(k, "number_digits") &&
		    strcmp(k, "pin_digits") && !json_is_string(v)) {
			api_error(r, 400, "invalid", k, "%s: must be a string",
				  k);
			goto out;
		}
	}
	if (!json_object_get(body, "count")) {
		api_error(r, 400, "invalid", "count", "count: required");
		goto out;
	}
	if (!int_field(r, body, "count", &b.count) ||
	    !int_field(r, body, "number_digits", &b.number_digits) ||
	    !int_field(r, body, "pin_digits", &b.pin_digits))
		goto out;
	value = json_string_value(json_object_get(body, "value"));
	if (!value || sw_money_parse(&b.face_value, value)) {
		api_error(r, 400, "invalid", "value",
			  "value: a decimal string with at most 6 decimals");
		goto out;
	}
	b.name = json_string_value(json_object_get(body, "name"));
	b.rate_table = json_string_value(json_object_get(body, "rate_table"));
	b.agent = json_string_value(json_object_get(body, "agent"));
	b.expires = json_string_value(json_object_get(body, "expires"));
	b.number_prefix =
	    json_string_value(json_object_get(body, "number_prefix"));
	b.by = r->who.user;
	if (b.count == 0)
		b.count = -1; /* refused by the model with its range */
	rc = md_card_batch_create(conn, &b);
	if (rc == EINVAL) {
		api_error(r, 400, "invalid", b.field, "%s", b.err);
		goto out;
	}
	if (rc) {
		api_db_error(r, b.err);
		goto out;
	}
	cards = json_array();
	for (int i = 0; i < b.count; i++)
		json_array_append_new(cards, json_pack("{s:s, s:s}", "number",
						       b.cards[i].number, "pin",
						       b.cards[i].pin));
	free(b.cards);
	api_audit(conn, r, "create", "phone_card_batches",
		  json_pack("{s:s, s:i, s:s}", "name", b.name, "count", b.count,
			    "value", value));
	sw_info("phone card batch %s: %d cards by %s", b.name, b.count,
		r->who.user);
	api_ok(r, 201,
	       json_pack("{s:s, s:i, s:o}", "name", b.name, "count", b.count,
			 "cards", cards));
out:
	json_decref(body);
}

void api_cards_list(PGconn *conn, struct api_req *r)
{
	long limit, offset;
	char lim[24], off[24], batch[80], err[512];
	const char *p[3] = {lim, off, NULL};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	if (api_query(r, "batch", batch, sizeof(batch)))
		p[2] = batch;
	res = md_pq_exec(
	    conn,
	    "WITH f AS (SELECT c.*, b.name AS batch, a.name AS account, "
	    "a.balance FROM phone_cards c JOIN phone_card_batches b ON b.id = "
	    "c.batch_id JOIN accounts a ON a.id = c.account_id WHERE "
	    "$3::text IS NULL OR b.name = $3) SELECT coalesce((SELECT "
	    "json_agg(j) FROM (SELECT json_build_object('number', number, "
	    "'batch', batch, 'account', account, 'balance', "
	    "money_text(balance), 'expires_at', expires_at, 'wrong_pins', "
	    "wrong_pins, 'locked', locked, 'first_used_at', "
	    "first_used_at, 'last_used_at', last_used_at) AS j "
	    "FROM f ORDER BY number LIMIT $1::int OFFSET "
	    "$2::int) x), '[]')::text AS j, (SELECT count(*) "
	    "FROM f) AS total",
	    3, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, page_of(res, limit, offset));
	PQclear(res);
}

void api_card_update(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r), *locked, *expires;
	char err[512];
	int rc;

	if (!body)
		return;
	locked = json_object_get(body, "locked");
	expires = json_object_get(body, "expires");
	if (json_object_size(body) != 1 ||
	    (locked && !json_is_boolean(locked)) ||
	    (expires && !json_is_string(expires) && !json_is_null(expires)) ||
	    (!locked && !expires)) {
		api_error(r, 400, "invalid", locked ? "locked" : "expires",
			  "one of {\"locked\": true|false} or {\"expires\": "
			  "\"YYYY-MM-DD\"|null}");
		goto out;
	}
	rc = md_card_set(conn, r->sub,
			 locked ? (json_is_true(locked) ? "lock" : "unlock")
				: "expire",
			 json_string_value(expires), err, sizeof(err));
	if (rc == ENOENT) {
		api_error(r, 404, "not_found", NULL, "no card %s", r->sub);
		goto out;
	}
	if (rc == EINVAL) {
		api_error(r, 400, "invalid", "expires",
			  "expires: YYYY-MM-DD or null");
		goto out;
	}
	if (rc) {
		api_db_error(r, err);
		goto out;
	}
	api_audit(conn, r, "update", "phone_cards",
		  json_pack("{s:s, s:O}", "number", r->sub, "change", body));
	api_ok(r, 200,
	       json_pack("{s:s, s:O}", "number", r->sub, "changed", body));
out:
	json_decref(body);
}
