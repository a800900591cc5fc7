/*
 * resv.h - credit reservations (SPEC §6 "Credit control"), in memory
 *
 * A call is authorised against available = balance + credit_limit - what
 * the account's live calls hold.  Each call holds the fee of the seconds it
 * was granted (SERVER_BILLING_PREVENT_OVERDRAFT_ADVANCE_TIME at a time); an
 * extension grants the next slice, or the exact seconds the money still
 * buys and no more (extendable false).  N calls on one balance can thus
 * never together be granted more than balance + credit_limit.
 *
 * The reservation is released when the call's CDR is stored (its fee,
 * capped at what was reserved, is debited in that transaction); an
 * auth.release only marks it ended, so that no moment exists when neither
 * the reservation nor the debit counts.  Reservations of a call whose CDR
 * never comes, or of a signalingd that died, expire (bd_resv_expire).
 *
 * Balances come from billingd's memory (lookup.h), where every fee this
 * process debits is counted at once: no moment exists either when a
 * stored CDR's fee is missing from both the reservation and the balance.
 *
 * Memory only: a billingd restart forgets reservations, and signalingd
 * re-sends its answered calls (auth.extend with resume) when it sees a new
 * billingd boot id in health.ping.
 *
 * Threading: re_main thread only.  No I/O.
 * Bus:       none (auth.c and cdr.c call it).
 */
#ifndef BD_RESV_H
#define BD_RESV_H

#include <stdbool.h>
#include <stdint.h>

#include "billingd/rate.h"

#define BD_RESV_LIVE_GRACE_MS 120000 /* past its granted end, unextended */
#define BD_RESV_ENDED_TTL_MS  300000 /* auth.release seen, CDR not yet */

struct bd_resv_table;

/* one account that pays for the call: the customer, then each agent */
struct bd_resv_level {
	const char *account;
	const struct bd_rate *rate; /* its entry for the number */
	int64_t money;		    /* balance + credit_limit, as read */
};

#define BD_RESV_LEVELS 9 /* the customer and BD_AGENT_MAX agents */

struct bd_resv_grant {
	bool allow;
	int64_t granted_s;  /* total seconds the call may run */
	bool extendable;    /* false: granted_s is all the money buys */
	int64_t amount;	    /* held for the call, micro-units */
	int sip_code;	    /* refusals */
	const char *reason; /* static */
};

int bd_resv_alloc(struct bd_resv_table **tp);
void bd_resv_free(struct bd_resv_table *t);

int64_t bd_resv_held(const struct bd_resv_table *t, const char *account);
size_t bd_resv_count(const struct bd_resv_table *t);
/* money held by all reservations, every level (customer and agents) */
int64_t bd_resv_held_total(const struct bd_resv_table *t);
bool bd_resv_has(const struct bd_resv_table *t, const char *call);

/*
 * Every level (the customer first, then its agents) holds the fee of the
 * granted seconds at its own rate; the grant is what the poorest level
 * buys.  A level's money is its balance + credit_limit (lookup.h: the
 * balance counts what billingd debited since it was read); advance_s > 0.
 */
void bd_resv_open(struct bd_resv_table *t, struct bd_resv_grant *g,
		  const char *call, const struct bd_resv_level *lv, size_t n,
		  const struct bd_rate_params *p, int64_t advance_s,
		  int64_t now_ms);
/* the next slice (resume: only re-create the reservation of granted_s,
 * held whatever the balances, after a billingd restart) */
void bd_resv_extend(struct bd_resv_table *t, struct bd_resv_grant *g,
		    const char *call, const struct bd_resv_level *lv, size_t n,
		    const struct bd_rate_params *p, int64_t granted_s,
		    int64_t advance_s, bool resume, int64_t now_ms);
/* what the call holds on account (-1: none) */
int64_t bd_resv_amount_of(const struct bd_resv_table *t, const char *call,
			  const char *account);
void bd_resv_end(struct bd_resv_table *t, const char *call, int64_t now_ms);
/* the call's CDR is stored (its debit is the lookup's to count):
 * release; returns what was held, or -1 without a reservation */
int64_t bd_resv_commit(struct bd_resv_table *t, const char *call);
int64_t bd_resv_amount(const struct bd_resv_table *t, const char *call);
size_t bd_resv_expire(struct bd_resv_table *t, int64_t now_ms);

#endif /* BD_RESV_H */
