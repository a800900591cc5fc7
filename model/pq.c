/*
 * pq.c - blocking libpq statements with the server's reason as text
 *
 * For code that may block on the database (tandemctl, billingd's
 * configuration writer thread), never for a daemon's event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/model.h"

static void errtext(char *err, size_t errsz, const PGresult *res, PGconn *conn)
{
	const char *prim =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *det =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;

	if (!err || !errsz)
		return;
	if (prim)
		snprintf(err, errsz, "%s%s%s", prim, det ? " (" : "",
			 det ? det : "");
	else
		snprintf(err, errsz, "%s", PQerrorMessage(conn));
	if (det && strlen(err) + 2 < errsz)
		strcat(err, ")");
	for (size_t n = strlen(err); n && err[n - 1] == '\n'; n--)
		err[n - 1] = '\0';
}

/*
 * Run a parameterised statement (text parameters, text results).  Returns
 * the result when it succeeded, else NULL with the reason in err.
 */
PGresult *md_pq_exec(PGconn *conn, const char *sql, int n,
		     const char *const *params, char *err, size_t errsz)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;

	errtext(err, errsz, res, conn);
	PQclear(res);
	return NULL;
}

/* run a statement (or several, simple protocol) without results */
int md_pq_cmd(PGconn *conn, const char *sql, char *err, size_t errsz)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int ret = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		errtext(err, errsz, res, conn);
		ret = EIO;
	}
	PQclear(res);
	return ret;
}
