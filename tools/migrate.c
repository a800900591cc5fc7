/*
 * migrate.c - `tandemctl db migrate` and `tandemctl db version`
 *
 * Migrations are files NNNN_name.sql (forward only).  Each file not yet
 * recorded in schema_version is applied in version order, in its own
 * transaction together with its schema_version row, so a failing file leaves
 * the database at the previous version.  0001_init.sql creates
 * schema_version itself: a database without that table is at version 0.
 * A session advisory lock serialises concurrent runs (two hosts of a
 * rollout migrating at once).
 *
 * The files are found in --schema-dir, else $TANDEM_SCHEMA_DIR, else
 * /usr/share/tandem/schema, else ./schema.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/ctl.h"

#define MIGRATE_LOCK_KEY "74616e64656d" /* "tandem" in hex, any constant */
#define MAX_MIGRATIONS	 9999

struct migration {
	int version;
	char name[128]; /* without NNNN_ and .sql */
	char file[256]; /* NNNN_name.sql */
};

static bool is_dir(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* where the .sql files are; NULL (reported) when nowhere */
static const char *schema_dir(const struct tc_opts *o)
{
	const char *env = getenv("TANDEM_SCHEMA_DIR");

	if (o->schema_dir || (env && *env)) {
		const char *d = o->schema_dir ? o->schema_dir : env;

		if (!is_dir(d)) {
			fprintf(stderr,
				"tandemctl: schema directory %s%s: not "
				"a directory\n",
				d,
				o->schema_dir ? "" : " ($TANDEM_SCHEMA_DIR)");
			return NULL;
		}
		return d;
	}
	if (is_dir("/usr/share/tandem/schema"))
		return "/usr/share/tandem/schema";
	if (is_dir("schema"))
		return "schema";

	fprintf(stderr,
		"tandemctl: no schema directory (tried "
		"/usr/share/tandem/schema and ./schema); use --schema-dir\n");
	return NULL;
}

/* NNNN_name.sql with name [a-z0-9_]+ */
static bool parse_name(const char *fname, struct migration *m)
{
	size_t len = strlen(fname);

	if (len < 10 || len >= sizeof(m->file) ||
	    strcmp(fname + len - 4, ".sql") || fname[4] != '_')
		return false;
	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)fname[i]))
			return false;
	}
	for (size_t i = 5; i < len - 4; i++) {
		char c = fname[i];

		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) ||
		      c == '_'))
			return false;
	}
	if (len - 9 >= sizeof(m->name))
		return false;

	m->version = (int)strtol(fname, NULL, 10); /* "0012" is 12 */
	memcpy(m->name, fname + 5, len - 9);
	m->name[len - 9] = '\0';
	snprintf(m->file, sizeof(m->file), "%s", fname);
	return m->version > 0;
}

static int cmp_mig(const void *a, const void *b)
{
	return ((const struct migration *)a)->version -
	       ((const struct migration *)b)->version;
}

/* the migration files of dir, sorted; duplicates are an error */
static int list_migrations(const char *dir, struct migration **msp, size_t *np)
{
	struct migration *ms = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "tandemctl: %s: %s\n", dir, strerror(errno));
		return EIO;
	}
	while ((de = readdir(d))) {
		struct migration m, *tmp;

		if (!parse_name(de->d_name, &m)) {
			if (strstr(de->d_name, ".sql"))
				fprintf(stderr,
					"tandemctl: %s/%s: ignored "
					"(not NNNN_name.sql)\n",
					dir, de->d_name);
			continue;
		}
		if (n >= MAX_MIGRATIONS)
			break;
		tmp = realloc(ms, (n + 1) * sizeof(*ms));
		if (!tmp) {
			free(ms);
			closedir(d);
			return ENOMEM;
		}
		ms = tmp;
		ms[n++] = m;
	}
	closedir(d);

	if (!ms) { /* no migration files */
		*msp = NULL;
		*np = 0;
		return 0;
	}
	qsort(ms, n, sizeof(*ms), cmp_mig);
	for (size_t i = 1; i < n; i++) {
		if (ms[i].version == ms[i - 1].version) {
			fprintf(stderr,
				"tandemctl: %s: %s and %s have the same "
				"version\n",
				dir, ms[i - 1].file, ms[i].file);
			free(ms);
			return EINVAL;
		}
	}

	*msp = ms;
	*np = n;
	return 0;
}

static char *read_file(const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f) {
		snprintf(err, errsz, "%s", strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)len + 1)) ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		snprintf(err, errsz, "cannot read");
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != (size_t)len) {
		snprintf(err, errsz, "contains a NUL byte");
		free(buf);
		return NULL;
	}
	return buf;
}

