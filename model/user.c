/*
 * user.c - web users: the one validator and writer
 *
 * Used by the HTTP API (POST/PATCH /api/v1/users, PATCH /api/v1/me) and by
 * `tandemctl user`.  A user object:
 *
 *   username   [A-Za-z0-9._@-]{1,64}, set on creation only
 *   password   10..128 bytes, two kinds of character (md_password_problem)
 *   role       admin | operator | agent | customer
 *   account    the account an agent or customer user sees (required for
 *              those roles, refused for the others)
 *   enabled    false: the user cannot log in and its sessions end
 *   language   en | zh-CN
 *   time_zone  IANA name (checked against PostgreSQL's tz database)
 *
 * Threading: blocking libpq on the caller's connection; no global state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

static const char *const user_keys[] = {"username",  "password", "role",
					"account",   "enabled",	 "language",
					"time_zone", NULL};

static bool key_known(const char *k)
{
	for (size_t i = 0; user_keys[i]; i++) {
		if (!strcmp(user_keys[i], k))
			return true;
	}
	return false;
}

static int fail(struct md_user *u, const char *field, const char *msg)
{
	snprintf(u->field, sizeof(u->field), "%s", field);
	snprintf(u->err, sizeof(u->err), "%s: %s", field, msg);
	return EINVAL;
}

bool md_username_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._@-") == n;
}

/*
 * Check a user object (create: username, password and role required).
 * Fills u (strings point into body) or returns EINVAL with u->field and
 * u->err set.
 */
int md_user_check(struct md_user *u, json_t *body, bool create)
{
	const char *k;
	json_t *v;

	memset(u, 0, sizeof(*u));
	if (!json_is_object(body))
		return fail(u, "body", "must be a JSON object");
	json_object_foreach(body, k, v)
	{
		if (!key_known(k))
			return fail(u, k, "unknown field");
	}
	v = json_object_get(body, "username");
	if (v) {
		if (!create)
			return fail(u, "username", "cannot be changed");
		if (!json_is_string(v) ||
		    !md_username_valid(json_string_value(v)))
			return fail(u, "username",
				    "1..64 of A-Z a-z 0-9 . _ @ -");
		u->username = json_string_value(v);
	} else if (create) {
		return fail(u, "username", "required");
	}
	v = json_object_get(body, "password");
	if (v) {
		const char *why;

		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return fail(u, "password", "must be a string");
		why = md_password_problem(json_string_value(v));
		if (why)
			return fail(u, "password", why);
		u->password = json_string_value(v);
	} else if (create) {
		return fail(u, "password", "required");
	}
	v = json_object_get(body, "role");
	if (v) {
		const char *r = json_string_value(v);

		if (!r || (strcmp(r, "admin") && strcmp(r, "operator") &&
			   strcmp(r, "agent") && strcmp(r, "customer")))
			return fail(u, "role",
				    "admin, operator, agent or customer");
		u->role = r;
	} else if (create) {
		return fail(u, "role", "required");
	}
	v = json_object_get(body, "account");
	if (v) {
		if (json_is_null(v)) {
			u->account_null = true;
		} else if (!json_is_string(v) || !json_string_length(v) ||
			   json_string_length(v) > 64) {
			return fail(u, "account",
				    "an account name (1..64 characters) or "
				    "null");
		} else {
			u->account = json_string_value(v);
		}
	}
	v = json_object_get(body, "enabled");
	if (v) {
		if (!json_is_boolean(v))
			return fail(u, "enabled", "must be true or false");
		u->enabled = json_is_true(v) ? 1 : 0;
		u->enabled_set = true;
	}
	v = json_object_get(body, "language");
	if (v) {
		const char *l = json_string_value(v);

		if (!l || (strcmp(l, "en") && strcmp(l, "zh-CN")))
			return fail(u, "language", "en or zh-CN");
		u->language = l;
	}
	v = json_object_get(body, "time_zone");
	if (v) {
		if (!json_is_string(v) || !json_string_length(v) ||
		    json_string_length(v) > 64)
			return fail(u, "time_zone",
				    "an IANA time zone name, e.g. "
				    "Asia/Shanghai");
		u->time_zone = json_string_value(v);
	}
	return 0;
}

/*
 * Write u: a new user (create) or the changes to user `name`, in one
 * statement, hashing the password.  Returns 0, ENOENT (no such user),
 * EEXIST (username taken), EINVAL (u->field/u->err: unknown account, role
 * and account that do not go together, unknown time zone) or EIO (u->err).
 */
