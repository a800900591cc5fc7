/*
 * spool.c - append-only CDR journal with a separate ack journal
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SW_LOG_MODULE "spool"
#include "common/log.h"
#include "common/uuid.h"
#include "signaling/spool.h"

struct pending {
	struct pending *next;
	char id[SW_UUID_LEN + 1];
	char *json; /* owned: the journal line */
	bool inflight;
	bool synced; /* on disk (fdatasync done) */
};

struct sg_spool {
	char cdr_path[512];
	char ack_path[512];
	int cdr_fd;
	int ack_fd;
	struct pending *head, **tail;
	size_t npending;
	size_t ninflight;
	bool dirty;   /* written, not yet fdatasync'ed */
	size_t bytes; /* journal size since compaction */
};

/* compact when nothing is pending and the journal grew past this */
#define COMPACT_BYTES (1024 * 1024)

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static struct pending *find(const struct sg_spool *s, const char *id)
{
	for (struct pending *p = s->head; p; p = p->next)
		if (!strcmp(p->id, id))
			return p;
	return NULL;
}

static int push(struct sg_spool *s, const char *id, const char *json)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return ENOMEM;
	p->json = strdup(json);
	if (!p->json) {
		free(p);
		return ENOMEM;
	}
	snprintf(p->id, sizeof(p->id), "%s", id);
	*s->tail = p;
	s->tail = &p->next;
	s->npending++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* read the ack journal into a sorted array of ids */
static char **read_acks(const char *path, size_t *np)
{
	FILE *f = fopen(path, "r");
	char line[128];
	char **v = NULL;
	size_t n = 0, cap = 0;

	*np = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!sw_uuid_valid(line))
			continue;
		if (n == cap) {
			char **nv =
			    realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			cap = cap ? cap * 2 : 64;
		}
		v[n] = strdup(line);
		if (v[n])
			n++;
	}
	fclose(f);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*np = n;
	return v;
}

/* load unacked CDRs from the journal */
static int recover(struct sg_spool *s)
{
	size_t nacks = 0;
	char **acks = read_acks(s->ack_path, &nacks);
	FILE *f = fopen(s->cdr_path, "r");
	char *line = NULL;
	size_t cap = 0;
	size_t bad = 0, acked = 0;

	if (f) {
		while (getline(&line, &cap, f) > 0) {
			json_t *j;
			const char *id;
			const char *key;

			line[strcspn(line, "\r\n")] = '\0';
			j = json_loads(line, 0, NULL);
			id = json_string_value(json_object_get(j, "id"));
			if (!j || !id || !sw_uuid_valid(id)) {
				bad++;
				json_decref(j);
				continue;
			}
			key = id;
			if (nacks && bsearch(&key, acks, nacks, sizeof(*acks),
					     cmp_str)) {
				acked++;
			} else if (!find(s, id) && !push(s, id, line)) {
				find(s, id)->synced = true; /* on disk */
			}
			json_decref(j);
		}
		free(line);
		fclose(f);
	}
	for (size_t i = 0; i < nacks; i++)
		free(acks[i]);
	free(acks);

	if (bad)
		sw_warn("%zu unreadable journal lines skipped (torn writes)",
			bad);
	sw_info("spool recovered: %zu pending, %zu already acknowledged",
		s->npending, acked);
	return 0;
}

/* rewrite the journal with only the pending CDRs, then clear acks */
static int rewrite(struct sg_spool *s)
{
	char tmp[600];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->cdr_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	s->bytes = 0;
	for (struct pending *p = s->head; p && !err; p = p->next) {
		err = write_all(fd, p->json, strlen(p->json));
		if (!err)
			err = write_all(fd, "\n", 1);
		s->bytes += strlen(p->json) + 1;
	}
	if (!err && fsync(fd))
		err = errno;
	close(fd);
	if (!err && rename(tmp, s->cdr_path))
		err = errno;
	if (!err && truncate(s->ack_path, 0) && errno != ENOENT)
		err = errno;
	return err;
}

/*
 * Open (creating) the spool in dir and recover unacknowledged CDRs.
 */
