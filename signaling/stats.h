/*
 * stats.h - per routing gateway answer statistics for ASR route sorting
 *
 * Each gateway (by name) has 60 time buckets covering the configured
 * window; an attempt is counted when it ends, answered or not.  The ASR is
 * answered/attempts over the window.  SS_GATEWAYASRROUTESORTCONFIG turns
 * ASR sorting on: "0" off, "1" on with defaults, or
 * "1,<threshold %>,<min calls>,<window s>" (defaults 30, 20, 3600).
 *
 * billingd feeds every signalingd the switch-wide counts (stats.asr, from
 * the CDRs' attempts of all of them); while younger than
 * SG_STATS_FED_FRESH_MS and not below this process's own, they are the
 * ones the sorting uses.
 *
 * Ownership: struct sg holds the only reference.
 * Threading: su_root thread only.
 */
#ifndef SG_STATS_H
#define SG_STATS_H

#include <stdbool.h>
#include <stdint.h>

struct sg_gwstats;

struct sg_asr_config {
	bool on;
	int threshold_pct; /* below it (with min_calls) = moved last */
	int min_calls;
	int window_s;
};

int sg_asr_config_parse(struct sg_asr_config *cfg, const char *s);
int sg_stats_alloc(struct sg_gwstats **stp);
void sg_stats_free(struct sg_gwstats *st);
void sg_stats_record(struct sg_gwstats *st, const char *gw, bool answered,
		     int window_s, int64_t now_ms);
void sg_stats_get(const struct sg_gwstats *st, const char *gw, int window_s,
		  int64_t now_ms, unsigned *attempts, unsigned *answered);
void sg_stats_feed(struct sg_gwstats *st, const char *gw, unsigned attempts,
		   unsigned answered, int window_s, int64_t now_ms);

typedef void(sg_stats_total_h)(const char *gw, uint64_t attempts,
			       uint64_t answered, void *arg);
void sg_stats_totals(struct sg_gwstats *st, sg_stats_total_h *h, void *arg);

#define SG_STATS_FED_FRESH_MS 60000

#endif /* SG_STATS_H */
