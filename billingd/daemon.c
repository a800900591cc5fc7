/*
 * daemon.c - one billingd process: start its parts, dispatch bus requests,
 * handle signals, drain on shutdown
 */
#define SW_LOG_MODULE "billingd"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "billingd/libre.h"

#include "billingd/auth.h"
#include "billingd/cdr.h"
#include "billingd/card.h"
#include "billingd/alarm.h"
#include "billingd/daemon.h"
#include "billingd/db.h"
#include "billingd/http.h"
#include "billingd/lookup.h"
#include "billingd/metrics.h"
#include "billingd/params.h"
#include "billingd/resv.h"
#include "billingd/sgpeers.h"
#include "billingd/status.h"
#include "common/bus.h"
#include "common/log.h"
#include "common/sdnotify.h"
#include "common/uuid.h"
#include "common/swtime.h"
#include "proto/proto.h"

/* Seconds since this process started. */
int64_t bd_uptime_s(const struct bd *bd)
{
	return bd ? (sw_time_mono_ms() - bd->start_ms) / 1000 : 0;
}

static void finish(void *arg)
{
	struct bd *bd = arg;

	if (bd->pending)
		sw_warn("stopping with %u requests still waiting for the "
			"database (they will be resent)",
			bd->pending);
	else
		sw_info("drained, stopping");
	re_cancel();
}

/* A bus request now waits for the database. */
void bd_pending_inc(struct bd *bd)
{
	bd->pending++;
}

/* ...and no longer does; the last one ends a drain. */
void bd_pending_dec(struct bd *bd)
{
	if (bd->pending)
		bd->pending--;
	if (bd->draining && !bd->pending)
		tmr_start(&bd->drain_tmr, 0, finish, bd);
}

static void drain(struct bd *bd, int sig)
{
	if (bd->draining) {
		sw_info("second %s: stopping now", strsignal(sig));
		re_cancel();
		return;
	}
	sw_info("%s: draining (%u requests waiting for the database)",
		strsignal(sig), bd->pending);
	bd->draining = true;
	sw_notify_stopping("draining");
	tmr_start(&bd->drain_tmr, bd->pending ? BD_DRAIN_MS : 0, finish, bd);
}

static void reload(struct bd *bd)
{
	struct bd_conf conf;
	char err[512];

	sw_notify_reloading();
	if (bd_conf_load(&conf, bd->conf_path, err, sizeof(err))) {
		sw_err("SIGHUP: config not reloaded: %s", err);
	} else {
		if (strcmp(conf.db, bd->conf.db) ||
		    strcmp(conf.bus_listen, bd->conf.bus_listen) ||
		    strcmp(conf.http_listen, bd->conf.http_listen) ||
		    strcmp(conf.metrics_listen, bd->conf.metrics_listen) ||
		    strcmp(conf.signaling_url, bd->conf.signaling_url) ||
		    strcmp(conf.node_id, bd->conf.node_id))
			sw_warn("SIGHUP: only log_level is applied live; "
				"restart for db, bus_listen, http_listen, "
				"metrics_listen, signaling_url and node_id");
		bd->conf.log_level = conf.log_level;
		sw_log_set_level(conf.log_level);
		sw_info("SIGHUP: config reloaded");
	}
	bd_params_refresh(bd->params);
	sw_notify_ready(NULL);
}

static void signal_h(int flags, void *arg)
{
	struct bd *bd = arg;
	struct signalfd_siginfo si;

	(void)flags;
	while (read(bd->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {

		case SIGHUP:
			reload(bd);
			break;

		case SIGTERM:
		case SIGINT:
			drain(bd, (int)si.ssi_signo);
			break;

		default:
			break;
		}
	}
}

static void bus_fd_h(int flags, void *arg)
{
	struct bd *bd = arg;

	(void)flags;
	sw_bus_drain(bd->bus);
}

/* reservations whose call is gone (resv.h) */
static void resv_sweep(void *arg)
{
	struct bd *bd = arg;

	bd_resv_expire(bd->resv, sw_time_mono_ms());
	if (bd->watchdog)
		sw_notify_watchdog(); /* WatchdogSec= above 10 s */
	tmr_start(&bd->resv_tmr, BD_RESV_SWEEP_MS, resv_sweep, bd);
}

static void ping(struct bd *bd, struct sw_bus_req *req)
{
	json_t *body = bd_status_self(bd);

	if (!body)
		sw_bus_reply_error(req, SW_ERR_INTERNAL, "out of memory");
	else
		sw_bus_reply(req, body);
}

/* every request on bus_listen; each is answered exactly once */
static void bus_req_h(struct sw_bus_req *req, const struct sw_env *env,
		      void *arg)
{
	struct bd *bd = arg;

	if (!strcmp(env->type, SW_MSG_HEALTH_PING))
		ping(bd, req);
	else if (!strcmp(env->type, SW_MSG_AUTH_REQUEST))
		bd_auth_request(bd, req, env);
	else if (!strcmp(env->type, SW_MSG_AUTH_EXTEND))
		bd_auth_extend(bd, req, env);
	else if (!strcmp(env->type, SW_MSG_AUTH_RELEASE))
		bd_auth_release(bd, req, env);
	else if (!strcmp(env->type, SW_MSG_CDR_SUBMIT))
		bd_cdr_submit(bd->cdr, req, env);
	else
		sw_bus_reply_error(req, SW_ERR_UNKNOWN_TYPE,
				   "billingd does not handle '%s'", env->type);
}

static void db_state_h(bool up, void *arg)
{
	struct bd *bd = arg;

	if (!up)
		return;
	bd_params_refresh(bd->params);
	bd_cdr_db_up(bd->cdr);
}

static void destructor(void *arg)
{
	struct bd *bd = arg;

	tmr_cancel(&bd->drain_tmr);
	tmr_cancel(&bd->resv_tmr);
	/* no more ticks reading the parts below; what they count from now
	 * on (requests dying with them) goes nowhere */
	bd->metrics = mem_deref(bd->metrics);
	/* the database first: its queued queries die without handlers */
	bd->db = mem_deref(bd->db);
	bd->alarms = mem_deref(bd->alarms);
	bd->http = mem_deref(bd->http);
	/* before the bus: it cancels the requests still out */
	bd->sgpeers = mem_deref(bd->sgpeers);
	if (bd->bus_fd >= 0)
		fd_close(bd->bus_fd);
	sw_bus_free(bd->bus);
	bd->params = mem_deref(bd->params);
	bd->cdr = mem_deref(bd->cdr);
	bd->lookup = mem_deref(bd->lookup);
	bd_resv_free(bd->resv);
	if (bd->sig_fd >= 0) {
		fd_close(bd->sig_fd);
		close(bd->sig_fd);
	}
}

static int signals_open(struct bd *bd)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return errno;
	signal(SIGPIPE, SIG_IGN);

	bd->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (bd->sig_fd < 0)
		return errno;

	return fd_listen(bd->sig_fd, FD_READ, signal_h, bd);
}

