/*
 * admission.c - CPS token buckets and concurrent-call limits
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "admission"
#include "common/log.h"
#include "common/ntab.h"
#include "signaling/admission.h"
#include "signaling/lines.h"
#include "signaling/sg.h"
#include "signaling/tables.h"

#define MICRO	   1000000LL
#define SUMMARY_MS 10000 /* one summary line of refusals at most this often */

/* one mapping gateway's CPS bucket and refusal counts */
struct sg_bucket_entry {
	struct sg_bucket b;
	uint64_t refused;     /* since start */
	uint64_t refused_win; /* since the last summary line */
};

/* admission's state (sg->admit): buckets and refusal statistics */
struct sg_admit_state {
	struct sw_ntab *buckets;      /* owned: sg_bucket_entry by mapping gw */
	struct sg_admit_counts total; /* since start */
	struct sg_admit_counts win;   /* since the last summary line */
	int64_t last_summary_ms;
};

/*
 * Take one call from a bucket refilled at rate calls/s with a burst of
 * rate calls; false when empty.  rate <= 0 means no limit.
 */
bool sg_bucket_take(struct sg_bucket *b, int64_t rate, int64_t now_ms)
{
	int64_t cap;

	if (rate <= 0)
		return true;
	cap = rate * MICRO;
	if (!b->primed) {
		b->primed = true;
		b->tokens_u = cap;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		int64_t add = (now_ms - b->last_ms) * rate * (MICRO / 1000);

		b->tokens_u = b->tokens_u + add > cap ? cap : b->tokens_u + add;
		b->last_ms = now_ms;
	}
	if (b->tokens_u < MICRO)
		return false;
	b->tokens_u -= MICRO;
	return true;
}

static struct sg_admit_state *state_of(struct sg *sg)
{
	struct sg_admit_state *st = sg->admit;

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st ||
	    sw_ntab_alloc(&st->buckets, sizeof(struct sg_bucket_entry), NULL)) {
		free(st);
		return NULL;
	}
	sg->admit = st;
	return st;
}

/* the entry of a mapping gateway, by name */
static struct sg_bucket_entry *entry_of(struct sg *sg, const char *name)
{
	struct sg_admit_state *st = state_of(sg);

	return st ? sw_ntab_get(st->buckets, name, NULL) : NULL;
}

/* Free the buckets and counters (shutdown). */
void sg_admit_free(struct sg *sg)
{
	if (!sg->admit)
		return;
	sw_ntab_free(sg->admit->buckets);
	free(sg->admit);
	sg->admit = NULL;
}

/* a refusal: counted by reason and gateway, never logged one by one */
static bool refuse(struct sg *sg, const struct sg_mgw *mgw,
		   struct sg_admit_result *res, uint64_t *which_total,
		   uint64_t *which_win)
{
	struct sg_bucket_entry *e = entry_of(sg, mgw->name);

	(*which_total)++;
	(*which_win)++;
	if (e) {
		e->refused++;
		e->refused_win++;
	}
	res->code = 503;
	res->phrase = "Service Unavailable";
	return false;
}

static void key(char *buf, size_t size, const char *kind, const char *name)
{
	snprintf(buf, size, "%s:%s", kind, name);
}

/*
 * Admit a new call from mgw or fill res with the refusal.  An admitted
 * call holds one slot of the gateway and of its account until
 * sg_admit_release().
 */
bool sg_admit(struct sg *sg, const struct sg_mgw *mgw, int64_t now_ms,
	      struct sg_admit_result *res)
{
	struct sg_admit_state *st = state_of(sg);
	struct sg_bucket_entry *e;
	char kg[96], ka[96];

	memset(res, 0, sizeof(*res));
	if (!st) {
		res->code = 500;
		res->phrase = "Internal Server Error";
		res->reason = "Internal";
		return false;
	}
	if (sg->tables->params.max_calls > 0 &&
	    sg_lines_active(sg->lines, "switch:") >=
		(unsigned)sg->tables->params.max_calls) {
		res->reason = "MaxConcurrentCalls";
		return refuse(sg, mgw, res, &st->total.switch_calls,
			      &st->win.switch_calls);
	}
	key(kg, sizeof(kg), "mg", mgw->name);
	key(ka, sizeof(ka), "ac", mgw->account);

