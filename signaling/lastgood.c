/*
 * lastgood.c - the last routing tables loaded, kept on disk (lastgood.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define SW_LOG_MODULE "lastgood"
#include "common/log.h"
#include "common/swtime.h"
#include "signaling/lastgood.h"

#define LASTGOOD_MAX_BYTES (512L * 1024 * 1024)

struct job {
	char *path;
	PGresult *res[SG_LASTGOOD_MAX];
	size_t n;
	int64_t saved_ms;
	uint64_t seq;
};

/* writers in flight, and the newest written: an older one never replaces
 * a newer file */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static unsigned running;
static uint64_t next_seq, written_seq;

static json_t *result_json(const PGresult *r)
{
	int nf = PQnfields(r), nt = PQntuples(r);
	json_t *cols = json_array(), *rows = json_array();

	for (int c = 0; c < nf; c++)
		json_array_append_new(cols, json_string(PQfname(r, c)));
	for (int i = 0; i < nt; i++) {
		json_t *row = json_array();

		for (int c = 0; c < nf; c++)
			json_array_append_new(
			    row, PQgetisnull(r, i, c)
				     ? json_null()
				     : json_string(PQgetvalue(r, i, c)));
		json_array_append_new(rows, row);
	}
	return json_pack("{s:o, s:o}", "cols", cols, "rows", rows);
}

static int write_file(const struct job *j, json_t *doc)
{
	char tmp[4096];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", j->path) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return errno;
	if (json_dumpfd(doc, fd, JSON_COMPACT) || fsync(fd))
		err = errno ? errno : EIO;
	if (close(fd) && !err)
		err = errno;
	pthread_mutex_lock(&lock);
	if (!err && j->seq > written_seq) {
		if (rename(tmp, j->path))
			err = errno;
		else
			written_seq = j->seq;
	} else {
		(void)unlink(tmp);
	}
	pthread_mutex_unlock(&lock);
	return err;
}

static void *writer(void *arg)
{
	struct job *j = arg;
	json_t *results = json_array();
	char when[40];
	json_t *doc;
	int err;

	for (size_t i = 0; i < j->n; i++)
		json_array_append_new(results, result_json(j->res[i]));
	sw_time_iso(when, sizeof(when), j->saved_ms);
	doc = json_pack("{s:i, s:s, s:I, s:o}", "version", SG_LASTGOOD_VERSION,
			"saved", when, "saved_ms", (json_int_t)j->saved_ms,
			"results", results);
	err = doc ? write_file(j, doc) : ENOMEM;
	if (err)
		sw_warn("last good tables not saved to %s: %s", j->path,
			strerror(err));
	json_decref(doc);
	for (size_t i = 0; i < j->n; i++)
		PQclear(j->res[i]);
	free(j->path);
	free(j);
	pthread_mutex_lock(&lock);
	running--;
	pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/** Save n results (taken, cleared by the writer) to path, in the
 * background. */
void sg_lastgood_save(const char *path, PGresult **res, size_t n)
{
	struct job *j = calloc(1, sizeof(*j));
	pthread_attr_t at;
	pthread_t th;

	if (!j || n > SG_LASTGOOD_MAX || !(j->path = strdup(path))) {
		free(j);
		for (size_t i = 0; i < n; i++)
			PQclear(res[i]);
		return;
	}
	for (size_t i = 0; i < n; i++)
		j->res[i] = res[i];
	j->n = n;
	j->saved_ms = sw_time_wall_ms();
	pthread_mutex_lock(&lock);
	j->seq = ++next_seq;
	running++;
	pthread_mutex_unlock(&lock);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, writer, j)) {
		sw_warn("last good tables not saved: no thread");
		pthread_mutex_lock(&lock);
		running--;
		pthread_mutex_unlock(&lock);
		for (size_t i = 0; i < n; i++)
			PQclear(j->res[i]);
		free(j->path);
		free(j);
	}
	pthread_attr_destroy(&at);
}

/** Wait for the writers (shutdown). */
void sg_lastgood_wait(void)
{
	pthread_mutex_lock(&lock);
	while (running)
		pthread_cond_wait(&idle, &lock);
	pthread_mutex_unlock(&lock);
}

