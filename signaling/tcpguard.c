/*
 * tcpguard.c - SIP over TCP held in bounds (tcpguard.h)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define SW_LOG_MODULE "tcp"
#include "common/log.h"
#include "common/swtime.h"
#include "signaling/tcpguard.h"

#define FD_TRACK_MAX 65536 /* descriptors whose age is tracked */

/* counters since start (the summary line of report()) */
struct sg_tcpguard_stats {
	uint64_t shed_source;  /* over the per-source cap */
	uint64_t shed_total;   /* over the total cap */
	uint64_t shed_unknown; /* unknown source, grace over */
	uint64_t shed_idle;    /* never sent a byte in idle_ms */
	uint64_t rejected;     /* request failed the edge check */
	uint64_t refused_fd;   /* accepted and closed at the fd limit */
	uint64_t blind_sweeps; /* no descriptor to list descriptors with */
	unsigned open;	       /* connections seen by the last sweep */
};

/* what the guard knows of a descriptor between sweeps */
struct fdinfo {
	uint64_t peer;	  /* hash of the peer it had: a new one resets all */
	int64_t since_ms; /* first seen (monotonic) */
	bool shed;	  /* shut down by us; sofia closes it soon */
};

/* one connection found by a sweep */
struct conn {
	int fd;
	struct sockaddr_storage peer;
	int64_t since_ms;
	bool trusted;
	bool keep;
};

struct vouched {
	struct sockaddr_storage addr; /* port zeroed */
	int64_t expires_ms;
};

struct sg_tcpguard {
	su_root_t *root; /* borrowed */
	struct sg_tcpguard_conf conf;
	unsigned port;
	sg_tcpguard_trusted_h *trusted_h;
	void *arg;
	int listen_fd; /* sofia's, borrowed */
	int watch_fd;  /* owned: dup of listen_fd, tells of new connections */
	su_wait_t wait[1];
	bool registered;
	int spare_fd; /* owned: given up to accept-and-close at the limit */
	su_timer_t *sweep_timer; /* owned */
	su_timer_t *tick;	 /* owned: the 1 s sweep */
	bool sweep_pending;
	int64_t last_sweep_ms;
	int64_t last_report_ms;
	struct fdinfo *fds; /* owned, FD_TRACK_MAX */
	struct conn *conns; /* owned, grown as needed */
	size_t nconns_cap;
	struct vouched vouched[SG_TCPG_VOUCHED];
	struct sg_tcpguard_stats st;
	struct sg_tcpguard_stats reported;
};

static unsigned sa_port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
	return 0;
}

/* the address part of ss only (no port, no flow info), for comparisons */
static void addr_only(struct sockaddr_storage *out, const struct sockaddr *sa)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *o = (struct sockaddr_in *)(void *)out;

		o->sin_family = AF_INET;
		o->sin_addr =
		    ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *o = (struct sockaddr_in6 *)(void *)out;

		o->sin6_family = AF_INET6;
		o->sin6_addr =
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	}
}

#define VOUCH_PROBE 8

static size_t vouch_slot(const struct sockaddr_storage *a)
{
	const unsigned char *p = (const unsigned char *)a;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < sizeof(*a); i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h % SG_TCPG_VOUCHED);
}

static bool is_vouched(struct sg_tcpguard *g, const struct sockaddr *sa,
		       int64_t now)
{
	struct sockaddr_storage a;
	size_t h;

	addr_only(&a, sa);
	h = vouch_slot(&a);
	for (size_t i = 0; i < VOUCH_PROBE; i++) {
		const struct vouched *v =
		    &g->vouched[(h + i) % SG_TCPG_VOUCHED];

		if (v->expires_ms > now && !memcmp(&v->addr, &a, sizeof(a)))
			return true;
	}
	return false;
}

/*
 * A source that authenticated (a phone's REGISTER, a password gateway's
 * INVITE): its connections are treated as a gateway's for ttl_ms.  A fixed
 * hash table: when the probed slots are all taken, the one that expires
 * first goes.
 */
