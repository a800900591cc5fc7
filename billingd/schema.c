/*
 * schema.c - refuse to run against a schema billingd does not know
 *
 * This is the one blocking libpq use in billingd, and it runs before the
 * event loop exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "billingd/schema.h"

/* one line of libpq's (often multi-line) message */
static void first_line(char *dst, size_t size, const char *msg)
{
	size_t n = strcspn(msg ? msg : "", "\n");

	if (n >= size)
		n = size - 1;
	memcpy(dst, msg ? msg : "", n);
	dst[n] = '\0';
}

/*
 * Connect, read max(version) of schema_version and compare it with
 * BD_SCHEMA_VERSION.  0 when equal (*versionp set); ENOTCONN when the
 * database cannot be reached, EPROTO for a missing or unknown schema; err
 * says what to do.
 */
int bd_schema_check(const char *conninfo, int *versionp, char *err,
		    size_t errsz)
{
	char why[256];
	PGresult *res = NULL;
	PGconn *pg;
	int ret = 0, version, col;

	if (!conninfo || !err || !errsz)
		return EINVAL;

	pg = PQconnectdb(conninfo);
	if (!pg || PQstatus(pg) != CONNECTION_OK) {
		first_line(why, sizeof(why),
			   pg ? PQerrorMessage(pg) : "out of memory");
		snprintf(err, errsz,
			 "cannot connect to the database to check "
			 "its schema: %s",
			 why);
		ret = ENOTCONN;
		goto out;
	}

	res = PQexec(pg, "SELECT max(version) AS version FROM schema_version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		first_line(why, sizeof(why), PQresultErrorMessage(res));
		snprintf(err, errsz,
			 "cannot read schema_version (%s): the "
			 "database is not initialised, run `tandemctl db "
			 "migrate`",
			 why);
		ret = EPROTO;
		goto out;
	}
	col = PQfnumber(res, "version");
	if (PQntuples(res) != 1 || col < 0 || PQgetisnull(res, 0, col)) {
		snprintf(err, errsz,
			 "schema_version is empty: run `tandemctl "
			 "db migrate`");
		ret = EPROTO;
		goto out;
	}

	version = (int)strtol(PQgetvalue(res, 0, col), NULL, 10);
	if (version < BD_SCHEMA_VERSION) {
		snprintf(err, errsz,
			 "database schema version %d is older "
			 "than the %d this billingd needs: run `tandemctl db "
			 "migrate`",
			 version, BD_SCHEMA_VERSION);
		ret = EPROTO;
		goto out;
	}
	if (version > BD_SCHEMA_VERSION) {
		snprintf(err, errsz,
			 "database schema version %d is newer "
			 "than the %d this billingd knows: upgrade billingd",
			 version, BD_SCHEMA_VERSION);
		ret = EPROTO;
		goto out;
	}

	if (versionp)
		*versionp = version;

out:
	if (res)
		PQclear(res);
	if (pg)
		PQfinish(pg);

	return ret;
}
