/*
 * route.c - candidate list and switch decision (pure)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/route.h"

/*
 * The index sg_route_select() reads: every prefix of every gateway, the
 * value being the gateway's position in gws.  Built with each table
 * snapshot.
 */
int sg_route_index(struct sw_prefix_ix **ixp, const struct sg_gw *gws,
		   size_t ngws)
{
	struct sw_prefix_ix *ix = NULL;
	int err;

	if (!ixp || (ngws && !gws))
		return EINVAL;
	err = sw_prefix_ix_alloc(&ix);
	for (size_t i = 0; !err && i < ngws; i++) {
		for (size_t j = 0; !err && j < gws[i].nprefixes; j++)
			err = sw_prefix_ix_add(ix, 0, gws[i].prefixes[j],
					       (uint32_t)i);
	}
	if (err) {
		sw_prefix_ix_free(ix);
		return err;
	}
	sw_prefix_ix_seal(ix);
	*ixp = ix;
	return 0;
}

struct lens {
	int *len; /* per gateway: its longest matching prefix, -1 none */
	size_t n;
};

static bool len_h(uint32_t value, size_t len, void *arg)
{
	struct lens *l = arg;

	/* longest first: a gateway's first match is its longest */
	if (value < l->n && l->len[value] < 0)
		l->len[value] = (int)len;
	return false;
}

struct keyed {
	struct sg_route_cand c;
	size_t idx; /* rotated table order, last tie-break */
};

static int cand_cmp(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;

	if (a->c.gw->protect != b->c.gw->protect)
		return a->c.gw->protect ? 1 : -1;
	if (a->c.prefix_len != b->c.prefix_len)
		return a->c.prefix_len > b->c.prefix_len ? -1 : 1;
	if (a->c.below != b->c.below)
		return a->c.below ? 1 : -1;
	if (a->c.gw->priority != b->c.gw->priority)
		return a->c.gw->priority < b->c.gw->priority ? -1 : 1;
	if (a->c.asr != b->c.asr)
		return a->c.asr > b->c.asr ? -1 : 1;
	if (a->c.cost != b->c.cost)
		return a->c.cost < b->c.cost ? -1 : 1;
	if (a->c.load != b->c.load)
		return a->c.load < b->c.load ? -1 : 1;
	return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

/*
 * Fill out[] (at most max) with the candidates for callee in attempt
 * order; returns how many.  Locked gateways and gateways without a
 * matching prefix are left out.
 */
size_t sg_route_select(struct sg_route_cand *out, size_t max,
		       const struct sg_gw *gws, size_t ngws,
		       const struct sw_prefix_ix *ix, const char *callee,
		       const struct sg_route_opts *opts)
{
	struct keyed *k;
	struct lens l = {NULL, ngws};
	size_t n = 0, m = 0, nx = 0;
	int longest = -1;

	if (opts && opts->nexcl)
		*opts->nexcl = 0;
	if (!out || !max || !gws || !ngws || !ix || !callee)
		return 0;

	k = calloc(ngws, sizeof(*k));
	l.len = malloc(ngws * sizeof(*l.len));
	if (!k || !l.len) {
		free(k);
		free(l.len);
		return 0;
	}
	for (size_t i = 0; i < ngws; i++)
		l.len[i] = -1;
	sw_prefix_ix_walk(ix, 0, callee, len_h, &l);

	for (size_t i = 0; i < ngws; i++) {
		const char *why = NULL;
		int len = l.len[i];

		if (len < 0)
			continue;
		if (gws[i].locked)
			why = "locked";
		else if (opts && opts->skip)
			why = opts->skip(&gws[i], opts->skip_arg);
		if (why) {
			if (opts && opts->excl && nx < opts->excl_max)
				opts->excl[nx++] = (struct sg_route_excl){
				    &gws[i], (size_t)len, why};
			continue;
		}
		k[n].c.gw = &gws[i];
		k[n].c.prefix_len = (size_t)len;
		k[n].c.load = (opts && opts->load)
				  ? opts->load(&gws[i], opts->load_arg)
				  : 0;
		k[n].idx = (i + ngws - (opts ? opts->rr % ngws : 0)) % ngws;
		if (opts && opts->asr)
			opts->asr(&gws[i], opts->asr_arg, &k[n].c.asr,
				  &k[n].c.below);
		if (opts && opts->cost)
			k[n].c.cost =
			    opts->cost(&gws[i], callee, opts->cost_arg);
		if (len > longest)
			longest = len;
		n++;
	}

	qsort(k, n, sizeof(*k), cand_cmp);

	for (size_t i = 0; i < n; i++) {
		if (opts && !opts->prefix_fallback &&
		    (int)k[i].c.prefix_len != longest) {
			if (opts->excl && nx < opts->excl_max)
				opts->excl[nx++] = (struct sg_route_excl){
				    k[i].c.gw, k[i].c.prefix_len,
				    "shorter_prefix"};
			continue;
		}
		if (m < max)
			out[m++] = k[i].c;
	}
	if (opts && opts->nexcl)
		*opts->nexcl = nx;

	free(k);
	free(l.len);
	return m;
}

/*
 * A failure moves on to the next gateway unless the failing gateway has
 * "switch gateway until connect" off or lists the code as a stop code.
 */
bool sg_route_may_switch(const struct sg_gw *gw, int code)
{
	if (!gw || !gw->switch_until_connect)
		return false;
	if (code < 300)
		return false;
	for (size_t i = 0; i < gw->nstop; i++)
		if (gw->stop_codes[i] == code)
			return false;
	return true;
}
