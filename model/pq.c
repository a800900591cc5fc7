/*
 * pq.c - blocking libpq statements with the server's reason as text, and
 * reading their results by column name
 *
 * The statements are for code that may block on the database (tandemctl,
 * billingd's configuration writer thread), never for a daemon's event
 * loop; the readers (md_pq_val and the rest) never block and serve any
 * result.
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

/*
 * Rows are read by column name, never by position.  A loop over many rows
 * looks its columns up once (PQfnumber, or md_pq_cols) and reads them with
 * md_pq_val(); md_pq_get() looks the name up on every call.
 */

/* column col (a PQfnumber) of row `row`: "" when the result has no such
 * column or row, so a statement that lost a column never reads garbage */
const char *md_pq_val(const PGresult *res, int row, int col)
{
	const char *v = col < 0 ? NULL : PQgetvalue(res, row, col);

	return v ? v : "";
}

/* is column col of row `row` NULL?  A column or row not there counts as one */
bool md_pq_null(const PGresult *res, int row, int col)
{
	return col < 0 || PQgetisnull(res, row, col);
}

/* column `name` of row `row`, "" when not there (md_pq_val) */
const char *md_pq_get(const PGresult *res, int row, const char *name)
{
	return md_pq_val(res, row, PQfnumber(res, name));
}

/*
 * The numbers of the columns names[0..n) of res into cols.  0, or ENOENT
 * with the first name res lacks in err: the statement and its reader
 * disagree, a mistake to report rather than rows to read as "".
 */
int md_pq_cols(const PGresult *res, const char *const *names, int *cols,
	       size_t n, char *err, size_t errsz)
{
	for (size_t k = 0; k < n; k++) {
		cols[k] = PQfnumber(res, names[k]);
		if (cols[k] < 0) {
			if (err && errsz)
				snprintf(err, errsz,
					 "no column %s in the result",
					 names[k]);
			return ENOENT;
		}
	}
	return 0;
}
