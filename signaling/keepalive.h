/*
 * keepalive.h - OPTIONS keepalive toward routing gateways (SPEC §3.9)
 *
 * Gateways with options_keepalive on get an OPTIONS every
 * SS_GATEWAY_OPTIONS_INTERVAL seconds (one in flight at a time).  Three
 * failures in a row (no answer, transport error, 5xx/6xx) mark the gateway
 * offline: route selection skips it.  One 2xx-4xx answer brings it back.
 * State is kept by gateway name, so it survives table reloads.
 *
 * Ownership: struct sg holds the only reference.
 * Threading: su_root thread only.
 */
#ifndef SG_KEEPALIVE_H
#define SG_KEEPALIVE_H

#include <stdbool.h>

struct sg;
struct sg_gw;
struct sg_keepalive;

int sg_keepalive_alloc(struct sg_keepalive **kap);
void sg_keepalive_free(struct sg_keepalive *ka);
void sg_keepalive_tick(struct sg *sg);
bool sg_keepalive_offline(struct sg *sg, const char *gw);
bool sg_keepalive_skip(const struct sg_gw *gw, void *arg);

#endif /* SG_KEEPALIVE_H */