	if (mgw->max_calls > 0 &&
	    sg_lines_active(sg->lines, kg) >= (unsigned)mgw->max_calls) {
		res->reason = "GatewayConcurrentLimit";
		return refuse(sg, mgw, res, &st->total.gateway_calls,
			      &st->win.gateway_calls);
	}
	if (mgw->account_max_calls > 0 &&
	    sg_lines_active(sg->lines, ka) >=
		(unsigned)mgw->account_max_calls) {
		res->reason = "AccountConcurrentLimit";
		return refuse(sg, mgw, res, &st->total.account_calls,
			      &st->win.account_calls);
	}
	e = mgw->cps_limit > 0 ? entry_of(sg, mgw->name) : NULL;
	if (e && !sg_bucket_take(&e->b, mgw->cps_limit, now_ms)) {
		res->reason = "CpsLimit";
		res->retry_after = 1;
		return refuse(sg, mgw, res, &st->total.cps, &st->win.cps);
	}
	sg_lines_add(sg->lines, kg, 1);
	sg_lines_add(sg->lines, ka, 1);
	sg_lines_add(sg->lines, "switch:", 1);
	return true;
}

/* The admitted call ended. */
void sg_admit_release(struct sg *sg, const struct sg_mgw *mgw)
{
	char k[96];

	key(k, sizeof(k), "mg", mgw->name);
	sg_lines_add(sg->lines, k, -1);
	key(k, sizeof(k), "ac", mgw->account);
	sg_lines_add(sg->lines, k, -1);
	sg_lines_add(sg->lines, "switch:", -1);
}

static uint64_t sum(const struct sg_admit_counts *n)
{
	return n->cps + n->gateway_calls + n->account_calls + n->switch_calls;
}

/*
 * Housekeeping (signalingd's tick): one line for the refusals since the
 * last one, at most every SUMMARY_MS, naming the gateway refused most.
 */
struct top {
	const char *name;
	uint64_t n;
};

/* the gateway refused most since the last line; every window count reset */
static bool top_h(const char *name, void *entry, void *arg)
{
	struct sg_bucket_entry *e = entry;
	struct top *t = arg;

	if (e->refused_win > t->n) {
		t->name = name;
		t->n = e->refused_win;
	}
	e->refused_win = 0;
	return false;
}

void sg_admit_tick(struct sg *sg, int64_t now_ms)
{
	struct sg_admit_state *st = sg->admit;
	struct top top = {"-", 0};

	if (!st || !sum(&st->win) || now_ms - st->last_summary_ms < SUMMARY_MS)
		return;
	sw_ntab_walk(st->buckets, top_h, &top);
	sw_warn("admission refused %llu calls (503, no CDR) since the last "
		"summary: CPS %llu, gateway concurrency %llu, account "
		"concurrency %llu, switch concurrency %llu; most from mapping "
		"gateway %s (%llu)",
		(unsigned long long)sum(&st->win),
		(unsigned long long)st->win.cps,
		(unsigned long long)st->win.gateway_calls,
		(unsigned long long)st->win.account_calls,
		(unsigned long long)st->win.switch_calls, top.name,
		(unsigned long long)top.n);
	memset(&st->win, 0, sizeof(st->win));
	st->last_summary_ms = now_ms;
}

/* Refusals since start (zeros before the first). */
void sg_admit_counts(const struct sg *sg, struct sg_admit_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (sg->admit)
		*out = sg->admit->total;
}

static bool by_gateway_h(const char *name, void *entry, void *arg)
{
	const struct sg_bucket_entry *e = entry;

	if (e->refused)
		json_object_set_new(arg, name,
				    json_integer((json_int_t)e->refused));
	return false;
}

/*
 * health.ping "refused": {"total", "cps", "gateway_calls",
 * "account_calls", "switch_calls", "by_gateway": {name: n}}.
 */
json_t *sg_admit_json(const struct sg *sg)
{
	struct sg_admit_counts n;
	json_t *by = json_object();

	sg_admit_counts(sg, &n);
	if (sg->admit && by)
		sw_ntab_walk(sg->admit->buckets, by_gateway_h, by);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o*}", "total",
			 (json_int_t)sum(&n), "cps", (json_int_t)n.cps,
			 "gateway_calls", (json_int_t)n.gateway_calls,
			 "account_calls", (json_int_t)n.account_calls,
			 "switch_calls", (json_int_t)n.switch_calls,
			 "by_gateway", by);
}
