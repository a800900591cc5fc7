/*
 * sgpeers.c - the signalingd of signaling_url and requests to them
 * (sgpeers.h)
 */
#define SW_LOG_MODULE "sgpeers"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/sgpeers.h"
#include "common/envelope.h"
#include "common/log.h"
#include "proto/proto.h"

#define URL_MAX 1024 /* signaling_url's size: one URL is never longer */

struct peer {
	struct sw_bus_peer *bus; /* owned by the bus */
	char url[URL_MAX];
	char node_id[65]; /* from its last health.ping reply */
};

struct bd_sgpeers {
	struct sw_bus *bus; /* borrowed */
	struct peer p[BD_SG_MAX];
	size_t n;
	size_t pref;	  /* bd_sgpeers_first starts here: the last to answer */
	struct list reqs; /* struct sgreq on the bus */
};

struct sgreq;

/* the arg of one peer's sw_bus_request */
struct slot {
	struct sgreq *q;
	size_t i;
};

/* one request to all (all_h) or to the first that answers (first_h) */
struct sgreq {
	struct le le; /* in bd_sgpeers.reqs while on the bus */
	struct bd_sgpeers *s;
	char type[SW_ENV_TYPE_MAX + 1];
	void *arg;
	bd_sg_all_h *all_h;
	size_t pending; /* all: answers still to come */
	sw_bus_resp_h *first_h;
	json_t *body; /* first: kept for the next try */
	int timeout_ms;
	size_t start, tried; /* first: where it began, peers asked */
	struct sw_bus_call *call[BD_SG_MAX];
	struct slot slot[BD_SG_MAX];
	struct bd_sg_reply r[BD_SG_MAX];
};

static void sgreq_destructor(void *arg)
{
	struct sgreq *q = arg;

	for (size_t i = 0; i < BD_SG_MAX; i++) {
		sw_bus_call_cancel(q->call[i]);
		json_decref(q->r[i].body);
	}
	json_decref(q->body);
	list_unlink(&q->le);
}

static void destructor(void *arg)
{
	struct bd_sgpeers *s = arg;
	struct le *le;

	/* their handlers never run: the bus calls them no more */
	while ((le = list_head(&s->reqs)))
		mem_deref(le->data);
}

static int dial(const char *url, void *arg)
{
	struct bd_sgpeers *s = arg;
	struct peer *p = &s->p[s->n];
	int err;

	if (s->n == BD_SG_MAX) {
		sw_err("signaling_url: more than %d signalingd", BD_SG_MAX);
		return E2BIG;
	}
	if (strlen(url) >= sizeof(p->url))
		return ENAMETOOLONG;
	err = sw_bus_dial_req(&p->bus, s->bus, url, SW_ROLE_SIGNALING, NULL);
	if (err) {
		sw_err("signaling_url %s: %s", url, strerror(err));
		return err;
	}
	snprintf(p->url, sizeof(p->url), "%s", url);
	s->n++;
	return 0;
}

/*
 * Dial every signalingd of list (signaling_url, comma-separated).  The
 * peers belong to bus; free the module before it.  EINVAL for an empty
 * list, E2BIG beyond BD_SG_MAX.
 */
int bd_sgpeers_alloc(struct bd_sgpeers **sp, struct sw_bus *bus,
		     const char *list)
{
	struct bd_sgpeers *s;
	int err;

	if (!sp || !bus || !list)
		return EINVAL;
	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;
	s->bus = bus;
	list_init(&s->reqs);
	err = sw_bus_url_each(list, dial, s);
	if (!err && !s->n)
		err = EINVAL;
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}

/* How many signalingd there are (signaling_url's entries). */
size_t bd_sgpeers_count(const struct bd_sgpeers *s)
{
	return s ? s->n : 0;
}

/* The URL of signalingd i (signaling_url order), "" beyond the last. */
const char *bd_sgpeers_url(const struct bd_sgpeers *s, size_t i)
{
	return s && i < s->n ? s->p[i].url : "";
}

/* record peer i's answer in q->r[i]; learn its node_id, prefer it */
static void note(struct sgreq *q, size_t i, int err, const struct sw_env *env)
{
	struct peer *p = &q->s->p[i];
	struct bd_sg_reply *r = &q->r[i];

	q->call[i] = NULL;
	r->err = err ? err : (env ? 0 : EIO);
	if (r->err)
		return;
	r->error = !strcmp(env->type, SW_MSG_ERROR);
	r->body = json_incref(env->body);
	q->s->pref = i;
	if (!r->error && !strcmp(q->type, SW_MSG_HEALTH_PING)) {
		const char *id =
		    json_string_value(json_object_get(env->body, "node_id"));

		if (id && strlen(id) < sizeof(p->node_id))
			snprintf(p->node_id, sizeof(p->node_id), "%s", id);
	}
}

