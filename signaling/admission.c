/*
 * admission.c - CPS token buckets and concurrent-call limits
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "admission"
#include "common/log.h"
#include "signaling/admission.h"
#include "signaling/sg.h"
#include "signaling/tables.h"

#define MICRO 1000000LL

struct sg_bucket_entry {
	struct sg_bucket_entry *next;
	char name[64];
	struct sg_bucket b;
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

		b->tokens_u = b->tokens_u + add > cap ? cap
						      : b->tokens_u + add;
		b->last_ms = now_ms;
	}
	if (b->tokens_u < MICRO)
		return false;
	b->tokens_u -= MICRO;
	return true;
}

/* the bucket of a mapping gateway, by name (mapping gateways are few) */
static struct sg_bucket *bucket_of(struct sg *sg, const char *name)
{
	struct sg_bucket_entry *e;

	for (e = sg->buckets; e; e = e->next)
		if (!strcmp(e->name, name))
			return &e->b;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->next = sg->buckets;
	sg->buckets = e;
	return &e->b;
}

/* Free the buckets (shutdown). */
void sg_admit_free(struct sg *sg)
{
	struct sg_bucket_entry *e, *n;

	for (e = sg->buckets; e; e = n) {
		n = e->next;
		free(e);
	}
	sg->buckets = NULL;
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
	struct sg_bucket *b;
	char kg[96], ka[96];

	memset(res, 0, sizeof(*res));
	if (sg->tables->params.max_calls > 0 &&
	    sg_line_active(sg, "switch:") >=
		    (unsigned)sg->tables->params.max_calls) {
		res->code = 503;
		res->phrase = "Service Unavailable";
		res->reason = "MaxConcurrentCalls";
		return false;
	}
	key(kg, sizeof(kg), "mg", mgw->name);
	key(ka, sizeof(ka), "ac", mgw->account);

	if (mgw->max_calls > 0 &&
	    sg_line_active(sg, kg) >= (unsigned)mgw->max_calls) {
		res->code = 503;
		res->phrase = "Service Unavailable";
		res->reason = "GatewayConcurrentLimit";
		return false;
	}
	if (mgw->account_max_calls > 0 &&
	    sg_line_active(sg, ka) >= (unsigned)mgw->account_max_calls) {
		res->code = 503;
		res->phrase = "Service Unavailable";
		res->reason = "AccountConcurrentLimit";
		return false;
	}
	b = mgw->cps_limit > 0 ? bucket_of(sg, mgw->name) : NULL;
	if (b && !sg_bucket_take(b, mgw->cps_limit, now_ms)) {
		res->code = 503;
		res->phrase = "Service Unavailable";
		res->reason = "CpsLimit";
		res->retry_after = 1;
		return false;
	}
	sg_line_add(sg, kg, 1);
	sg_line_add(sg, ka, 1);
	sg_line_add(sg, "switch:", 1);
	return true;
}

/* The admitted call ended. */
void sg_admit_release(struct sg *sg, const struct sg_mgw *mgw)
{
	char k[96];

	key(k, sizeof(k), "mg", mgw->name);
	sg_line_add(sg, k, -1);
	key(k, sizeof(k), "ac", mgw->account);
	sg_line_add(sg, k, -1);
	sg_line_add(sg, "switch:", -1);
}
