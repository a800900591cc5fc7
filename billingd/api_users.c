/*
 * api_users.c - who is calling: login, sessions, API tokens, web users
 *
 * Sessions: POST /api/v1/login checks the argon2id hash and sets the
 * tandem_session cookie (HttpOnly, SameSite=Strict, Secure under TLS) and
 * returns the session's CSRF token, which every write with the cookie must
 * carry in X-CSRF-Token.  A session ends after BD_API_SESSION_IDLE of
 * silence, on logout, or when its user's password changes or the user is
 * disabled.  5 failed logins of one username in 10 minutes lock it for the
 * rest of those 10 minutes; every attempt is kept in login_attempts.
 *
 * Tokens: "tdm_" + 64 hex characters, shown once, stored as SHA-256.
 *
 * Threading: every function here runs on an API worker.
 */
#define SW_LOG_MODULE "api"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/api_int.h"
#include "common/log.h"

#define SESSION_IDLE_S 28800 /* 8 hours */
#define LOCKOUT_FAILS  5
#define LOCKOUT_WINDOW "10 minutes"
#define SHA_OF(n)      "encode(sha256(convert_to($" #n ", 'UTF8')), 'hex')"
#define WHO_COLUMNS                                                            \
	"u.id, u.username, u.role, coalesce(u.account_id, 0) AS account_id, "  \
	"coalesce(a.name, '') AS account"

/* the user as the API shows it */
#define USER_JSON                                                              \
	"json_build_object('username', u.username, 'role', u.role, "           \
	"'account', a.name, 'enabled', u.enabled, 'language', u.language, "    \
	"'time_zone', u.time_zone, 'created_at', u.created_at, "               \
	"'updated_at', u.updated_at, 'last_login_at', (SELECT max(l.at) "      \
	"FROM login_attempts l WHERE l.username = u.username AND l.ok))"

static const char *val(PGresult *res, int row, const char *col)
{
	int c = PQfnumber(res, col);

	return c < 0 ? "" : PQgetvalue(res, row, c);
}

