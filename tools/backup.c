/*
 * backup.c - tandemctl backup FILE / restore FILE (docs/deploy.md)
 *
 * A backup is one gzip'd tar file: database.dump (pg_dump's custom format
 * of the whole database: configuration, accounts, balances, CDRs),
 * conf/<daemon>.conf (the daemons' config files of --conf-dir, /etc/tandem by
 * default, those that exist) and manifest.json (what, when, from which
 * schema version).  Nothing in it is bound to this host's addresses: the
 * config files are copied as they are, for the operator to edit on the
 * new host.  restore loads database.dump into an empty database (never
 * over data) and writes the config files into --conf-dir only where none
 * exists yet; the others are left in the backup for the operator.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "tools/ctl.h"

extern char **environ;

static const char *const conf_names[] = {"signalingd.conf", "mediaproxyd.conf",
					 "billingd.conf", NULL};

/* run args (NULL-terminated; PATH searched), stderr shared; 0 when it
 * exited 0 */
static int run(const char *const *args)
{
	char *argv[16];
	size_t n = 0;
	pid_t pid;
	int st, err = 0;

	for (; n < sizeof(argv) / sizeof(argv[0]) - 1 && args[n]; n++) {
		argv[n] = strdup(args[n]);
		if (!argv[n])
			err = ENOMEM;
	}
	argv[n] = NULL;
	if (!err)
		err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (err) {
		fprintf(stderr, "tandemctl: %s: %s\n", args[0], strerror(err));
		goto out;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			err = errno;
			goto out;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "tandemctl: %s failed (status %d)\n", args[0],
			WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		err = EIO;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
	return err;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[8192];
	FILE *in, *out;
	size_t n;
	int err = 0;

	in = fopen(from, "rb");
	if (!in)
		return errno;
	out = fopen(to, "wbx"); /* never over an existing file */
	if (!out) {
		err = errno;
		fclose(in);
		return err;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (fwrite(buf, 1, n, out) != n) {
			err = EIO;
			break;
		}
	}
	if (ferror(in))
		err = EIO;
	fclose(in);
	if (fclose(out) && !err)
		err = EIO;
	if (!err)
		(void)chmod(to, mode);
	return err;
}

static void remove_tree(const char *dir)
{
	const char *const argv[] = {"rm", "-rf", dir, NULL};

	(void)run(argv);
}

static int schema_version(const struct tc_opts *o, int *version)
{
	PGconn *conn = tc_db_connect(o);
	char err[256];
	int e;

	if (!conn)
		return ECONNREFUSED;
	e = tc_db_schema_version(conn, version, err, sizeof(err));
	if (e)
		fprintf(stderr, "tandemctl: %s\n", err);
	PQfinish(conn);
	return e;
}

/* tandemctl backup FILE */
static int backup(const struct tc_opts *o, const char *file)
{
	const char *conf_dir = o->conf_dir ? o->conf_dir : "/etc/tandem";
	char dir[] = "/tmp/tandem-backup.XXXXXX";
	char path[4200], dump[4200], conf[4200];
	int version = 0, nconf = 0, err;
	FILE *f;

	err = schema_version(o, &version);
	if (err)
		return 1;
	if (!mkdtemp(dir)) {
		perror("tandemctl: mkdtemp");
		return 1;
	}
	snprintf(dump, sizeof(dump), "%s/database.dump", dir);
	{
		const char *const argv[] = {
		    "pg_dump", "--format=custom", "--no-owner",	     "--file",
		    dump,      "--dbname",	  tc_db_conninfo(o), NULL};

		err = run(argv);
	}
	snprintf(conf, sizeof(conf), "%s/conf", dir);
	if (!err && mkdir(conf, 0750))
		err = errno;
	for (int i = 0; !err && conf_names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", conf_dir, conf_names[i]);
		if (access(path, R_OK))
			continue;
		if (snprintf(dump, sizeof(dump), "%s/%s", conf,
			     conf_names[i]) >= (int)sizeof(dump)) {
			err = ENAMETOOLONG;
			break;
		}
		err = copy_file(path, dump, 0640);
		if (err)
			fprintf(stderr, "tandemctl: %s: %s\n", path,
				strerror(err));
		nconf++;
	}
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	f = err ? NULL : fopen(path, "w");
	if (!err && f) {
		fprintf(f,
			"{\"format\": \"tandem-backup\", \"version\": 1, "
			"\"tandem\": \"%s\", \"schema_version\": %d, "
			"\"created_s\": %lld, \"conf_files\": %d}\n",
			TANDEM_VERSION, version, (long long)time(NULL), nconf);
		if (fclose(f))
			err = EIO;
	} else if (!err) {
		err = errno;
	}
	if (!err) {
		const char *const argv[] = {
		    "tar",	     "-C",   dir, "-czf", file, "manifest.json",
		    "database.dump", "conf", NULL};

		err = run(argv);
	}
	remove_tree(dir);
	if (err) {
		fprintf(stderr, "tandemctl: backup not written\n");
		return 1;
	}
	printf("backup %s: database (schema version %d) and %d config "
	       "files of %s\n",
	       file, version, nconf, conf_dir);
	return 0;
}

/* tandemctl restore FILE: into an empty database only */
static int restore(const struct tc_opts *o, const char *file)
{
	char dir[] = "/tmp/tandem-restore.XXXXXX";
	char path[4200], to[4200];
	int version = -1, err, written = 0, kept = 0;

	if (schema_version(o, &version))
		return 1;
	if (version != 0) {
		fprintf(stderr,
			"tandemctl: restore goes into an empty database; this "
			"one has schema version %d\n",
			version);
		return 1;
	}
	if (!mkdtemp(dir)) {
		perror("tandemctl: mkdtemp");
		return 1;
	}
	{
		const char *const argv[] = {"tar",  "-C", dir,
					    "-xzf", file, NULL};

		err = run(argv);
	}
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (!err && access(path, R_OK)) {
		fprintf(stderr, "tandemctl: %s is not a tandemctl backup\n",
			file);
		err = EINVAL;
	}
	snprintf(path, sizeof(path), "%s/database.dump", dir);
	if (!err) {
		const char *const argv[] = {"pg_restore",
					    "--no-owner",
					    "--exit-on-error",
					    "--single-transaction",
					    "--dbname",
					    tc_db_conninfo(o),
					    path,
					    NULL};

		err = run(argv);
	}
	for (int i = 0; !err && o->conf_dir && conf_names[i]; i++) {
		snprintf(path, sizeof(path), "%s/conf/%s", dir, conf_names[i]);
		if (access(path, R_OK))
			continue;
		snprintf(to, sizeof(to), "%s/%s", o->conf_dir, conf_names[i]);
		if (!access(to, F_OK)) {
			printf("kept %s (the backup's is not written over "
			       "it)\n",
			       to);
			kept++;
			continue;
		}
		err = copy_file(path, to, 0640);
		if (err)
			fprintf(stderr, "tandemctl: %s: %s\n", to,
				strerror(err));
		written++;
	}
	remove_tree(dir);
	if (err) {
		fprintf(stderr, "tandemctl: restore failed\n");
		return 1;
	}
	if (schema_version(o, &version))
		return 1;
	printf("restored %s: database at schema version %d", file, version);
	if (o->conf_dir)
		printf(", %d config files written to %s, %d kept", written,
		       o->conf_dir, kept);
	printf("\n");
	return 0;
}

int tc_cmd_backup(const struct tc_opts *o, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tandemctl backup|restore FILE\n");
		return 2;
	}
	if (!strcmp(argv[0], "backup"))
		return backup(o, argv[1]);
	return restore(o, argv[1]);
}