int sg_spool_open(struct sg_spool **spoolp, const char *dir, char *err,
		  size_t errsz)
{
	struct sg_spool *s;
	int e;

	if (!spoolp || !dir)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->tail = &s->head;
	s->cdr_fd = s->ack_fd = -1;
	snprintf(s->cdr_path, sizeof(s->cdr_path), "%s/cdr.journal", dir);
	snprintf(s->ack_path, sizeof(s->ack_path), "%s/ack.journal", dir);

	if (mkdir(dir, 0700) && errno != EEXIST) {
		e = errno;
		snprintf(err, errsz, "%s: %s", dir, strerror(e));
		goto fail;
	}
	recover(s);
	e = rewrite(s);
	if (e) {
		snprintf(err, errsz, "%s: %s", s->cdr_path, strerror(e));
		goto fail;
	}
	s->cdr_fd =
	    open(s->cdr_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	s->ack_fd =
	    open(s->ack_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (s->cdr_fd < 0 || s->ack_fd < 0) {
		e = errno;
		snprintf(err, errsz, "%s: %s", dir, strerror(e));
		goto fail;
	}
	*spoolp = s;
	return 0;

fail:
	sg_spool_close(s);
	return e;
}

/* Close the files and free the in-memory list (the journal stays). */
void sg_spool_close(struct sg_spool *s)
{
	struct pending *p, *n;

	if (!s)
		return;
	if (sg_spool_sync(s))
		sw_warn("journal sync at close: %s", strerror(errno));
	for (p = s->head; p; p = n) {
		n = p->next;
		free(p->json);
		free(p);
	}
	if (s->cdr_fd >= 0)
		close(s->cdr_fd);
	if (s->ack_fd >= 0)
		close(s->ack_fd);
	free(s);
}

/*
 * Append a CDR to the journal.  It is sent only after sg_spool_sync() has
 * made it durable (group commit: one fdatasync for the CDRs of a loop
 * turn).  A write error is returned (the caller logs the CDR).
 */
int sg_spool_add(struct sg_spool *s, const char *id, const char *cdr,
		 size_t len)
{
	char *text;
	int err;

	if (!s || !id || !cdr || !len)
		return EINVAL;
	text = malloc(len + 2);
	if (!text)
		return ENOMEM;
	memcpy(text, cdr, len);
	text[len] = '\n'; /* one write: line and newline */
	err = write_all(s->cdr_fd, text, len + 1);
	text[len] = '\0';
	if (!err)
		err = push(s, id, text);
	if (!err) {
		s->dirty = true;
		s->bytes += len + 1;
	}
	free(text);
	return err;
}

/* Make every CDR written so far durable; they may be sent from now on. */
int sg_spool_sync(struct sg_spool *s)
{
	if (!s || !s->dirty)
		return 0;
	if (fdatasync(s->cdr_fd))
		return errno;
	s->dirty = false;
	for (struct pending *p = s->head; p; p = p->next)
		p->synced = true;
	return 0;
}

static void compact(struct sg_spool *s, bool force)
{
	if (s->npending || !s->bytes || (!force && s->bytes < COMPACT_BYTES))
		return;
	s->bytes = 0;
	/* journal first: a crash in between leaves stale acks only */
	if (ftruncate(s->cdr_fd, 0) || fsync(s->cdr_fd) ||
	    ftruncate(s->ack_fd, 0))
		sw_warn("compaction: %s", strerror(errno));
}

/* billingd stored the CDR: record it and forget it. */
void sg_spool_ack(struct sg_spool *s, const char *id)
{
	struct pending **pp, *p;
	char line[SW_UUID_LEN + 2];

	if (!s || !id)
		return;
	for (pp = &s->head; (p = *pp); pp = &p->next) {
		if (strcmp(p->id, id))
			continue;
		*pp = p->next;
		if (s->tail == &p->next)
			s->tail = pp;
		if (p->inflight)
			s->ninflight--;
		s->npending--;
		free(p->json);
		free(p);
		snprintf(line, sizeof(line), "%s\n", id);
		if (write_all(s->ack_fd, line, strlen(line)))
			sw_warn("ack journal: %s", strerror(errno));
		compact(s, false);
		return;
	}
}

/* The send failed or timed out: pending again for the next kick. */
void sg_spool_nack(struct sg_spool *s, const char *id)
{
	struct pending *p = s && id ? find(s, id) : NULL;

	if (p && p->inflight) {
		p->inflight = false;
		s->ninflight--;
	}
}

/*
 * Send pending CDRs that are not in flight, keeping at most max_inflight
 * outstanding; returns how many were started.
 */
size_t sg_spool_kick(struct sg_spool *s, size_t max_inflight,
		     sg_spool_send_h *send, void *arg)
{
	size_t started = 0;

	if (!s || !send)
		return 0;
	for (struct pending *p = s->head; p; p = p->next) {
		if (s->ninflight >= max_inflight)
			break;
		if (p->inflight || !p->synced)
			continue;
		if (send(p->id, p->json, arg))
			break;
		p->inflight = true;
		s->ninflight++;
		started++;
	}
	return started;
}

/* Truncate both journals if nothing is pending (idle housekeeping). */
void sg_spool_compact(struct sg_spool *s)
{
	if (s)
		compact(s, true);
}

size_t sg_spool_pending(const struct sg_spool *s)
{
	return s ? s->npending : 0;
}

size_t sg_spool_inflight(const struct sg_spool *s)
{
	return s ? s->ninflight : 0;
}
