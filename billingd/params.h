/*
 * params.h - cache of the SERVER_BILLING_* system parameters
 *
 * system_parameters rows are read at start-up, whenever the database comes
 * back, every BD_PARAMS_REFRESH_MS and on SIGHUP; a missing row or a bad
 * value means the default (a bad value is logged).  Readers always see a
 * complete, valid set (the defaults until the first load).
 *
 *   SERVER_BILLING_FEE_PRECISION        4   decimals kept in fees (0..6)
 *   SERVER_BILLING_HOLD_TIME_PRECISION  50  ms of remainder worth a second
 *   SERVER_BILLING_FREE_TIME            0   seconds not billed
 *   SERVER_BILLING_RECORD_ZERO_HOLD_TIME 1  store CDRs of unanswered calls
 *   SERVER_PHONE_CARD_PIN_ATTEMPTS      5   wrong PINs in a row that lock
 *                                           a phone card
 *
 * Threading: re_main thread only.
 * Bus:       none.
 */
#ifndef BD_PARAMS_H
#define BD_PARAMS_H

#include <stdbool.h>

#include "billingd/rate.h"

#define BD_PARAMS_REFRESH_MS 10000

struct bd_db;

struct bd_param_values {
	struct bd_rate_params rate;
	bool record_zero_hold;
	int64_t max_call_s;	   /* SS_MAXCALLDURATION: bounds a CDR's hold */
	int64_t advance_s;	   /* ..._PREVENT_OVERDRAFT_ADVANCE_TIME, s */
	bool period_rates;	   /* SERVER_PERIOD_RATE_ENABLED */
	bool calendars;		   /* SERVER_WORK_CALENDAR_ENABLED */
	int64_t card_pin_attempts; /* SERVER_PHONE_CARD_PIN_ATTEMPTS */
};

struct bd_params;

int bd_params_alloc(struct bd_params **pp, struct bd_db *db);
void bd_params_refresh(struct bd_params *p);
const struct bd_param_values *bd_params_get(const struct bd_params *p);
void bd_params_defaults(struct bd_param_values *v);
int bd_params_set(struct bd_param_values *v, const char *name,
		  const char *value);

#endif /* BD_PARAMS_H */
