/*
 * rate.h - rating: the SPEC §6 fee formula and longest-prefix selection
 *
 * Pure functions over int64_t micro-units; no I/O, no allocation.  The fee of
 * a call is computed exactly (the intermediate sum is an __int128 over 60)
 * and rounded half up once to SERVER_BILLING_FEE_PRECISION decimals.
 *
 * Threading: any thread.
 * Bus:       none (auth.c and cdr.c call it).
 */
#ifndef BD_RATE_H
#define BD_RATE_H

#include <stddef.h>
#include <stdint.h>

#define BD_RATE_PREFIX_MAX 64 /* bytes of a rate entry's prefix */

/* one rate table entry; rates are per minute, intervals in seconds */
struct bd_rate {
	char prefix[BD_RATE_PREFIX_MAX + 1];
	int64_t connect_fee; /* micro-units, charged once when s > 0 */
	int64_t first_s;     /* first interval, the minimum billed */
	int64_t first_rate;  /* micro-units per minute */
	int64_t next_s;	     /* next interval; 0 means 1 */
	int64_t next_rate;   /* micro-units per minute */
};

/* the SERVER_BILLING_* system parameters the formula reads */
struct bd_rate_params {
	int64_t fee_precision;	   /* decimals kept, 0..6 (default 4) */
	int64_t hold_precision_ms; /* remainder that counts a second (50) */
	int64_t free_time_s;	   /* seconds not billed (0) */
};

struct bd_rate_result {
	int64_t billable_s; /* after hold precision and free time */
	int64_t fee_s;	    /* seconds paid for: first + k * next */
	int64_t fee;	    /* micro-units, rounded to the precision */
};

#define BD_RATE_PARAMS_DEFAULT                                                 \
	{                                                                      \
		4, 50, 0                                                       \
	}

int64_t bd_rate_billable_s(const struct bd_rate_params *p, int64_t hold_ms);
int bd_rate_calc(struct bd_rate_result *res, const struct bd_rate *r,
		 const struct bd_rate_params *p, int64_t hold_ms);
int64_t bd_rate_fee(const struct bd_rate *r, int64_t hold_ms);
int64_t bd_rate_max_duration(const struct bd_rate *r,
			     const struct bd_rate_params *p, int64_t available,
			     int64_t cap_s);

#endif /* BD_RATE_H */
