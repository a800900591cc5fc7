/*
 * recovery.c - the journal of answered calls and their rebuild on start
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SW_LOG_MODULE "recovery"
#include "common/log.h"
#include "common/jsonw.h"
#include "common/utf8.h"
#include "common/swtime.h"
#include "signaling/call.h"
#include "signaling/media.h"
#include "signaling/recovery.h"
#include "signaling/sestimer.h"
#include "signaling/sg.h"

struct sg_recovery {
	char path[512];
	int fd;
	json_t *pending;   /* owned: records to restore, by id */
	unsigned active;   /* journaled calls not yet down */
	size_t bytes;	   /* journal size since the last truncation */
	struct sw_jw line; /* the line being written (buffer kept) */
};

/* the line in w, and its newline, in one write */
static int append_line(struct sg_recovery *r, struct sw_jw *w)
{
	int err = 0;

	sw_jw_raw(w, "\n");
	if (w->oom)
		return ENOMEM;
	if (write(r->fd, w->buf, w->len) != (ssize_t)w->len)
		err = errno ? errno : EIO;
	else
		r->bytes += w->len;
	return err;
}

/* rec (a reference taken) as one line */
static int append(struct sg_recovery *r, json_t *rec)
{
	int err = ENOMEM;

	if (rec) {
		sw_jw_reset(&r->line);
		sw_jw_json(&r->line, rec);
		json_decref(rec);
		err = append_line(r, &r->line);
	}
	return err;
}

/*
 * Read calls.journal: the calls still up are kept for
 * sg_recovery_restore(); the file is rewritten with just those.
 */
int sg_recovery_open(struct sg *sg, char *err, size_t errsz)
{
	struct sg_recovery *r = calloc(1, sizeof(*r));
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	const char *key;
	json_t *rec;

	if (!r)
		return ENOMEM;
	snprintf(r->path, sizeof(r->path), "%s/calls.journal",
		 sg->cfg.spool_dir);
	r->pending = json_object();
	f = fopen(r->path, "r");
	if (f) {
		while (getline(&line, &cap, f) > 0) {
			json_t *j = json_loads(line, 0, NULL);
			const char *op =
			    json_string_value(json_object_get(j, "op"));
			const char *id =
			    json_string_value(json_object_get(j, "id"));

			if (op && id && !strcmp(op, "up"))
				json_object_set(r->pending, id, j);
			else if (op && id && !strcmp(op, "st") &&
				 json_object_get(r->pending, id))
				json_object_set(json_object_get(r->pending, id),
						"st", json_object_get(j, "st"));
			else if (op && id && !strcmp(op, "down"))
				json_object_del(r->pending, id);
			json_decref(j);
		}
		free(line);
		fclose(f);
	}
	r->fd = open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (r->fd < 0) {
		int e = errno;

		snprintf(err, errsz, "%s: %s", r->path, strerror(e));
		json_decref(r->pending);
		free(r);
		return e;
	}
	json_object_foreach(r->pending, key, rec)
	{
		append(r, json_incref(rec));
		r->active++;
	}
	if (r->active && fdatasync(r->fd))
		sw_warn("%s: %s", r->path, strerror(errno));
	sg->recovery = r;
	return 0;
}

/* Rebuild the calls that were up when the last process stopped. */
void sg_recovery_restore(struct sg *sg)
{
	struct sg_recovery *r = sg->recovery;
	const char *key;
	json_t *rec;
	size_t n = 0;

	if (!r)
		return;
	json_object_foreach(r->pending, key, rec)
	{
		if (sg_call_restore(sg, rec))
			n++;
		else
			sg_recovery_down_id(sg, key);
	}
	json_object_clear(r->pending);
	if (n)
		sw_info("%zu answered calls recovered from the journal", n);
}

static void leg_write(struct sw_jw *w, struct sg_call *c, const char *key,
		      nta_leg_t *leg, const char *callid, const char *local,
		      const char *remote)
{
	sip_route_t const *route = NULL;
	sip_contact_t const *target = NULL;

	nta_leg_get_route(leg, &route, &target);
	/* wire bytes that are not UTF-8 are journaled escaped (utf8.h): the
	 * journal never fails on content; such a dialog may not be matched
	 * by its peer after a restart (docs/decisions.md) */
	sw_jw_key(w, key, false);
	sw_jw_raw(w, "{\"call_id\":");
	sw_jw_text(w, callid);
	sw_jw_ktext(w, "local", local);
	sw_jw_ktext(w, "remote", remote);
	sw_jw_ktext(w, "target",
		    target ? url_as_string(c->home, target->m_url) : "");
	sw_jw_key(w, "route", false);
	if (!route) {
		sw_jw_raw(w, "\"\"");
	} else {
		char *routes = NULL;

		for (sip_route_t const *rt = route; rt; rt = rt->r_next) {
			char *one = sip_header_as_string(
			    c->home, (sip_header_t const *)rt);

			routes =
			    routes ? su_sprintf(c->home, "%s, %s", routes, one)
				   : one;
		}
		sw_jw_text(w, routes);
	}
	sw_jw_ki64(w, "seq", nta_leg_get_seq(leg));
	sw_jw_raw(w, "}");
}

