/*
 * node.c - set-up, reload and tear-down of a mediaproxyd process
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mediaproxy/libre.h"

#define SW_LOG_MODULE "node"
#include "common/bus.h"
#include "common/log.h"
#include "common/sdnotify.h"
#include "common/swtime.h"
#include "mediaproxy/control.h"
#include "mediaproxy/heartbeat.h"
#include "mediaproxy/metrics.h"
#include "mediaproxy/node.h"
#include "mediaproxy/relay.h"
#include "mediaproxy/session.h"
#include "mediaproxy/share.h"

#define TICK_MS	     1000 /* RTP timeout resolution */
#define REP_CONTEXTS 32	  /* bus requests served concurrently */

static int hup_fd = -1; /* write end of the SIGHUP pipe */

static void bus_readable(int flags, void *arg)
{
	struct mp_node *node = arg;

	(void)flags;
	sw_bus_drain(node->bus);
}

static void tick(void *arg)
{
	struct mp_node *node = arg;

	/* systemd: WatchdogSec= is pinged from the 1 s tick */
	node->watchdog = sw_notify_watchdog_ms() != 0;
	tmr_start(&node->tick, TICK_MS, tick, node);
	mp_session_tick(node);
	mp_metrics_publish(node);
	if (node->watchdog)
		sw_notify_watchdog();
	if (node->draining && !node->nsessions) {
		sw_info("drained: no session left, stopping");
		re_cancel();
	} else if (node->draining &&
		   sw_time_mono_ms() >= node->drain_until_ms) {
		sw_warn("drain_timeout_s reached: closing %u sessions",
			node->nsessions);
		re_cancel();
	}
}

#define XTICK_MS 10 /* media engine clock (mp_xcode_tick) */

/*
 * The engines' clock: read what the engine sessions' sockets hold, then
 * tick every engine, all in one burst.  The deadlines are absolute, so
 * the clock does not drift by the time the burst takes.
 */
static void xtick(void *arg)
{
	struct mp_node *node = arg;
	int64_t now, wait;

	(void)mp_relay_poll(node->xepfd);
	mp_session_xtick(node);
	if (list_isempty(&node->xsessions))
		return;
	now = sw_time_mono_ms();
	node->xtick_due_ms += XTICK_MS;
	if (node->xtick_due_ms < now - XTICK_MS)
		node->xtick_due_ms = now; /* stalled: do not catch up */
	wait = node->xtick_due_ms - now;
	tmr_start(&node->xtick, wait > 0 ? (uint64_t)wait : 0, xtick, node);
}

/* Run the engines' 10 ms clock (no-op when it runs already). */
void mp_node_xtick_start(struct mp_node *node)
{
	if (!node || tmr_isrunning(&node->xtick))
		return;
	node->xtick_due_ms = sw_time_mono_ms() + XTICK_MS;
	tmr_start(&node->xtick, XTICK_MS, xtick, node);
}

/*
 * A signal, from its handler (libre's for SIGTERM/SIGINT, ours for SIGHUP):
 * one byte into the pipe, the loop acts on it (async-signal-safe).
 */
void mp_node_on_signal(int sig)
{
	int saved = errno;
	char c = sig == SIGHUP ? 'H' : 'T';

	if (sig != SIGHUP && sig != SIGTERM && sig != SIGINT)
		return;
	if (hup_fd >= 0)
		(void)!write(hup_fd, &c, 1);
	errno = saved;
}

/*
 * SIGTERM (docs/mediaproxyd.md "Stopping"): with drain_timeout_s, no new
 * session is taken and the others are kept until they end or the timeout
 * comes (the tick checks); signalingd learns it from the next heartbeat,
 * sent at once.  Without, or with no session, or at a second SIGTERM: the
 * loop ends and every session is closed.
 */
static void drain(struct mp_node *node)
{
	if (node->draining) {
		sw_info("second SIGTERM: closing %u sessions now",
			node->nsessions);
		re_cancel();
		return;
	}
	if (!node->conf.drain_timeout_s || !node->nsessions) {
		re_cancel();
		return;
	}
	node->draining = true;
	node->drain_until_ms =
	    sw_time_mono_ms() + node->conf.drain_timeout_s * 1000;
	sw_info("SIGTERM: draining %u sessions (at most %lld s), no new "
		"session taken",
		node->nsessions, (long long)node->conf.drain_timeout_s);
	sw_notify_stopping("draining");
	mp_heartbeat_restart(node->hb);
}