static bool token_shape(const char *t)
{
	size_t n = strlen(t);

	return n >= 16 && n < 100 &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void who_from(struct api_req *r, PGresult *res)
{
	r->who.known = true;
	r->who.user_id = strtoll(val(res, 0, "id"), NULL, 10);
	snprintf(r->who.user, sizeof(r->who.user), "%s",
		 val(res, 0, "username"));
	r->who.role = api_role_of(val(res, 0, "role"));
	r->who.account_id = strtoll(val(res, 0, "account_id"), NULL, 10);
	snprintf(r->who.account, sizeof(r->who.account), "%s",
		 val(res, 0, "account"));
}

/*
 * Find the caller from its bearer token or session cookie.  false with a
 * 401 (or 503) set when it cannot be.
 */
bool api_authenticate(PGconn *conn, struct api_req *r)
{
	const char *params[1];
	char err[256];
	PGresult *res;

	if (*r->bearer) {
		if (!token_shape(r->bearer))
			goto unknown;
		params[0] = r->bearer;
		res = md_pq_exec(
		    conn,
		    "UPDATE api_tokens t SET last_used_at = now() FROM "
		    "web_users u LEFT JOIN accounts a ON a.id = u.account_id "
		    "WHERE t.token_hash = " SHA_OF(
			1) " AND u.id = t.user_id "
			   "AND u.enabled AND (t.expires_at IS NULL OR "
			   "t.expires_at > "
			   "now()) RETURNING " WHO_COLUMNS,
		    1, params, err, sizeof(err));
		if (!res) {
			api_db_error(r, err);
			return false;
		}
		if (PQntuples(res) == 1) {
			who_from(r, res);
			r->who.token = true;
		}
		PQclear(res);
	} else if (*r->cookie) {
		if (!token_shape(r->cookie))
			goto unknown;
		params[0] = r->cookie;
		res = md_pq_exec(
		    conn,
		    "UPDATE web_sessions s SET last_seen_at = now(), "
		    "expires_at = now() + make_interval(secs => "
		    "28800) FROM web_users u LEFT JOIN accounts a ON a.id = "
		    "u.account_id WHERE s.token_hash = " SHA_OF(
			1) " AND "
			   "s.expires_at > now() AND u.id = s.user_id AND "
			   "u.enabled "
			   "RETURNING " WHO_COLUMNS ", s.csrf, s.token_hash",
		    1, params, err, sizeof(err));
		if (!res) {
			api_db_error(r, err);
			return false;
		}
		if (PQntuples(res) == 1) {
			who_from(r, res);
			snprintf(r->who.csrf, sizeof(r->who.csrf), "%s",
				 val(res, 0, "csrf"));
			snprintf(r->who.session, sizeof(r->who.session), "%s",
				 val(res, 0, "token_hash"));
		}
		PQclear(res);
	}
	if (r->who.known)
		return true;
unknown:
	snprintf(r->headers, sizeof(r->headers),
		 "WWW-Authenticate: Bearer realm=\"tandem\"\r\n");
	api_error(r, 401, "unauthenticated", NULL,
		  "log in (POST /api/v1/login) or send an API token "
		  "(Authorization: Bearer)");
	return false;
}

static void attempt(PGconn *conn, const struct api_req *r, const char *username,
		    bool ok, const char *reason)
{
	const char *params[4] = {username, r->ip, ok ? "t" : "f", reason};
	char err[256];
	PGresult *res;

	res = md_pq_exec(conn,
			 "INSERT INTO login_attempts (username, source_ip, ok, "
			 "reason) VALUES ($1, $2, $3, $4)",
			 4, params, err, sizeof(err));
	if (!res)
		sw_warn("login attempt of %s not recorded: %s", username, err);
	PQclear(res);
}

/* one row of JSON text (column "j") as a JSON value, or NULL */
static json_t *json_col(PGresult *res, int row)
{
	return json_loads(val(res, row, "j"), JSON_DECODE_ANY, NULL);
}

static json_t *user_json(PGconn *conn, const char *username, char *err,
			 size_t errsz)
{
	const char *params[1] = {username};
	PGresult *res;
	json_t *j = NULL;

	res = md_pq_exec(conn,
			 "SELECT " USER_JSON "::text AS j FROM web_users u "
			 "LEFT JOIN accounts a ON a.id = u.account_id WHERE "
			 "u.username = $1",
			 1, params, err, errsz);
	if (!res)
		return NULL;
	if (PQntuples(res) == 1)
		j = json_col(res, 0);
	else
		snprintf(err, errsz, "not found");
	PQclear(res);
	return j;
}

/*
 * How money is shown to every role (customers cannot read the system
 * parameters): {"currency", "fee_precision"}, or NULL with err set.
 */
static json_t *display_json(PGconn *conn, char *err, size_t errsz)
{
	const struct md_param_def *cur = md_param_find("SERVER_CURRENCY");
	const struct md_param_def *prec =
	    md_param_find("SERVER_BILLING_FEE_PRECISION");
	const char *params[4] = {cur->name, cur->def, prec->name, prec->def};
	PGresult *res;
	json_t *out;

	res =
	    md_pq_exec(conn,
		       "SELECT coalesce((SELECT value FROM system_parameters "
		       "WHERE name = $1), $2) AS currency, coalesce((SELECT "
		       "value FROM system_parameters WHERE name = $3), $4) AS "
		       "fee_precision",
		       4, params, err, errsz);
	if (!res)
		return NULL;
	out = json_pack(
	    "{s:s, s:I}", "currency", val(res, 0, "currency"), "fee_precision",
	    (json_int_t)strtoll(val(res, 0, "fee_precision"), NULL, 10));
	PQclear(res);
	if (!out)
		snprintf(err, errsz, "out of memory");
	return out;
}

void api_login(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r);
	const char *user, *pw;
	const char *params[4];
	char err[256], token[MD_TOKEN_MAX], csrf[MD_TOKEN_MAX], dummy[160];
	PGresult *res;
	bool ok = false, enabled = false;
	json_t *me, *display;

	if (!body)
		return;
	user = json_string_value(json_object_get(body, "username"));
	pw = json_string_value(json_object_get(body, "password"));
	if (!user || !md_username_valid(user)) {
		api_error(r, 400, "bad_request", "username",
			  "username: a string of 1..64 of A-Z a-z 0-9 . _ @ -");
		goto out;
	}
	if (!pw || !*pw || strlen(pw) > 128) {
		api_error(r, 400, "bad_request", "password",
			  "password: a string of 1..128 bytes");
		goto out;
	}
	if (json_object_size(body) != 2) {
		api_error(r, 400, "bad_request", NULL,
			  "only username and password, please");
		goto out;
	}

	params[0] = user;
	res =
	    md_pq_exec(conn,
		       "SELECT count(*) AS n FROM login_attempts WHERE "
		       "username = $1 AND NOT ok AND at > now() - interval "
		       "'" LOCKOUT_WINDOW "' AND at > coalesce((SELECT max(at) "
		       "FROM login_attempts WHERE username = $1 AND ok), "
		       "'-infinity')",
		       1, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		goto out;
	}
	if (strtol(val(res, 0, "n"), NULL, 10) >= LOCKOUT_FAILS) {
		PQclear(res);
		attempt(conn, r, user, false, "locked");
		sw_warn("login of %s from %s refused: locked out", user, r->ip);
		api_header(r, "Retry-After: 600\r\n");
		api_error(r, 429, "locked", NULL,
			  "too many failed logins: this user is locked "
			  "for 10 minutes");
		goto out;
	}
	PQclear(res);

	res = md_pq_exec(conn,
			 "SELECT password_hash, enabled FROM web_users WHERE "
			 "username = $1",
			 1, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		goto out;
	}
	if (PQntuples(res) == 1) {
		enabled = !strcmp(val(res, 0, "enabled"), "t");
		ok = md_password_verify(val(res, 0, "password_hash"), pw);
	} else {
		/* the same work for an unknown user: no timing oracle */
		md_password_hash(pw, dummy, sizeof(dummy));
	}
	PQclear(res);
	if (!ok || !enabled) {
		attempt(conn, r, user, false,
			!ok ? "wrong password or unknown user" : "disabled");
		sw_info("login of %s from %s failed", user, r->ip);
		api_error(r, 401, "unauthenticated", NULL,
			  "wrong username or password");
		goto out;
	}

	if (md_token_new("", token, sizeof(token)) ||
	    md_token_new("", csrf, sizeof(csrf))) {
		api_error(r, 503, "unavailable", NULL, "no randomness");
		goto out;
	}
	params[0] = token;
	params[1] = user;
	params[2] = csrf;
	params[3] = r->ip;
	res = md_pq_exec(conn,
			 "INSERT INTO web_sessions (token_hash, user_id, csrf, "
			 "expires_at, source_ip) SELECT " SHA_OF(
			     1) ", id, $3, "
				"now() + make_interval(secs => 28800), $4 FROM "
				"web_users WHERE username = $2",
			 4, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		goto out;
	}
	PQclear(res);
	PQclear(md_pq_exec(conn,
			   "DELETE FROM web_sessions WHERE expires_at < now()",
			   0, NULL, NULL, 0));
	attempt(conn, r, user, true, "");
	snprintf(r->who.user, sizeof(r->who.user), "%s", user);
	r->who.known = true;
	api_audit(conn, r, "login", "", NULL);
	sw_info("%s logged in from %s", user, r->ip);

	me = user_json(conn, user, err, sizeof(err));
	display = display_json(conn, err, sizeof(err));
	api_header(r,
		   "Set-Cookie: tandem_session=%s; Path=/; HttpOnly; "
		   "SameSite=Strict; Max-Age=%d%s\r\n",
		   token, SESSION_IDLE_S, r->tls ? "; Secure" : "");
	api_ok(r, 200,
	       json_pack("{s:o, s:s, s:o}", "user", me ? me : json_null(),
			 "csrf", csrf, "display",
			 display ? display : json_object()));
out:
	json_decref(body);
}

