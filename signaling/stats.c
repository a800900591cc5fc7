/*
 * stats.c - sliding-window attempt/answer counters per routing gateway
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ntab.h"
#include "signaling/stats.h"

#define NBUCKETS 60

struct sg_gwstats {
	struct sw_ntab *gws; /* owned: struct gwstat by gateway name */
};

struct gwstat {
	int64_t slot[NBUCKETS]; /* bucket number held by each slot */
	unsigned attempts[NBUCKETS];
	unsigned answered[NBUCKETS];
	/* switch-wide counts billingd fed (stats.asr), every signalingd's
	 * attempts in its window; used while fresh and not below ours */
	unsigned fed_attempts, fed_answered;
	int fed_window_s;
	int64_t fed_ms;				 /* when; 0 = never */
	uint64_t total_attempts, total_answered; /* since start */
};

/* "0" | "1" | "1,<threshold>,<min calls>,<window s>"; EINVAL when bad */
int sg_asr_config_parse(struct sg_asr_config *cfg, const char *s)
{
	long v[4] = {0, 30, 20, 3600};
	const char *p = s;
	bool done = false;
	int n = 0;

	if (!cfg || !s)
		return EINVAL;
	while (n < 4 && !done) {
		char *end;

		errno = 0;
		v[n] = strtol(p, &end, 10);
		if (errno || end == p)
			return EINVAL;
		n++;
		if (*end == '\0')
			done = true;
		else if (*end != ',' || n == 4)
			return EINVAL; /* junk or a fifth field */
		else
			p = end + 1;
	}
	if ((v[0] != 0 && v[0] != 1) || v[1] < 0 || v[1] > 100 || v[2] < 0 ||
	    v[2] > 1000000 || v[3] < 60 || v[3] > 7 * 86400)
		return EINVAL;
	cfg->on = v[0] == 1;
	cfg->threshold_pct = (int)v[1];
	cfg->min_calls = (int)v[2];
	cfg->window_s = (int)v[3];
	return 0;
}

/** Counters for no gateway yet. */
int sg_stats_alloc(struct sg_gwstats **stp)
{
	struct sg_gwstats *st;
	int err;

	if (!stp)
		return EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return ENOMEM;
	err = sw_ntab_alloc(&st->gws, sizeof(struct gwstat), NULL);
	if (err) {
		free(st);
		return err;
	}
	*stp = st;
	return 0;
}

/** Free the counters (NULL is fine). */
void sg_stats_free(struct sg_gwstats *st)
{
	if (!st)
		return;
	sw_ntab_free(st->gws);
	free(st);
}

/* the gateway's counters, made (every slot empty) when create */
static struct gwstat *stat_get(const struct sg_gwstats *sts, const char *gw,
			       bool create)
{
	struct gwstat *st;
	bool created = false;

	if (!sts || !gw)
		return NULL;
	if (!create)
		return sw_ntab_find(sts->gws, gw);
	st = sw_ntab_get(sts->gws, gw, &created);
	for (int i = 0; created && i < NBUCKETS; i++)
		st->slot[i] = -1;
	return st;
}

static int64_t bucket_of(int window_s, int64_t now_ms)
{
	int64_t width = (int64_t)window_s * 1000 / NBUCKETS;

	return now_ms / (width > 0 ? width : 1);
}

/* Count one finished attempt of gw. */
void sg_stats_record(struct sg_gwstats *sts, const char *gw, bool answered,
		     int window_s, int64_t now_ms)
{
	struct gwstat *st = stat_get(sts, gw, true);
	int64_t b = bucket_of(window_s, now_ms);
	int i = (int)(b % NBUCKETS);

	if (!st)
		return;
	if (st->slot[i] != b) {
		st->slot[i] = b;
		st->attempts[i] = 0;
		st->answered[i] = 0;
	}
	st->attempts[i]++;
	st->total_attempts++;
	if (answered) {
		st->answered[i]++;
		st->total_answered++;
	}
}

struct totals_walk {
	sg_stats_total_h *h;
	void *arg;
};

static bool totals_one(const char *name, void *entry, void *arg)
{
	const struct gwstat *st = entry;
	struct totals_walk *w = arg;

	if (st->total_attempts)
		w->h(name, st->total_attempts, st->total_answered, w->arg);
	return false;
}

/* Every gateway's attempts and answers since start (none: not called). */
void sg_stats_totals(struct sg_gwstats *sts, sg_stats_total_h *h, void *arg)
{
	struct totals_walk w = {h, arg};

	sw_ntab_walk(sts->gws, totals_one, &w);
}

/* Attempts and answers of gw within the window ending now. */
void sg_stats_get(const struct sg_gwstats *sts, const char *gw, int window_s,
		  int64_t now_ms, unsigned *attempts, unsigned *answered)
{
	const struct gwstat *st = stat_get(sts, gw, false);
	int64_t b = bucket_of(window_s, now_ms);

	*attempts = *answered = 0;
	if (!st)
		return;
	for (int i = 0; i < NBUCKETS; i++) {
		if (st->slot[i] < 0 || st->slot[i] <= b - NBUCKETS ||
		    st->slot[i] > b)
			continue;
		*attempts += st->attempts[i];
		*answered += st->answered[i];
	}
	if (st->fed_ms && now_ms - st->fed_ms <= SG_STATS_FED_FRESH_MS &&
	    st->fed_window_s == window_s && st->fed_attempts >= *attempts) {
		*attempts = st->fed_attempts;
		*answered = st->fed_answered;
	}
}

/*
 * billingd's switch-wide counts of gw over window_s (from every CDR's
 * attempts): the ASR sorting uses them while fresh, so every signalingd
 * sorts on the calls of all of them.
 */
void sg_stats_feed(struct sg_gwstats *sts, const char *gw, unsigned attempts,
		   unsigned answered, int window_s, int64_t now_ms)
{
	struct gwstat *st = stat_get(sts, gw, true);

	if (!st)
		return;
	st->fed_attempts = attempts;
	st->fed_answered = answered <= attempts ? answered : attempts;
	st->fed_window_s = window_s;
	st->fed_ms = now_ms;
}
