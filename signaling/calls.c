/*
 * calls.c - the active calls, listed and indexed by id (signaling/calls.h)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/ntab.h"
#include "signaling/call.h"
#include "signaling/calls.h"

#define CALLS_MIN_BUCKETS 64

struct sg_calls {
	struct sg_call *head;	 /* newest first */
	struct sg_call **bucket; /* owned: chains of hnext by id */
	size_t nbuckets;	 /* a power of two */
	unsigned n;
	uint64_t started; /* calls added since start, restores excluded */
	uint64_t ended[SG_CALLS_CODES]; /* by final code - 100 */
	uint64_t failovers;		/* attempts after a call's first */
};

/** An empty table. */
int sg_calls_alloc(struct sg_calls **tp)
{
	struct sg_calls *t;

	if (!tp)
		return EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->bucket = calloc(CALLS_MIN_BUCKETS, sizeof(struct sg_call *));
	if (!t->bucket) {
		free(t);
		return ENOMEM;
	}
	t->nbuckets = CALLS_MIN_BUCKETS;
	*tp = t;
	return 0;
}

/** Free the table, not the calls (NULL is fine). */
void sg_calls_free(struct sg_calls *t)
{
	if (!t)
		return;
	free(t->bucket);
	free(t);
}

static struct sg_call **chain(const struct sg_calls *t, const char *id)
{
	return &t->bucket[sw_str_hash(id) & (t->nbuckets - 1)];
}

/* twice the buckets once there are more calls than buckets; a failed
 * allocation keeps the old ones (longer chains, still right) */
static void grow(struct sg_calls *t)
{
	size_t nb = t->nbuckets * 2;
	struct sg_call **b;

	if (t->n <= t->nbuckets)
		return;
	b = calloc(nb, sizeof(struct sg_call *));
	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct sg_call *c, *next;

		for (c = t->bucket[i]; c; c = next) {
			size_t k = sw_str_hash(c->id) & (nb - 1);

			next = c->hnext;
			c->hnext = b[k];
			b[k] = c;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->nbuckets = nb;
}

/** Enter call c (its id set) at the head of the list; started: a new
 * call (counted in sg_calls_started), not one restored after a restart. */
void sg_calls_add(struct sg_calls *t, struct sg_call *c, bool started)
{
	struct sg_call **ch;

	if (!t || !c)
		return;
	c->prev = NULL;
	c->next = t->head;
	if (c->next)
		c->next->prev = c;
	t->head = c;
	ch = chain(t, c->id);
	c->hnext = *ch;
	*ch = c;
	t->n++;
	if (started)
		t->started++;
	grow(t);
}

/** Take call c out (it must be in). */
void sg_calls_del(struct sg_calls *t, struct sg_call *c)
{
	struct sg_call **pp;

	if (!t || !c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	for (pp = chain(t, c->id); *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	c->hnext = NULL;
	t->n--;
}

/** The call with this id, or NULL. */
struct sg_call *sg_calls_find(const struct sg_calls *t, const char *id)
{
	struct sg_call *c;

	if (!t || !id)
		return NULL;
	for (c = *chain(t, id); c; c = c->hnext)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

/** The newest call (walk on with c->next), NULL when none. */
struct sg_call *sg_calls_first(const struct sg_calls *t)
{
	return t ? t->head : NULL;
}

/** Calls in the table. */
unsigned sg_calls_count(const struct sg_calls *t)
{
	return t ? t->n : 0;
}

/** Calls started since signalingd started (restored ones not counted). */
uint64_t sg_calls_started(const struct sg_calls *t)
{
	return t ? t->started : 0;
}

/** A call ended with code (its CDR's), counted by code. */
void sg_calls_ended(struct sg_calls *t, int code)
{
	if (code >= 100 && code < 100 + SG_CALLS_CODES)
		t->ended[code - 100]++;
}

/** Calls ended with code since start. */
uint64_t sg_calls_ended_count(const struct sg_calls *t, int code)
{
	return code >= 100 && code < 100 + SG_CALLS_CODES ? t->ended[code - 100]
							  : 0;
}

/** A call moved on to another gateway. */
void sg_calls_failover(struct sg_calls *t)
{
	t->failovers++;
}

uint64_t sg_calls_failovers(const struct sg_calls *t)
{
	return t->failovers;
}