/* is version v recorded in schema_version (which exists)? */
static int applied_set(PGconn *conn, bool *applied, size_t max, char *err,
		       size_t errsz)
{
	static const char *const names[] = {"version"};
	PGresult *res;
	int col;

	res = md_pq_exec(conn,
			 "SELECT to_regclass('schema_version') IS NULL "
			 "AS missing",
			 0, NULL, err, errsz);
	if (!res)
		return EIO;
	if (!strcmp(md_pq_get(res, 0, "missing"), "t")) {
		PQclear(res);
		return 0;
	}
	PQclear(res);

	res = md_pq_exec(conn, "SELECT version FROM schema_version", 0, NULL,
			 err, errsz);
	if (!res)
		return EIO;
	if (md_pq_cols(res, names, &col, 1, err, errsz)) {
		PQclear(res);
		return EIO;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		long v = strtol(md_pq_val(res, i, col), NULL, 10);

		if (v > 0 && (size_t)v < max)
			applied[v] = true;
	}
	PQclear(res);
	return 0;
}

static int apply_one(PGconn *conn, const char *dir, const struct migration *m)
{
	char path[1024], err[1024], ver[16];
	const char *params[2] = {ver, m->name};
	PGresult *res;
	char *sql;

	snprintf(path, sizeof(path), "%s/%s", dir, m->file);
	sql = read_file(path, err, sizeof(err));
	if (!sql) {
		fprintf(stderr, "tandemctl: %s: %s\n", path, err);
		return EIO;
	}

	if (md_pq_cmd(conn, "BEGIN", err, sizeof(err)))
		goto fail;
	if (md_pq_cmd(conn, sql, err, sizeof(err)))
		goto fail;
	snprintf(ver, sizeof(ver), "%d", m->version);
	res = md_pq_exec(conn,
			 "INSERT INTO schema_version (version, name) "
			 "VALUES ($1, $2)",
			 2, params, err, sizeof(err));
	if (!res)
		goto fail;
	PQclear(res);
	if (md_pq_cmd(conn, "COMMIT", err, sizeof(err)))
		goto fail;

	free(sql);
	printf("applied %s\n", m->file);
	return 0;

fail:
	free(sql);
	md_pq_cmd(conn, "ROLLBACK", NULL, 0);
	fprintf(stderr, "tandemctl: %s: %s; nothing of it was applied\n", path,
		err);
	return EIO;
}

/* tandemctl db migrate */
int tc_cmd_migrate(const struct tc_opts *o)
{
	struct migration *ms = NULL;
	bool *applied = NULL;
	const char *dir;
	PGconn *conn;
	char err[512];
	size_t n = 0, done = 0;
	int version = 0, ret = 1;
	PGresult *res;

	dir = schema_dir(o);
	if (!dir)
		return 1;
	if (list_migrations(dir, &ms, &n))
		return 1;
	if (n == 0) {
		fprintf(stderr, "tandemctl: %s: no NNNN_name.sql files\n", dir);
		free(ms);
		return 1;
	}

	conn = tc_db_connect(o);
	if (!conn) {
		free(ms);
		return 1;
	}

	res = md_pq_exec(
	    conn, "SELECT pg_advisory_lock(x'" MIGRATE_LOCK_KEY "'::bigint)", 0,
	    NULL, err, sizeof(err));
	if (!res) {
		fprintf(stderr, "tandemctl: lock: %s\n", err);
		goto out;
	}
	PQclear(res);

	applied = calloc(MAX_MIGRATIONS + 1, sizeof(*applied));
	if (!applied ||
	    applied_set(conn, applied, MAX_MIGRATIONS + 1, err, sizeof(err))) {
		fprintf(stderr, "tandemctl: schema_version: %s\n",
			applied ? err : "out of memory");
		goto out;
	}

	for (size_t i = 0; i < n; i++) {
		if (applied[ms[i].version])
			continue;
		if (apply_one(conn, dir, &ms[i]))
			goto out;
		done++;
	}

	if (tc_db_schema_version(conn, &version, err, sizeof(err))) {
		fprintf(stderr, "tandemctl: schema_version: %s\n", err);
		goto out;
	}
	if (version > ms[n - 1].version)
		fprintf(stderr,
			"tandemctl: warning: the database is at version "
			"%d, newer than the files in %s (last %04d)\n",
			version, dir, ms[n - 1].version);
	if (done)
		printf("schema at version %d (%zu migration%s applied)\n",
		       version, done, done == 1 ? "" : "s");
	else
		printf("schema up to date at version %d\n", version);
	ret = 0;

out:
	free(applied);
	free(ms);
	PQfinish(conn); /* also releases the advisory lock */
	return ret;
}

/* tandemctl db version: the number alone, for scripts */
int tc_cmd_db_version(const struct tc_opts *o)
{
	PGconn *conn = tc_db_connect(o);
	char err[512];
	int version;

	if (!conn)
		return 1;
	if (tc_db_schema_version(conn, &version, err, sizeof(err))) {
		fprintf(stderr, "tandemctl: schema_version: %s\n", err);
		PQfinish(conn);
		return 1;
	}
	PQfinish(conn);
	printf("%d\n", version);
	return 0;
}