void api_logout(PGconn *conn, struct api_req *r)
{
	const char *params[1] = {r->who.session};
	char err[256];
	PGresult *res;

	if (!r->who.token) {
		res = md_pq_exec(
		    conn, "DELETE FROM web_sessions WHERE token_hash = $1", 1,
		    params, err, sizeof(err));
		if (!res) {
			api_db_error(r, err);
			return;
		}
		PQclear(res);
	}
	api_audit(conn, r, "logout", "", NULL);
	api_header(r,
		   "Set-Cookie: tandem_session=; Path=/; HttpOnly; "
		   "SameSite=Strict; Max-Age=0%s\r\n",
		   r->tls ? "; Secure" : "");
	api_ok(r, 204, NULL);
}

void api_me(PGconn *conn, struct api_req *r)
{
	char err[256];
	json_t *me = user_json(conn, r->who.user, err, sizeof(err));
	json_t *display, *out;

	if (!me) {
		api_db_error(r, err);
		return;
	}
	display = display_json(conn, err, sizeof(err));
	if (!display) {
		json_decref(me);
		api_db_error(r, err);
		return;
	}
	out = json_pack("{s:o, s:o}", "user", me, "display", display);
	if (!r->who.token) /* a session: its CSRF token for the page */
		json_object_set_new(out, "csrf", json_string(r->who.csrf));
	api_ok(r, 200, out);
}