void sg_tcpguard_vouch(struct sg_tcpguard *g, const struct sockaddr *sa,
		       int64_t ttl_ms)
{
	struct sockaddr_storage a;
	int64_t now = sw_time_mono_ms();
	struct vouched *slot = NULL;
	size_t h;

	if (!g || !sa ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	addr_only(&a, sa);
	h = vouch_slot(&a);
	for (size_t i = 0; i < VOUCH_PROBE; i++) {
		struct vouched *v = &g->vouched[(h + i) % SG_TCPG_VOUCHED];

		if (!memcmp(&v->addr, &a, sizeof(a))) {
			slot = v;
			break;
		}
		if (!slot || v->expires_ms < slot->expires_ms)
			slot = v;
	}
	if (memcmp(&slot->addr, &a, sizeof(a))) {
		slot->addr = a;
		slot->expires_ms = 0;
	}
	if (slot->expires_ms < now + ttl_ms)
		slot->expires_ms = now + ttl_ms;
}

/* order of source addresses (ports ignored) */
static int source_cmp(const struct conn *a, const struct conn *b)
{
	struct sockaddr_storage aa, bb;

	addr_only(&aa, (const struct sockaddr *)(const void *)&a->peer);
	addr_only(&bb, (const struct sockaddr *)(const void *)&b->peer);
	return memcmp(&aa, &bb, sizeof(aa));
}

/* sort: by source address, then oldest first */
static int conn_cmp(const void *x, const void *y)
{
	const struct conn *a = x, *b = y;
	int c = source_cmp(a, b);

	if (c)
		return c;
	if (a->since_ms != b->since_ms)
		return a->since_ms < b->since_ms ? -1 : 1;
	return a->fd - b->fd;
}

/* newest first, untrusted before trusted: who goes over the total cap */
static int shed_cmp(const void *x, const void *y)
{
	const struct conn *a = x, *b = y;

	if (a->trusted != b->trusted)
		return a->trusted ? 1 : -1;
	if (a->since_ms != b->since_ms)
		return a->since_ms > b->since_ms ? -1 : 1;
	return b->fd - a->fd;
}

static void shed(struct sg_tcpguard *g, const struct conn *c, uint64_t *ctr)
{
	/* sofia reads the end of the stream and closes the tport itself */
	(void)shutdown(c->fd, SHUT_RDWR);
	if (c->fd < FD_TRACK_MAX)
		g->fds[c->fd].shed = true;
	(*ctr)++;
}

/* FNV-1a of the peer's address and port: a descriptor's identity */
static uint64_t peer_hash(const struct sockaddr_storage *ss, socklen_t len)
{
	const unsigned char *p = (const unsigned char *)ss;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (socklen_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h | 1; /* never 0, the value of an unused slot */
}

/*
 * The connection on descriptor fd, if it is one on our SIP port: two
 * system calls (a sweep runs over thousands of descriptors).  A UDP socket
 * on the port has no peer; a descriptor reused for another connection has
 * another peer address or port.
 */
static bool conn_of(struct sg_tcpguard *g, int fd, struct conn *c, int64_t now)
{
	struct sockaddr_storage la;
	socklen_t len = sizeof(la);

	memset(&la, 0, sizeof(la));
	if (getsockname(fd, (struct sockaddr *)(void *)&la, &len) ||
	    (la.ss_family != AF_INET && la.ss_family != AF_INET6) ||
	    sa_port_of(&la) != g->port)
		return false;
	len = sizeof(c->peer);
	memset(&c->peer, 0, sizeof(c->peer));
	if (getpeername(fd, (struct sockaddr *)(void *)&c->peer, &len))
		return false; /* the listening socket, UDP, not connected */
	c->fd = fd;
	c->since_ms = now;
	if (fd < FD_TRACK_MAX) {
		struct fdinfo *fi = &g->fds[fd];
		uint64_t h = peer_hash(&c->peer, len);

		if (fi->peer != h) {
			fi->peer = h;
			fi->since_ms = now;
			fi->shed = false;
		}
		if (fi->shed)
			return false; /* going away */
		c->since_ms = fi->since_ms;
	}
	c->trusted =
	    (g->trusted_h &&
	     g->trusted_h((const struct sockaddr *)(void *)&c->peer, g->arg)) ||
	    is_vouched(g, (const struct sockaddr *)(void *)&c->peer, now);
	c->keep = true;
	return true;
}

/*
 * Sofia's idle timer (TPTAG_IDLE) starts with a connection's first
 * traffic: one that never sends a byte would be held for ever.  Those the
 * guard closes itself after the same idle time; the kernel says whether
 * anything was ever received.
 */
static bool silent_too_long(const struct sg_tcpguard *g, const struct conn *c,
			    int64_t now)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (now - c->since_ms < g->conf.idle_ms)
		return false;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) +
		      sizeof(ti.tcpi_bytes_received))
		return false;
	return ti.tcpi_bytes_received == 0;
}

