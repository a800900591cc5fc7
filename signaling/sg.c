/*
 * sg.c - signalingd start-up, loop, signals, reload and shutdown
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define SW_LOG_MODULE "sg"
#include "common/bus.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sdnotify.h"
#include "common/swtime.h"
#include "common/uuid.h"
#include "signaling/admission.h"
#include "signaling/billing.h"
#include "signaling/call.h"
#include "signaling/calls.h"
#include "signaling/ctl.h"
#include "signaling/db.h"
#include "signaling/keepalive.h"
#include "signaling/lastgood.h"
#include "signaling/callerpool.h"
#include "signaling/lines.h"
#include "signaling/loopwait.h"
#include "signaling/outreg.h"
#include "signaling/registrar.h"
#include "signaling/alias.h"
#include "signaling/media.h"
#include "signaling/metrics.h"
#include "signaling/digest.h"
#include "signaling/sg.h"
#include "signaling/sip.h"
#include "signaling/recovery.h"
#include "signaling/spool.h"
#include "signaling/watch.h"
#include "signaling/edge.h"
#include "signaling/edgedb.h"
#include "signaling/stats.h"
#include "signaling/tables.h"

/*
 * SIGTERM (docs/signalingd.md, "Stopping"): calls end (or are detached),
 * then the loop waits until every call's CDR is spooled and acknowledged,
 * at most DRAIN_MS; in-dialog transactions toward peers (BYE, INFO,
 * re-INVITE) get at most LINGER_MS of that to be answered.  Teardown after
 * the loop is bounded by TEARDOWN_MS of bus waits.
 */
#define DRAIN_MS    3000
#define LINGER_MS   1000
#define TEARDOWN_MS 1000

/* Create and start a one-shot timer on the loop. */
su_timer_t *sg_timer_start(struct sg *sg, int64_t ms, su_timer_f f, void *arg)
{
	su_timer_t *t;

	if (ms < 1)
		ms = 1; /* su_timer asserts on 0 */
	if (ms > 0x7fffffff)
		ms = 0x7fffffff;
	t = su_timer_create(su_root_task(sg->root), (su_duration_t)ms);
	if (t && su_timer_set(t, f, arg) < 0) {
		su_timer_destroy(t);
		t = NULL;
	}
	if (!t)
		sw_err("cannot start a %lld ms timer", (long long)ms);
	return t;
}

/* Stop and free a timer (NULL-safe); *tp is cleared. */
void sg_timer_stop(su_timer_t **tp)
{
	if (tp && *tp) {
		su_timer_destroy(*tp);
		*tp = NULL;
	}
}

static int bus_ready(void *magic, su_wait_t *w, void *arg)
{
	struct sg *sg = arg;

	(void)magic;
	(void)w;
	sw_bus_drain(sg->bus);
	return 0;
}

/* the edge layer's limits from the tables in force */
static void edge_conf(struct sg *sg)
{
	const struct sg_params *p = &sg->tables->params;
	struct sg_edge_conf c = {
	    .src_rate = p->edge_src_rate,
	    .src_burst = p->edge_src_burst,
	    .net_rate = p->edge_net_rate,
	    .net_burst = p->edge_net_burst,
	    .fail_limit = p->edge_fail_limit,
	    .fail_window_ms = p->edge_fail_window_s * 1000,
	    .ban_ms = p->blacklist_s * 1000,
	};

	sg_edge_set_conf(sg->edge, &c);
}

/* the edge layer's blacklist from the rows just loaded (t->bl) */
static void edge_bl(struct sg *sg, const struct sg_tables *t)
{
	int64_t now = sw_time_mono_ms();
	struct sg_edge_addr a;

	sg_edge_bl_begin(sg->edge);
	for (size_t i = 0; i < t->nbl; i++) {
		const struct sg_bl_row *b = &t->bl[i];

		if (sg_edge_addr_text(&a, b->ip))
			sg_edge_bl_add(
			    sg->edge, &a,
			    b->left_ms < 0 ? INT64_MAX : now + b->left_ms, now);
	}
	sg_edge_bl_end(sg->edge, now);
	sw_info("blacklist applied: %zu entries",
		sg_edge_bl_count(sg->edge, now));
}

static void blacklist_reload(struct sg *sg);