/* PATCH /api/v1/me: own password (with current_password), language,
 * time zone */
void api_me_update(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r);
	json_t *cur;
	struct md_user u;
	const char *params[1] = {r->who.user};
	char err[256];
	PGresult *res;
	int rc;

	if (!body)
		return;
	cur = json_incref(json_object_get(body, "current_password"));
	json_object_del(body, "current_password");
	if (json_object_get(body, "role") || json_object_get(body, "account") ||
	    json_object_get(body, "enabled") ||
	    json_object_get(body, "username")) {
		api_error(r, 403, "forbidden", NULL,
			  "username, role, account and enabled are changed "
			  "by an admin");
		goto out;
	}
	if (md_user_check(&u, body, false)) {
		api_error(r, 400, "invalid", u.field, "%s", u.err);
		goto out;
	}
	if (u.password) {
		bool ok = false;

		if (!json_is_string(cur)) {
			api_error(r, 400, "invalid", "current_password",
				  "current_password: required to change the "
				  "password");
			goto out;
		}
		res = md_pq_exec(conn,
				 "SELECT password_hash FROM web_users WHERE "
				 "username = $1",
				 1, params, err, sizeof(err));
		if (!res) {
			api_db_error(r, err);
			goto out;
		}
		ok = PQntuples(res) == 1 &&
		     md_password_verify(val(res, 0, "password_hash"),
					json_string_value(cur));
		PQclear(res);
		if (!ok) {
			api_error(r, 403, "forbidden", "current_password",
				  "current_password: wrong");
			goto out;
		}
	}
	rc = md_user_save(conn, &u, r->who.user, false);
	if (rc == EINVAL) {
		api_error(r, 400, "invalid", u.field, "%s", u.err);
		goto out;
	}
	if (rc) {
		api_db_error(r, u.err);
		goto out;
	}
	api_audit(conn, r, "update", "me",
		  json_pack("{s:b}", "password", u.password != NULL));
	api_me(conn, r);
out:
	json_decref(cur);
	json_decref(body);
}