static void report(struct sg_tcpguard *g, int64_t now)
{
	struct sg_tcpguard_stats *s = &g->st, *r = &g->reported;

	if (now - g->last_report_ms < 1000)
		return;
	if (s->shed_source == r->shed_source &&
	    s->shed_total == r->shed_total &&
	    s->shed_unknown == r->shed_unknown &&
	    s->shed_idle == r->shed_idle && s->rejected == r->rejected &&
	    s->refused_fd == r->refused_fd &&
	    s->blind_sweeps == r->blind_sweeps)
		return;
	/* one line a second at most, whatever the flood */
	sw_warn("connections on port %u closed: %llu over the per-source "
		"cap, %llu over "
		"the total cap, %llu from unknown sources, %llu silent, "
		"%llu failed the edge check, %llu refused at the descriptor "
		"limit (%u open; %llu sweeps found no descriptor free)",
		g->port, (unsigned long long)(s->shed_source - r->shed_source),
		(unsigned long long)(s->shed_total - r->shed_total),
		(unsigned long long)(s->shed_unknown - r->shed_unknown),
		(unsigned long long)(s->shed_idle - r->shed_idle),
		(unsigned long long)(s->rejected - r->rejected),
		(unsigned long long)(s->refused_fd - r->refused_fd), s->open,
		(unsigned long long)(s->blind_sweeps - r->blind_sweeps));
	*r = *s;
	g->last_report_ms = now;
}

/*
 * The spare descriptor back if a slot is free.  Given up for a moment, its
 * slot can be taken by another thread (nng dialing a new media node, libpq):
 * it is taken back as soon as a descriptor is free again.
 */
static void spare_keep(struct sg_tcpguard *g)
{
	if (g->spare_fd < 0)
		g->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* fd, if it is a connection on the SIP port, into g->conns[*n] */
static void consider(struct sg_tcpguard *g, int fd, size_t *n, int64_t now)
{
	if (fd == g->listen_fd || fd == g->watch_fd || fd == g->spare_fd)
		return;
	if (*n == g->nconns_cap) {
		size_t cap = g->nconns_cap ? 2 * g->nconns_cap : 256;
		struct conn *c = realloc(g->conns, cap * sizeof(*c));

		if (!c)
			return; /* the rest waits for the next sweep */
		g->conns = c;
		g->nconns_cap = cap;
	}
	if (conn_of(g, fd, &g->conns[*n], now))
		(*n)++;
}

/*
 * Every connection on the SIP port: the descriptors listed in /proc/self/fd,
 * read with the spare descriptor at the limit.  With no descriptor at all to
 * read the directory with (the spare taken), every number below the limit
 * is tried: the sweep must run then most of all, as its shedding is what
 * frees descriptors.
 */
static size_t find_conns(struct sg_tcpguard *g, int64_t now)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	struct rlimit rl;
	size_t n = 0;
	int lim;

	if (!d && errno == EMFILE && g->spare_fd >= 0) {
		close(g->spare_fd);
		g->spare_fd = -1;
		d = opendir("/proc/self/fd");
	}
	if (d) {
		while ((de = readdir(d))) {
			char *end;
			long fd = strtol(de->d_name, &end, 10);

			if (!*end && end != de->d_name && fd != dirfd(d))
				consider(g, (int)fd, &n, now);
		}
		closedir(d);
		return n;
	}
	if (errno != EMFILE && errno != ENFILE)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	lim = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_TRACK_MAX
		  ? FD_TRACK_MAX
		  : (int)rl.rlim_cur;
	g->st.blind_sweeps++;
	for (int fd = 0; fd < lim; fd++)
		consider(g, fd, &n, now);
	return n;
}

