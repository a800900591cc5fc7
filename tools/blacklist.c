/*
 * blacklist.c - `tandemctl blacklist ...`: the SIP edge's blacklist
 *
 *   blacklist list                       the active entries
 *   blacklist add IP [--reason TEXT] [--time S]
 *                                        until deleted, or for S seconds
 *   blacklist del IP
 *   blacklist clear                      every entry, automatic ones too
 *
 * The table `blacklist` (schema 0001, 0008) directly: its trigger notifies
 * tandem_changes, so every signalingd applies the change within about a
 * second.  Every change is in audit_log (actor "tandemctl:$USER").  A
 * gateway's address may be listed but is not affected: signalingd never
 * limits gateways (docs/signalingd.md, "SIP edge").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl.h"

/* an IPv4 or IPv6 host address, as text */
static bool ip_ok(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return s && (inet_pton(AF_INET, s, buf) == 1 ||
		     inet_pton(AF_INET6, s, buf) == 1);
}

static int list(PGconn *conn)
{
	char err[512];
	PGresult *r = md_pq_exec(
	    conn,
	    "SELECT host(ip) AS ip, origin, coalesce(to_char(expires_at AT "
	    "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'never') AS "
	    "expires, reason FROM blacklist WHERE expires_at IS NULL OR "
	    "expires_at > now() ORDER BY ip",
	    0, NULL, err, sizeof(err));
	int ip, origin, expires, reason;

	if (!r) {
		fprintf(stderr, "tandemctl: blacklist: %s\n", err);
		return 1;
	}
	ip = PQfnumber(r, "ip");
	origin = PQfnumber(r, "origin");
	expires = PQfnumber(r, "expires");
	reason = PQfnumber(r, "reason");
	printf("%-39s %-6s %-20s %s\n", "IP", "ORIGIN", "EXPIRES", "REASON");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-39s %-6s %-20s %s\n", PQgetvalue(r, i, ip),
		       PQgetvalue(r, i, origin), PQgetvalue(r, i, expires),
		       PQgetvalue(r, i, reason));
	PQclear(r);
	return 0;
}

/* tell the operator when the address is a gateway's (never limited) */
static void warn_gateway(PGconn *conn, const char *ip)
{
	const char *p[1] = {ip};
	PGresult *r = md_pq_exec(
	    conn,
	    "SELECT (SELECT count(*) FROM mapping_gateways m, unnest(m.ips) x "
	    "WHERE $1::inet <<= x::inet) + (SELECT count(*) FROM "
	    "routing_gateways WHERE address = $1) AS n",
	    1, p, NULL, 0);

	if (r && PQntuples(r) == 1 &&
	    strtoll(md_pq_get(r, 0, "n"), NULL, 10) > 0)
		fprintf(stderr,
			"tandemctl: warning: %s is a gateway's address; "
			"signalingd never limits gateways\n",
			ip);
	PQclear(r);
}

static int add(const struct tc_opts *o, PGconn *conn, const char *ip)
{
	const char *p[3] = {ip, o->reason ? o->reason : "", o->time};
	char err[512], *end;
	long long secs = 0;
	PGresult *r;

	if (o->time) {
		secs = strtoll(o->time, &end, 10);
		if (*end || end == o->time || secs < 1 || secs > 315360000) {
			fprintf(stderr, "tandemctl: blacklist: --time: "
					"1..315360000 seconds\n");
			return 2;
		}
	}
	r = md_pq_exec(
	    conn,
	    "INSERT INTO blacklist (ip, reason, expires_at, origin) VALUES "
	    "($1::inet, $2, now() + make_interval(secs => $3::bigint), "
	    "'manual') ON CONFLICT (ip) DO UPDATE SET reason = "
	    "EXCLUDED.reason, expires_at = EXCLUDED.expires_at, origin = "
	    "'manual'",
	    3, p, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "tandemctl: blacklist: %s\n", err);
		return 1;
	}
	PQclear(r);
	tc_db_audit(conn, "blacklist add", ip);
	warn_gateway(conn, ip);
	if (secs)
		printf("%s blacklisted for %lld s\n", ip, secs);
	else
		printf("%s blacklisted until deleted\n", ip);
	return 0;
}

static int del(PGconn *conn, const char *ip)
{
	const char *p[1] = {ip};
	char err[512];
	PGresult *r =
	    md_pq_exec(conn, "DELETE FROM blacklist WHERE ip = $1::inet", 1, p,
		       err, sizeof(err));
	long n;

	if (!r) {
		fprintf(stderr, "tandemctl: blacklist: %s\n", err);
		return 1;
	}
	n = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	if (!n) {
		fprintf(stderr, "tandemctl: blacklist: %s is not listed\n", ip);
		return 4;
	}
	tc_db_audit(conn, "blacklist del", ip);
	printf("%s removed from the blacklist\n", ip);
	return 0;
}

static int clear(PGconn *conn)
{
	char err[512];
	PGresult *r = md_pq_exec(conn, "DELETE FROM blacklist", 0, NULL, err,
				 sizeof(err));
	const char *n;

	if (!r) {
		fprintf(stderr, "tandemctl: blacklist: %s\n", err);
		return 1;
	}
	n = PQcmdTuples(r);
	tc_db_audit(conn, "blacklist clear", n);
	printf("%s entries removed from the blacklist\n", n);
	PQclear(r);
	return 0;
}

/* blacklist list | add IP | del IP | clear */
int tc_cmd_blacklist(const struct tc_opts *o, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : NULL;
	PGconn *conn;
	int rc;

	if (!sub ||
	    !((!strcmp(sub, "list") && argc == 1) ||
	      (!strcmp(sub, "clear") && argc == 1) ||
	      ((!strcmp(sub, "add") || !strcmp(sub, "del")) && argc == 2))) {
		fprintf(stderr, "usage: tandemctl blacklist list | add IP "
				"[--reason TEXT] [--time S] | del IP | "
				"clear\n");
		return 2;
	}
	if (argc == 2 && !ip_ok(argv[1])) {
		fprintf(stderr,
			"tandemctl: blacklist: %s is not an IP address\n",
			argv[1]);
		return 2;
	}
	conn = tc_db_connect(o);
	if (!conn)
		return 1;
	if (!strcmp(sub, "list"))
		rc = list(conn);
	else if (!strcmp(sub, "add"))
		rc = add(o, conn, argv[1]);
	else if (!strcmp(sub, "del"))
		rc = del(conn, argv[1]);
	else
		rc = clear(conn);
	PQfinish(conn);
	return rc;
}
