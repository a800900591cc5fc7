/*
 * user.c - `tandemctl user ...`: web users and API tokens
 *
 *   user add NAME ROLE [ACCOUNT]   password on stdin (one line)
 *   user passwd NAME               new password on stdin; sessions end
 *   user enable|disable NAME
 *   user delete NAME
 *   user list
 *   user token NAME TOKEN_NAME [DAYS]   prints a new API token once
 *
 * Users are checked and written by model/user.c, the same code as the
 * HTTP API's POST/PATCH /api/v1/users.  Every change is in audit_log
 * (actor "tandemctl:$USER").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/ctl.h"

/* one line from stdin, without its newline; NULL at EOF */
static char *read_password(char *buf, size_t size)
{
	size_t n;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password: ");
	if (!fgets(buf, (int)size, stdin))
		return NULL;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return buf;
}

static int save(const struct tc_opts *o, json_t *body, const char *name,
		bool create)
{
	struct md_user u;
	PGconn *conn;
	int rc, ret = 1;

	if (md_user_check(&u, body, create)) {
		fprintf(stderr, "tandemctl: user: %s\n", u.err);
		return 1;
	}
	conn = tc_db_connect(o);
	if (!conn)
		return 1;
	rc = md_user_save(conn, &u, name, create);
	if (rc == ENOENT)
		fprintf(stderr, "tandemctl: user: no user \"%s\"\n", name);
	else if (rc == EEXIST || rc == EINVAL)
		fprintf(stderr, "tandemctl: user: %s\n", u.err);
	else if (rc)
		fprintf(stderr, "tandemctl: database: %s\n", u.err);
	else {
		tc_db_audit(conn, create ? "create" : "update", name);
		printf("%s user %s\n", create ? "created" : "updated",
		       create ? u.username : name);
		ret = 0;
	}
	PQfinish(conn);
	return ret;
}

static int list(const struct tc_opts *o)
{
	char err[256];
	PGconn *conn = tc_db_connect(o);
	PGresult *res;

	if (!conn)
		return 1;
	res = md_pq_exec(conn,
			 "SELECT u.username, u.role, coalesce(a.name, '') AS "
			 "account, u.enabled FROM web_users u LEFT JOIN "
			 "accounts a ON a.id = u.account_id ORDER BY "
			 "u.username COLLATE \"C\"",
			 0, NULL, err, sizeof(err));
	if (!res) {
		fprintf(stderr, "tandemctl: database: %s\n", err);
		PQfinish(conn);
		return 1;
	}
	printf("%-24s %-9s %-24s %s\n", "USER", "ROLE", "ACCOUNT", "ENABLED");
	for (int i = 0; i < PQntuples(res); i++)
		printf(
		    "%-24s %-9s %-24s %s\n",
		    PQgetvalue(res, i, PQfnumber(res, "username")),
		    PQgetvalue(res, i, PQfnumber(res, "role")),
		    PQgetvalue(res, i, PQfnumber(res, "account")),
		    !strcmp(PQgetvalue(res, i, PQfnumber(res, "enabled")), "t")
			? "yes"
			: "no");
	PQclear(res);
	PQfinish(conn);
	return 0;
}

static int del(const struct tc_opts *o, const char *name)
{
	const char *params[1] = {name};
	char err[256];
	PGconn *conn = tc_db_connect(o);
	PGresult *res;
	int ret = 1;

	if (!conn)
		return 1;
	res = md_pq_exec(conn, "DELETE FROM web_users WHERE username = $1", 1,
			 params, err, sizeof(err));
	if (!res)
		fprintf(stderr, "tandemctl: database: %s\n", err);
	else if (!(int)strtol(PQcmdTuples(res), NULL, 10))
		fprintf(stderr, "tandemctl: user: no user \"%s\"\n", name);
	else {
		tc_db_audit(conn, "delete", name);
		printf("deleted user %s\n", name);
		ret = 0;
	}
	PQclear(res);
	PQfinish(conn);
	return ret;
}

static int token(const struct tc_opts *o, const char *name, const char *tname,
		 const char *days)
{
	const char *params[1] = {name};
	char err[256], tok[MD_TOKEN_MAX], *end;
	long d = 0;
	PGconn *conn;
	PGresult *res;
	int rc, ret = 1;

	if (!md_username_valid(tname)) {
		fprintf(stderr, "tandemctl: user token: TOKEN_NAME: 1..64 of "
				"A-Z a-z 0-9 . _ @ -\n");
		return 2;
	}
	if (days) {
		d = strtol(days, &end, 10);
		if (*end || d < 1 || d > 3650) {
			fprintf(stderr,
				"tandemctl: user token: DAYS: 1..3650\n");
			return 2;
		}
	}
	conn = tc_db_connect(o);
	if (!conn)
		return 1;
	res = md_pq_exec(conn, "SELECT id FROM web_users WHERE username = $1",
			 1, params, err, sizeof(err));
	if (!res) {
		fprintf(stderr, "tandemctl: database: %s\n", err);
		goto out;
	}
	if (PQntuples(res) != 1) {
		fprintf(stderr, "tandemctl: user: no user \"%s\"\n", name);
		PQclear(res);
		goto out;
	}
	rc = md_token_create(conn, md_pq_get(res, 0, "id"), tname, (int)d, tok,
			     err, sizeof(err));
	PQclear(res);
	if (rc == EEXIST)
		fprintf(stderr,
			"tandemctl: user token: %s already has a token "
			"\"%s\"\n",
			name, tname);
	else if (rc)
		fprintf(stderr, "tandemctl: database: %s\n", err);
	else {
		tc_db_audit(conn, "create token", name);
		printf("%s\n", tok);
		ret = 0;
	}
out:
	PQfinish(conn);
	return ret;
}

int tc_cmd_user(const struct tc_opts *o, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";
	char pw[256];
	json_t *body;
	int ret;

	if (!strcmp(sub, "list") && argc == 1)
		return list(o);
	if (!strcmp(sub, "delete") && argc == 2)
		return del(o, argv[1]);
	if (!strcmp(sub, "token") && (argc == 3 || argc == 4))
		return token(o, argv[1], argv[2], argc == 4 ? argv[3] : NULL);
	if ((!strcmp(sub, "enable") || !strcmp(sub, "disable")) && argc == 2) {
		body = json_pack("{s:b}", "enabled", !strcmp(sub, "enable"));
		ret = save(o, body, argv[1], false);
		json_decref(body);
		return ret;
	}
	if ((!strcmp(sub, "add") && (argc == 3 || argc == 4)) ||
	    (!strcmp(sub, "passwd") && argc == 2)) {
		if (!read_password(pw, sizeof(pw))) {
			fprintf(stderr, "tandemctl: user: the password is read "
					"from stdin (one line)\n");
			return 2;
		}
		if (!strcmp(sub, "passwd")) {
			body = json_pack("{s:s}", "password", pw);
			ret = save(o, body, argv[1], false);
		} else {
			body =
			    json_pack("{s:s, s:s, s:s, s:s?}", "username",
				      argv[1], "password", pw, "role", argv[2],
				      "account", argc == 4 ? argv[3] : NULL);
			ret = save(o, body, NULL, true);
		}
		memset(pw, 0, sizeof(pw));
		json_decref(body);
		return ret;
	}
	fprintf(stderr,
		"usage: tandemctl user add NAME ROLE [ACCOUNT] | passwd NAME "
		"| enable NAME | disable NAME | delete NAME | list | token "
		"NAME TOKEN_NAME [DAYS]\n");
	return 2;
}