/* find every connection on the SIP port and shed what is over a bound */
static void sweep(struct sg_tcpguard *g)
{
	int64_t now = sw_time_mono_ms();
	size_t n, kept = 0;

	g->last_sweep_ms = now;
	n = find_conns(g, now);

	/* per source: the oldest max_per_source stay; an unknown source's
	 * connections only for their grace */
	qsort(g->conns, n, sizeof(*g->conns), conn_cmp);
	for (size_t i = 0, run = 0; i < n; i++) {
		struct conn *c = &g->conns[i];

		if (i && source_cmp(&g->conns[i - 1], c))
			run = 0;
		if (!c->trusted &&
		    now - c->since_ms >= g->conf.unknown_grace_ms) {
			shed(g, c, &g->st.shed_unknown);
			c->keep = false;
		} else if ((int64_t)++run > g->conf.max_per_source) {
			shed(g, c, &g->st.shed_source);
			c->keep = false;
		} else if (silent_too_long(g, c, now)) {
			shed(g, c, &g->st.shed_idle);
			c->keep = false;
		} else {
			kept++;
		}
	}
	/* in total: the newest go first, unknown sources before gateways */
	if ((int64_t)kept > g->conf.max_total) {
		qsort(g->conns, n, sizeof(*g->conns), shed_cmp);
		for (size_t i = 0; i < n && (int64_t)kept > g->conf.max_total;
		     i++) {
			if (!g->conns[i].keep)
				continue;
			shed(g, &g->conns[i], &g->st.shed_total);
			kept--;
		}
	}
	g->st.open = (unsigned)kept;
	report(g, now);
	spare_keep(g);
}

static void sweep_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct sg_tcpguard *g = (struct sg_tcpguard *)arg;

	(void)magic;
	(void)t;
	g->sweep_pending = false;
	sweep(g);
}

static void tick_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	sweep((struct sg_tcpguard *)arg);
}

/*
 * Out of descriptors: sofia's accept() fails and, the socket staying
 * readable, would be retried on every turn of the loop.  Give up the spare
 * descriptor, accept and close what is pending, take the spare back.
 */
static void refuse_pending(struct sg_tcpguard *g)
{
	for (int i = 0; i < 64; i++) {
		int fd;

		if (g->spare_fd >= 0) {
			close(g->spare_fd);
			g->spare_fd = -1;
		}
		fd = accept4(g->watch_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		{
			struct linger lg = {1, 0}; /* RST, no TIME_WAIT */

			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
					 sizeof(lg));
		}
		close(fd);
		g->st.refused_fd++;
	}
	spare_keep(g);
}

/* the listening socket has a connection waiting: sweep soon */
static int listen_cb(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	struct sg_tcpguard *g = (struct sg_tcpguard *)arg;
	int64_t now = sw_time_mono_ms(), delay;
	int probe;

	(void)magic;
	(void)su_wait_events(w, g->watch_fd);
	spare_keep(g);
	/* a descriptor left for sofia's accept()?  if not, refuse */
	probe = fcntl(g->watch_fd, F_DUPFD_CLOEXEC, 0);
	if (probe < 0 && (errno == EMFILE || errno == ENFILE))
		refuse_pending(g);
	else if (probe >= 0)
		close(probe);
	if (g->sweep_pending)
		return 0;
	delay = g->last_sweep_ms + SG_TCPG_SWEEP_MIN_MS - now;
	/* after sofia's own accept of this turn of the loop */
	if (delay < 1)
		delay = 1;
	if (!su_timer_set_interval(g->sweep_timer, sweep_cb, g,
				   (su_duration_t)delay))
		g->sweep_pending = true;
	return 0;
}

/* sofia's listening TCP socket on port: the one that accepts */
static int find_listener(unsigned port)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		struct sockaddr_storage la;
		socklen_t len = sizeof(la);
		int acc = 0;
		socklen_t alen = sizeof(acc);

		if (*end || end == de->d_name || fd == dirfd(d))
			continue;
		memset(&la, 0, sizeof(la));
		if (getsockname((int)fd, (struct sockaddr *)(void *)&la,
				&len) ||
		    (la.ss_family != AF_INET && la.ss_family != AF_INET6) ||
		    sa_port_of(&la) != port)
			continue;
		if (!getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
				&alen) &&
		    acc)
			found = (int)fd;
	}
	closedir(d);
	return found;
}

/*
 * Guard the TCP connections on SIP port `port` (sofia's agent must be
 * listening already).  trusted(sa, arg) says whether a source is a
 * gateway.
 */
