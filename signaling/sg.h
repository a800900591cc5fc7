/*
 * sg.h - the signalingd process: one su_root loop and what hangs off it
 *
 * struct sg holds the loop, the SIP agent, the bus, the current routing
 * tables, the billing and media clients, the CDR spool and the list of
 * calls.  sg_start() brings everything up in order (config, database,
 * spool, bus, SIP), sg_run() runs the loop until SIGTERM/SIGINT, SIGHUP
 * reloads the routing tables without blocking the loop.
 *
 * Ownership: struct sg owns everything listed here; calls hold borrowed
 * back-pointers to it.
 * Threading: the su_root thread only (nng's aio threads never touch it).
 * Bus: see ctl.h (control/events), billing.h, media.h.
 */
#ifndef SG_SG_H
#define SG_SG_H

#include <stdbool.h>
#include <stdint.h>

#include "signaling/config.h"
#include "signaling/sofia.h"

struct sg_tables;
struct sg_db;
struct sw_bus;
struct sg_billing;
struct sg_media;
struct sg_spool;
struct sg_call;
struct sg_calls;
struct sg_lines;
struct sg_bucket_entry;
struct sg_keepalive;
struct sg_outreg;
struct sg_gwstats;
struct sg_recovery;
struct sg_registrar;
struct sg_watch;
struct sg_edge;
struct sg_edgedb;
struct sg_tcpguard;
struct sg_alias;

struct sg {
	su_root_t *root;	    /* owned */
	nta_agent_t *agent;	    /* owned */
	sip_contact_t *tls_contact; /* owned (su_free(NULL)): our sips
				       Contact, NULL without TLS */
	struct sg_config cfg;
	const char *conf_path;	  /* borrowed (argv) */
	struct sg_tables *tables; /* ref: current routing snapshot */
	struct sg_db *reload;	  /* owned: table load in progress */
	bool reload_again;	  /* another reload asked meanwhile */
	struct sg_db *bl_reload;  /* owned: blacklist load in progress */
	bool bl_again;		  /* the blacklist changed meanwhile */
	struct sg_watch *watch;	  /* owned: LISTEN tandem_changes */
	struct sw_bus *bus;	  /* owned */
	su_wait_t bus_wait[1];
	bool bus_registered;
	int sig_fd;
	su_wait_t sig_wait[1];
	bool sig_registered;
	su_timer_t *tick;		  /* owned: 1 s housekeeping */
	su_timer_t *t_flush;		  /* owned: CDR journal group commit */
	int64_t last_flush_ms;		  /* its last run, monotonic */
	struct sg_billing *billing;	  /* owned */
	struct sg_media *media;		  /* owned */
	struct sg_spool *spool;		  /* owned */
	struct sg_calls *calls;		  /* owned: active calls */
	struct sg_lines *lines;		  /* owned: lines in use by key */
	struct sg_callerpool *callerpool; /* owned: pool numbers in use */
	struct sg_admit_state *admit;	  /* owned: admission.c's state */
	struct sg_keepalive *keepalive;	  /* owned: OPTIONS probe state */
	struct sg_outreg *outreg;	  /* owned: REGISTERs to vendors */
	struct sg_gwstats *stats;	  /* owned: ASR counters */
	struct sg_recovery *recovery;	  /* owned: calls journal */
	struct sg_registrar *registrar;	  /* owned: registered phones */
	struct sg_alias *alias;		  /* owned: RFC 5923 connections */
	struct sg_tcpguard *tcpguard;	  /* owned: SIP over TCP bounds */
	struct sg_tcpguard *tcpguard_tls; /* owned: the same on the TLS port */
	struct sw_metrics *metrics;	  /* owned: /metrics server */
	unsigned rr;			  /* round-robin counter of routing */
	char nonce_secret[40];		  /* keys the digest nonces */
	struct sg_nonces *nonces;	  /* owned: digest nonces in use */
	uint64_t nonce_seq;		  /* makes each nonce its own */
	struct sg_edge *edge;		  /* owned: rate limits, blacklist */
	struct sg_edgedb *edgedb;	  /* owned: blacklist writer */
	int64_t start_mono_ms;
	int64_t last_cdr_kick_ms;
	int64_t last_cal_ms; /* calendars refreshed */
	bool stopping;
	bool watchdog; /* systemd WatchdogSec= set: pinged each tick */
};

int sg_start(struct sg **sgp, const char *conf_path);
int sg_run(struct sg *sg);
void sg_free(struct sg *sg);
void sg_reload_tables(struct sg *sg);
/* the CDR journal's fdatasync runs at most once per this window: a new
 * CDR is synced and sent 1 ms after it was written, or, when the last
 * sync is more recent than that, at the window's end */
#define SG_CDR_FLUSH_MS 10
void sg_spool_flush_soon(struct sg *sg);
int sg_check_config(const char *conf_path);

/* timers of the loop: create-and-start, and stop-and-clear */
su_timer_t *sg_timer_start(struct sg *sg, int64_t ms, su_timer_f f, void *arg);
void sg_timer_stop(su_timer_t **tp);

#endif /* SG_SG_H */