static void bl_done(int err, struct sg_tables *t, void *arg)
{
	struct sg *sg = arg;

	sg->bl_reload = NULL;
	if (!err && t)
		edge_bl(sg, t);
	sg_tables_unref(t);
	if (sg->bl_again && !sg->stopping)
		blacklist_reload(sg);
}

/* only the blacklist changed: read it alone, not every table */
static void blacklist_reload(struct sg *sg)
{
	int e;

	if (sg->bl_reload) {
		sg->bl_again = true;
		return;
	}
	sg->bl_again = false;
	e = sg_db_load_blacklist_async(&sg->bl_reload, sg->root, sg->cfg.db,
				       bl_done, sg);
	if (e)
		sw_err("blacklist reload not started: %s", strerror(e));
}

static void reload_done(int err, struct sg_tables *t, void *arg)
{
	struct sg *sg = arg;

	sg->reload = NULL;
	if (!err && t) {
		sg_tables_unref(sg->tables);
		sg->tables = t;
		sg_sip_params(sg);
		edge_conf(sg);
		edge_bl(sg, t);
	} /* else logged by db.c; the old tables stay */
	if (!sg->stopping)
		sw_notify_ready(NULL); /* a SIGHUP's reload is over */
	if (sg->reload_again && !sg->stopping)
		sg_reload_tables(sg);
}

/* Reload the routing tables without blocking (SIGHUP, config.changed). */
void sg_reload_tables(struct sg *sg)
{
	int e;

	if (sg->reload) {
		sg->reload_again = true; /* the data changed meanwhile */
		return;
	}
	sg->reload_again = false;
	e = sg_db_load_async(&sg->reload, sg->root, sg->cfg.db, reload_done,
			     sg);
	if (e)
		sw_err("routing tables reload not started: %s", strerror(e));
}

/* the database says the configuration changed (watch.c) */
static void tables_changed(void *arg, bool full)
{
	struct sg *sg = arg;

	if (sg->stopping)
		return;
	if (full)
		sg_reload_tables(sg);
	else
		blacklist_reload(sg);
}

static void reload(struct sg *sg)
{
	struct sg_config cfg;
	char err[256];

	/* local config: only the log level applies live */
	if (sg->conf_path &&
	    !sg_config_load(&cfg, sg->conf_path, err, sizeof(err))) {
		sw_log_set_level(cfg.log_level);
		sg->cfg.log_level = cfg.log_level;
	} else if (sg->conf_path) {
		sw_warn("config not reloaded: %s", err);
	}
	sw_info("SIGHUP: reloading routing tables");
	sw_notify_reloading();
	sg_reload_tables(sg);
}

static void drain_check(void *magic, su_timer_t *t, void *arg);

static void stop(struct sg *sg)
{
	unsigned open, lingering;

	if (sg->stopping)
		return;
	sg->stopping = true;
	if (sg->cfg.keep_calls_on_stop) {
		unsigned kept = sg_call_keep_answered(sg);

		if (kept)
			sw_info("stopping: %u answered calls kept up for the "
				"next start",
				kept);
	}
	sg_call_drain_counts(sg, &open, &lingering);
	sw_info("stopping: %u calls to end, %zu CDRs pending", lingering,
		sg_spool_pending(sg->spool));
	sw_notify_stopping("draining calls and CDRs");
	sg_call_terminate_all(sg, "Shutdown");
	sg->last_cdr_kick_ms = sw_time_mono_ms(); /* drain deadline */
	sg_timer_start(sg, 50, drain_check, sg);
}

static void drain_check(void *magic, su_timer_t *t, void *arg)
{
	struct sg *sg = arg;
	int64_t waited = sw_time_mono_ms() - sg->last_cdr_kick_ms;
	unsigned open, lingering, kept;
	bool drained;

	sg_call_drain_counts(sg, &open, &lingering);
	drained = open == 0 && sg_spool_inflight(sg->spool) == 0 &&
		  (lingering == 0 || waited >= LINGER_MS);

	(void)magic;
	su_timer_destroy(t);
	if (drained || waited >= DRAIN_MS) {
		if (open || sg_spool_pending(sg->spool))
			sw_warn("drain cut after %lld ms: %u calls' CDRs "
				"written without the media node's statistics, "
				"%zu CDRs kept in the spool for the next start",
				(long long)waited, open,
				sg_spool_pending(sg->spool) + open);
		if (lingering > open)
			sw_info("%u calls' transactions toward peers left "
				"unanswered",
				lingering - open);
		if (open)
			sg_call_finish_unfinished(sg); /* into the spool */
		kept = sg_call_detach_kept(sg);
		if (kept)
			sw_info("%u answered calls left up for the next start",
				kept);
		sw_info("drained in %lld ms", (long long)waited);
		su_root_break(sg->root);
		return;
	}
	sg_spool_sync(sg->spool);
	sg_billing_kick(sg->billing);
	sg_timer_start(sg, 50, drain_check, sg);
}

