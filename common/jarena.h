/*
 * jarena.h - the JSON trees of bus messages in reused memory, not malloc
 *
 * A parsed bus message is a jansson tree of hundreds of small nodes (a
 * batch of 32 CDRs: about 3 000), each malloc'd, then each freed when the
 * message is done with.  glibc's allocator spent a third of billingd's CPU
 * on them (docs/benchmarks.md).  Between sw_jarena_begin() and
 * sw_jarena_end() the calling thread's jansson allocations are carved from
 * a chunk of one fixed region instead; a free there only counts down the
 * chunk's live nodes.  A chunk with no live node is reused from its start
 * by the next tree, so a daemon parses message after message in the same
 * few cache-warm pages.
 *
 * Nothing else changes for the code that uses the trees: a node kept past
 * its message (json_incref) keeps its chunk alive, never dangling; the
 * chunk goes back to the pool when its last node is freed.  When every
 * chunk is held, or a block is big, allocations fall back to malloc.  A
 * free tells the two apart by address (the region is one mmap), so trees
 * built before, outside or after an arena window are freed as always.
 *
 * Threading: any thread may open a window (each has its own chunk) and any
 * thread may free any node.
 */
#ifndef SW_JARENA_H
#define SW_JARENA_H

#include <stddef.h>

/* this thread's jansson allocations go to the arena until the matching
 * end (windows nest) */
void sw_jarena_begin(void);
void sw_jarena_end(void);

struct sw_jarena_stats {
	size_t chunks_free; /* in the pool */
	size_t chunks;	    /* in the region */
	unsigned long long arena_allocs, malloc_allocs;
};
void sw_jarena_stats(struct sw_jarena_stats *st);

#endif /* SW_JARENA_H */