/*
 * Start billingd on the current re_main loop: signals, database pool,
 * parameter cache, bus server, signalingd peers, HTTP API, metrics.  Listening
 * failures are fatal (the error is logged); a database that is down is not
 * (it is reconnected).  Free with mem_deref().
 */
int bd_alloc(struct bd **bdp, const struct bd_conf *conf, const char *conf_path)
{
	struct bd *bd;
	int err;

	if (!bdp || !conf)
		return EINVAL;

	bd = mem_zalloc(sizeof(*bd), destructor);
	if (!bd)
		return ENOMEM;

	bd->conf = *conf;
	bd->conf_path = conf_path;
	bd->bus_fd = -1;
	bd->sig_fd = -1;
	bd->start_ms = sw_time_mono_ms();
	tmr_init(&bd->drain_tmr);
	tmr_init(&bd->resv_tmr);
	sw_uuid_gen(bd->boot);
	err = bd_resv_alloc(&bd->resv);
	if (err)
		goto out;
	tmr_start(&bd->resv_tmr, BD_RESV_SWEEP_MS, resv_sweep, bd);

	err = signals_open(bd);
	if (err) {
		sw_err("signals: %s", strerror(err));
		goto out;
	}

	err = bd_db_alloc(&bd->db, conf->db, BD_DB_CONNS, db_state_h, bd);
	if (err)
		goto out;
	(void)bd_card_prepare(bd->db);
	err = bd_lookup_alloc(&bd->lookup, bd->db);
	if (err)
		goto out;
	err = bd_params_alloc(&bd->params, bd->db);
	if (err)
		goto out;
	err = bd_cdr_alloc(&bd->cdr, bd);
	if (err)
		goto out;

	err = sw_bus_alloc(&bd->bus);
	if (err) {
		sw_err("bus: %s", strerror(err));
		goto out;
	}
	{
		char msg[512];

		err = sw_bus_set_pki(bd->bus, conf->bus_pki, msg, sizeof(msg));
		if (err) {
			sw_err("%s", msg);
			goto out;
		}
	}
	bd->bus_fd = sw_bus_fd(bd->bus);
	err = fd_listen(bd->bus_fd, FD_READ, bus_fd_h, bd);
	if (err) {
		bd->bus_fd = -1;
		sw_err("bus fd: %s", strerror(err));
		goto out;
	}
	err = sw_bus_listen_rep(bd->bus, conf->bus_listen, SW_ROLE_SIGNALING,
				BD_BUS_CONTEXTS, bus_req_h, bd);
	if (err) {
		sw_err("bus_listen %s: %s", conf->bus_listen, strerror(err));
		goto out;
	}
	err = bd_sgpeers_alloc(&bd->sgpeers, bd->bus, conf->signaling_url);
	if (err) {
		sw_err("signaling_url %s: %s", conf->signaling_url,
		       strerror(err));
		goto out;
	}

	err = bd_alarms_alloc(&bd->alarms, bd);
	if (err) {
		sw_err("alarms: %s", strerror(err));
		goto out;
	}
	err = bd_http_alloc(&bd->http, bd, conf->http_listen);
	if (err)
		goto out;
	err = bd_metrics_alloc(&bd->metrics, bd, conf->metrics_listen);
	if (err)
		goto out;

	sw_info("node %s: bus %s, signalingd %s", conf->node_id,
		conf->bus_listen, conf->signaling_url);

out:
	if (err)
		mem_deref(bd);
	else
		*bdp = bd;

	return err;
}