static int signal_ready(void *magic, su_wait_t *w, void *arg)
{
	struct sg *sg = arg;
	struct signalfd_siginfo si;

	(void)magic;
	(void)w;
	while (read(sg->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(sg);
		else
			stop(sg);
	}
	return 0;
}

static void tick(void *magic, su_timer_t *t, void *arg)
{
	struct sg *sg = arg;
	int64_t now = sw_time_mono_ms();

	(void)magic;
	(void)t;
	sg_keepalive_tick(sg);
	sg_outreg_tick(sg);
	sg_sip_restore_registrations(sg);
	sg_admit_tick(sg, now);
	sg_media_check(sg->media, sg_call_media_lost, sg);
	if (sg->watchdog)
		sw_notify_watchdog();
	sg_metrics_publish(sg);
	if (now - sg->last_cal_ms >= 30000) {
		sg->last_cal_ms = now;
		sg_spool_compact(sg->spool);
		sg_recovery_compact(sg);
		sg_calendar_refresh(sg->tables->cals, sg->tables->ncals,
				    time(NULL));
	}
	if (now - sg->last_cdr_kick_ms >= sg->cfg.cdr_retry_ms &&
	    !sg->stopping) {
		sg->last_cdr_kick_ms = now;
		if (sg_spool_sync(sg->spool))
			sw_err("CDR journal fdatasync failed: %s",
			       strerror(errno));
		sg_billing_kick(sg->billing);
		sg_billing_probe(sg->billing, 1000);
	}
}

static void flush_now(void *magic, su_timer_t *t, void *arg)
{
	struct sg *sg = arg;
	int err;

	(void)magic;
	(void)t;
	sg_timer_stop(&sg->t_flush);
	sg->last_flush_ms = sw_time_mono_ms();
	err = sg_spool_sync(sg->spool);
	if (err)
		sw_err("CDR journal fdatasync failed: %s (CDRs stay unsent "
		       "until it works)",
		       strerror(err));
	sg_billing_kick(sg->billing);
}

/*
 * New CDRs were written to the journal: make them durable and send them
 * with one fdatasync for every CDR written meanwhile (group commit), 1 ms
 * from now or SG_CDR_FLUSH_MS after the last one, whichever is later: a
 * lone CDR goes at once, under load the syncs are at most 100 a second.
 */
void sg_spool_flush_soon(struct sg *sg)
{
	int64_t wait = sg->last_flush_ms + SG_CDR_FLUSH_MS - sw_time_mono_ms();

	if (!sg->t_flush)
		sg->t_flush =
		    sg_timer_start(sg, wait > 1 ? wait : 1, flush_now, sg);
}

/* Check the config file only (-t). */
int sg_check_config(const char *conf_path)
{
	struct sg_config cfg;
	char err[512];
	int e = sg_config_load(&cfg, conf_path, err, sizeof(err));

	if (e)
		fprintf(stderr, "%s\n", err);
	return e;
}

/*
 * Bring the daemon up: config, routing tables (blocking, before SIP
 * listens), CDR spool, bus sockets, SIP.  On error the message is logged
 * and the partly built sg must be freed with sg_free().
 */
int sg_start(struct sg **sgp, const char *conf_path)
{
	struct sg *sg;
	char err[512] = "";
	sigset_t set;
	int e;

	sg = calloc(1, sizeof(*sg));
	if (!sg)
		return ENOMEM;
	*sgp = sg;
	sg->sig_fd = -1;
	sg->conf_path = conf_path;
	sg->start_mono_ms = sw_time_mono_ms();
	sw_uuid_gen(sg->nonce_secret);
	e = sg_nonces_alloc(&sg->nonces);
	if (!e)
		e = sg_edge_alloc(&sg->edge);
	if (!e)
		e = sg_calls_alloc(&sg->calls);
	if (!e)
		e = sg_lines_alloc(&sg->lines);
	if (!e)
		e = sg_callerpool_alloc(&sg->callerpool);
	if (!e)
		e = sg_stats_alloc(&sg->stats);
	if (!e)
		e = sg_keepalive_alloc(&sg->keepalive);
	if (!e)
		e = sg_outreg_alloc(&sg->outreg);
	if (!e)
		e = sg_registrar_alloc(&sg->registrar);
	if (!e)
		e = sg_alias_alloc(&sg->alias);
	if (e)
		goto out;

	e = sg_config_load(&sg->cfg, conf_path, err, sizeof(err));
	if (e)
		goto out;
	sw_log_set_level(sg->cfg.log_level);

	/* signals through a signalfd; blocked before any thread exists */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sg->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sg->sig_fd < 0) {
		e = errno;
		snprintf(err, sizeof(err), "signalfd: %s", strerror(e));
		goto out;
	}

	if (su_init() < 0) {
		e = EIO;
		snprintf(err, sizeof(err), "su_init failed");
		goto out;
	}
	sg->root = su_root_create(NULL);
	if (!sg->root) {
		e = ENOMEM;
		snprintf(err, sizeof(err), "su_root_create failed");
		goto out;
	}
	su_root_threading(sg->root, 0);

	sg_db_lastgood(sg->cfg.spool_dir);
	e = sg_db_load_sync(&sg->tables, sg->cfg.db, err, sizeof(err));
	if (e) {
		char why[512], when[40];
		int64_t saved_ms = 0;

		if (sg_db_load_lastgood(&sg->tables, &saved_ms, why,
					sizeof(why))) {
			sw_err("PostgreSQL unavailable (%s) and no last good "
			       "tables: %s",
			       err, why);
			goto out;
		}
		sw_time_iso(when, sizeof(when), saved_ms);
		sw_warn("PostgreSQL unavailable (%s): serving the last good "
			"tables, loaded %s; reloading when it is back",
			err, when);
		err[0] = '\0';
	}
	sw_info("routing tables loaded: %zu mapping gateways, %zu routing "
		"gateways",
		sg->tables->nmgws, sg->tables->ngws);
	edge_conf(sg);
	edge_bl(sg, sg->tables);
	e = sg_edgedb_start(&sg->edgedb, sg->cfg.db, sg->cfg.node_id);
	if (e) {
		snprintf(err, sizeof(err), "blacklist writer: %s", strerror(e));
		goto out;
	}
	/* committed changes reload the tables live (watch.h) */
	e = sg_watch_start(&sg->watch, sg, sg->cfg.db, tables_changed, sg);
	if (e) {
		snprintf(err, sizeof(err), "change notifications: %s",
			 strerror(e));
		goto out;
	}

	e = sg_spool_open(&sg->spool, sg->cfg.spool_dir, err, sizeof(err));
	if (e)
		goto out;
	e = sg_recovery_open(sg, err, sizeof(err));
	if (e)
		goto out;

	e = sw_bus_alloc(&sg->bus);
	if (e) {
		snprintf(err, sizeof(err), "bus: %s", strerror(e));
		goto out;
	}
	e = sw_bus_set_pki(sg->bus, sg->cfg.bus_pki, err, sizeof(err));
	if (e)
		goto out;
	su_wait_create(sg->bus_wait, sw_bus_fd(sg->bus), SU_WAIT_IN);
	if (su_root_register(sg->root, sg->bus_wait, bus_ready, sg, 0) < 0) {
		e = EIO;
		snprintf(err, sizeof(err), "cannot watch the bus");
		goto out;
	}
	sg->bus_registered = true;
	su_wait_create(sg->sig_wait, sg->sig_fd, SU_WAIT_IN);
	if (su_root_register(sg->root, sg->sig_wait, signal_ready, sg, 0) < 0) {
		e = EIO;
		snprintf(err, sizeof(err), "cannot watch signals");
		goto out;
	}
	sg->sig_registered = true;

	e = sg_billing_alloc(&sg->billing, sg->bus, sg->cfg.billing_url,
			     sg->spool);
	if (e) {
		snprintf(err, sizeof(err), "billing_url %s: %s",
			 sg->cfg.billing_url, strerror(e));
		goto out;
	}
	sg_billing_on_restart(sg->billing, sg_call_billing_restarted, sg);
	e = sg_media_alloc(&sg->media, sg->bus, sg->cfg.media_nodes);
	if (e) {
		snprintf(err, sizeof(err), "media_nodes: %s", strerror(e));
		goto out;
	}
	e = sg_ctl_start(sg, err, sizeof(err));
	if (e)
		goto out;
	e = sg_sip_start(sg, err, sizeof(err));
	if (e)
		goto out;

	sg->tick = su_timer_create(su_root_task(sg->root), 500);
	if (!sg->tick || su_timer_set_for_ever(sg->tick, tick, sg) < 0) {
		e = ENOMEM;
		snprintf(err, sizeof(err), "cannot start the tick timer");
		goto out;
	}
	e = sw_metrics_start(&sg->metrics, sg->cfg.metrics_listen, err,
			     sizeof(err));
	if (e)
		goto out;
	sg_metrics_publish(sg);
	sg_recovery_restore(sg);      /* calls answered before a restart */
	sg_billing_kick(sg->billing); /* resend what the spool recovered */
	sg_billing_probe(sg->billing, 1000);
	sw_info("signalingd %s node %s started", TANDEM_VERSION,
		sg->cfg.node_id);
	/* systemd: WatchdogSec= is pinged from the 500 ms tick */
	sg->watchdog = sw_notify_watchdog_ms() != 0;
	sw_notify_ready("serving");

out:
	if (e)
		sw_err("start-up failed: %s", err[0] ? err : strerror(e));
	return e;
}

