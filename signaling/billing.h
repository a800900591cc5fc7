/*
 * billing.h - signalingd's client of billingd
 *
 * auth.request at call setup, auth.extend while it lasts (fail-closed: an
 * error or a timeout is
 * reported as err != 0 and the caller decides), auth.release at the end,
 * and cdr.submit for the spooled CDRs: sg_billing_kick() sends what the
 * spool has pending and acks/nacks it from the replies.
 *
 * Threading: su_root thread only.
 * Bus: auth.request, auth.release, cdr.submit, health.ping (docs/bus.md).
 */
#ifndef SG_BILLING_H
#define SG_BILLING_H

#include <stdbool.h>
#include <stdint.h>

struct sw_bus;
struct sw_bus_call;
struct sg_spool;
struct sg_billing;
struct sg_auth_ctx;

struct sg_auth_result {
	bool allow;
	int64_t max_duration_s; /* seconds of hold reserved in all */
	bool extendable;	/* auth.extend may grant more */
	int sip_code;
	char reason[64];
	char account[64]; /* the account billed, "" = the one asked for */
	char card[49];	  /* the phone card's number, "" = none */
};

/* err != 0: billingd unreachable, timed out or answered garbage/error */
typedef void(sg_auth_h)(int err, const struct sg_auth_result *res, void *arg);

struct sg_auth_req {
	const char *call, *account, *caller, *callee, *mapping_gateway;
	const char *card; /* phone card number + PIN, NULL = none */
};

int sg_billing_alloc(struct sg_billing **bp, struct sw_bus *bus,
		     const char *url, struct sg_spool *spool);
void sg_billing_close(struct sg_billing *b);
void sg_billing_free(struct sg_billing *b);
unsigned sg_billing_inflight(void);
int sg_billing_auth(struct sg_auth_ctx **ctxp, struct sg_billing *b,
		    const struct sg_auth_req *req, int timeout_ms, sg_auth_h *h,
		    void *arg);
void sg_billing_auth_cancel(struct sg_auth_ctx *ctx);
int sg_billing_extend(struct sg_auth_ctx **ctxp, struct sg_billing *b,
		      const struct sg_auth_req *req, int64_t granted_s,
		      bool resume, int timeout_ms, sg_auth_h *h, void *arg);
/* h runs when health.ping shows billingd restarted (new boot id): its
 * reservations are gone and the answered calls must re-send theirs */
void sg_billing_on_restart(struct sg_billing *b, void (*h)(void *arg),
			   void *arg);
void sg_billing_release(struct sg_billing *b, const char *call);
void sg_billing_kick(struct sg_billing *b);
bool sg_billing_reachable(const struct sg_billing *b);
struct sw_mhist;
const struct sw_mhist *sg_billing_auth_latency(const struct sg_billing *b,
					       uint64_t *failed);
void sg_billing_probe(struct sg_billing *b, int timeout_ms);

#endif /* SG_BILLING_H */
