/*
 * lookup.h - what rating needs, served from billingd's memory
 *
 * For a callee number: the customer account (by name) and its agents, each
 * with the rate table in force at the given time (its own, or its package
 * period rate's working or non-working table per the package's calendar)
 * and the longest entry of it that is a prefix of the number; optionally
 * the vendor account of a routing gateway with its buy rate.  Accounts,
 * rate tables, package period rates, calendars (as working intervals in
 * UTC, computed by PostgreSQL's tz database) and gateways are loaded once
 * and kept current by the tandem_changes notifications (schema 0004); the
 * balances are the last read minus what billingd debited since
 * (bd_lookup_debit).  docs/billingd.md, "What billingd keeps in memory".
 *
 * Threading: re_main thread only.
 * Bus:       none (serves auth.request, cdr.submit and the rate API).
 */
#ifndef BD_LOOKUP_H
#define BD_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "billingd/rate.h"

#define BD_NUMBER_MAX	    64 /* bytes of a caller/callee number */
#define BD_NAME_MAX	    64 /* bytes of an account or gateway name */
#define BD_LOOKUP_MAX_RATES 1  /* the longest matching entry */

struct bd_db;

struct bd_account {
	bool found;
	int64_t id;
	char name[BD_NAME_MAX + 1];
	int64_t balance;	     /* micro-units */
	int64_t credit_limit;	     /* micro-units, >= 0 */
	char period[16];	     /* default, working, non_working */
	char table[BD_NAME_MAX + 1]; /* the rate table used, by name */
	size_t nrates;
	struct bd_rate rates[BD_LOOKUP_MAX_RATES]; /* nrates: 0 = no rate */
};

/* agent levels above a customer (provisioning refuses cycles; the
 * lookup stops here whatever the data) */
#define BD_AGENT_MAX	 8
#define BD_AGENT_MAX_STR "8"

struct bd_lookup {
	struct bd_account customer;
	struct bd_account vendor; /* of the routing gateway, if asked */
	size_t nagents;		  /* the customer's agent, its agent, ... */
	struct bd_account agents[BD_AGENT_MAX];
};

/* err as for bd_db_query handlers; lk is valid during the call only */
typedef void(bd_lookup_h)(int err, const struct bd_lookup *lk, void *arg);

/* when the call is rated: the package period rate's choice (SPEC §6) */
struct bd_lookup_when {
	int64_t at_ms;	   /* answer time (setup for authorisations) */
	bool period_rates; /* SERVER_PERIOD_RATE_ENABLED */
	bool calendars;	   /* SERVER_WORK_CALENDAR_ENABLED */
};

struct bd_lookup_cache;

int bd_lookup_alloc(struct bd_lookup_cache **cp, struct bd_db *db);
void bd_lookup_debit(struct bd_lookup_cache *c, int64_t account_id,
		     int64_t fee);
int bd_lookup(struct bd_lookup_cache *c, const char *account,
	      const char *callee, const char *routing_gateway,
	      const struct bd_lookup_when *when, bd_lookup_h *h, void *arg);
int bd_lookup_prefixes(char *buf, size_t size, const char *number);
const struct bd_rate *bd_account_rate(const struct bd_account *a);

#endif /* BD_LOOKUP_H */
