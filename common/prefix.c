/*
 * prefix.c - longest-prefix lookup over many prefixes (common/prefix.h)
 *
 * The entries are kept in one array sorted by (space, prefix, order
 * added); the prefix bytes live in one pool.  A lookup of number tries
 * each prefix length that some entry has, longest first, and binary
 * searches for number's first `len` bytes: with 100 000 prefixes of up to
 * a dozen distinct lengths that is a dozen searches of 17 steps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/prefix.h"

struct ent {
	uint64_t space;
	uint32_t off; /* into pool */
	uint32_t value;
	uint32_t seq; /* order added: first added first among equals */
	uint8_t len;
};

struct sw_prefix_ix {
	struct ent *ent; /* owned */
	size_t n, cap;
	char *pool; /* owned: the prefixes, back to back */
	size_t used, pcap;
	bool haslen[SW_PREFIX_MAX + 1];
	size_t maxlen;
	bool sealed;
};

/** A new, empty index. */
int sw_prefix_ix_alloc(struct sw_prefix_ix **ixp)
{
	struct sw_prefix_ix *ix;

	if (!ixp)
		return EINVAL;
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return ENOMEM;
	ix->sealed = true; /* nothing to sort */
	*ixp = ix;
	return 0;
}

/** Free an index (NULL is fine). */
void sw_prefix_ix_free(struct sw_prefix_ix *ix)
{
	if (!ix)
		return;
	free(ix->ent);
	free(ix->pool);
	free(ix);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * size);
	if (!np)
		return ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/**
 * Add prefix (at most SW_PREFIX_MAX bytes; "" matches every number) with
 * its value in space.  The index must be sealed again before lookups.
 */
int sw_prefix_ix_add(struct sw_prefix_ix *ix, uint64_t space,
		     const char *prefix, uint32_t value)
{
	size_t len;
	struct ent *e;

	if (!ix || !prefix)
		return EINVAL;
	len = strlen(prefix);
	if (len > SW_PREFIX_MAX || ix->n >= UINT32_MAX ||
	    ix->used + len > UINT32_MAX)
		return ERANGE;
	if (grow((void **)&ix->ent, &ix->cap, ix->n + 1, sizeof(*ix->ent)) ||
	    grow((void **)&ix->pool, &ix->pcap, ix->used + len + 1, 1))
		return ENOMEM;
	memcpy(ix->pool + ix->used, prefix, len);
	e = &ix->ent[ix->n];
	e->space = space;
	e->off = (uint32_t)ix->used;
	e->len = (uint8_t)len;
	e->value = value;
	e->seq = (uint32_t)ix->n;
	ix->used += len;
	ix->n++;
	ix->haslen[len] = true;
	if (len > ix->maxlen)
		ix->maxlen = len;
	ix->sealed = false;
	return 0;
}

/* (space, key) against an entry: <0, 0, >0 as for memcmp */
static int key_cmp(const struct sw_prefix_ix *ix, uint64_t space,
		   const char *key, size_t len, const struct ent *e)
{
	int c;

	if (space != e->space)
		return space < e->space ? -1 : 1;
	c = memcmp(key, ix->pool + e->off, len < e->len ? len : e->len);
	if (c)
		return c;
	return len == e->len ? 0 : (len < e->len ? -1 : 1);
}

static int ent_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sw_prefix_ix *ix = arg;
	const struct ent *a = pa, *b = pb;
	int c = key_cmp(ix, a->space, ix->pool + a->off, a->len, b);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

/** Sort what was added: lookups need it (cheap when nothing changed). */
void sw_prefix_ix_seal(struct sw_prefix_ix *ix)
{
	if (!ix || ix->sealed)
		return;
	qsort_r(ix->ent, ix->n, sizeof(*ix->ent), ent_cmp, ix);
	ix->sealed = true;
}

/** Entries in the index. */
size_t sw_prefix_ix_count(const struct sw_prefix_ix *ix)
{
	return ix ? ix->n : 0;
}

/** Memory the index holds, in bytes (for the benchmarks). */
size_t sw_prefix_ix_bytes(const struct sw_prefix_ix *ix)
{
	return ix ? sizeof(*ix) + ix->cap * sizeof(*ix->ent) + ix->pcap : 0;
}

/* first entry not below (space, key), or n */
static size_t lower_bound(const struct sw_prefix_ix *ix, uint64_t space,
			  const char *key, size_t len)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(ix, space, key, len, &ix->ent[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/**
 * Call h for every entry of space whose prefix starts number: longest
 * prefix first, and for one prefix in the order added, until h returns
 * true.  The index must be sealed (an unsealed one matches nothing).
 */
void sw_prefix_ix_walk(const struct sw_prefix_ix *ix, uint64_t space,
		       const char *number, sw_prefix_h *h, void *arg)
{
	size_t len;

	if (!ix || !ix->sealed || !ix->n || !number || !h)
		return;
	len = strnlen(number, ix->maxlen);
	for (;; len--) {
		if (ix->haslen[len]) {
			size_t i = lower_bound(ix, space, number, len);

			for (; i < ix->n &&
			       !key_cmp(ix, space, number, len, &ix->ent[i]);
			     i++) {
				if (h(ix->ent[i].value, len, arg))
					return;
			}
		}
		if (!len)
			break;
	}
}

struct first {
	uint32_t value;
	size_t len;
	bool found;
};

static bool first_h(uint32_t value, size_t len, void *arg)
{
	struct first *f = arg;

	f->value = value;
	f->len = len;
	f->found = true;
	return true;
}

/**
 * The value of the longest prefix of number in space (the first added
 * among equal prefixes); false when none matches.
 */
bool sw_prefix_ix_longest(const struct sw_prefix_ix *ix, uint64_t space,
			  const char *number, uint32_t *valuep, size_t *lenp)
{
	struct first f = {0, 0, false};

	sw_prefix_ix_walk(ix, space, number, first_h, &f);
	if (f.found) {
		if (valuep)
			*valuep = f.value;
		if (lenp)
			*lenp = f.len;
	}
	return f.found;
}
