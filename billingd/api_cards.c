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
 * Admin and operator; an agent with the manage_phone_cards authorization
 * for the batches of its subtree (a batch it makes is its own unless it
 * names an agent below it).  PINs never reach a log or the audit log.
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

/* an agent's own account id as text into buf, or NULL for staff */
static const char *agent_of(const struct api_req *r, char *buf, size_t size)
{
	if (r->who.role & ROLES_STAFF)
		return NULL;
	snprintf(buf, size, "%lld", r->who.account_id);
	return buf;
}

/* may the agent of r use cards (batch NULL: a card's number)? 403 set when
 * not; staff always may */
static bool agent_may(PGconn *conn, struct api_req *r, const char *batch,
		      const char *number)
{
	char me[24], err[512];
	const char *p[3] = {me, batch, number};
	PGresult *res;
	bool ok;

	if (!agent_of(r, me, sizeof(me)))
		return true;
	res = md_pq_exec(
	    conn,
	    "WITH RECURSIVE sub(id) AS (SELECT $1::bigint UNION ALL SELECT "
	    "x.id FROM accounts x JOIN sub ON x.agent_id = sub.id) SELECT "
	    "(SELECT 'manage_phone_cards' = ANY (agent_authorizations) FROM "
	    "accounts WHERE id = $1::bigint) AND ($2::text IS NULL OR $2 IN "
	    "(SELECT name FROM accounts WHERE id IN (SELECT id FROM sub))) "
	    "AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM phone_cards c "
	    "JOIN phone_card_batches b ON b.id = c.batch_id WHERE c.number = "
	    "$3 AND b.agent_id IN (SELECT id FROM sub))) AS ok",
	    3, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return false;
	}
	ok = !strcmp(md_pq_get(res, 0, "ok"), "t");
	PQclear(res);
	if (!ok)
		api_error(r, 403, "forbidden", NULL,
			  "phone cards: your account lacks manage_phone_cards, "
			  "or they are not in your subtree");
	return ok;
}

void api_card_batches_list(PGconn *conn, struct api_req *r)
{
	long limit, offset;
	char lim[24], off[24], me[24], err[512];
	const char *p[3] = {lim, off, agent_of(r, me, sizeof(me))};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	res = md_pq_exec(
	    conn,
	    "WITH RECURSIVE sub(id) AS (SELECT $3::bigint WHERE $3 IS NOT "
	    "NULL UNION ALL SELECT x.id FROM accounts x JOIN sub ON "
	    "x.agent_id = sub.id), vis AS (SELECT * FROM phone_card_batches "
	    "WHERE $3::bigint IS NULL OR agent_id IN (SELECT id FROM sub)) "
	    "SELECT coalesce((SELECT json_agg(j) FROM (SELECT "
	    "json_build_object('name', b.name, 'agent', a.name, 'rate_table', "
	    "t.name, 'value', money_text(b.face_value), 'expires_at', "
	    "b.expires_at, 'cards', (SELECT count(*) FROM "
	    "phone_cards c WHERE "
	    "c.batch_id = b.id), 'created_by', "
	    "b.created_by, 'created_at', "
	    "b.created_at) AS j FROM vis b "
	    "LEFT JOIN accounts "
	    "a ON a.id = b.agent_id JOIN rate_tables t ON "
	    "t.id = "
	    "b.rate_table_id ORDER BY b.name COLLATE \"C\" "
	    "LIMIT $1::int "
	    "OFFSET $2::int) x), '[]')::text AS j, (SELECT "
	    "count(*) FROM vis) AS total",
	    3, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, api_page_json(res, limit, offset));
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
	if (!(r->who.role & ROLES_STAFF)) {
		/* an agent's batch is its own, or below it */
		if (!b.agent)
			b.agent = r->who.account;
		if (!agent_may(conn, r, b.agent, NULL))
			goto out;
	}
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
	char lim[24], off[24], batch[80], me[24], err[512];
	const char *p[4] = {lim, off, NULL, agent_of(r, me, sizeof(me))};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	if (api_query(r, "batch", batch, sizeof(batch)))
		p[2] = batch;
	res = md_pq_exec(
	    conn,
	    "WITH RECURSIVE sub(id) AS (SELECT $4::bigint WHERE $4 IS NOT "
	    "NULL UNION ALL SELECT x.id FROM accounts x JOIN sub ON "
	    "x.agent_id = sub.id), f AS (SELECT c.*, b.name AS batch, "
	    "a.name AS account, "
	    "a.balance FROM phone_cards c JOIN phone_card_batches b ON b.id = "
	    "c.batch_id JOIN accounts a ON a.id = c.account_id WHERE "
	    "($3::text IS NULL OR b.name = $3) AND ($4::bigint IS NULL OR "
	    "b.agent_id IN (SELECT id FROM sub))) SELECT coalesce((SELECT "
	    "json_agg(j) FROM (SELECT json_build_object('number', number, "
	    "'batch', batch, 'account', account, 'balance', "
	    "money_text(balance), 'expires_at', expires_at, 'wrong_pins', "
	    "wrong_pins, 'locked', locked, 'first_used_at', "
	    "first_used_at, 'last_used_at', last_used_at) AS j "
	    "FROM f ORDER BY number LIMIT $1::int OFFSET "
	    "$2::int) x), '[]')::text AS j, (SELECT count(*) "
	    "FROM f) AS total",
	    4, p, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, api_page_json(res, limit, offset));
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
	if (!agent_may(conn, r, NULL, r->sub))
		goto out;
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
