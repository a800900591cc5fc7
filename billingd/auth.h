/*
 * auth.h - credit control: may this call start, and for how long
 *
 * auth.request looks the customer account and its rate entries up (lookup.c)
 * and answers, in this order:
 *   unknown account                     allow:false 404 AccountNotFound
 *   balance + credit_limit <= 0         allow:false 403 InsufficientBalance
 *   no rate entry for the callee        allow:false 403 NoRate
 *   the money buys less than 1 second   allow:false 403 InsufficientBalance
 *   otherwise                           allow:true, max_duration_s = what
 *                                       the available money buys, at most
 *                                       BD_AUTH_MAX_DURATION_S (a week)
 * An allowed call holds a reservation (resv.h) of the seconds granted:
 * max_duration_s in the reply is what is reserved, extendable says whether
 * auth.extend may grant more.  auth.extend grows it (or re-creates it after
 * a billingd restart, resume); auth.release marks it ended.
 *
 * Threading: re_main thread only.
 * Bus:       auth.request, auth.extend, auth.release (docs/bus.md).
 */
#ifndef BD_AUTH_H
#define BD_AUTH_H

#include <stdbool.h>
#include <stdint.h>

/* longest authorisation: SS_MAXCALLDURATION's own maximum (a week), so
 * that the call's own limits (SS_MAXCALLDURATION, the mapping gateway's
 * conversation limitation) decide, never a hidden cap here */
#define BD_AUTH_MAX_DURATION_S 604800

struct bd;
struct bd_account;
struct bd_rate_params;
struct sw_bus_req;
struct sw_env;

struct bd_auth_result {
	bool allow;
	int64_t max_duration_s;
	int sip_code;	    /* 0 when allowed */
	const char *reason; /* static; "" when allowed */
	const char *prefix; /* borrowed from acc: the entry used, or NULL */
};

void bd_auth_decide(struct bd_auth_result *out, const struct bd_account *acc,
		    const struct bd_rate_params *p);
void bd_auth_request(struct bd *bd, struct sw_bus_req *req,
		     const struct sw_env *env);
void bd_auth_extend(struct bd *bd, struct sw_bus_req *req,
		    const struct sw_env *env);
void bd_auth_release(struct bd *bd, struct sw_bus_req *req,
		     const struct sw_env *env);

#endif /* BD_AUTH_H */