int sg_tcpguard_alloc(struct sg_tcpguard **gp, su_root_t *root,
		      const struct sg_tcpguard_conf *conf, unsigned port,
		      sg_tcpguard_trusted_h *trusted, void *arg)
{
	struct sg_tcpguard *g;
	int err = 0;

	if (!gp || !root || !conf)
		return EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return ENOMEM;
	g->root = root;
	g->conf = *conf;
	g->port = port;
	g->trusted_h = trusted;
	g->arg = arg;
	g->watch_fd = g->spare_fd = -1;
	g->fds = calloc(FD_TRACK_MAX, sizeof(*g->fds));
	g->sweep_timer = su_timer_create(su_root_task(root), 0);
	g->tick = su_timer_create(su_root_task(root), 1000);
	if (!g->fds || !g->sweep_timer || !g->tick) {
		err = ENOMEM;
		goto out;
	}
	g->listen_fd = find_listener(port);
	if (g->listen_fd < 0) {
		sw_warn("no TCP listener found on port %u: connections "
			"are swept every second only",
			port);
	} else {
		g->watch_fd = fcntl(g->listen_fd, F_DUPFD_CLOEXEC, 0);
		if (g->watch_fd < 0 ||
		    su_wait_create(g->wait, g->watch_fd, SU_WAIT_ACCEPT) ||
		    su_root_register(root, g->wait, listen_cb, g, 0) < 0) {
			err = errno ? errno : EIO;
			goto out;
		}
		g->registered = true;
	}
	spare_keep(g);
	if (su_timer_set_for_ever(g->tick, tick_cb, g)) {
		err = EIO;
		goto out;
	}
	sw_info("TCP: at most %lld connections, %lld per source; sources "
		"neither gateways nor authenticated closed after %lld ms",
		(long long)conf->max_total, (long long)conf->max_per_source,
		(long long)conf->unknown_grace_ms);

out:
	if (err)
		sg_tcpguard_free(g);
	else
		*gp = g;
	return err;
}

/* Stop guarding; the connections stay with sofia. */
void sg_tcpguard_free(struct sg_tcpguard *g)
{
	if (!g)
		return;
	if (g->registered)
		su_root_unregister(g->root, g->wait, listen_cb, g);
	su_wait_destroy(g->wait);
	if (g->watch_fd >= 0)
		close(g->watch_fd);
	if (g->spare_fd >= 0)
		close(g->spare_fd);
	su_timer_destroy(g->sweep_timer);
	su_timer_destroy(g->tick);
	free(g->fds);
	free(g->conns);
	free(g);
}

/*
 * A request that came over TCP failed the edge check (unknown source,
 * scanner): its connection is shut down now rather than at its grace.
 */
void sg_tcpguard_reject(struct sg_tcpguard *g, nta_agent_t *agent, msg_t *msg)
{
	tport_t *tp;

	if (!g || !agent || !msg)
		return;
	tp = tport_delivered_by(nta_agent_tports(agent), msg);
	if (!tp || !tport_is_secondary(tp) || !tport_is_stream(tp))
		return;
	tport_shutdown(tp, 2);
	g->st.rejected++;
	report(g, sw_time_mono_ms());
}

/*
 * Raise RLIMIT_NOFILE's soft limit to the hard one (a flood must hit our
 * caps, not the descriptor limit).  Returns the number of connections the
 * limit leaves room for (the limit less SG_TCPG_FD_RESERVE, at least 16);
 * *limitp gets the limit.
 */
int64_t sg_tcpguard_raise_nofile(int64_t *limitp)
{
	struct rlimit rl;
	int64_t lim, room;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 16;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = rl;

		want.rlim_cur = rl.rlim_max;
		if (!setrlimit(RLIMIT_NOFILE, &want))
			rl = want;
	}
	lim = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT32_MAX
		  ? INT32_MAX
		  : (int64_t)rl.rlim_cur;
	if (limitp)
		*limitp = lim;
	room = lim - SG_TCPG_FD_RESERVE;
	return room < 16 ? 16 : room;
}

/* ---- sofia-sip's log, through ours and rate limited ---- */

static struct {
	int64_t second; /* monotonic second of the current budget */
	unsigned used;
	uint64_t dropped;
} slog;

static void sofia_logger(void *stream, char const *fmt, va_list ap)
{
	int64_t sec = sw_time_mono_ms() / 1000;
	char line[512];
	size_t n;

	(void)stream;
	if (sec != slog.second) {
		if (slog.dropped)
			sw_warn("sofia-sip: %llu log lines suppressed",
				(unsigned long long)slog.dropped);
		slog.second = sec;
		slog.used = 0;
		slog.dropped = 0;
	}
	if (slog.used >= SG_TCPG_SOFIA_LINES_S) {
		slog.dropped++;
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (!n)
		return;
	slog.used++;
	sw_info("sofia-sip: %s", line);
}

/* Send sofia-sip's log lines (every su_log) through ours, rate limited. */
void sg_tcpguard_sofia_log(void)
{
	su_log_redirect(NULL, sofia_logger, NULL);
}