static PGresult *result_of(const json_t *o, char *err, size_t errsz)
{
	const json_t *cols = json_object_get(o, "cols");
	const json_t *rows = json_object_get(o, "rows");
	PGresAttDesc *att;
	PGresult *r;
	size_t nf, i;
	json_t *row;

	if (!json_is_array(cols) || !json_is_array(rows) ||
	    json_array_size(cols) > 256) {
		snprintf(err, errsz, "a result without cols/rows arrays");
		return NULL;
	}
	nf = json_array_size(cols);
	att = calloc(nf ? nf : 1, sizeof(*att));
	r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	if (!att || !r)
		goto oom;
	for (i = 0; i < nf; i++) {
		const char *name = json_string_value(json_array_get(cols, i));

		if (!name) {
			snprintf(err, errsz, "column %zu has no name", i);
			goto bad;
		}
		att[i].name = (char *)(uintptr_t)name; /* libpq copies it */
		att[i].format = 0;
		att[i].typid = 25; /* text */
		att[i].typlen = -1;
		att[i].atttypmod = -1;
	}
	if (!PQsetResultAttrs(r, (int)nf, att))
		goto oom;
	json_array_foreach(rows, i, row)
	{
		if (!json_is_array(row) || json_array_size(row) != nf ||
		    i > INT32_MAX) {
			snprintf(err, errsz, "row %zu: not %zu values", i, nf);
			goto bad;
		}
		for (size_t c = 0; c < nf; c++) {
			const json_t *v = json_array_get(row, c);
			const char *s = json_string_value(v);

			if (!s && !json_is_null(v)) {
				snprintf(err, errsz,
					 "row %zu column %zu: not text", i, c);
				goto bad;
			}
			if (!PQsetvalue(r, (int)i, (int)c, (char *)(uintptr_t)s,
					s ? (int)json_string_length(v) : -1))
				goto oom;
		}
	}
	free(att);
	return r;
oom:
	snprintf(err, errsz, "out of memory");
bad:
	free(att);
	PQclear(r);
	return NULL;
}

/** Rebuild the results saved in text (a tables.json). */
int sg_lastgood_parse(const char *text, size_t len, PGresult **res, size_t max,
		      size_t *n, int64_t *saved_ms, char *err, size_t errsz)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	const json_t *results, *o;
	size_t i;
	int ret = 0;

	*n = 0;
	if (!doc) {
		snprintf(err, errsz, "line %d: %s", je.line, je.text);
		return EINVAL;
	}
	results = json_object_get(doc, "results");
	if (json_integer_value(json_object_get(doc, "version")) !=
	    SG_LASTGOOD_VERSION) {
		snprintf(err, errsz, "not version %d", SG_LASTGOOD_VERSION);
		ret = EINVAL;
	} else if (!json_is_array(results) || json_array_size(results) > max) {
		snprintf(err, errsz, "no results, or more than %zu", max);
		ret = EINVAL;
	}
	*saved_ms = json_integer_value(json_object_get(doc, "saved_ms"));
	json_array_foreach(ret ? NULL : results, i, o)
	{
		char why[200];

		res[*n] = result_of(o, why, sizeof(why));
		if (!res[*n]) {
			snprintf(err, errsz, "result %zu: %s", i, why);
			ret = EINVAL;
			break;
		}
		(*n)++;
	}
	json_decref(doc);
	if (ret) {
		for (size_t k = 0; k < *n; k++)
			PQclear(res[k]);
		*n = 0;
	}
	return ret;
}

/** Read path (the caller clears the *n results). */
int sg_lastgood_read(const char *path, PGresult **res, size_t max, size_t *n,
		     int64_t *saved_ms, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;
	int ret;

	*n = 0;
	if (!f) {
		ret = errno;
		snprintf(err, errsz, "%s: %s", path, strerror(ret));
		return ret;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    size > LASTGOOD_MAX_BYTES || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)size + 1)) ||
	    fread(buf, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errsz, "%s: cannot read it", path);
		ret = EIO;
	} else {
		char why[256];

		ret = sg_lastgood_parse(buf, (size_t)size, res, max, n,
					saved_ms, why, sizeof(why));
		if (ret)
			snprintf(err, errsz, "%s: %s", path, why);
	}
	free(buf);
	fclose(f);
	return ret;
}
