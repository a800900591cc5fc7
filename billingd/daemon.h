/*
 * daemon.h - the billingd process: its parts, the bus server, signals
 *
 * struct bd holds everything one billingd process runs: the config, the bus
 * (REP on bus_listen, REQ peers toward each signalingd), the database pool, the
 * parameter cache, the CDR store, the HTTP API and the Prometheus metrics.
 * bd_alloc() starts them all on the current re_main loop; mem_deref() stops
 * them.
 *
 * Signals arrive through a signalfd: SIGTERM/SIGINT drain (new requests are
 * answered "unavailable", the ones waiting for the database finish, at most
 * BD_DRAIN_MS) and end re_main; SIGHUP reloads log_level and the system
 * parameters.
 *
 * Threading: re_main thread only.
 * Bus:       REP health.ping, auth.request, auth.release, cdr.submit
 *            (docs/bus.md); REQ to every signalingd (sgpeers.c).
 */
#ifndef BD_DAEMON_H
#define BD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "billingd/libre.h"

#include "billingd/config.h"

#define BD_DAEMON_NAME	 "billingd"
#define BD_BUS_CONTEXTS	 256 /* requests in flight on bus_listen */
#define BD_DRAIN_MS	 5000
#define BD_RESV_SWEEP_MS 5000 /* reservation expiry sweep */

struct sw_bus;
struct bd_sgpeers;
struct bd_db;
struct bd_params;
struct bd_cdr;
struct bd_http;

struct bd_resv_table;
struct bd_lookup_cache;
struct bd_alarms;
struct bd_metrics;

struct bd {
	struct bd_conf conf;
	const char *conf_path;		/* borrowed: argv */
	struct sw_bus *bus;		/* owned */
	struct bd_sgpeers *sgpeers;	/* owned: every signalingd's control */
	struct bd_db *db;		/* owned */
	struct bd_params *params;	/* owned */
	struct bd_cdr *cdr;		/* owned */
	struct bd_http *http;		/* owned */
	struct bd_resv_table *resv;	/* owned: credit reservations */
	struct bd_lookup_cache *lookup; /* owned: accounts, rates, calendars */
	struct bd_alarms *alarms;	/* owned: raise and clear alarms */
	struct bd_metrics *metrics;	/* owned: counters, /metrics */
	char boot[40];			/* uuid of this start (health.ping) */
	struct tmr resv_tmr;		/* expiry sweep */
	int bus_fd;			/* registered with fd_listen */
	int sig_fd;			/* signalfd, owned */
	int64_t start_ms;		/* monotonic */
	bool draining;
	bool watchdog;	  /* systemd WatchdogSec= set: pinged each sweep */
	unsigned pending; /* bus requests waiting on the DB */
	struct tmr drain_tmr;
};

int bd_alloc(struct bd **bdp, const struct bd_conf *conf,
	     const char *conf_path);
void bd_pending_inc(struct bd *bd);
void bd_pending_dec(struct bd *bd);
int64_t bd_uptime_s(const struct bd *bd);

#endif /* BD_DAEMON_H */
