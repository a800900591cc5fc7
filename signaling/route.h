/*
 * route.h - routing gateway selection for a callee number (SPEC §3.4)
 *
 * Pure functions over a table of routing gateways: no I/O, no clock, no
 * global state, so the order can be unit tested and printed by the routing
 * analysis.  The order is: normal gateways before protect routes; within
 * each, longest matching prefix first; then priority ascending; then the
 * optional load key (line utilisation) ascending; then round robin (table
 * order rotated by opts->rr, which the caller advances per call).  Locked
 * gateways and those the skip hook names (offline, filtered, out of
 * period) are excluded, and listed with the reason when opts->excl is set
 * (the routing analysis shows exactly what a call would do).  With
 * the ASR hook (SS_GATEWAYASRROUTESORTCONFIG on), gateways under the ASR
 * threshold come after all others of their prefix length, and within equal
 * priority a higher ASR comes first; with the cost hook
 * (SS_GATEWAYFEERATEROUTESORTCONFIG on) a cheaper buy rate comes next.  With
 * prefix_fallback off only gateways of the longest matching prefix (normal,
 * then protect) are candidates.
 *
 * Threading: any.
 */
#ifndef SG_ROUTE_H
#define SG_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prefix.h"
#include "signaling/tables.h"

struct sg_route_cand {
	const struct sg_gw *gw; /* borrowed from the table */
	size_t prefix_len;	/* length of the matching prefix */
	unsigned load;		/* line utilisation key, per mille */
	unsigned asr;		/* per mille, higher first */
	bool below;		/* under the ASR threshold: last */
	int64_t cost;		/* buy rate, lower first (fee sort) */
};

/* optional: buy rate of the gateway for the callee (INT64_MAX unknown) */
typedef int64_t(sg_route_cost_h)(const struct sg_gw *gw, const char *callee,
				 void *arg);

/* optional: ASR of a gateway (per mille) and whether it is under the
 * threshold with enough calls */
typedef void(sg_route_asr_h)(const struct sg_gw *gw, void *arg, unsigned *asr,
			     bool *below);

/* optional: line utilisation of a gateway in per mille (active/limit) */
typedef unsigned(sg_route_load_h)(const struct sg_gw *gw, void *arg);

/* optional: why a gateway may not be used now (offline, filtered, out of
 * its period), NULL when it may */
typedef const char *(sg_route_skip_h)(const struct sg_gw *gw, void *arg);

/* a gateway whose prefix matches the callee but is not a candidate */
struct sg_route_excl {
	const struct sg_gw *gw; /* borrowed from the table */
	size_t prefix_len;
	const char *reason; /* locked, shorter_prefix, or skip's */
};

struct sg_route_opts {
	bool prefix_fallback;  /* SS_ROUTE_PREFIX_FALLBACK */
	sg_route_load_h *load; /* NULL = all equal */
	void *load_arg;
	sg_route_skip_h *skip; /* NULL = none skipped */
	void *skip_arg;
	unsigned rr;	     /* round robin: rotates ties */
	sg_route_asr_h *asr; /* NULL = ASR sorting off */
	void *asr_arg;
	sg_route_cost_h *cost; /* NULL = fee-rate sorting off */
	void *cost_arg;
	struct sg_route_excl *excl; /* NULL = not wanted; else the */
	size_t excl_max;	    /* excluded gateways, at most */
	size_t *nexcl;		    /* excl_max, their count here */
};

int sg_route_index(struct sw_prefix_ix **ixp, const struct sg_gw *gws,
		   size_t ngws);
size_t sg_route_select(struct sg_route_cand *out, size_t max,
		       const struct sg_gw *gws, size_t ngws,
		       const struct sw_prefix_ix *ix, const char *callee,
		       const struct sg_route_opts *opts);

/* SPEC §3.5: may a failure with this code move on to the next gateway? */
bool sg_route_may_switch(const struct sg_gw *gw, int code);

#endif /* SG_ROUTE_H */
