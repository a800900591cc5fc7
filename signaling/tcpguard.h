/*
 * tcpguard.h - SIP over TCP held in bounds (SPEC §8)
 *
 * sofia-sip accepts TCP connections itself and has neither an accept hook
 * nor a connection cap.  This module keeps the connections on the SIP port
 * in bounds from outside:
 *
 *   - a sweep of the process's descriptors finds them and shuts down
 *     (shutdown(2): sofia sees the end of the stream and closes them
 *     itself, so no descriptor is ever closed under its feet) those over
 *     the cap per source address, those over the total cap (sources that
 *     are neither gateways nor authenticated first), and those from a
 *     source that is neither a gateway nor an authenticated phone or
 *     password gateway once their grace is over.  It runs as soon as the
 *     listening socket signals a new connection (at most once per
 *     SG_TCPG_SWEEP_MIN_MS) and every second;
 *   - a connection whose request fails the edge check is shut down at once
 *     (sg_tcpguard_reject);
 *   - RLIMIT_NOFILE is raised to its hard limit and the total cap kept
 *     SG_TCPG_FD_RESERVE below it (database, bus, SIGHUP reload).  Should
 *     the descriptors run out all the same, pending connections are
 *     accepted on a spare descriptor and closed, so sofia never spins on
 *     accept();
 *   - sofia-sip's own log lines go through ours, at most
 *     SG_TCPG_SOFIA_LINES_S a second (the rest counted, then reported).
 *
 * The idle and incomplete-message timeouts are sofia's (TPTAG_IDLE,
 * TPTAG_TIMEOUT), set by sip.c from the same configuration; sofia's idle
 * timer starts with the first traffic, so a connection that never sends a
 * byte is closed here after the same time (TCP_INFO says whether it did).
 *
 * Ownership: struct sg owns the guard (sip.c allocates and frees it).
 * Threading: su_root thread only.
 * Bus:       none.
 */
#ifndef SG_TCPGUARD_H
#define SG_TCPGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "signaling/sofia.h"

struct sockaddr;
struct sg_tcpguard;

#define SG_TCPG_SWEEP_MIN_MS  50
#define SG_TCPG_FD_RESERVE    256
#define SG_TCPG_SOFIA_LINES_S 20
#define SG_TCPG_VOUCHED	      4096 /* authenticated sources remembered */

/* is a connection from sa trusted (a gateway)?  arg as given */
typedef bool(sg_tcpguard_trusted_h)(const struct sockaddr *sa, void *arg);

struct sg_tcpguard_conf {
	int64_t max_total;	/* inbound connections on the SIP port */
	int64_t max_per_source; /* per source address */
	int64_t unknown_grace_ms;
	int64_t idle_ms; /* never a byte received: closed after (sofia's
			    TPTAG_IDLE only starts with the first traffic) */
};

int sg_tcpguard_alloc(struct sg_tcpguard **gp, su_root_t *root,
		      const struct sg_tcpguard_conf *conf, unsigned port,
		      sg_tcpguard_trusted_h *trusted, void *arg);
void sg_tcpguard_free(struct sg_tcpguard *g);
void sg_tcpguard_vouch(struct sg_tcpguard *g, const struct sockaddr *sa,
		       int64_t ttl_ms);
void sg_tcpguard_reject(struct sg_tcpguard *g, nta_agent_t *agent, msg_t *msg);
int64_t sg_tcpguard_raise_nofile(int64_t *limitp);
void sg_tcpguard_sofia_log(void);

#endif /* SG_TCPGUARD_H */
