/*
 * admission.h - admission control at the ingress (SPEC §3.2)
 *
 * Per mapping gateway: a CPS token bucket (rate N/s, burst N) and a
 * concurrent-call limit; per customer account: a concurrent-call limit.
 * Admission is the first thing after the mapping gateway is known: a
 * refused INVITE gets a stateless 503 (CPS with Retry-After) and nothing
 * else: no call state, no CDR, no log line of its own.  Refusals are
 * counted by reason and gateway (health.ping "refused") and summed up in
 * one log line per 10 s at most (sg_admit_tick).  Counters are kept by
 * name so they survive table reloads.
 *
 * Threading: su_root thread only.
 */
#ifndef SG_ADMISSION_H
#define SG_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct sg;
struct sg_mgw;

struct sg_admit_result {
	int code;
	const char *phrase;
	const char *reason; /* CDR end reason */
	int retry_after;    /* seconds, 0 = no header */
};

/* refusals by reason */
struct sg_admit_counts {
	uint64_t cps;		/* CpsLimit */
	uint64_t gateway_calls; /* GatewayConcurrentLimit */
	uint64_t account_calls; /* AccountConcurrentLimit */
	uint64_t switch_calls;	/* MaxConcurrentCalls */
};

bool sg_admit(struct sg *sg, const struct sg_mgw *mgw, int64_t now_ms,
	      struct sg_admit_result *res);
void sg_admit_release(struct sg *sg, const struct sg_mgw *mgw);
void sg_admit_free(struct sg *sg);
void sg_admit_tick(struct sg *sg, int64_t now_ms);
void sg_admit_counts(const struct sg *sg, struct sg_admit_counts *out);
json_t *sg_admit_json(const struct sg *sg);

/* token bucket (pure, unit tested): micro-tokens, capacity = rate */
struct sg_bucket {
	int64_t tokens_u; /* 1e6 = one call */
	int64_t last_ms;
	bool primed;
};

bool sg_bucket_take(struct sg_bucket *b, int64_t rate, int64_t now_ms);

#endif /* SG_ADMISSION_H */