static void all_resp_h(int err, const struct sw_env *env, void *arg)
{
	struct slot *sl = arg;
	struct sgreq *q = sl->q;

	note(q, sl->i, err, env);
	if (--q->pending)
		return;
	list_unlink(&q->le);
	q->all_h(q->r, q->s->n, q->arg);
	mem_deref(q);
}

static struct sgreq *sgreq_alloc(struct bd_sgpeers *s, const char *type,
				 int timeout_ms, void *arg)
{
	struct sgreq *q = mem_zalloc(sizeof(*q), sgreq_destructor);

	if (!q)
		return NULL;
	q->s = s;
	snprintf(q->type, sizeof(q->type), "%s", type);
	q->timeout_ms = timeout_ms;
	q->arg = arg;
	for (size_t i = 0; i < s->n; i++) {
		q->slot[i].q = q;
		q->slot[i].i = i;
		q->r[i].url = s->p[i].url;
		q->r[i].node_id = s->p[i].node_id;
	}
	return q;
}

/*
 * Send type with body (stolen, NULL = {}) to every signalingd; h(r, n, arg)
 * runs once on the loop when each has answered or timed out, with one
 * bd_sg_reply each (a peer the request could not even be sent to has that
 * error).  An error return (nothing sent) means h will not run.
 */
int bd_sgpeers_all(struct bd_sgpeers *s, const char *type, json_t *body,
		   int timeout_ms, bd_sg_all_h *h, void *arg)
{
	struct sgreq *q;
	int first = 0;

	if (!s || !type || !h) {
		json_decref(body);
		return EINVAL;
	}
	q = sgreq_alloc(s, type, timeout_ms, arg);
	if (!q) {
		json_decref(body);
		return ENOMEM;
	}
	q->all_h = h;
	for (size_t i = 0; i < s->n; i++) {
		int err = sw_bus_request(&q->call[i], s->p[i].bus, type,
					 body ? json_incref(body) : NULL,
					 timeout_ms, all_resp_h, &q->slot[i]);

		if (err) {
			q->call[i] = NULL;
			q->r[i].err = err;
			first = first ? first : err;
		} else {
			q->pending++;
		}
	}
	json_decref(body);
	if (!q->pending) {
		mem_deref(q);
		return first ? first : EINVAL;
	}
	list_append(&s->reqs, &q->le, q);
	return 0;
}

static void first_resp_h(int err, const struct sw_env *env, void *arg);

/* send to the next peer not tried yet; the last error when none left */
static int first_send(struct sgreq *q)
{
	int err = ENOTCONN;

	while (q->tried < q->s->n) {
		size_t i = (q->start + q->tried++) % q->s->n;

		err = sw_bus_request(&q->call[i], q->s->p[i].bus, q->type,
				     json_incref(q->body), q->timeout_ms,
				     first_resp_h, &q->slot[i]);
		if (!err)
			return 0;
		q->call[i] = NULL;
	}
	return err;
}

static void first_resp_h(int err, const struct sw_env *env, void *arg)
{
	struct slot *sl = arg;
	struct sgreq *q = sl->q;

	note(q, sl->i, err, env);
	if (q->r[sl->i].err) {
		sw_debug("%s: signalingd %s did not answer: %s", q->type,
			 q->r[sl->i].url, strerror(q->r[sl->i].err));
		if (!first_send(q))
			return;
	}
	list_unlink(&q->le);
	q->first_h(err, env, q->arg);
	mem_deref(q);
}

/*
 * Send type with body (stolen, NULL = {}) to one signalingd, the one that
 * answered last first; when it does not answer at all, to the next, each
 * once.  h(err, env, arg) as sw_bus_request's, once, with the first answer
 * (an "error" reply is one) or the last peer's error.  An error return
 * (nothing sent) means h will not run.
 */
int bd_sgpeers_first(struct bd_sgpeers *s, const char *type, json_t *body,
		     int timeout_ms, sw_bus_resp_h *h, void *arg)
{
	struct sgreq *q;
	int err;

	if (!s || !type || !h) {
		json_decref(body);
		return EINVAL;
	}
	q = sgreq_alloc(s, type, timeout_ms, arg);
	if (!q) {
		json_decref(body);
		return ENOMEM;
	}
	q->first_h = h;
	q->body = body ? body : json_object();
	q->start = s->pref < s->n ? s->pref : 0;
	err = first_send(q);
	if (err) {
		mem_deref(q);
		return err;
	}
	list_append(&s->reqs, &q->le, q);
	return 0;
}

/* ---- combining answers ---- */