void api_users_list(PGconn *conn, struct api_req *r)
{
	long limit, offset;
	char lim[24], off[24], err[256];
	const char *params[2] = {lim, off};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	res = md_pq_exec(
	    conn,
	    "SELECT coalesce((SELECT json_agg(j) FROM (SELECT " USER_JSON
	    " AS j FROM web_users u LEFT JOIN accounts a "
	    "ON a.id = u.account_id ORDER BY u.username COLLATE "
	    "\"C\" LIMIT $1::int OFFSET $2::int) x), '[]')::text "
	    "AS j, (SELECT count(*) FROM web_users) AS total",
	    2, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, api_page_json(res, limit, offset));
	PQclear(res);
}

void api_user_get(PGconn *conn, struct api_req *r)
{
	char err[256];
	json_t *u = user_json(conn, r->sub, err, sizeof(err));

	if (!u && !strcmp(err, "not found"))
		api_error(r, 404, "not_found", NULL, "no user \"%s\"", r->sub);
	else if (!u)
		api_db_error(r, err);
	else
		api_ok(r, 200, u);
}

/* with a transaction open: refuse a change that leaves no enabled admin */
static bool admins_left(PGconn *conn, struct api_req *r)
{
	char err[256];
	PGresult *res;
	bool ok;

	res = md_pq_exec(conn,
			 "SELECT count(*) AS n FROM web_users WHERE role = "
			 "'admin' AND enabled",
			 0, NULL, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return false;
	}
	ok = strtol(val(res, 0, "n"), NULL, 10) > 0;
	PQclear(res);
	if (!ok)
		api_error(r, 409, "conflict", NULL,
			  "at least one enabled admin user must remain");
	return ok;
}

static void user_write(PGconn *conn, struct api_req *r, bool create)
{
	json_t *body = api_body_object(r);
	const char *name = create ? NULL : r->sub;
	struct md_user u;
	char err[256];
	json_t *out;
	int rc;

	if (!body)
		return;
	if (md_user_check(&u, body, create)) {
		api_error(r, 400, "invalid", u.field, "%s", u.err);
		goto out;
	}
	if (md_pq_cmd(conn, "BEGIN", err, sizeof(err))) {
		api_db_error(r, err);
		goto out;
	}
	rc = md_user_save(conn, &u, name, create);
	if (rc == ENOENT) {
		api_error(r, 404, "not_found", NULL, "no user \"%s\"", name);
		goto rollback;
	}
	if (rc == EEXIST) {
		api_error(r, 409, "exists", "username", "%s", u.err);
		goto rollback;
	}
	if (rc == EINVAL) {
		api_error(r, 400, "invalid", u.field, "%s", u.err);
		goto rollback;
	}
	if (rc) {
		api_db_error(r, u.err);
		goto rollback;
	}
	if (!admins_left(conn, r))
		goto rollback;
	api_audit(conn, r, create ? "create" : "update",
		  create ? u.username : name,
		  json_pack("{s:s?, s:s?, s:b, s:b}", "role", u.role, "account",
			    u.account, "password", u.password != NULL,
			    "enabled", u.enabled_set ? u.enabled : true));
	if (md_pq_cmd(conn, "COMMIT", err, sizeof(err))) {
		api_db_error(r, err);
		goto out;
	}
	out = user_json(conn, create ? u.username : name, err, sizeof(err));
	api_ok(r, create ? 201 : 200, out ? out : json_null());
	goto out;

rollback:
	md_pq_cmd(conn, "ROLLBACK", NULL, 0);
out:
	json_decref(body);
}

void api_user_create(PGconn *conn, struct api_req *r)
{
	user_write(conn, r, true);
}

void api_user_update(PGconn *conn, struct api_req *r)
{
	user_write(conn, r, false);
}