/* Run the loop until SIGTERM/SIGINT has drained the calls. */
int sg_run(struct sg *sg)
{
	sg_loopwait_enter();
	su_root_run(sg->root);
	sg_loopwait_leave();
	return 0;
}

/* Tear everything down (accepts a partly started sg). */
void sg_free(struct sg *sg)
{
	if (!sg)
		return;
	if (sg_calls_count(sg->calls) && sg->root && !sg->stopping) {
		/* give BYEs and media.delete a moment */
		int64_t until = sw_time_mono_ms() + 500;

		sg_call_terminate_all(sg, "Shutdown");
		while (sg_calls_count(sg->calls) && sw_time_mono_ms() < until)
			su_root_step(sg->root, 50);
	}
	sg->stopping = true;
	if (sg->tick)
		su_timer_destroy(sg->tick);
	sw_metrics_stop(sg->metrics);
	sg->metrics = NULL;
	sg_timer_stop(&sg->t_flush);
	sg_watch_stop(sg->watch);
	sg->watch = NULL;
	sg_db_cancel(sg->reload);
	sg_db_cancel(sg->bl_reload);
	/* outstanding bus requests end with an error; let their handlers
	 * free their contexts before the bus goes away */
	sg_billing_close(sg->billing);
	sg_media_close(sg->media);
	if (sg->root) {
		int64_t until = sw_time_mono_ms() + TEARDOWN_MS;

		while ((sg_billing_inflight() || sg_media_inflight()) &&
		       sw_time_mono_ms() < until)
			su_root_step(sg->root, 10);
	}
	sg_call_free_all(sg);
	sg_keepalive_free(sg->keepalive);
	sg->keepalive = NULL;
	sg_outreg_free(sg->outreg);
	sg->outreg = NULL;
	sg_registrar_free(sg->registrar);
	sg->registrar = NULL;
	sg_alias_free(sg->alias); /* its connections are the agent's */
	sg->alias = NULL;
	sg_sip_stop(sg);
	if (sg->root && sg->sig_registered)
		su_root_unregister(sg->root, sg->sig_wait, signal_ready, sg);
	if (sg->root && sg->bus_registered)
		su_root_unregister(sg->root, sg->bus_wait, bus_ready, sg);
	sg_billing_free(sg->billing);
	sg_media_free(sg->media);
	sw_bus_free(sg->bus);
	sg_spool_close(sg->spool);
	sg_recovery_close(sg);
	sg_tables_unref(sg->tables);
	sg_lastgood_wait();
	sg_admit_free(sg);
	sg_stats_free(sg->stats);
	sg_nonces_free(sg->nonces);
	sg_edgedb_stop(sg->edgedb);
	sg_edge_free(sg->edge);
	sg_lines_free(sg->lines);
	sg_callerpool_free(sg->callerpool);
	sg_calls_free(sg->calls);
	sg->calls = NULL;
	if (sg->root) {
		su_root_destroy(sg->root);
		su_deinit();
	}
	if (sg->sig_fd >= 0)
		close(sg->sig_fd);
	free(sg);
}
