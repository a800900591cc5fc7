/*
 * callerpool.h - caller number pools of routing gateways (SPEC §3.8,
 * digest 2 P-13..P-15; docs/provisioning.md "Caller identity")
 *
 * A routing gateway with an enabled pool sends every call with a number of
 * its pool as the caller (From, and the PAI/PPI of its `caller` modes)
 * instead of the caller's own.  A number serves `multiplexes` calls at
 * once; it is taken when the INVITE goes to the gateway and given back when
 * that attempt or its call ends.  FORWARD_SIGNAL_REWRITE_SEQUENCE picks the
 * order: 0 a random free number, 1 the next free one after the last taken
 * (round robin).  A gateway whose numbers are all in use is skipped like a
 * gateway at its line limit (docs/decisions.md).
 *
 * The configuration (struct sg_pool_conf) is part of the routing tables;
 * the use counts (struct sg_callerpool) survive table reloads, keyed by
 * gateway name and number.
 *
 * Ownership: struct sg holds the only sg_callerpool; a pool conf owns its
 * numbers.
 * Threading: signalingd's loop only (the conf functions: any).
 * Bus:       none.
 */
#ifndef SG_CALLERPOOL_H
#define SG_CALLERPOOL_H

#include <stdbool.h>
#include <stddef.h>

struct sg_pool_conf {
	bool enabled;
	char **numbers; /* owned */
	size_t n;
	unsigned multiplexes; /* calls per number at once, >= 1 */
};

int sg_pool_conf_parse(struct sg_pool_conf *pc, const char *json, char *err,
		       size_t errsz);
void sg_pool_conf_free(struct sg_pool_conf *pc);

/* the key a taken number is given back by */
#define SG_POOL_KEY_MAX 112

struct sg_callerpool;

int sg_callerpool_alloc(struct sg_callerpool **pp);
void sg_callerpool_free(struct sg_callerpool *p);
/* every number of gw's pool is at its multiplexes */
bool sg_callerpool_full(const struct sg_callerpool *p, const char *gw,
			const struct sg_pool_conf *pc);
/* take a number for one call: the number (borrowed from pc) and its key,
 * or NULL when none is free */
const char *sg_callerpool_take(struct sg_callerpool *p, const char *gw,
			       const struct sg_pool_conf *pc, bool round_robin,
			       char key[SG_POOL_KEY_MAX]);
void sg_callerpool_release(struct sg_callerpool *p, const char *key);

#endif /* SG_CALLERPOOL_H */