int md_user_save(PGconn *conn, struct md_user *u, const char *name, bool create)
{
	char hash[MD_PASSWORD_HASH_MAX] = "";
	const char *params[9];
	PGresult *res;
	char err[512];
	int ret;

	if (u->password && md_password_hash(u->password, hash, sizeof(hash)))
		return fail(u, "password", "cannot be hashed");
	if (u->account) {
		const char *p[1] = {u->account};

		res = md_pq_exec(conn, "SELECT 1 FROM accounts WHERE name = $1",
				 1, p, err, sizeof(err));
		if (!res)
			goto dberr;
		ret = PQntuples(res);
		PQclear(res);
		if (!ret)
			return fail(u, "account", "no such account");
	}
	if (u->time_zone) {
		const char *p[1] = {u->time_zone};

		res = md_pq_exec(conn,
				 "SELECT 1 FROM pg_timezone_names WHERE name = "
				 "$1",
				 1, p, err, sizeof(err));
		if (!res)
			goto dberr;
		ret = PQntuples(res);
		PQclear(res);
		if (!ret)
			return fail(u, "time_zone", "unknown time zone");
	}

	params[0] = create ? u->username : name;
	params[1] = u->password ? hash : NULL;
	params[2] = u->role;
	params[3] = u->account;
	params[4] = u->account_null ? "t" : "f";
	params[5] = u->enabled_set ? (u->enabled ? "t" : "f") : NULL;
	params[6] = u->language;
	params[7] = u->time_zone;
	if (create)
		res = md_pq_exec(
		    conn,
		    "INSERT INTO web_users (username, password_hash, role, "
		    "account_id, enabled, language, time_zone) SELECT $1, $2, "
		    "$3, (SELECT id FROM accounts WHERE name = $4), "
		    "coalesce($6::boolean, true), coalesce($7, 'en'), "
		    "coalesce($8, 'UTC') WHERE $5::boolean OR true "
		    "ON CONFLICT (username) DO NOTHING RETURNING id",
		    8, params, err, sizeof(err));
	else
		res = md_pq_exec(
		    conn,
		    "UPDATE web_users SET password_hash = coalesce($2, "
		    "password_hash), role = coalesce($3, role), account_id = "
		    "CASE WHEN $4::text IS NOT NULL THEN (SELECT id FROM "
		    "accounts WHERE name = $4) WHEN $5::boolean THEN NULL ELSE "
		    "account_id END, enabled = coalesce($6::boolean, enabled), "
		    "language = coalesce($7, language), time_zone = "
		    "coalesce($8, time_zone), updated_at = now() "
		    "WHERE username = $1 RETURNING id",
		    8, params, err, sizeof(err));
	if (!res) {
		if (strstr(err, "web_users_scoped_role"))
			return fail(u, "account",
				    "agent and customer users need an "
				    "account; admin and operator users have "
				    "none");
		goto dberr;
	}
	ret = PQntuples(res) ? 0 : create ? EEXIST : ENOENT;
	PQclear(res);
	if (ret == EEXIST)
		fail(u, "username", "already taken");
	if (!ret && (u->password || (u->enabled_set && !u->enabled)) &&
	    !create) {
		/* a new password or a disabled user: its sessions end */
		const char *p[1] = {name};

		res = md_pq_exec(conn,
				 "DELETE FROM web_sessions WHERE user_id = "
				 "(SELECT id FROM web_users WHERE username = "
				 "$1)",
				 1, p, err, sizeof(err));
		if (!res)
			goto dberr;
		PQclear(res);
	}
	return ret;

dberr:
	snprintf(u->err, sizeof(u->err), "%s", err);
	return EIO;
}

/*
 * A new API token `name` for user_id, valid for days (0: no expiry), into
 * token (MD_TOKEN_MAX): shown once, stored as its SHA-256.  Returns 0,
 * EEXIST (the user has a token of that name) or EIO (err).
 */
int md_token_create(PGconn *conn, const char *user_id, const char *name,
		    int days, char *token, char *err, size_t errsz)
{
	char dstr[16];
	const char *params[4] = {user_id, name, token, days ? dstr : NULL};
	PGresult *res;
	int ret;

	snprintf(dstr, sizeof(dstr), "%d", days);
	if (md_token_new("tdm_", token, MD_TOKEN_MAX)) {
		snprintf(err, errsz, "no randomness");
		return EIO;
	}
	res =
	    md_pq_exec(conn,
		       "INSERT INTO api_tokens (user_id, name, token_hash, "
		       "expires_at) VALUES ($1::bigint, $2, "
		       "encode(sha256(convert_to($3, 'UTF8')), 'hex'), now() + "
		       "make_interval(days => $4::int)) ON CONFLICT (user_id, "
		       "name) DO NOTHING RETURNING id",
		       4, params, err, errsz);
	if (!res)
		return EIO;
	ret = PQntuples(res) ? 0 : EEXIST;
	PQclear(res);
	return ret;
}
