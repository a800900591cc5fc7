/*
 * lines.c - lines in use, counted by name (signaling/lines.h)
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/ntab.h"
#include "signaling/lines.h"

struct sg_lines {
	struct sw_ntab *tab; /* owned: struct line by key */
};

struct line {
	unsigned active;
};

/** An empty count. */
int sg_lines_alloc(struct sg_lines **lp)
{
	struct sg_lines *l;
	int err;

	if (!lp)
		return EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	err = sw_ntab_alloc(&l->tab, sizeof(struct line), NULL);
	if (err) {
		free(l);
		return err;
	}
	*lp = l;
	return 0;
}

/** Free the counts (NULL is fine). */
void sg_lines_free(struct sg_lines *l)
{
	if (!l)
		return;
	sw_ntab_free(l->tab);
	free(l);
}

/** Lines in use under key. */
unsigned sg_lines_active(const struct sg_lines *l, const char *key)
{
	const struct line *ln = l ? sw_ntab_find(l->tab, key) : NULL;

	return ln ? ln->active : 0;
}

/** Take (delta > 0) or give back (delta < 0) lines under key. */
void sg_lines_add(struct sg_lines *l, const char *key, int delta)
{
	struct line *ln;

	if (!l || !key || !delta)
		return;
	if (delta < 0) {
		ln = sw_ntab_find(l->tab, key);
		if (!ln)
			return;
		if (ln->active <= (unsigned)-delta)
			sw_ntab_del(l->tab, key); /* 0: forgotten */
		else
			ln->active -= (unsigned)-delta;
		return;
	}
	ln = sw_ntab_get(l->tab, key, NULL);
	if (!ln) {
		/* the call goes on uncounted: better than refusing it */
		sw_warn("line count of '%s' lost: out of memory", key);
		return;
	}
	ln->active += (unsigned)delta;
}
