/*
 * stats.c - sliding-window attempt/answer counters per routing gateway
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sg.h"
#include "signaling/stats.h"

#define NBUCKETS 60

struct sg_gwstat {
	struct sg_gwstat *next;
	char name[64];
	int64_t slot[NBUCKETS];		/* bucket number held by each slot */
	unsigned attempts[NBUCKETS];
	unsigned answered[NBUCKETS];
};

/* "0" | "1" | "1,<threshold>,<min calls>,<window s>"; EINVAL when bad */
int sg_asr_config_parse(struct sg_asr_config *cfg, const char *s)
{
	int on = 0, th = 30, min = 20, win = 3600, n;

	if (!cfg || !s)
		return EINVAL;
	n = sscanf(s, "%d,%d,%d,%d", &on, &th, &min, &win);
	if (n < 1 || (on != 0 && on != 1) || th < 0 || th > 100 || min < 0 ||
	    win < 60 || win > 7 * 86400)
		return EINVAL;
	cfg->on = on == 1;
	cfg->threshold_pct = th;
	cfg->min_calls = min;
	cfg->window_s = win;
	return 0;
}

static struct sg_gwstat *stat_get(struct sg *sg, const char *gw, bool create)
{
	struct sg_gwstat *st;

	for (st = sg->stats; st; st = st->next)
		if (!strcmp(st->name, gw))
			return st;
	if (!create || !(st = calloc(1, sizeof(*st))))
		return NULL;
	snprintf(st->name, sizeof(st->name), "%s", gw);
	for (int i = 0; i < NBUCKETS; i++)
		st->slot[i] = -1;
	st->next = sg->stats;
	sg->stats = st;
	return st;
}

static int64_t bucket_of(int window_s, int64_t now_ms)
{
	int64_t width = (int64_t)window_s * 1000 / NBUCKETS;

	return now_ms / (width > 0 ? width : 1);
}

/* Count one finished attempt of gw. */
void sg_stats_record(struct sg *sg, const char *gw, bool answered,
		     int window_s, int64_t now_ms)
{
	struct sg_gwstat *st = stat_get(sg, gw, true);
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
	if (answered)
		st->answered[i]++;
}

/* Attempts and answers of gw within the window ending now. */
void sg_stats_get(struct sg *sg, const char *gw, int window_s, int64_t now_ms,
		  unsigned *attempts, unsigned *answered)
{
	struct sg_gwstat *st = stat_get(sg, gw, false);
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
}

void sg_stats_free(struct sg *sg)
{
	struct sg_gwstat *st, *n;

	for (st = sg->stats; st; st = n) {
		n = st->next;
		free(st);
	}
	sg->stats = NULL;
}