/*
 * The call was answered: journal both dialogs.  Written, not fsync'ed: the
 * page cache survives a crash of the process (the case this is for), and
 * an fdatasync per answered call costs too much at high call rates.  The
 * line is written as text (jsonw.h): one per answered call.
 */
void sg_recovery_up(struct sg_call *c)
{
	struct sg_recovery *r = c->sg->recovery;
	struct sw_jw *w;
	bool media = c->node && c->media_up;
	json_t *st;
	int err;

	if (!r || !c->leg_a || !c->leg_b || c->journaled)
		return;
	w = &r->line;
	sw_jw_reset(w);
	sw_jw_raw(w, "{\"op\":\"up\",\"id\":");
	sw_jw_text(w, c->id);
	sw_jw_ktext(w, "mapping", c->mgw->name);
	sw_jw_ki64(w, "answer_ms", c->answer_ms);
	sw_jw_key(w, "cdr", false);
	sg_cdr_write(w, c);
	leg_write(w, c, "a", c->leg_a, c->callid_a, c->a_local_hdr,
		  c->a_remote_hdr);
	leg_write(w, c, "b", c->leg_b, c->callid_b, c->b_local_hdr,
		  c->b_remote_hdr);
	sw_jw_ktext(w, "node", media ? c->node->node_id : "");
	sw_jw_ktext(w, "node_url", media ? c->node->url : "");
	sw_jw_ktext(w, "a_local_ip", c->a_local_ip);
	sw_jw_ki64(w, "a_local_port", c->a_local_port);
	sw_jw_ktext(w, "b_local_ip", c->b_local_ip);
	sw_jw_ki64(w, "b_local_port", c->b_local_port);
	if (c->sdp_to_a)
		sw_jw_ktext(w, "sdp_to_a", c->sdp_to_a);
	if (c->sdp_to_b)
		sw_jw_ktext(w, "sdp_to_b", c->sdp_to_b);
	st = sg_st_journal(&c->st);
	if (st) {
		sw_jw_key(w, "st", false);
		sw_jw_json(w, st);
		json_decref(st);
	}
	sw_jw_raw(w, "}");
	err = w->oom ? ENOMEM : append_line(r, w);
	if (err) {
		sw_cwarn(c->callid_a, "call not journaled: %s", strerror(err));
		return;
	}
	c->journaled = true;
	r->active++;
}

/* A journaled call ended (by id). */
void sg_recovery_down_id(struct sg *sg, const char *id)
{
	struct sg_recovery *r = sg->recovery;

	if (!r)
		return;
	sw_jw_reset(&r->line);
	sw_jw_raw(&r->line, "{\"op\":\"down\",\"id\":");
	sw_jw_text(&r->line, id);
	sw_jw_raw(&r->line, "}");
	append_line(r, &r->line);
	if (r->active)
		r->active--;
	if (r->bytes > 1024 * 1024)
		sg_recovery_compact(sg);
}

/* Truncate the journal when no journaled call is up (also from the tick). */
void sg_recovery_compact(struct sg *sg)
{
	struct sg_recovery *r = sg->recovery;

	if (!r || r->active || !r->bytes)
		return;
	if (ftruncate(r->fd, 0))
		sw_warn("%s: %s", r->path, strerror(errno));
	else
		r->bytes = 0;
}

/* A journaled call's session timers changed: a restart keeps the new. */
void sg_recovery_st(struct sg_call *c)
{
	json_t *st;
	int err;

	if (!c->sg->recovery || !c->journaled)
		return;
	st = sg_st_journal(&c->st);
	if (!st)
		return;
	err = append(c->sg->recovery, json_pack("{s:s, s:s, s:o}", "op", "st",
						"id", c->id, "st", st));
	if (err)
		sw_cwarn(c->callid_a, "session timers not journaled: %s",
			 strerror(err));
}

/* The call ended: its journal record is closed. */
void sg_recovery_down(struct sg_call *c)
{
	if (!c->journaled)
		return;
	c->journaled = false;
	sg_recovery_down_id(c->sg, c->id);
}

void sg_recovery_close(struct sg *sg)
{
	struct sg_recovery *r = sg->recovery;

	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	json_decref(r->pending);
	sw_jw_free(&r->line);
	free(r);
	sg->recovery = NULL;
}