void api_user_delete(PGconn *conn, struct api_req *r)
{
	const char *params[1] = {r->sub};
	char err[256];
	PGresult *res;
	int n;

	if (!strcmp(r->sub, r->who.user)) {
		api_error(r, 409, "conflict", NULL,
			  "you cannot delete yourself");
		return;
	}
	if (md_pq_cmd(conn, "BEGIN", err, sizeof(err))) {
		api_db_error(r, err);
		return;
	}
	res = md_pq_exec(conn, "DELETE FROM web_users WHERE username = $1", 1,
			 params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		goto rollback;
	}
	n = (int)strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if (!n) {
		api_error(r, 404, "not_found", NULL, "no user \"%s\"", r->sub);
		goto rollback;
	}
	if (!admins_left(conn, r))
		goto rollback;
	api_audit(conn, r, "delete", r->sub, NULL);
	if (md_pq_cmd(conn, "COMMIT", err, sizeof(err))) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 204, NULL);
	return;
rollback:
	md_pq_cmd(conn, "ROLLBACK", NULL, 0);
}

void api_tokens_list(PGconn *conn, struct api_req *r)
{
	char id[24], err[256];
	const char *params[1] = {id};
	PGresult *res;
	json_t *items;

	snprintf(id, sizeof(id), "%lld", r->who.user_id);
	res = md_pq_exec(conn,
			 "SELECT coalesce(json_agg(json_build_object('name', "
			 "name, 'created_at', created_at, 'last_used_at', "
			 "last_used_at, 'expires_at', expires_at) ORDER BY "
			 "name), '[]')::text AS j FROM api_tokens WHERE "
			 "user_id = $1",
			 1, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	items = json_col(res, 0);
	PQclear(res);
	api_ok(r, 200,
	       json_pack("{s:o}", "items", items ? items : json_array()));
}

/* POST /api/v1/tokens {"name", "expires_days"?}: the token, shown once */
void api_token_create(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r);
	json_t *days;
	const char *name;
	char id[24], token[MD_TOKEN_MAX], err[256];
	const char *k;
	json_t *v;
	int rc;

	if (!body)
		return;
	json_object_foreach(body, k, v)
	{
		if (strcmp(k, "name") && strcmp(k, "expires_days")) {
			api_error(r, 400, "invalid", k, "%s: unknown field", k);
			goto out;
		}
	}
	name = json_string_value(json_object_get(body, "name"));
	if (!name || !md_username_valid(name)) {
		api_error(r, 400, "invalid", "name",
			  "name: 1..64 of A-Z a-z 0-9 . _ @ -");
		goto out;
	}
	days = json_object_get(body, "expires_days");
	if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
		     json_integer_value(days) > 3650)) {
		api_error(r, 400, "invalid", "expires_days",
			  "expires_days: a whole number 1..3650");
		goto out;
	}
	snprintf(id, sizeof(id), "%lld", r->who.user_id);
	rc = md_token_create(conn, id, name,
			     days ? (int)json_integer_value(days) : 0, token,
			     err, sizeof(err));
	if (rc == EEXIST) {
		api_error(r, 409, "exists", "name",
			  "name: you already have a token \"%s\"", name);
		goto out;
	}
	if (rc) {
		api_db_error(r, err);
		goto out;
	}
	api_audit(conn, r, "create", "token", json_pack("{s:s}", "name", name));
	api_ok(r, 201,
	       json_pack("{s:s, s:s, s:O?}", "name", name, "token", token,
			 "expires_days", days));
out:
	json_decref(body);
}

void api_token_delete(PGconn *conn, struct api_req *r)
{
	char id[24], err[256];
	const char *params[2] = {id, r->sub};
	PGresult *res;
	int n;

	snprintf(id, sizeof(id), "%lld", r->who.user_id);
	res = md_pq_exec(conn,
			 "DELETE FROM api_tokens WHERE user_id = $1 AND name = "
			 "$2",
			 2, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	n = (int)strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if (!n) {
		api_error(r, 404, "not_found", NULL, "no token \"%s\"", r->sub);
		return;
	}
	api_audit(conn, r, "delete", "token",
		  json_pack("{s:s}", "name", r->sub));
	api_ok(r, 204, NULL);
}
