/*
 * cdr.h - the CDR store: cdr.submit, rated and written in one transaction
 *
 * For each submitted CDR (docs/bus.md "cdr.submit"):
 *   1. validate every field of the CDR object (bd_cdr_decode);
 *   2. look up the customer account + rate entries for `callee` and the
 *      routing gateway's vendor account + buy rate entries (lookup.c);
 *   3. rate both sides with the SPEC §6 formula (rate.c): fee, fee_s,
 *      rate_prefix; vendor_cost;
 *   4. make sure the month's partition exists (cdr_ensure_partition, once
 *      per month per process, outside the transaction);
 *   5. store it with ONE SQL statement (hence one transaction), batched
 *      with whatever other CDRs are ready (group commit, one store
 *      statement in flight, at most 256 CDRs): cdr_ids insert ON CONFLICT
 *      DO NOTHING, and only for the ids that inserted a row, the cdr row,
 *      its cdr_attempts, the balance debit (summed per account) and one
 *      balance_history row per CDR;
 *   6. answer cdr.submit.reply {id, fee, duplicate} after the COMMIT.
 * A CDR id already stored is acknowledged with duplicate:true and its stored
 * fee, and debits nothing.  Database trouble is answered "unavailable"
 * (signalingd keeps the CDR in its spool and resends it).
 *
 * fee_s is the number of seconds the fee pays for (first interval plus
 * whole next intervals), 0 when nothing was billable.
 *
 * Threading: re_main thread only.
 * Bus:       cdr.submit.
 */
#ifndef BD_CDR_H
#define BD_CDR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/metrics.h"
#include "common/uuid.h"

#define BD_CDR_MAX_ATTEMPTS  64
#define BD_CDR_MAX_MS	     253402300799999LL /* 9999-12-31T23:59:59.999Z */
#define BD_CDR_HOLD_MARGIN_S 60		       /* beyond SS_MAXCALLDURATION */
#define BD_CDR_FUTURE_MS     600000LL	       /* setup at most 10 min ahead */
#define BD_CDR_PAST_DAYS     400LL /* a spool kept for over a year */

struct bd;
struct bd_cdr;
struct sw_bus_req;
struct sw_env;

/* a validated CDR; strings are borrowed from the JSON it was read from */
struct bd_cdr_rec {
	char id[SW_UUID_LEN + 1];
	const char *call_id_a, *call_id_b;
	const char *caller_in, *callee_in, *caller, *callee;
	const char *caller_out, *callee_out;
	const char *src_ip, *dst_ip;
	const char *mapping_gateway, *account, *card, *routing_gateway;
	int64_t setup_ms, ringing_ms, answer_ms, end_ms;
	int64_t hold_ms, pdd_ms;
	int64_t end_code, q850;
	const char *end_text, *end_direction, *end_reason;
	const char *codec_a, *codec_b, *media_node;
	const char *dtmf_a, *dtmf_b; /* sw_dtmf_names, or "" */
	char *attempts; /* owned JSON text: [{seq,gateway,code,start_ms,end_ms}]
			 */
	char *rtp; /* owned JSON text: {"a":{...},"b":{...}}, known fields */
};

int bd_cdr_decode(struct bd_cdr_rec *rec, const json_t *body, char *err,
		  size_t errsz);
int bd_cdr_plausible(const struct bd_cdr_rec *r, int64_t max_call_s,
		     int64_t now_ms, char *err, size_t errsz);
void bd_cdr_rec_reset(struct bd_cdr_rec *rec);

/* counters since start (metrics.c) */
struct bd_cdr_stats {
	uint64_t stored;	  /* CDRs written (debit included) */
	uint64_t duplicates;	  /* acknowledged as already stored */
	uint64_t quarantined;	  /* kept in cdr_quarantine, not rated */
	uint64_t queued;	  /* received, not yet answered */
	uint64_t copy_refused;	  /* COPY batches redone by INSERT */
	struct sw_mhist store_us; /* committed store statements */
};

int bd_cdr_alloc(struct bd_cdr **cdrp, struct bd *bd);
void bd_cdr_stats(const struct bd_cdr *cdr, struct bd_cdr_stats *st);
void bd_cdr_submit(struct bd_cdr *cdr, struct sw_bus_req *req,
		   const struct sw_env *env);
void bd_cdr_db_up(struct bd_cdr *cdr);

#endif /* BD_CDR_H */
