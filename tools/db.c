/*
 * db.c - tandemctl's PostgreSQL connection and blocking query helpers
 *
 * The connection string comes from -d, else $TANDEM_DB, else the daemons'
 * default (TC_DEFAULT_DB).  Errors are returned as text so the caller can
 * prefix the JSON path or file they belong to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl.h"

/* the conninfo tandemctl uses */
const char *tc_db_conninfo(const struct tc_opts *o)
{
	const char *env = getenv("TANDEM_DB");

	if (o && o->conninfo)
		return o->conninfo;
	if (env && *env)
		return env;
	return TC_DEFAULT_DB;
}

/*
 * Open a connection without reporting.  Our connect_timeout and
 * application_name come first so that the conninfo's own settings win.
 */
PGconn *tc_db_open(const struct tc_opts *o)
{
	static const char *const keys[] = {"connect_timeout",
					   "application_name", "dbname", NULL};
	const char *vals[] = {"10", "tandemctl", tc_db_conninfo(o), NULL};

	return PQconnectdbParams(keys, vals, 1);
}

/* connect, or report why not on stderr and return NULL */
PGconn *tc_db_connect(const struct tc_opts *o)
{
	const char *ci = tc_db_conninfo(o);
	PGconn *conn = tc_db_open(o);
	char *nl;

	if (!conn) {
		fprintf(stderr, "tandemctl: out of memory\n");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		while ((nl = strrchr(msg, '\n')) && nl[1] == '\0')
			*nl = '\0';
		fprintf(stderr,
			"tandemctl: cannot connect to the database "
			"(%s): %s\n",
			ci, msg);
		PQfinish(conn);
		return NULL;
	}

	/* our messages, not the server's notices, go to the terminal */
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	PQclear(PQexec(conn, "SET DateStyle = 'ISO, YMD'"));
	return conn;
}

/*
 * The schema version of the database: the highest version recorded in
 * schema_version, 0 when that table does not exist yet (empty database).
 */
int tc_db_schema_version(PGconn *conn, int *versionp, char *err, size_t errsz)
{
	PGresult *res;
	int v = 0;

	res = md_pq_exec(conn,
			 "SELECT to_regclass('schema_version') IS NULL "
			 "AS missing",
			 0, NULL, err, errsz);
	if (!res)
		return EIO;
	if (!strcmp(md_pq_get(res, 0, "missing"), "t")) {
		PQclear(res);
		*versionp = 0;
		return 0;
	}
	PQclear(res);

	res = md_pq_exec(conn,
			 "SELECT coalesce(max(version), 0) AS version "
			 "FROM schema_version",
			 0, NULL, err, errsz);
	if (!res)
		return EIO;
	v = (int)strtol(md_pq_get(res, 0, "version"), NULL, 10);
	PQclear(res);

	*versionp = v;
	return 0;
}

/* One audit_log row for a change made here (actor "tandemctl:$USER"). */
void tc_db_audit(PGconn *conn, const char *action, const char *object)
{
	char actor[128];
	const char *user = getenv("USER");
	const char *params[3] = {actor, action, object};

	snprintf(actor, sizeof(actor), "tandemctl:%s", user ? user : "?");
	PQclear(md_pq_exec(conn,
			   "INSERT INTO audit_log (actor, action, object) "
			   "VALUES ($1, $2, $3)",
			   3, params, NULL, 0));
}