static void hup_readable(int flags, void *arg)
{
	struct mp_node *node = arg;
	bool hup = false, term = false;
	char buf[16];
	ssize_t n;

	(void)flags;
	while ((n = read(node->hup_pipe[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			hup |= buf[i] == 'H';
			term |= buf[i] == 'T';
		}
	}
	if (hup)
		mp_node_reload(node);
	if (term)
		drain(node);
}

static int hup_setup(struct mp_node *node)
{
	struct sigaction sa;
	int err;

	if (pipe2(node->hup_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return errno;
	hup_fd = node->hup_pipe[1];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mp_node_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGHUP, &sa, NULL) < 0)
		return errno;

	err = fd_listen(node->hup_pipe[0], FD_READ, hup_readable, node);

	return err;
}

/* one PUSH peer toward a signalingd of signaling_url */
static int dial_sig(const char *url, void *arg)
{
	struct mp_node *node = arg;
	int err;

	if (node->nsig == MP_SIG_MAX) {
		sw_err("signaling_url: more than %d signalingd", MP_SIG_MAX);
		return E2BIG;
	}
	err = sw_bus_dial_push(&node->sig[node->nsig], node->bus, url,
			       SW_ROLE_SIGNALING, NULL);
	if (err) {
		sw_err("dial %s: %s", url, strerror(err));
		return err;
	}
	node->nsig++;
	return 0;
}

/*
 * Push a message to every signalingd the node serves (body stolen): a
 * heartbeat so that each can use the node, an event so that the one whose
 * call it is gets it (the others know no such session and drop it).
 * Returns the first error, or ENOTCONN with no signalingd at all.
 */
int mp_node_push(struct mp_node *node, const char *type, json_t *body)
{
	int first = node && node->nsig ? 0 : ENOTCONN;

	for (size_t i = 0; node && i < node->nsig; i++) {
		int e = sw_bus_push(node->sig[i], type, json_incref(body));

		if (e && !first)
			first = e;
	}
	json_decref(body);
	return first;
}

/*
 * Bring a node up: port range, bus listener, PUSH peer to signalingd,
 * heartbeat, metrics_listen, timeout tick, SIGHUP reload.  conf is
 * copied.  Call after libre_init(); run re_main() afterwards.
 */
int mp_node_alloc(struct mp_node **nodep, const struct mp_conf *conf,
		  const char *conf_path)
{
	struct mp_node *node;
	uint32_t npairs;
	int err;

	if (!nodep || !conf)
		return EINVAL;

	node = mem_zalloc(sizeof(*node), NULL);
	if (!node)
		return ENOMEM;
	node->conf = *conf;
	node->hup_pipe[0] = node->hup_pipe[1] = -1;
	node->xepfd = -1;
	node->start_ms = sw_time_mono_ms();
	tmr_init(&node->tick);
	tmr_init(&node->xtick);
	list_init(&node->xsessions);
	(void)snprintf(node->conf_path, sizeof(node->conf_path), "%s",
		       conf_path ? conf_path : "");
	sw_log_set_level(conf->log_level);

	err = sa_set_str(&node->laddr, conf->rtp_ip, 0);
	if (err) {
		sw_err("rtp_ip %s: %s", conf->rtp_ip, strerror(err));
		goto out;
	}

	err = mp_ports_init(&node->ports, (uint32_t)conf->port_min,
			    (uint32_t)conf->port_max);
	if (err) {
		sw_err("port range %lld..%lld: %s", (long long)conf->port_min,
		       (long long)conf->port_max, strerror(err));
		goto out;
	}
	npairs = node->ports.npairs;
	node->pair_cap = npairs;
	{
		struct rlimit rl;

		/* each pair is two descriptors; keep 128 for the rest */
		if (!getrlimit(RLIMIT_NOFILE, &rl) &&
		    rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur / 2 < (rlim_t)npairs + 64)
			node->pair_cap =
			    rl.rlim_cur > 128
				? (uint32_t)((rl.rlim_cur - 128) / 2)
				: 0;
	}

	node->xepfd = epoll_create1(EPOLL_CLOEXEC);
	if (node->xepfd < 0) {
		err = errno;
		sw_err("epoll_create1: %s", strerror(err));
		goto out;
	}

	err = hash_alloc(&node->sessions, hash_valid_size(npairs / 4 + 16));
	if (!err)
		err = mp_share_alloc(&node->share);
	if (err)
		goto out;

	err = sw_bus_alloc(&node->bus);
	if (err) {
		sw_err("bus: %s", strerror(err));
		goto out;
	}
	{
		char msg[512];

		err =
		    sw_bus_set_pki(node->bus, conf->bus_pki, msg, sizeof(msg));
		if (err) {
			sw_err("%s", msg);
			goto out;
		}
	}
	err = sw_bus_listen_rep(node->bus, conf->bus_listen, SW_ROLE_SIGNALING,
				REP_CONTEXTS, mp_control_request, node);
	if (err) {
		sw_err("listen on %s: %s", conf->bus_listen, strerror(err));
		goto out;
	}
	err = sw_bus_url_each(conf->signaling_url, dial_sig, node);
	if (err)
		goto out;
	err = fd_listen(sw_bus_fd(node->bus), FD_READ, bus_readable, node);
	if (err) {
		sw_err("bus fd: %s", strerror(err));
		goto out;
	}
	node->bus_fd_listening = true;

	err = hup_setup(node);
	if (err) {
		sw_err("SIGHUP handler: %s", strerror(err));
		goto out;
	}

	err = mp_heartbeat_alloc(&node->hb, node);
	if (err)
		goto out;
	{
		char msg[256];

		err = mp_metrics_start(node, msg, sizeof(msg));
		if (err) {
			sw_err("%s", msg);
			goto out;
		}
	}
	tmr_start(&node->tick, TICK_MS, tick, node);

	sw_info("node %s: bus %s, signaling %s, rtp %s ports %lld..%lld "
		"(%u pairs), advertised as %s, xcode budget %lld",
		conf->node_id, conf->bus_listen, conf->signaling_url,
		conf->rtp_ip, (long long)conf->port_min,
		(long long)conf->port_max, npairs, mp_conf_advertise_ip(conf),
		(long long)conf->xcode_budget);

out:
	if (err)
		mp_node_free(node);
	else
		*nodep = node;

	return err;
}

/* Tear a node down: sessions (their ports), timers, bus; NULL is fine. */
void mp_node_free(struct mp_node *node)
{
	if (!node)
		return;

	mp_metrics_stop(&node->metrics);
	tmr_cancel(&node->tick);
	tmr_cancel(&node->xtick);
	node->hb = mem_deref(node->hb);
	mp_session_close_all(node);
	if (node->bus_fd_listening)
		fd_close(sw_bus_fd(node->bus));
	if (node->bus)
		sw_bus_free(node->bus); /* closes the peer too */
	node->bus = NULL;
	node->nsig = 0;
	if (node->hup_pipe[0] >= 0) {
		fd_close(node->hup_pipe[0]);
		(void)close(node->hup_pipe[0]);
	}
	if (node->hup_pipe[1] >= 0) {
		hup_fd = -1;
		(void)close(node->hup_pipe[1]);
	}
	mem_deref(node->sessions);
	mem_deref(node->share);
	if (node->xepfd >= 0)
		(void)close(node->xepfd);
	mp_ports_close(&node->ports);
	mem_deref(node);
}

/*
 * SIGHUP: read the config file again.  Live: log_level, rtp_advertise_ip,
 * rtp_timeout_s, rtp_hold_timeout_s, heartbeat_ms, xcode_budget.  The
 * others (node_id, addresses, URLs, port range, metrics_listen) need a
 * restart; a change to them is logged and ignored.  A bad file changes nothing.
 */
void mp_node_reload(struct mp_node *node)
{
	struct mp_conf c;
	char err[512];
	struct mp_conf *o = &node->conf;

	sw_notify_reloading();
	if (mp_conf_load(&c, node->conf_path[0] ? node->conf_path : NULL, err,
			 sizeof(err))) {
		sw_err("reload refused: %s", err);
		sw_notify_ready(NULL);
		return;
	}

	if (strcmp(c.node_id, o->node_id) ||
	    strcmp(c.bus_listen, o->bus_listen) ||
	    strcmp(c.signaling_url, o->signaling_url) ||
	    strcmp(c.rtp_ip, o->rtp_ip) || c.port_min != o->port_min ||
	    c.port_max != o->port_max ||
	    strcmp(c.metrics_listen, o->metrics_listen)) {
		sw_warn("reload: node_id, bus_listen, signaling_url, rtp_ip, "
			"the port range and metrics_listen change on restart "
			"only");
	}

	o->log_level = c.log_level;
	sw_log_set_level(c.log_level);
	(void)snprintf(o->rtp_advertise_ip, sizeof(o->rtp_advertise_ip), "%s",
		       c.rtp_advertise_ip);
	o->rtp_timeout_s = c.rtp_timeout_s;
	o->rtp_hold_timeout_s = c.rtp_hold_timeout_s;
	o->xcode_budget = c.xcode_budget;
	o->drain_timeout_s = c.drain_timeout_s;
	if (c.heartbeat_ms != o->heartbeat_ms) {
		o->heartbeat_ms = c.heartbeat_ms;
		mp_heartbeat_restart(node->hb);
	}
	sw_info("configuration reloaded from %s",
		node->conf_path[0] ? node->conf_path : "(defaults)");
	sw_notify_ready(NULL);
}

/* Whole seconds since the node started. */
int64_t mp_node_uptime_s(const struct mp_node *node)
{
	return node ? (sw_time_mono_ms() - node->start_ms) / 1000 : 0;
}

/*
 * Pairs a new session can still get: the free pairs of the range, capped by
 * what the open-file limit leaves (what the heartbeat announces).
 */
/* Pairs the node can hold at once: its range, or what its file limit allows. */
uint32_t mp_node_usable_pairs(const struct mp_node *node)
{
	if (!node)
		return 0;
	return node->ports.npairs < node->pair_cap ? node->ports.npairs
						   : node->pair_cap;
}

uint32_t mp_node_free_pairs(const struct mp_node *node)
{
	uint32_t used, free_pairs;

	if (!node)
		return 0;
	free_pairs = mp_ports_free_count(&node->ports);
	used = node->ports.npairs - free_pairs;
	if (used >= node->pair_cap)
		return 0;

	return node->pair_cap - used < free_pairs ? node->pair_cap - used
						  : free_pairs;
}