/* The signalingd answered with a reply that is not an error. */
bool bd_sg_reply_ok(const struct bd_sg_reply *r)
{
	return r && !r->err && !r->error && r->body;
}

/* How to name the signalingd of r: its node_id once known, else its URL. */
const char *bd_sg_reply_name(const struct bd_sg_reply *r)
{
	return r->node_id && *r->node_id ? r->node_id : r->url;
}

static bool not_found(const struct bd_sg_reply *r)
{
	const char *code = json_string_value(json_object_get(r->body, "code"));

	return !r->err && r->error && code && !strcmp(code, SW_ERR_NOT_FOUND);
}

/*
 * Which of the call.hangup answers r[0..n-1] (n >= 1) the API gives: the
 * first signalingd that hung the call up; else, when every one answered
 * not_found, the first (404); else the first other failure (no answer,
 * bad request...): the call may be on a signalingd that did not answer.
 */
size_t bd_sg_pick_hangup(const struct bd_sg_reply *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bd_sg_reply_ok(&r[i]))
			return i;
	for (size_t i = 0; i < n; i++)
		if (!not_found(&r[i]))
			return i;
	return 0;
}

static json_t *unreachable_entry(const struct bd_sg_reply *r)
{
	char why[300];

	if (r->err)
		snprintf(why, sizeof(why), "no reply: %s", strerror(r->err));
	else
		snprintf(why, sizeof(why), "error reply: %s",
			 json_string_value(json_object_get(r->body, "message"))
			     ?: "?");
	return json_pack("{s:s, s:s, s:s}", "url", r->url, "node_id",
			 r->node_id ? r->node_id : "", "detail", why);
}

/*
 * The calls of every call.list answer of r[0..n-1] in one new array, in
 * signalingd order, those of account only when it is not empty; each call
 * is tagged "signalingd" (the name of the one it is on, see
 * bd_sg_reply_name) unless it carries that already.  The signalingd that
 * gave no list go to *unreachablep as {url, node_id, detail} (a new array,
 * empty when all did).  NULL when none gave a list.
 */
json_t *bd_sg_merge_calls(const struct bd_sg_reply *r, size_t n,
			  const char *account, json_t **unreachablep)
{
	json_t *items = NULL, *down = json_array(), *c;
	size_t k;

	for (size_t i = 0; i < n; i++) {
		const json_t *calls = json_object_get(r[i].body, "calls");

		if (!bd_sg_reply_ok(&r[i]) || !json_is_array(calls)) {
			json_array_append_new(down, unreachable_entry(&r[i]));
			continue;
		}
		if (!items)
			items = json_array();
		json_array_foreach(calls, k, c)
		{
			const char *acc =
			    json_string_value(json_object_get(c, "account"));
			json_t *o;

			if (!json_is_object(c) ||
			    (account && *account && strcmp(acc ?: "", account)))
				continue;
			o = json_copy(c);
			if (o && !json_object_get(o, "signalingd"))
				json_object_set_new(
				    o, "signalingd",
				    json_string(bd_sg_reply_name(&r[i])));
			json_array_append_new(items, o);
		}
	}
	if (unreachablep)
		*unreachablep = down;
	else
		json_decref(down);
	return items;
}

/*
 * Add the media nodes one signalingd (named sg) reports to the array
 * into, one entry per node_id: a node several signalingd know appears
 * once, "seen_by" naming them.  Where they disagree the stalest report
 * (largest last_seen_ms) stands, so a node is online only when every
 * signalingd that knows it hears its heartbeats.
 */
void bd_sg_merge_nodes(json_t *into, const json_t *nodes, const char *sg)
{
	json_t *n; /* json_array_get's, not to be changed */
	size_t i, k;

	json_array_foreach(nodes, i, n)
	{
		const char *id =
		    json_string_value(json_object_get(n, "node_id"));
		json_t *have = NULL, *o, *seen;

		if (!id)
			continue;
		json_array_foreach(into, k, o)
		{
			if (!strcmp(
				json_string_value(json_object_get(o, "node_id"))
				    ?: "",
				id)) {
				have = o;
				break;
			}
		}
		if (!have) {
			o = json_copy(n);
			if (!o)
				continue;
			json_object_set_new(o, "seen_by", json_array());
			json_array_append_new(into, o);
			have = o;
		} else if (json_integer_value(
			       json_object_get(n, "last_seen_ms")) >
			   json_integer_value(
			       json_object_get(have, "last_seen_ms"))) {
			seen = json_incref(json_object_get(have, "seen_by"));
			json_object_update(have, n);
			json_object_set_new(have, "seen_by", seen);
		}
		json_array_append_new(json_object_get(have, "seen_by"),
				      json_string(sg ? sg : ""));
	}
}
