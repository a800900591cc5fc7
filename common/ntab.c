/*
 * ntab.c - entries keyed by name (common/ntab.h)
 *
 * Chained hash table of nodes; each node carries its name and then the
 * caller's entry, aligned for any type.  The bucket array doubles when the
 * table holds twice as many entries as buckets, so a lookup stays a short
 * chain whether a switch has ten gateways or ten thousand.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ntab.h"

struct node {
	struct node *next;
	uint32_t hash;
	char name[SW_NTAB_NAME_MAX + 1];
	alignas(max_align_t) unsigned char entry[];
};

struct sw_ntab {
	struct node **bucket; /* owned */
	size_t nbuckets;      /* a power of two */
	size_t n;
	size_t entry_size;
	sw_ntab_free_h *fh;
};

#define NTAB_MIN_BUCKETS 16

/** FNV-1a of a NUL-terminated string (also for other tables by name). */
uint32_t sw_str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static struct node *node_of(const void *entry)
{
	return (struct node *)(uintptr_t)((const unsigned char *)entry -
					  offsetof(struct node, entry));
}

/** A new table of entries of entry_size bytes; fh may be NULL. */
int sw_ntab_alloc(struct sw_ntab **tp, size_t entry_size, sw_ntab_free_h *fh)
{
	struct sw_ntab *t;

	if (!tp || !entry_size)
		return EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->bucket = calloc(NTAB_MIN_BUCKETS, sizeof(struct node *));
	if (!t->bucket) {
		free(t);
		return ENOMEM;
	}
	t->nbuckets = NTAB_MIN_BUCKETS;
	t->entry_size = entry_size;
	t->fh = fh;
	*tp = t;
	return 0;
}

static void node_free(const struct sw_ntab *t, struct node *nd)
{
	if (t->fh)
		t->fh(nd->entry);
	free(nd);
}

/** Free the table and every entry (NULL is fine). */
void sw_ntab_free(struct sw_ntab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct node *nd = t->bucket[i], *next;

		for (; nd; nd = next) {
			next = nd->next;
			node_free(t, nd);
		}
	}
	free(t->bucket);
	free(t);
}

static struct node **slot(const struct sw_ntab *t, const char *name, uint32_t h)
{
	struct node **pp = &t->bucket[h & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->hash == h && !strcmp((*pp)->name, name))
			break;
	}
	return pp;
}

/** The entry named name, or NULL. */
void *sw_ntab_find(const struct sw_ntab *t, const char *name)
{
	struct node *nd;

	if (!t || !name)
		return NULL;
	nd = *slot(t, name, sw_str_hash(name));
	return nd ? nd->entry : NULL;
}

/* twice the buckets; a failed allocation keeps the chains longer */
static void grow(struct sw_ntab *t)
{
	size_t nb = t->nbuckets * 2;
	struct node **b = calloc(nb, sizeof(struct node *));

	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct node *nd = t->bucket[i], *next;

		for (; nd; nd = next) {
			next = nd->next;
			nd->next = b[nd->hash & (nb - 1)];
			b[nd->hash & (nb - 1)] = nd;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->nbuckets = nb;
}

/**
 * The entry named name, created zeroed when there is none (*createdp, when
 * given, says which).  NULL when out of memory or the name is longer than
 * SW_NTAB_NAME_MAX.
 */
void *sw_ntab_get(struct sw_ntab *t, const char *name, bool *createdp)
{
	struct node **pp, *nd;
	uint32_t h;
	size_t len;

	if (createdp)
		*createdp = false;
	if (!t || !name)
		return NULL;
	h = sw_str_hash(name);
	pp = slot(t, name, h);
	if (*pp)
		return (*pp)->entry;
	len = strlen(name);
	if (len > SW_NTAB_NAME_MAX)
		return NULL;
	nd = calloc(1, sizeof(*nd) + t->entry_size);
	if (!nd)
		return NULL;
	memcpy(nd->name, name, len + 1);
	nd->hash = h;
	*pp = nd; /* the end of its chain */
	t->n++;
	if (t->n > 2 * t->nbuckets)
		grow(t);
	if (createdp)
		*createdp = true;
	return nd->entry;
}

/** Delete the entry named name (its destructor runs); absent is fine. */
void sw_ntab_del(struct sw_ntab *t, const char *name)
{
	struct node **pp, *nd;

	if (!t || !name)
		return;
	pp = slot(t, name, sw_str_hash(name));
	nd = *pp;
	if (!nd)
		return;
	*pp = nd->next;
	t->n--;
	node_free(t, nd);
}

/**
 * Call h for each entry, in no particular order, until it returns true.
 * h may delete the entry it is given (and no other).
 */
void sw_ntab_walk(struct sw_ntab *t, sw_ntab_walk_h *h, void *arg)
{
	if (!t || !h)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct node *nd = t->bucket[i], *next;

		for (; nd; nd = next) {
			next = nd->next;
			if (h(nd->name, nd->entry, arg))
				return;
		}
	}
}

/** Entries in the table. */
size_t sw_ntab_count(const struct sw_ntab *t)
{
	return t ? t->n : 0;
}

/** The name an entry is kept under. */
const char *sw_ntab_name(const void *entry)
{
	return entry ? node_of(entry)->name : "";
}
