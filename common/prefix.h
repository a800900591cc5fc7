/*
 * prefix.h - longest-prefix lookup over many prefixes (dial codes)
 *
 * Routing gateways' prefixes, buy rate tables and sell rate tables each
 * map number prefixes to rows; a carrier loads 100 000 of them.  An index
 * holds (space, prefix) -> value entries: space keeps several tables in
 * one index (a rate table's id), value is the caller's row number.  It is
 * built once (add, then seal) and then only read: a lookup costs one binary
 * search per prefix length present, whatever the number of prefixes.
 *
 * Ownership: the caller allocates, seals and frees an index; it owns a
 * copy of every prefix.
 * Threading: built on one thread; once sealed, any thread may read it.
 * Bus:       none.
 */
#ifndef SW_PREFIX_H
#define SW_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_PREFIX_MAX 127 /* bytes of a prefix at most */

struct sw_prefix_ix;

/* a match: true stops the walk */
typedef bool(sw_prefix_h)(uint32_t value, size_t len, void *arg);

int sw_prefix_ix_alloc(struct sw_prefix_ix **ixp);
void sw_prefix_ix_free(struct sw_prefix_ix *ix);
int sw_prefix_ix_add(struct sw_prefix_ix *ix, uint64_t space,
		     const char *prefix, uint32_t value);
void sw_prefix_ix_seal(struct sw_prefix_ix *ix);
size_t sw_prefix_ix_count(const struct sw_prefix_ix *ix);
size_t sw_prefix_ix_bytes(const struct sw_prefix_ix *ix);

void sw_prefix_ix_walk(const struct sw_prefix_ix *ix, uint64_t space,
		       const char *number, sw_prefix_h *h, void *arg);
bool sw_prefix_ix_longest(const struct sw_prefix_ix *ix, uint64_t space,
			  const char *number, uint32_t *valuep, size_t *lenp);

#endif /* SW_PREFIX_H */
