/*
 * bus.c - nng sockets whose completions are handled on the owner's loop
 *
 * nng finishes asynchronous operations on its own threads.  Our aio
 * callbacks do only nng plumbing (re-arming a receive after a send) and
 * otherwise put the finished object on a mutex-protected queue and poke an
 * eventfd.  sw_bus_drain(), called by the daemon's loop when that fd is
 * readable, runs every application handler on the loop thread.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#define SW_LOG_MODULE "bus"
#include "common/bus.h"
#include "common/busconn.h"
#include "common/jarena.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/swtime.h"
#include "proto/proto.h"

#define RECV_MAX                                                               \
	(SW_ENV_MAX_SIZE + 1024) /* a larger message drops the pipe            \
				  */
#define PUSH_QUEUE    1024	 /* messages buffered per PUSH socket */
#define PIPE_SET      1024	 /* slots of a listener's pipe set */
#define WARN_EVERY_MS 10000	 /* refusals are logged this often */

/*
 * The connections of a listening socket, counted on nng's threads: a new
 * one beyond SW_BUS_MAX_PIPES is closed before it carries anything.  The
 * set remembers which pipes were counted, so that a pipe refused in
 * ADD_PRE is never uncounted.
 */
struct pipes {
	pthread_mutex_t lock;
	uint32_t ids[PIPE_SET]; /* open addressing, 0 = free */
	unsigned n;
	atomic_uint refused;
};

/* a listener of a socket and the role its TLS trust list admits */
struct lsn {
	struct lsn *next;
	uint32_t id; /* nng_listener_id() */
	enum sw_role role;
};

/* something that finished on an nng thread and waits for the loop */
struct work {
	struct work *next;
	void (*run)(struct work *w);
};

/* what an epoll event of the bus's set is about (the first member of
 * each tagged struct) */
enum dkind { DK_PEER = 1, DK_LSN, DK_CONN };

struct rep {
	struct rep *next;
	struct sw_bus *bus; /* borrowed */
	bool direct;	    /* a listener on the loop, no nng socket */
	unsigned dinflight; /* direct requests read, not yet answered */
	nng_socket sock;
	struct pipes pipes;
	struct lsn *lsns;
	sw_bus_req_h *h;
	void *arg;
	int nctx;
	struct sw_bus_req *reqs; /* owned, nctx of them */
	struct batch *batches;	 /* owned: batches not answered yet */
};

enum req_state { REQ_RECV, REQ_HANDLING, REQ_SENDING };

struct batch;

struct sw_bus_req {
	struct work w;
	struct rep *rep; /* borrowed */
	nng_ctx ctx;
	nng_aio *aio; /* owned */
	enum req_state state;
	struct sw_env env;
	bool open;
	struct batch *batch; /* an item of a batch: answered into it */
	struct sw_jw answer; /* an item's answer, {"type":..,"body":..} */
	/* a request read by a direct server: allocated for it, freed when
	 * answered; hdr is the backtrace its reply echoes */
	struct dconn *dc;		  /* borrowed; NULL: an nng context */
	struct sw_bus_req *dnext, *dprev; /* bus->dreqs */
	uint8_t hdr[32];
	uint8_t hlen;
};

/*
 * A received batch: one nng request whose items reach the handler as
 * requests of their own.  Each answer is kept as JSON text in its kid; the
 * last one sends "batch.reply" on parent, the texts in slot order.
 */
struct batch {
	struct batch *next, *prev; /* the rep's live batches */
	struct sw_bus_req *parent; /* borrowed: the nng request */
	unsigned n, left;	   /* items; answers still due (+1 while
				    * the items are being handed out) */
	struct sw_bus_req kids[];
};

struct pull {
	struct work w;
	struct pull *next;
	struct sw_bus *bus; /* borrowed */
	bool direct;	    /* a listener on the loop, no nng socket */
	nng_socket sock;
	struct pipes pipes;
	struct lsn *lsns;
	nng_aio *aio; /* owned */
	sw_bus_msg_h *h;
	void *arg;
};

#define ID_BUCKETS 256 /* a direct peer's calls by request id */

struct sw_bus_peer {
	enum dkind kind; /* DK_PEER */
	struct sw_bus_peer *next;
	struct sw_bus *bus; /* borrowed */
	nng_socket sock;
	bool push;
	bool closed;
	int ncalls; /* outstanding requests (queued ones and carriers too) */
	char url[256];
	unsigned batch_max;		   /* > 1: requests are batched */
	struct sw_bus_call *qhead, *qtail; /* owned: waiting for the flush */
	/* a connection on the loop instead of an nng socket (busconn.h) */
	struct sw_busconn *conn; /* owned; NULL: nng */
	uint32_t next_id;
	bool in_io, destroy_later;
	struct sw_bus_call *byid[ID_BUCKETS];
};

enum call_state { CALL_SENDING, CALL_RECEIVING };

struct sw_bus_call {
	struct work w;
	struct sw_bus_call *next, *prev;
	struct sw_bus_peer *peer; /* borrowed; kept until the call ends */
	nng_ctx ctx;
	nng_aio *aio; /* owned */
	enum call_state state;
	int64_t deadline_ms;
	sw_bus_resp_h *h;
	void *arg;
	char type[SW_ENV_TYPE_MAX + 1];
	char *btext; /* owned: a queued request's body (JSON
		      * text), until sent */
	size_t btextlen;
	struct sw_bus_call *qnext; /* the peer's queue */
	struct sw_bus_call **subs; /* owned: a batch carrier's requests */
	unsigned nsubs;
	int fail; /* a queued request that could not be sent */
	/* on a direct peer: the request's id and text, kept until answered
	 * (sent again when the connection comes back, as nng's REQ does) */
	bool direct;
	bool sent;		   /* written on the current connection */
	bool reset;		   /* ...and that connection was lost */
	struct sw_bus_call *enext; /* a list of calls about to end */
	uint32_t id; /* 0: not (or no longer) in the peer's byid */
	char *text;
	size_t textlen;
	struct sw_bus_call *inext; /* the peer's byid chain */
};

struct sw_bus {
	int efd;
	int epfd;	  /* what sw_bus_fd() gives: efd, tfd, direct sockets */
	int tfd;	  /* timerfd: direct calls' deadlines, reconnections */
	int64_t armed_ms; /* tfd's expiry (monotonic), INT64_MAX: disarmed */
	bool sweep;	  /* direct calls or peers wait for direct_sweep() */
	bool direct_off;  /* TANDEM_BUS_NNG=1: every peer on nng */
	pthread_mutex_t lock;
	struct work *head, *tail; /* finished operations */
	struct rep *reps;
	struct pull *pulls;
	struct dlsn *dlsns;	  /* owned: listeners on the loop */
	struct dconn *dconns;	  /* owned: their open connections */
	struct dconn *dfree;	  /* owned: closed ones to free */
	struct sw_bus_req *dreqs; /* owned: direct requests not answered */
	struct sw_bus_peer *peers;
	struct sw_bus_call *calls; /* outstanding requests */
	char pki[256];		   /* tandemctl pki host directory, "" = none */
	int64_t warned_ms;	   /* last refusal logged */
	unsigned refused;	   /* refusals since then */
};

/*
 * Closing sockets.  nng 1.5.2 (Debian 12) can block nng_close() for ever
 * when a connection is just starting on the socket (an incoming health
 * probe, a redial): the pipe's first receive is aborted while it is begun
 * but not yet scheduled, the abort is lost, and nng's single reaper thread
 * waits in the protocol's pipe_stop for that receive to finish.  Fixed
 * upstream in 1.8.0 (nng issue 1813).  So sockets are closed on a helper
 * thread: the loop never waits on nng_close(), and sw_bus_free() waits a
 * bounded time (SW_BUS_CLOSE_MS) before it gives up and leaves the bus to
 * the process exit.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* work queued / work done */
	nng_socket *q;
	size_t n, cap;
	unsigned pending; /* queued or being closed */
	bool started;
} closer = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, false};

static void *closer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&closer.lock);
	for (;;) {
		nng_socket sock;

		while (closer.n == 0)
			pthread_cond_wait(&closer.cond, &closer.lock);
		sock = closer.q[--closer.n];
		pthread_mutex_unlock(&closer.lock);
		nng_close(sock);
		pthread_mutex_lock(&closer.lock);
		closer.pending--;
		pthread_cond_broadcast(&closer.cond);
	}
	return NULL;
}

/* Close sock on the helper thread (started on first use). */
static void close_later(nng_socket sock)
{
	pthread_attr_t attr;
	pthread_t thr;

	pthread_mutex_lock(&closer.lock);
	if (!closer.started) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		closer.started =
		    pthread_create(&thr, &attr, closer_main, NULL) == 0;
		pthread_attr_destroy(&attr);
	}
	if (closer.n == closer.cap) {
		size_t cap = closer.cap ? closer.cap * 2 : 16;
		nng_socket *q = realloc(closer.q, cap * sizeof(*q));

		if (q) {
			closer.q = q;
			closer.cap = cap;
		}
	}
	if (!closer.started || closer.n == closer.cap) {
		/* no helper: close here, as nng_close() would anyway */
		pthread_mutex_unlock(&closer.lock);
		nng_close(sock);
		return;
	}
	closer.q[closer.n++] = sock;
	closer.pending++;
	pthread_cond_broadcast(&closer.cond);
	pthread_mutex_unlock(&closer.lock);
}

/* Wait until every queued close returned, at most ms; true when they did. */
static bool closes_done(int ms)
{
	struct timespec until;
	bool done;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&closer.lock);
	while (closer.pending &&
	       pthread_cond_timedwait(&closer.cond, &closer.lock, &until) == 0)
		;
	done = closer.pending == 0;
	pthread_mutex_unlock(&closer.lock);
	return done;
}

static void wake(struct sw_bus *bus);

static void enqueue(struct sw_bus *bus, struct work *w)
{
	pthread_mutex_lock(&bus->lock);
	w->next = NULL;
	if (bus->tail)
		bus->tail->next = w;
	else
		bus->head = w;
	bus->tail = w;
	pthread_mutex_unlock(&bus->lock);
	wake(bus);
}

/* Make the loop call sw_bus_drain() soon. */
static void wake(struct sw_bus *bus)
{
	uint64_t one = 1;

	if (write(bus->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the loop will run */
	}
}

static int errno_of(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case NNG_ETIMEDOUT:
		return ETIMEDOUT;
	case NNG_ENOMEM:
		return ENOMEM;
	case NNG_ECLOSED:
	case NNG_ECANCELED:
		return ECANCELED;
	case NNG_ECONNREFUSED:
		return ECONNREFUSED;
	case NNG_ECONNRESET:
		return ECONNRESET;
	case NNG_EADDRINUSE:
		return EADDRINUSE;
	case NNG_EADDRINVAL:
	case NNG_EINVAL:
		return EINVAL;
	case NNG_ENOTSUP:
		return ENOTSUP;
	case NNG_EMSGSIZE:
		return EMSGSIZE;
	default:
		return EIO;
	}
}

/* The message an aio holds, taken out of it: the aio never keeps a
 * pointer to a message already freed, and sw_bus_free() frees what a
 * completed receive left in it (work queued but never run). */
static nng_msg *aio_take(nng_aio *aio)
{
	nng_msg *m = nng_aio_get_msg(aio);

	nng_aio_set_msg(aio, NULL);
	return m;
}

static void aio_drop(nng_aio *aio)
{
	nng_msg *m = aio_take(aio);

	if (m)
		nng_msg_free(m);
}

/* a message holding buf[0..len) */
static int msg_of_text(nng_msg **msgp, const char *buf, size_t len)
{
	int rv = nng_msg_alloc(msgp, 0);

	if (!rv)
		rv = nng_msg_append(*msgp, buf, len);
	if (rv && *msgp) {
		nng_msg_free(*msgp);
		*msgp = NULL;
	}
	return errno_of(rv);
}

static int msg_of(nng_msg **msgp, const char *type, const char *id,
		  json_t *body)
{
	size_t len = 0;
	char *buf;
	int err;

	buf = sw_env_encode(type, id, body, &len);
	if (!buf)
		return ENOMEM;
	err = msg_of_text(msgp, buf, len);
	free(buf);
	return err;
}

/* Create a bus: one eventfd, no sockets yet. */
int sw_bus_alloc(struct sw_bus **busp)
{
	struct sw_bus *bus;

	if (!busp)
		return EINVAL;
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return ENOMEM;
	bus->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	bus->epfd = epoll_create1(EPOLL_CLOEXEC);
	bus->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (bus->efd < 0 || bus->epfd < 0 || bus->tfd < 0 ||
	    epoll_ctl(bus->epfd, EPOLL_CTL_ADD, bus->efd,
		      &(struct epoll_event){.events = EPOLLIN,
					    .data.ptr = &bus->efd}) ||
	    epoll_ctl(bus->epfd, EPOLL_CTL_ADD, bus->tfd,
		      &(struct epoll_event){.events = EPOLLIN,
					    .data.ptr = &bus->tfd})) {
		int err = errno;

		if (bus->efd >= 0)
			close(bus->efd);
		if (bus->epfd >= 0)
			close(bus->epfd);
		if (bus->tfd >= 0)
			close(bus->tfd);
		free(bus);
		return err;
	}
	bus->armed_ms = INT64_MAX;
	{
		const char *e = getenv("TANDEM_BUS_NNG");

		bus->direct_off = e && *e && strcmp(e, "0");
	}
	pthread_mutex_init(&bus->lock, NULL);
	*busp = bus;
	return 0;
}

/* The descriptor to watch for readability in the daemon's loop. */
int sw_bus_fd(const struct sw_bus *bus)
{
	return bus ? bus->epfd : -1;
}

/* ---- URLs, TLS, listeners and their connections ---- */

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static bool is_tls(const char *url)
{
	return has_prefix(url, "tls+tcp://");
}

/* host part of a tcp:// or tls+tcp:// URL into host ("" when malformed) */
static void url_host(const char *url, char *host, size_t size, int *portp)
{
	const char *p = strstr(url, "://"), *end;
	size_t n;

	*host = '\0';
	*portp = -1;
	if (!p)
		return;
	p += 3;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end || end[1] != ':')
			return;
		n = (size_t)(end - p - 1);
		p++;
		end++;
	} else {
		end = strrchr(p, ':');
		if (!end)
			return;
		n = (size_t)(end - p);
	}
	if (n == 0 || n >= size)
		return;
	memcpy(host, p, n);
	host[n] = '\0';
	{
		int64_t v;

		if (!sw_parse_int(&v, end + 1, 0, 65535))
			*portp = (int)v;
	}
}

/* True for ipc://, inproc:// and tcp to 127.0.0.0/8, ::1 or localhost. */
bool sw_bus_url_local(const char *url)
{
	char host[256];
	int port;

	if (!url)
		return false;
	if (has_prefix(url, "ipc://") || has_prefix(url, "inproc://"))
		return true;
	url_host(url, host, sizeof(host), &port);
	return has_prefix(host, "127.") || !strcmp(host, "::1") ||
	       !strcmp(host, "localhost");
}

/*
 * The host (brackets removed) and port of a tcp:// or tls+tcp:// URL: 0,
 * ENOENT for ipc:// and inproc:// (no network: no firewall rule), EINVAL
 * when malformed.  tandemctl firewall reads the daemons' URLs with it.
 */
int sw_bus_url_hostport(const char *url, char *host, size_t size, int *portp)
{
	if (!url || !host || !size || !portp)
		return EINVAL;
	if (has_prefix(url, "ipc://") || has_prefix(url, "inproc://"))
		return ENOENT;
	if (!has_prefix(url, "tcp://") && !is_tls(url))
		return EINVAL;
	url_host(url, host, size, portp);
	return *host && *portp >= 0 ? 0 : EINVAL;
}

/** Call h for each URL of a comma-separated list, in order. */
int sw_bus_url_each(const char *list, sw_bus_url_h *h, void *arg)
{
	char *buf = strdup(list ? list : ""), *tok, *save = NULL;
	int ret = 0;

	if (!buf)
		return ENOMEM;
	for (tok = strtok_r(buf, ", \t", &save); tok && !ret;
	     tok = strtok_r(NULL, ", \t", &save))
		ret = h(tok, arg);
	free(buf);
	return ret;
}

struct list_check {
	bool insecure, pki;
	char *err;
	size_t errsz;
};

static int list_check_one(const char *url, void *arg)
{
	struct list_check *c = arg;

	return sw_bus_url_check(url, c->insecure, c->pki, c->err, c->errsz);
}

/** Every URL of a comma-separated list checked by sw_bus_url_check. */
int sw_bus_url_list_check(const char *list, bool insecure, bool pki, char *err,
			  size_t errsz)
{
	struct list_check c = {insecure, pki, err, errsz};

	return sw_bus_url_each(list, list_check_one, &c);
}

/*
 * Check a bus URL from a config file: a scheme nng knows, a host and a
 * port for tcp, a pki directory for tls+tcp://, and no plain tcp:// off
 * loopback unless insecure.  err gets the reason.
 */
int sw_bus_url_check(const char *url, bool insecure, bool pki, char *err,
		     size_t errsz)
{
	char host[256];
	int port;

	if (!url || !*url) {
		snprintf(err, errsz, "empty bus URL");
		return EINVAL;
	}
	if (has_prefix(url, "ipc://") || has_prefix(url, "inproc://")) {
		if (url[has_prefix(url, "ipc://") ? 6 : 9])
			return 0;
		snprintf(err, errsz, "'%s': no path", url);
		return EINVAL;
	}
	if (!has_prefix(url, "tcp://") && !is_tls(url)) {
		snprintf(err, errsz,
			 "'%s' is not a tcp://, tls+tcp:// or ipc:// URL", url);
		return EINVAL;
	}
	url_host(url, host, sizeof(host), &port);
	if (!*host || port < 0) {
		snprintf(err, errsz, "'%s': expected host:port (port 0..65535)",
			 url);
		return EINVAL;
	}
	if (is_tls(url) && !pki) {
		snprintf(err, errsz,
			 "'%s' needs bus_pki (a directory made by "
			 "`tandemctl pki issue`)",
			 url);
		return EINVAL;
	}
	if (!is_tls(url) && !sw_bus_url_local(url)) {
		if (!insecure) {
			snprintf(err, errsz,
				 "'%s' is plain tcp:// off loopback: use "
				 "tls+tcp:// with bus_pki, or set bus_insecure "
				 "yes",
				 url);
			return EINVAL;
		}
		sw_warn("bus_insecure: %s is plain tcp:// off loopback: anyone "
			"who reaches it can submit CDRs, hang up calls and "
			"read balances",
			url);
	}
	return 0;
}

/*
 * Use the certificates of dir (tandemctl pki issue): cert.pem is this
 * host's chain and key, ca-<role>.crt the CAs each role chains to.
 */
int sw_bus_set_pki(struct sw_bus *bus, const char *dir, char *err, size_t errsz)
{
	char path[400];

	if (!bus || !dir)
		return EINVAL;
	if (!*dir) {
		bus->pki[0] = '\0';
		return 0;
	}
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	if (access(path, R_OK)) {
		snprintf(err, errsz, "bus_pki: %s: %s", path, strerror(errno));
		return errno;
	}
	snprintf(bus->pki, sizeof(bus->pki), "%s", dir);
	return 0;
}

/*
 * A TLS configuration that requires the peer's certificate to chain to
 * the CA of role (a listener: who may connect; a dialer: who we expect),
 * and on a dialer with name, the server's certificate to carry that name.
 */
static int tls_config(nng_tls_config **cfgp, const struct sw_bus *bus,
		      bool server, enum sw_role role, const char *name)
{
	char ca[400], cert[400];
	nng_tls_config *cfg = NULL;
	int rv;

	if (!*bus->pki || role == SW_ROLE_LOCAL) {
		sw_err("tls+tcp:// needs bus_pki and a peer role");
		return EINVAL;
	}
	snprintf(ca, sizeof(ca), "%s/ca-%s.crt", bus->pki, sw_role_name(role));
	snprintf(cert, sizeof(cert), "%s/cert.pem", bus->pki);
	rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER
					       : NNG_TLS_MODE_CLIENT);
	if (!rv)
		rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	if (!rv)
		rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3);
	if (!rv && (rv = nng_tls_config_ca_file(cfg, ca)))
		sw_err("bus TLS: %s: %s", ca, nng_strerror(rv));
	if (!rv && (rv = nng_tls_config_cert_key_file(cfg, cert, NULL)))
		sw_err("bus TLS: %s: %s", cert, nng_strerror(rv));
	if (!rv && name && *name)
		rv = nng_tls_config_server_name(cfg, name);
	if (rv) {
		if (cfg)
			nng_tls_config_free(cfg);
		return errno_of(rv);
	}
	*cfgp = cfg;
	return 0;
}

static bool pipes_add(struct pipes *ps, uint32_t id)
{
	bool ok = false;

	pthread_mutex_lock(&ps->lock);
	if (ps->n < SW_BUS_MAX_PIPES) {
		for (unsigned i = id % PIPE_SET;; i = (i + 1) % PIPE_SET) {
			if (ps->ids[i] == 0) {
				ps->ids[i] = id;
				ps->n++;
				ok = true;
				break;
			}
		}
	}
	pthread_mutex_unlock(&ps->lock);
	return ok;
}

static void pipes_del(struct pipes *ps, uint32_t id)
{
	pthread_mutex_lock(&ps->lock);
	for (unsigned i = id % PIPE_SET, k = 0; k < PIPE_SET;
	     i = (i + 1) % PIPE_SET, k++) {
		if (ps->ids[i] == id) {
			/* re-insert the cluster after the hole */
			ps->ids[i] = 0;
			ps->n--;
			for (unsigned j = (i + 1) % PIPE_SET; ps->ids[j];
			     j = (j + 1) % PIPE_SET) {
				uint32_t v = ps->ids[j];

				ps->ids[j] = 0;
				for (unsigned h = v % PIPE_SET;;
				     h = (h + 1) % PIPE_SET) {
					if (!ps->ids[h]) {
						ps->ids[h] = v;
						break;
					}
				}
			}
			break;
		}
		if (ps->ids[i] == 0)
			break;
	}
	pthread_mutex_unlock(&ps->lock);
}

/* nng thread: count a new connection, or close it when the set is full */
static void pipe_ev(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct pipes *ps = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);

	if (ev == NNG_PIPE_EV_ADD_PRE) {
		if (!pipes_add(ps, id)) {
			atomic_fetch_add(&ps->refused, 1);
			nng_pipe_close(p);
		}
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		pipes_del(ps, id);
	}
}

static void pipes_watch(nng_socket sock, struct pipes *ps)
{
	pthread_mutex_init(&ps->lock, NULL);
	nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, pipe_ev, ps);
	nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, pipe_ev, ps);
}

/*
 * Listen on url.  A tls+tcp:// listener admits only certificates of role;
 * any other listener is local (trusted).
 */
static int sock_listen(struct sw_bus *bus, nng_socket sock, struct lsn **lsns,
		       const char *url, enum sw_role role)
{
	nng_tls_config *cfg = NULL;
	nng_listener l;
	struct lsn *ln;
	int rv, err;

	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, RECV_MAX);
	rv = nng_listener_create(&l, sock, url);
	if (rv) {
		sw_err("listen on %s: %s", url, nng_strerror(rv));
		return errno_of(rv);
	}
	if (is_tls(url)) {
		err = tls_config(&cfg, bus, true, role, NULL);
		if (err) {
			nng_listener_close(l);
			return err;
		}
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg); /* the listener holds it */
	}
	if (!rv)
		rv = nng_listener_start(l, 0);
	if (rv) {
		sw_err("listen on %s: %s", url, nng_strerror(rv));
		nng_listener_close(l);
		return errno_of(rv);
	}
	ln = calloc(1, sizeof(*ln));
	if (!ln)
		return ENOMEM;
	ln->id = (uint32_t)nng_listener_id(l);
	ln->role = is_tls(url) ? role : SW_ROLE_LOCAL;
	ln->next = *lsns;
	*lsns = ln;
	return 0;
}

/* Stamp env with the role of the listener msg arrived on. */
static void env_stamp(struct sw_env *env, const struct lsn *lsns, nng_msg *msg)
{
	nng_pipe p = nng_msg_get_pipe(msg);
	uint32_t id = (uint32_t)nng_listener_id(nng_pipe_listener(p));

	env->pipe = (uint32_t)nng_pipe_id(p);
	env->role = SW_ROLE_COUNT; /* unknown listener: nothing allowed */
	for (const struct lsn *l = lsns; l; l = l->next) {
		if (l->id == id) {
			env->role = l->role;
			break;
		}
	}
}

/* False (and a rate-limited warning) when env's sender may not send it. */
static bool env_allowed(struct sw_bus *bus, const struct sw_env *env)
{
	int64_t now;

	if (env->role != SW_ROLE_COUNT &&
	    sw_proto_allowed(env->type, env->role))
		return true;
	bus->refused++;
	now = sw_time_mono_ms();
	if (now - bus->warned_ms >= WARN_EVERY_MS) {
		sw_warn("refused %s from a %s peer (%u refused in %lld ms)",
			env->type, sw_role_name(env->role), bus->refused,
			(long long)(now - bus->warned_ms));
		bus->warned_ms = now;
		bus->refused = 0;
	}
	return false;
}

/* True while the connection a message came on is open. */
static bool dpipe_open(uint32_t id);

bool sw_bus_pipe_open(uint32_t pipe)
{
	nng_pipe p = NNG_PIPE_INITIALIZER;
	nng_sockaddr sa;

	if (!pipe)
		return false;
	if (pipe & 0x80000000u) /* a direct server's connection */
		return dpipe_open(pipe);
	p.id = pipe;
	return nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0;
}

/* ---- REP server ---- */

static void direct_req_end(struct sw_bus_req *req);
static bool direct_server(const struct sw_bus *bus, const char *url,
			  struct sockaddr_storage *sa, socklen_t *salen);
static int direct_listen(struct sw_bus *bus, const char *url,
			 const struct sockaddr_storage *sa, socklen_t salen,
			 struct rep *rep, struct pull *pull);

/* req is done with (answered, or dropped): ready for the next request */
static void rep_arm(struct sw_bus_req *req)
{
	if (req->dc) {
		direct_req_end(req);
		return;
	}
	req->state = REQ_RECV;
	nng_ctx_recv(req->ctx, req->aio);
}

static void rep_cb(void *arg)
{
	struct sw_bus_req *req = arg;
	int rv = nng_aio_result(req->aio);

	if (req->state == REQ_SENDING) {
		if (rv)
			aio_drop(req->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		rep_arm(req); /* plumbing only: ready for the next request */
		return;
	}
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	enqueue(req->rep->bus, &req->w);
}

static int reply_msg(struct sw_bus_req *req, nng_msg *msg)
{
	sw_env_reset(&req->env);
	req->state = REQ_SENDING;
	nng_aio_set_msg(req->aio, msg);
	nng_ctx_send(req->ctx, req->aio);
	return 0;
}

static int direct_reply(struct sw_bus_req *req, const char *buf, size_t len);

/* The reply of req (not a batch item): the envelope's text buf[0..len),
 * to its connection (direct) or its nng context. */
static int reply_buf(struct sw_bus_req *req, const char *buf, size_t len)
{
	nng_msg *msg = NULL;
	int err;

	if (req->dc)
		return direct_reply(req, buf, len);
	err = msg_of_text(&msg, buf, len);
	if (err) {
		sw_env_reset(&req->env);
		rep_arm(req); /* cannot answer: the requester times out */
		return err;
	}
	return reply_msg(req, msg);
}

/* The reply of req (not a batch item) as an envelope; steals body. */
static int reply_env(struct sw_bus_req *req, const char *type, const char *id,
		     json_t *body)
{
	size_t len = 0;
	char *buf = sw_env_encode(type, id, body, &len);
	int err;

	if (!buf) {
		sw_env_reset(&req->env);
		rep_arm(req); /* cannot answer: the requester times out */
		return ENOMEM;
	}
	err = reply_buf(req, buf, len);
	free(buf);
	return err;
}

static int kid_answer(struct sw_bus_req *kid, const char *type, json_t *body);

static int reply_error_raw(struct sw_bus_req *req, const char *id,
			   const char *code, const char *message)
{
	json_t *body =
	    json_pack("{s:s, s:s}", "code", code, "message", message);

	if (req->batch)
		return kid_answer(req, SW_MSG_ERROR, body);
	return reply_env(req, SW_MSG_ERROR, id, body);
}

/* ---- batches received (docs/bus.md "Batches") ---- */

static void batch_release(struct batch *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		sw_env_reset(&b->kids[i].env);
		sw_jw_free(&b->kids[i].answer);
	}
	free(b);
}

static void batch_free(struct rep *rep, struct batch *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		rep->batches = b->next;
	if (b->next)
		b->next->prev = b->prev;
	batch_release(b);
}

static int reply_text(struct sw_bus_req *req, const char *type,
		      const char *body, size_t len);

/* One answer less is due; the last one sends the batch's reply: the items'
 * texts in slot order (a slot whose answer could not be written is null:
 * that item alone is lost). */
static void batch_done(struct batch *b)
{
	struct sw_bus_req *parent = b->parent;
	struct sw_jw w = {0};

	if (--b->left)
		return;
	sw_jw_raw(&w, "{\"items\":[");
	for (unsigned i = 0; i < b->n; i++) {
		const struct sw_jw *a = &b->kids[i].answer;

		if (i)
			sw_jw_mem(&w, ",", 1);
		if (a->len && !a->oom)
			sw_jw_mem(&w, a->buf, a->len);
		else
			sw_jw_raw(&w, "null");
	}
	sw_jw_raw(&w, "]}");
	batch_free(parent->rep, b);
	if (w.oom) {
		sw_env_reset(&parent->env);
		rep_arm(parent); /* cannot answer: the requester times out */
	} else {
		reply_text(parent, SW_MSG_BATCH ".reply", w.buf, w.len);
	}
	sw_jw_free(&w);
}

/* The answer to a batch item goes into its kid: body as JSON text (an
 * object), else the tree j (stolen; NULL = {}). */
static int kid_answer_as(struct sw_bus_req *kid, const char *type, json_t *j,
			 const char *body, size_t len)
{
	struct sw_jw *w = &kid->answer;

	if (kid->state != REQ_HANDLING) {
		json_decref(j);
		return EINVAL;
	}
	kid->state = REQ_RECV;
	sw_env_reset(&kid->env);
	sw_jw_reset(w);
	sw_jw_raw(w, "{\"type\":");
	sw_jw_str(w, type);
	sw_jw_raw(w, ",\"body\":");
	if (body)
		sw_jw_mem(w, body, len);
	else if (j)
		sw_jw_json(w, j);
	else
		sw_jw_raw(w, "{}");
	sw_jw_raw(w, "}");
	json_decref(j);
	batch_done(kid->batch);
	return 0;
}

/* The answer to a batch item, kept in its kid; steals body. */
static int kid_answer(struct sw_bus_req *kid, const char *type, json_t *body)
{
	return kid_answer_as(kid, type, body, NULL, 0);
}

/* Hand each item of a batch to the handler as a request of its own. */
static void batch_run(struct sw_bus_req *req)
{
	json_t *items = json_object_get(req->env.body, "items");
	size_t n = json_array_size(items);
	char id[SW_UUID_LEN + 1], why[160];
	struct rep *rep = req->rep;
	struct batch *b = NULL;

	snprintf(id, sizeof(id), "%s", req->env.id);
	if (!json_is_array(items) || n == 0 || n > SW_BUS_BATCH_MAX) {
		snprintf(why, sizeof(why),
			 "items: must be an array of 1 to %d requests",
			 SW_BUS_BATCH_MAX);
		reply_error_raw(req, id, SW_ERR_BAD_REQUEST, why);
		return;
	}
	b = calloc(1, sizeof(*b) + n * sizeof(b->kids[0]));
	if (!b) {
		reply_error_raw(req, id, SW_ERR_INTERNAL, "out of memory");
		return;
	}
	b->parent = req;
	b->n = (unsigned)n;
	b->left = (unsigned)n + 1;
	b->next = rep->batches;
	if (b->next)
		b->next->prev = b;
	rep->batches = b;
	req->state = REQ_HANDLING;

	for (size_t i = 0; i < n; i++) {
		struct sw_bus_req *kid = &b->kids[i];
		const char *type;
		json_t *body;
		int bad =
		    sw_env_batch_item(items, i, &type, &body, why, sizeof(why));

		kid->rep = rep;
		kid->batch = b;
		kid->state = REQ_HANDLING;
		memcpy(kid->env.id, id, sizeof(kid->env.id));
		kid->env.ts = req->env.ts;
		kid->env.role = req->env.role;
		kid->env.pipe = req->env.pipe;
		if (bad) {
			reply_error_raw(kid, id, SW_ERR_BAD_REQUEST, why);
			continue;
		}
		snprintf(kid->env.type, sizeof(kid->env.type), "%s", type);
		kid->env.root = json_incref(body);
		kid->env.body = body;
		if (!env_allowed(rep->bus, &kid->env)) {
			snprintf(why, sizeof(why),
				 "%s may not be sent by a %s peer", type,
				 sw_role_name(kid->env.role));
			reply_error_raw(kid, id, SW_ERR_FORBIDDEN, why);
			continue;
		}
		rep->h(kid, &kid->env, rep->arg);
	}
	batch_done(b);
}

static void rep_handle(struct sw_bus_req *req, int rv, char *err, size_t errsz);

static void rep_run(struct work *w)
{
	struct sw_bus_req *req = (struct sw_bus_req *)w;
	char err[256];
	nng_msg *msg;
	int rv;

	rv = nng_aio_result(req->aio);
	if (rv) {
		if (rv != NNG_ECLOSED && rv != NNG_ECANCELED)
			rep_arm(req);
		return;
	}
	msg = aio_take(req->aio);
	rv = sw_env_parse(&req->env, nng_msg_body(msg), nng_msg_len(msg), err,
			  sizeof(err));
	if (!rv)
		env_stamp(&req->env, req->rep->lsns, msg);
	nng_msg_free(msg);
	rep_handle(req, rv, err, sizeof(err));
}

/* A request read (rv: its parse; err: why it failed, room errsz): errors
 * answered, batches split, the rest to the handler. */
static void rep_handle(struct sw_bus_req *req, int rv, char *err, size_t errsz)
{
	if (rv) {
		sw_warn("bad request dropped with an error reply: %s", err);
		reply_error_raw(req, NULL, SW_ERR_BAD_REQUEST, err);
		return;
	}
	if (!strcmp(req->env.type, SW_MSG_BATCH)) {
		batch_run(req);
		return;
	}
	if (!env_allowed(req->rep->bus, &req->env)) {
		char id[SW_UUID_LEN + 1];

		snprintf(id, sizeof(id), "%s", req->env.id);
		snprintf(err, errsz, "%s may not be sent by a %s peer",
			 req->env.type, sw_role_name(req->env.role));
		reply_error_raw(req, id, SW_ERR_FORBIDDEN, err);
		return;
	}

	req->state = REQ_HANDLING;
	req->rep->h(req, &req->env, req->rep->arg);
}

/*
 * Answer requests on url.  nctx requests may be in flight at once (each
 * waits for its reply); h runs on the loop for each valid envelope.
 */
int sw_bus_listen_rep(struct sw_bus *bus, const char *url, enum sw_role role,
		      int nctx, sw_bus_req_h *h, void *arg)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	struct rep *rep;
	int rv, err;

	if (!bus || !url || !h)
		return EINVAL;
	if (nctx <= 0)
		nctx = 64;

	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return ENOMEM;
	rep->reqs = calloc((size_t)nctx, sizeof(*rep->reqs));
	if (!rep->reqs) {
		free(rep);
		return ENOMEM;
	}
	rep->bus = bus;
	rep->h = h;
	rep->arg = arg;
	rep->nctx = nctx;

	if (direct_server(bus, url, &sa, &salen)) {
		free(rep->reqs);
		rep->reqs = NULL;
		rep->direct = true;
		pthread_mutex_init(&rep->pipes.lock, NULL);
		rep->next = bus->reps;
		bus->reps = rep;
		return direct_listen(bus, url, &sa, salen, rep, NULL);
	}
	rv = nng_rep0_open(&rep->sock);
	if (rv) {
		free(rep->reqs);
		free(rep);
		return errno_of(rv);
	}
	/* linked first so that sw_bus_free() cleans up a half-built server */
	rep->next = bus->reps;
	bus->reps = rep;
	pipes_watch(rep->sock, &rep->pipes);

	err = sock_listen(bus, rep->sock, &rep->lsns, url, role);
	if (err)
		return err;

	for (int i = 0; i < nctx; i++) {
		struct sw_bus_req *req = &rep->reqs[i];

		req->rep = rep;
		req->w.run = rep_run;
		rv = nng_aio_alloc(&req->aio, rep_cb, req);
		if (!rv)
			rv = nng_ctx_open(&req->ctx, rep->sock);
		if (rv)
			return errno_of(rv);
		req->open = true;
		rep_arm(req);
	}
	return 0;
}

/* Reply to req with "<request>.reply"; steals body. */
int sw_bus_reply(struct sw_bus_req *req, json_t *body)
{
	char type[SW_ENV_TYPE_MAX + 8];

	if (!req) {
		json_decref(body);
		return EINVAL;
	}
	snprintf(type, sizeof(type), "%s.reply", req->env.type);
	return sw_bus_reply_type(req, type, body);
}

/* Reply to req with an explicit type; steals body. */
int sw_bus_reply_type(struct sw_bus_req *req, const char *type, json_t *body)
{
	char id[SW_UUID_LEN + 1];

	if (!req || req->state != REQ_HANDLING) {
		json_decref(body);
		return EINVAL;
	}
	if (req->batch)
		return kid_answer(req, type, body);
	snprintf(id, sizeof(id), "%s", req->env.id);
	return reply_env(req, type, id, body);
}

/* the reply of req (not a batch item) around body, JSON text */
static int reply_text(struct sw_bus_req *req, const char *type,
		      const char *body, size_t len)
{
	struct sw_jw w = {0};
	int err;

	sw_env_head(&w, type, req->env.id);
	sw_jw_mem(&w, body, len);
	sw_jw_raw(&w, "}");
	if (w.oom) {
		sw_jw_free(&w);
		sw_env_reset(&req->env);
		rep_arm(req); /* cannot answer: the requester times out */
		return ENOMEM;
	}
	err = reply_buf(req, w.buf, w.len);
	sw_jw_free(&w);
	return err;
}

/*
 * Reply to req ("<type>.reply") with a body given as the compact JSON text
 * of an object, body[0..len): for a handler that writes its answers with
 * sw_jw instead of building a tree.  The text is not checked: it must be
 * well-formed (sw_jw writes it so).
 */
int sw_bus_reply_text(struct sw_bus_req *req, const char *body, size_t len)
{
	char type[SW_ENV_TYPE_MAX + 8];

	if (!req || req->state != REQ_HANDLING || !body)
		return EINVAL;
	snprintf(type, sizeof(type), "%s.reply", req->env.type);
	if (req->batch)
		return kid_answer_as(req, type, NULL, body, len);
	return reply_text(req, type, body, len);
}

/* Reply to req with {"type":"error","body":{"code","message"}}. */
int sw_bus_reply_error(struct sw_bus_req *req, const char *code,
		       const char *fmt, ...)
{
	char message[512], id[SW_UUID_LEN + 1];
	va_list ap;

	if (!req || req->state != REQ_HANDLING)
		return EINVAL;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	snprintf(id, sizeof(id), "%s", req->env.id);
	return reply_error_raw(req, id, code, message);
}

/* ---- PULL server ---- */

static void pull_cb(void *arg)
{
	struct pull *p = arg;
	int rv = nng_aio_result(p->aio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	enqueue(p->bus, &p->w);
}

/* A pushed message read (rv: its parse, err: why it failed). */
static void pull_handle(struct pull *p, struct sw_env *env, int rv,
			const char *err)
{
	if (rv) {
		sw_warn("bad pushed message dropped: %s", err);
	} else if (!env_allowed(p->bus, env)) {
		sw_env_reset(env);
	} else {
		p->h(env, p->arg);
		sw_env_reset(env);
	}
}

static void pull_run(struct work *w)
{
	struct pull *p = (struct pull *)w;
	struct sw_env env;
	char err[256];
	nng_msg *msg;
	int rv;

	rv = nng_aio_result(p->aio);
	if (!rv) {
		msg = aio_take(p->aio);
		rv = sw_env_parse(&env, nng_msg_body(msg), nng_msg_len(msg),
				  err, sizeof(err));
		if (!rv)
			env_stamp(&env, p->lsns, msg);
		nng_msg_free(msg);
		pull_handle(p, &env, rv, err);
	}
	nng_recv_aio(p->sock, p->aio);
}

/* Receive one-way messages on url; h runs on the loop for each. */
int sw_bus_listen_pull(struct sw_bus *bus, const char *url, enum sw_role role,
		       sw_bus_msg_h *h, void *arg)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	struct pull *p;
	int rv, err;

	if (!bus || !url || !h)
		return EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->bus = bus;
	p->h = h;
	p->arg = arg;
	p->w.run = pull_run;

	if (direct_server(bus, url, &sa, &salen)) {
		p->direct = true;
		pthread_mutex_init(&p->pipes.lock, NULL);
		p->next = bus->pulls;
		bus->pulls = p;
		return direct_listen(bus, url, &sa, salen, NULL, p);
	}
	rv = nng_pull0_open(&p->sock);
	if (rv) {
		free(p);
		return errno_of(rv);
	}
	p->next = bus->pulls;
	bus->pulls = p;
	pipes_watch(p->sock, &p->pipes);

	err = sock_listen(bus, p->sock, &p->lsns, url, role);
	if (err)
		return err;
	rv = nng_aio_alloc(&p->aio, pull_cb, p);
	if (rv)
		return errno_of(rv);
	nng_recv_aio(p->sock, p->aio);
	return 0;
}

/* ---- direct servers: REP and PULL listeners on the loop ----
 *
 * A REP or PULL server whose URL is tcp:// on a numeric address listens
 * on a socket in the bus's own epoll set; every connection it accepts is
 * the server end of a busconn (busconn.h).  A request is read, handled
 * and answered on the loop thread: no nng thread and no hand-off
 * (docs/bus.md "Connections on the loop").  Such a listener is local
 * (plain TCP: SW_ROLE_LOCAL, as nng's); TLS and ipc:// listeners, and
 * every listener under TANDEM_BUS_NNG=1, stay nng's.  Its connections
 * count against SW_BUS_MAX_PIPES like nng's, carry pipe ids with the top
 * bit set (nng's are below it) and are known to sw_bus_pipe_open().
 */

#define DIRECT_PIPE	  0x80000000u
#define DIRECT_INFLIGHT_X 4 /* requests in flight per listener: x nctx */

static int direct_addr(const char *url, struct sockaddr_storage *sa,
		       socklen_t *salen);

struct dlsn {
	enum dkind kind; /* DK_LSN: the epoll tag */
	struct dlsn *next;
	struct sw_bus *bus; /* borrowed */
	int fd;
	struct rep *rep;   /* borrowed: the server (one of the two) */
	struct pull *pull; /* borrowed */
	char url[256];
};

struct dconn {
	enum dkind kind;	   /* DK_CONN: the epoll tag */
	struct dconn *next, *prev; /* bus->dconns, while open */
	struct sw_bus *bus;	   /* borrowed */
	struct dlsn *l;		   /* borrowed */
	struct sw_busconn *conn;   /* owned; NULL once closed */
	uint32_t pipe;
	unsigned inflight; /* its requests not answered yet */
	bool gone;	   /* the connection was lost */
	bool in_io;	   /* its busconn is in sw_busconn_io() */
	bool dead;	   /* on bus->dfree: freed after this drain's events
			    * (one of them may still name it) */
	struct dconn *fnext;
};

/* the open direct pipes of the process, for sw_bus_pipe_open() */
static struct {
	pthread_mutex_t lock;
	uint32_t *ids;
	size_t n, cap;
	uint32_t next;
} dpipes = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0};

static uint32_t dpipe_add(void)
{
	uint32_t id = 0;

	pthread_mutex_lock(&dpipes.lock);
	if (dpipes.n == dpipes.cap) {
		size_t cap = dpipes.cap ? dpipes.cap * 2 : 64;
		uint32_t *v = realloc(dpipes.ids, cap * sizeof(*v));

		if (v) {
			dpipes.ids = v;
			dpipes.cap = cap;
		}
	}
	if (dpipes.n < dpipes.cap) {
		dpipes.next = (dpipes.next + 1) & ~DIRECT_PIPE;
		if (!dpipes.next)
			dpipes.next = 1;
		id = DIRECT_PIPE | dpipes.next;
		dpipes.ids[dpipes.n++] = id;
	}
	pthread_mutex_unlock(&dpipes.lock);
	return id;
}

static void dpipe_del(uint32_t id)
{
	pthread_mutex_lock(&dpipes.lock);
	for (size_t i = 0; i < dpipes.n; i++) {
		if (dpipes.ids[i] == id) {
			dpipes.ids[i] = dpipes.ids[--dpipes.n];
			break;
		}
	}
	pthread_mutex_unlock(&dpipes.lock);
}

static bool dpipe_open(uint32_t id)
{
	bool open = false;

	pthread_mutex_lock(&dpipes.lock);
	for (size_t i = 0; i < dpipes.n && !open; i++)
		open = dpipes.ids[i] == id;
	pthread_mutex_unlock(&dpipes.lock);
	return open;
}

static struct pipes *dlsn_pipes(struct dlsn *l)
{
	return l->rep ? &l->rep->pipes : &l->pull->pipes;
}

/* Close a lost connection (never from inside its own I/O) and free it
 * once none of its requests waits for an answer. */
static void dconn_check(struct dconn *dc)
{
	struct sw_bus *bus = dc->bus;

	if (!dc->gone || dc->in_io || dc->dead)
		return;
	if (dc->conn) {
		sw_busconn_free(dc->conn);
		dc->conn = NULL;
		if (dc->prev)
			dc->prev->next = dc->next;
		else
			bus->dconns = dc->next;
		if (dc->next)
			dc->next->prev = dc->prev;
		pipes_del(dlsn_pipes(dc->l), dc->pipe);
		dpipe_del(dc->pipe);
	}
	if (!dc->inflight) {
		dc->dead = true;
		dc->fnext = bus->dfree;
		bus->dfree = dc;
	}
}

/* Free the connections closed since the last call (end of the drain's
 * events, and sw_bus_free). */
static void dconn_reap(struct sw_bus *bus)
{
	while (bus->dfree) {
		struct dconn *dc = bus->dfree;

		bus->dfree = dc->fnext;
		free(dc);
	}
}

/* req (a direct request) is answered or dropped: free it */
static void direct_req_end(struct sw_bus_req *req)
{
	struct dconn *dc = req->dc;
	struct sw_bus *bus = dc->bus;

	if (req->dprev)
		req->dprev->dnext = req->dnext;
	else
		bus->dreqs = req->dnext;
	if (req->dnext)
		req->dnext->dprev = req->dprev;
	sw_env_reset(&req->env);
	req->rep->dinflight--;
	dc->inflight--;
	free(req);
	dconn_check(dc);
}

/* The reply of a direct request: written to its connection if it is
 * still there (else dropped, as nng drops it), then req is freed. */
static int direct_reply(struct sw_bus_req *req, const char *buf, size_t len)
{
	struct dconn *dc = req->dc;
	int err = 0;

	if (dc->conn && !dc->gone)
		err =
		    sw_busconn_send(dc->conn, req->hdr, req->hlen, buf, len, 0);
	direct_req_end(req);
	return err;
}

/* a request frame: the backtrace (32-bit words up to the request id, top
 * bit set), then the envelope */
static void direct_request(struct dconn *dc, const uint8_t *buf, size_t len)
{
	struct rep *rep = dc->l->rep;
	struct sw_bus *bus = dc->bus;
	struct sw_bus_req *req;
	long h = sw_busconn_backtrace(buf, len, sizeof(req->hdr));
	char err[256];
	int rv;

	if (h < 0) {
		sw_warn("%s: a request without an id dropped", dc->l->url);
		return;
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		return; /* the requester times out */
	req->rep = rep;
	req->dc = dc;
	memcpy(req->hdr, buf, (size_t)h);
	req->hlen = (uint8_t)h;
	req->dnext = bus->dreqs;
	if (req->dnext)
		req->dnext->dprev = req;
	bus->dreqs = req;
	dc->inflight++;
	rep->dinflight++;
	rv =
	    sw_env_parse(&req->env, buf + h, len - (size_t)h, err, sizeof(err));
	if (!rv) {
		req->env.pipe = dc->pipe;
		req->env.role = SW_ROLE_LOCAL;
	}
	if (!rv && rep->dinflight > (unsigned)rep->nctx * DIRECT_INFLIGHT_X) {
		char id[SW_UUID_LEN + 1];

		snprintf(id, sizeof(id), "%s", req->env.id);
		reply_error_raw(req, id, SW_ERR_UNAVAILABLE,
				"too many requests in flight");
		return;
	}
	rep_handle(req, rv, err, sizeof(err));
}

static void dconn_recv(const uint8_t *buf, size_t len, void *arg)
{
	struct dconn *dc = arg;
	struct sw_env env;
	char err[256];
	int rv;

	if (dc->gone)
		return;
	if (dc->l->rep) {
		direct_request(dc, buf, len);
		return;
	}
	rv = sw_env_parse(&env, buf, len, err, sizeof(err));
	if (!rv) {
		env.pipe = dc->pipe;
		env.role = SW_ROLE_LOCAL;
	}
	pull_handle(dc->l->pull, &env, rv, err);
}

static void dconn_state(bool up, void *arg)
{
	struct dconn *dc = arg;

	if (!up)
		dc->gone = true; /* closed by dconn_check() */
}

/* New connections on a direct listener. */
static void dlsn_accept(struct dlsn *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		int fd = accept4(l->fd, (struct sockaddr *)&sa, &salen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct dconn *dc;
		char desc[300];
		uint32_t id;
		int err;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				sw_warn("%s: accept: %s", l->url,
					strerror(errno));
			return;
		}
		id = dpipe_add();
		if (!id || !pipes_add(dlsn_pipes(l), id)) {
			atomic_fetch_add(&dlsn_pipes(l)->refused, 1);
			if (id)
				dpipe_del(id);
			close(fd);
			continue;
		}
		dc = calloc(1, sizeof(*dc));
		snprintf(desc, sizeof(desc), "%s (pipe %u)", l->url,
			 id & ~DIRECT_PIPE);
		err = dc ? sw_busconn_accept(&dc->conn, fd, desc,
					     l->rep ? SW_SP_REP0 : SW_SP_PULL0,
					     RECV_MAX, l->bus->epfd, dc,
					     dconn_recv, dconn_state, dc)
			 : ENOMEM;
		if (err) {
			sw_warn("%s: connection dropped: %s", l->url,
				strerror(err));
			pipes_del(dlsn_pipes(l), id);
			dpipe_del(id);
			free(dc);
			close(fd);
			continue;
		}
		dc->kind = DK_CONN;
		dc->bus = l->bus;
		dc->l = l;
		dc->pipe = id;
		dc->next = l->bus->dconns;
		if (dc->next)
			dc->next->prev = dc;
		l->bus->dconns = dc;
	}
}

static void dconn_io(struct dconn *dc, uint32_t revents)
{
	if (dc->dead)
		return;
	dc->in_io = true;
	sw_busconn_io(dc->conn, revents);
	dc->in_io = false;
	dconn_check(dc);
}

/* Listen on url (a numeric tcp:// address) on the loop, for rep or pull. */
static int direct_listen(struct sw_bus *bus, const char *url,
			 const struct sockaddr_storage *sa, socklen_t salen,
			 struct rep *rep, struct pull *pull)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct dlsn *l = calloc(1, sizeof(*l));
	int one = 1, err;

	if (!l)
		return ENOMEM;
	l->kind = DK_LSN;
	l->bus = bus;
	l->rep = rep;
	l->pull = pull;
	snprintf(l->url, sizeof(l->url), "%s", url);
	l->fd = socket(sa->ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ev.data.ptr = l;
	if (l->fd < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->fd, (const struct sockaddr *)sa, salen) ||
	    listen(l->fd, SOMAXCONN) ||
	    epoll_ctl(bus->epfd, EPOLL_CTL_ADD, l->fd, &ev)) {
		err = errno;
		sw_err("listen on %s: %s", url, strerror(err));
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return err;
	}
	l->next = bus->dlsns;
	bus->dlsns = l;
	return 0;
}

/* True (sa filled) when a server on url listens on the loop. */
static bool direct_server(const struct sw_bus *bus, const char *url,
			  struct sockaddr_storage *sa, socklen_t *salen)
{
	return !bus->direct_off && direct_addr(url, sa, salen) == 0;
}

/* Free the direct listeners, their connections and unanswered requests
 * (sw_bus_free: no handler runs any more). */
static void direct_servers_free(struct sw_bus *bus)
{
	while (bus->dreqs) {
		struct sw_bus_req *req = bus->dreqs;

		bus->dreqs = req->dnext;
		sw_env_reset(&req->env);
		sw_jw_free(&req->answer);
		req->dc->inflight--;
		if (!req->dc->conn && !req->dc->inflight && !req->dc->dead) {
			req->dc->dead = true; /* closed, waited for this one */
			req->dc->fnext = bus->dfree;
			bus->dfree = req->dc;
		}
		free(req);
	}
	while (bus->dconns) {
		struct dconn *dc = bus->dconns;

		bus->dconns = dc->next;
		sw_busconn_free(dc->conn);
		dpipe_del(dc->pipe);
		free(dc);
	}
	dconn_reap(bus);
	while (bus->dlsns) {
		struct dlsn *l = bus->dlsns;

		bus->dlsns = l->next;
		close(l->fd);
		free(l);
	}
}

/* ---- clients: REQ and PUSH ---- */

/* ---- direct peers: connections on the loop (busconn.c) ----
 *
 * A REQ or PUSH peer whose URL is tcp:// to a numeric address talks over
 * a socket in the bus's own epoll set instead of an nng socket: no nng
 * thread touches its messages, so a request costs the loop a write and a
 * read instead of wake-ups of nng's threads and of the loop
 * (docs/bus.md "Connections on the loop").  TANDEM_BUS_NNG=1 turns this
 * off.  Peers and calls behave as on nng: requests wait for the
 * connection until their deadline, one written on a connection that is
 * lost ends with ECONNRESET (the server may have acted on it: the caller
 * decides, nothing is sent twice), a PUSH queue holds PUSH_QUEUE messages.
 */

static void batch_deliver(struct sw_bus_call *carrier, int err,
			  const struct sw_env *env);
static void call_free(struct sw_bus_call *call);

/*
 * The address of a URL a direct peer can use: tcp:// to a numeric IPv4 or
 * IPv6 address (a name would need a blocking lookup on the loop; TLS and
 * ipc:// stay nng's).  EINVAL otherwise.
 */
static int direct_addr(const char *url, struct sockaddr_storage *sa,
		       socklen_t *salen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	char host[INET6_ADDRSTRLEN];
	int port;

	if (!has_prefix(url, "tcp://"))
		return EINVAL;
	url_host(url, host, sizeof(host), &port);
	if (!*host || port <= 0)
		return EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*salen = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*salen = sizeof(*s6);
		return 0;
	}
	return EINVAL;
}

/* Make tfd expire at at_ms (monotonic) if that is sooner than now set. */
static void arm(struct sw_bus *bus, int64_t at_ms)
{
	struct itimerspec its = {0};
	int64_t left;

	if (at_ms >= bus->armed_ms)
		return;
	bus->armed_ms = at_ms;
	left = at_ms - sw_time_mono_ms();
	if (left < 1)
		left = 1;
	its.it_value.tv_sec = (time_t)(left / 1000);
	its.it_value.tv_nsec = (long)(left % 1000) * 1000000L;
	(void)timerfd_settime(bus->tfd, 0, &its, NULL);
}

static void id_add(struct sw_bus_peer *p, struct sw_bus_call *c)
{
	unsigned i = c->id % ID_BUCKETS;

	c->inext = p->byid[i];
	p->byid[i] = c;
}

static struct sw_bus_call *id_take(struct sw_bus_peer *p, uint32_t id)
{
	for (struct sw_bus_call **pp = &p->byid[id % ID_BUCKETS]; *pp;
	     pp = &(*pp)->inext) {
		struct sw_bus_call *c = *pp;

		if (c->id == id) {
			*pp = c->inext;
			c->inext = NULL;
			c->id = 0;
			return c;
		}
	}
	return NULL;
}

/* Write a call's request when its peer's connection is up (else it goes
 * when the connection comes up). */
static void direct_send(struct sw_bus_call *c)
{
	uint8_t hdr[4] = {(uint8_t)(c->id >> 24), (uint8_t)(c->id >> 16),
			  (uint8_t)(c->id >> 8), (uint8_t)c->id};
	int err;

	if (!sw_busconn_up(c->peer->conn))
		return;
	err = sw_busconn_send(c->peer->conn, hdr, sizeof(hdr), c->text,
			      c->textlen, 0);
	c->sent = err == 0;
	if (err) /* the call times out */
		sw_warn("%s: cannot queue %s: %s", c->peer->url, c->type,
			strerror(err));
}

/* Start a request on a direct peer; text (stolen) is its envelope. */
static int call_start_direct(struct sw_bus_call *call, char *text, size_t len)
{
	struct sw_bus_peer *p = call->peer;
	struct sw_bus *bus = p->bus;

	call->direct = true;
	call->text = text;
	call->textlen = len;
	do
		p->next_id = (p->next_id + 1) & 0x7fffffffU;
	while (!p->next_id);
	call->id = p->next_id | 0x80000000U;
	id_add(p, call);
	call->next = bus->calls;
	if (call->next)
		call->next->prev = call;
	bus->calls = call;
	arm(bus, call->deadline_ms);
	direct_send(call);
	return 0;
}

/* A call ends (on nng or a direct peer): its handler(s) run, then it is
 * freed.  buf[0..len) is the reply's envelope when err is 0. */
static void call_finish(struct sw_bus_call *c, int err, const void *buf,
			size_t len)
{
	struct sw_env env = {0};
	char why[256];
	int e = err;

	if (!e) {
		e = sw_env_parse(&env, buf, len, why, sizeof(why));
		if (e)
			sw_warn("bad reply to %s from %s: %s", c->type,
				c->peer->url, why);
	}
	if (c->nsubs)
		batch_deliver(c, e, e ? NULL : &env);
	else if (c->h) {
		if (e)
			c->h(e, NULL, c->arg);
		else
			c->h(0, &env, c->arg);
	}
	if (!e)
		sw_env_reset(&env);
	call_free(c);
}

/* A frame from a direct REQ peer: the request id, then the reply. */
static void direct_recv(const uint8_t *buf, size_t len, void *arg)
{
	struct sw_bus_peer *p = arg;
	struct sw_bus_call *c;
	uint32_t id;

	if (p->push || len < 4) {
		sw_warn("%s: unexpected frame of %zu bytes", p->url, len);
		return;
	}
	id = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	     (uint32_t)buf[2] << 8 | buf[3];
	c = id_take(p, id);
	if (c) /* else answered too late: the call already timed out */
		call_finish(c, 0, buf + 4, len - 4);
}

/* The connection came up: the requests that waited for it go, oldest
 * first.  It went down: those written on it end with ECONNRESET. */
static void direct_state(bool up, void *arg)
{
	struct sw_bus_peer *p = arg;
	struct sw_bus_call *c, *last = NULL;

	if (p->push)
		return;
	if (!up) { /* ended by the drain's sweep, out of any I/O */
		for (c = p->bus->calls; c; c = c->next)
			if (c->peer == p && c->direct && c->id && c->sent)
				c->reset = true;
		p->bus->sweep = true;
		wake(p->bus);
		return;
	}
	for (c = p->bus->calls; c; c = c->next)
		last = c;
	for (c = last; c; c = c->prev)
		if (c->peer == p && c->direct && c->id && !c->sent)
			direct_send(c);
}

/* Deadlines of direct calls and reconnections that are due; re-arm. */
static void direct_timers(struct sw_bus *bus)
{
	int64_t now = sw_time_mono_ms(), next = INT64_MAX;
	uint64_t n;
	struct sw_bus_call *c, *due = NULL, **tail = &due;

	if (read(bus->tfd, &n, sizeof(n)) < 0) {
		/* EAGAIN: not expired yet (re-armed meanwhile) */
	}
	bus->armed_ms = INT64_MAX;
	/* listed first: their handlers may add calls but end none of these
	 * (a lost connection only marks its calls, direct_state()) */
	for (c = bus->calls; c; c = c->next) {
		if (!c->direct)
			continue;
		if (c->deadline_ms <= now) {
			c->enext = NULL;
			*tail = c;
			tail = &c->enext;
		} else if (c->deadline_ms < next)
			next = c->deadline_ms;
	}
	while (due) {
		c = due;
		due = c->enext;
		call_finish(c, ETIMEDOUT, NULL, 0);
	}
	for (struct sw_bus_peer *p = bus->peers; p; p = p->next) {
		if (!p->conn || p->destroy_later)
			continue;
		sw_busconn_tick(p->conn, now);
		if (sw_busconn_due_ms(p->conn) < next)
			next = sw_busconn_due_ms(p->conn);
	}
	if (next != INT64_MAX)
		arm(bus, next);
}

/* Calls written on a lost connection end with ECONNRESET, those of
 * closed peers with ECANCELED; peers no longer used are freed (never
 * while their connection is in use above). */
static void direct_sweep(struct sw_bus *bus)
{
	struct sw_bus_call *c, *end = NULL, **tail = &end;
	struct sw_bus_peer **pp;

	if (!bus->sweep)
		return;
	bus->sweep = false;
	for (c = bus->calls; c; c = c->next) {
		if (c->direct && (c->reset || c->peer->closed)) {
			c->enext = NULL;
			*tail = c;
			tail = &c->enext;
		}
	}
	while (end) {
		c = end;
		end = c->enext;
		call_finish(c, c->reset ? ECONNRESET : ECANCELED, NULL, 0);
	}
	for (pp = &bus->peers; *pp;) {
		struct sw_bus_peer *p = *pp;

		if (!p->destroy_later) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		sw_busconn_free(p->conn);
		free(p);
	}
}

/* Handle what epoll says of the direct sockets and the timer. */
static void direct_events(struct sw_bus *bus)
{
	struct epoll_event ev[32];
	bool timers = false;
	int n;

	/* epoll_pwait: signalingd's epoll_wait() would wait 1 ms on nothing */
	n = epoll_pwait(bus->epfd, ev, 32, 0, NULL);
	for (int i = 0; i < n; i++) {
		struct sw_bus_peer *p;

		if (ev[i].data.ptr == &bus->efd)
			continue; /* read by sw_bus_drain() */
		if (ev[i].data.ptr == &bus->tfd) {
			timers = true;
			continue;
		}
		switch (*(enum dkind *)ev[i].data.ptr) {
		case DK_LSN:
			dlsn_accept(ev[i].data.ptr);
			continue;
		case DK_CONN:
			dconn_io(ev[i].data.ptr, ev[i].events);
			continue;
		case DK_PEER:
			break;
		}
		p = ev[i].data.ptr;
		if (p->destroy_later)
			continue;
		sw_busconn_io(p->conn, ev[i].events);
		arm(bus, sw_busconn_due_ms(p->conn));
	}
	if (timers)
		direct_timers(bus);
	dconn_reap(bus);
}

static int peer_dial(struct sw_bus_peer **peerp, struct sw_bus *bus,
		     const char *url, enum sw_role role, const char *name,
		     bool push)
{
	struct sw_bus_peer *peer;
	nng_tls_config *cfg = NULL;
	struct sockaddr_storage sa;
	socklen_t salen;
	nng_dialer d;
	int rv, err;

	if (!peerp || !bus || !url)
		return EINVAL;
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return ENOMEM;
	peer->kind = DK_PEER;
	peer->bus = bus;
	peer->push = push;
	snprintf(peer->url, sizeof(peer->url), "%s", url);

	if (!bus->direct_off && !direct_addr(url, &sa, &salen)) {
		err = sw_busconn_alloc(&peer->conn, url, &sa, salen,
				       push ? SW_SP_PUSH0 : SW_SP_REQ0,
				       RECV_MAX, push, bus->epfd, peer,
				       direct_recv, direct_state, peer);
		if (err) {
			free(peer);
			return err;
		}
		sw_busconn_tick(peer->conn, sw_time_mono_ms());
		arm(bus, sw_busconn_due_ms(peer->conn));
		peer->next = bus->peers;
		bus->peers = peer;
		*peerp = peer;
		return 0;
	}

	rv = push ? nng_push0_open(&peer->sock) : nng_req0_open(&peer->sock);
	if (rv) {
		free(peer);
		return errno_of(rv);
	}
	nng_socket_set_size(peer->sock, NNG_OPT_RECVMAXSZ, RECV_MAX);
	nng_socket_set_ms(peer->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(peer->sock, NNG_OPT_RECONNMAXT, 1000);
	if (push)
		nng_socket_set_int(peer->sock, NNG_OPT_SENDBUF, PUSH_QUEUE);
	else /* our callers time out and decide; no silent re-sends */
		nng_socket_set_ms(peer->sock, NNG_OPT_REQ_RESENDTIME,
				  NNG_DURATION_INFINITE);

	rv = nng_dialer_create(&d, peer->sock, url);
	if (!rv && is_tls(url)) {
		err = tls_config(&cfg, bus, false, role, name);
		if (err) {
			nng_close(peer->sock);
			free(peer);
			return err;
		}
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg); /* the dialer holds it */
	}
	/* non-blocking: the peer may start later, nng keeps retrying */
	if (!rv)
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	if (rv) {
		sw_err("dial %s: %s", url, nng_strerror(rv));
		nng_close(peer->sock);
		free(peer);
		return errno_of(rv);
	}

	peer->next = bus->peers;
	bus->peers = peer;
	*peerp = peer;
	return 0;
}

/*
 * Connect a requester to a REP server at url (connection is lazy).  Over
 * tls+tcp:// the server must hold a certificate of role, named name when
 * name is given.
 */
int sw_bus_dial_req(struct sw_bus_peer **peerp, struct sw_bus *bus,
		    const char *url, enum sw_role role, const char *name)
{
	return peer_dial(peerp, bus, url, role, name, false);
}

/* Connect a pusher to a PULL server at url (connection is lazy). */
int sw_bus_dial_push(struct sw_bus_peer **peerp, struct sw_bus *bus,
		     const char *url, enum sw_role role, const char *name)
{
	return peer_dial(peerp, bus, url, role, name, true);
}

static void peer_destroy(struct sw_bus_peer *peer)
{
	struct sw_bus_peer **pp;

	if (peer->conn) { /* freed by the drain's sweep, out of any I/O */
		peer->destroy_later = true;
		peer->bus->sweep = true;
		wake(peer->bus);
		return;
	}

	for (pp = &peer->bus->peers; *pp; pp = &(*pp)->next) {
		if (*pp == peer) {
			*pp = peer->next;
			break;
		}
	}
	close_later(peer->sock);
	free(peer);
}

/*
 * Close a peer.  Its outstanding requests complete with ECANCELED first
 * (their handlers run from a later sw_bus_drain()).
 */
void sw_bus_peer_close(struct sw_bus_peer *peer)
{
	if (!peer || peer->closed)
		return;
	peer->closed = true;
	if (peer->ncalls == 0) {
		peer_destroy(peer);
		return;
	}
	if (peer->conn) { /* the drain's sweep ends them */
		peer->bus->sweep = true;
		wake(peer->bus);
		return;
	}
	for (struct sw_bus_call *c = peer->bus->calls; c; c = c->next) {
		if (c->peer == peer)
			nng_aio_cancel(c->aio);
	}
}

static void call_cb(void *arg)
{
	struct sw_bus_call *call = arg;
	int rv = nng_aio_result(call->aio);
	int64_t left;

	if (call->state == CALL_SENDING && rv == 0) {
		/* sent: wait for the reply within what is left of the timeout
		 */
		left = call->deadline_ms - sw_time_mono_ms();
		nng_aio_set_timeout(call->aio,
				    (nng_duration)(left > 1 ? left : 1));
		call->state = CALL_RECEIVING;
		nng_ctx_recv(call->ctx, call->aio);
		return;
	}
	if (call->state == CALL_SENDING)
		aio_drop(call->aio);
	enqueue(call->peer->bus, &call->w);
}

static void call_free(struct sw_bus_call *call)
{
	struct sw_bus *bus = call->peer->bus;

	if (call->prev)
		call->prev->next = call->next;
	else
		bus->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;

	if (call->direct) {
		if (call->id)
			(void)id_take(call->peer, call->id);
		free(call->text);
	} else {
		if (call->aio)
			nng_aio_free(call->aio);
		nng_ctx_close(call->ctx);
	}
	free(call->subs);
	call->peer->ncalls--;
	if (call->peer->closed && call->peer->ncalls == 0)
		peer_destroy(call->peer);
	free(call);
}

/* A request that never went out (or whose batch did) is done with. */
static void sub_free(struct sw_bus_call *c)
{
	struct sw_bus_peer *peer = c->peer;

	free(c->btext);
	free(c);
	peer->ncalls--;
	if (peer->closed && peer->ncalls == 0)
		peer_destroy(peer);
}

static void sub_fail_run(struct work *w)
{
	struct sw_bus_call *c = (struct sw_bus_call *)w;

	if (c->h)
		c->h(c->fail, NULL, c->arg);
	sub_free(c);
}

/* A queued request could not be sent: its handler runs at the next drain
 * (never inside the caller's sw_bus_request()). */
static void sub_fail(struct sw_bus_call *c, int err)
{
	c->fail = err;
	c->w.run = sub_fail_run;
	enqueue(c->peer->bus, &c->w);
}

/*
 * The reply to a batch carrier (env NULL when err): each request's handler
 * gets its own item, or the error of the whole batch.
 */
static void batch_deliver(struct sw_bus_call *carrier, int err,
			  const struct sw_env *env)
{
	json_t *items = NULL;

	if (!env && !err)
		err = EBADMSG;
	if (!err && env && !strcmp(env->type, SW_MSG_BATCH ".reply")) {
		items = json_object_get(env->body, "items");
		if (json_array_size(items) != carrier->nsubs) {
			sw_warn("batch reply from %s: %zu items for %u "
				"requests",
				carrier->peer->url, json_array_size(items),
				carrier->nsubs);
			err = EBADMSG;
		}
	} else if (!err && env && strcmp(env->type, SW_MSG_ERROR)) {
		sw_warn("batch reply from %s has type %s", carrier->peer->url,
			env->type);
		err = EBADMSG;
	}

	for (unsigned i = 0; i < carrier->nsubs; i++) {
		struct sw_bus_call *sub = carrier->subs[i];
		const char *type = NULL;
		json_t *body = NULL;
		struct sw_env one;
		char why[128];
		int bad = items ? sw_env_batch_item(items, i, &type, &body, why,
						    sizeof(why))
				: 0;

		if (!sub->h)
			; /* cancelled */
		else if (err)
			sub->h(err, NULL, sub->arg);
		else if (!items) /* the whole batch was refused */
			sub->h(0, env, sub->arg);
		else if (bad) {
			sw_warn("batch reply from %s: %s", carrier->peer->url,
				why);
			sub->h(EBADMSG, NULL, sub->arg);
		} else {
			memset(&one, 0, sizeof(one));
			snprintf(one.type, sizeof(one.type), "%s", type);
			memcpy(one.id, env->id, sizeof(one.id));
			one.ts = env->ts;
			one.body = body; /* borrowed from env */
			sub->h(0, &one, sub->arg);
		}
		sub_free(sub);
	}
	carrier->nsubs = 0;
}

static void call_run(struct work *w)
{
	struct sw_bus_call *call = (struct sw_bus_call *)w;
	int rv = nng_aio_result(call->aio);
	nng_msg *msg = rv ? NULL : aio_take(call->aio);

	call_finish(call, errno_of(rv), msg ? nng_msg_body(msg) : NULL,
		    msg ? nng_msg_len(msg) : 0);
	if (msg)
		nng_msg_free(msg);
}

/* Send msg (stolen) for call: linked into the bus's calls when 0. */
static int call_start(struct sw_bus_call *call, nng_msg *msg, int timeout_ms)
{
	struct sw_bus *bus = call->peer->bus;
	int rv;

	rv = nng_ctx_open(&call->ctx, call->peer->sock);
	if (!rv) {
		rv = nng_aio_alloc(&call->aio, call_cb, call);
		if (rv)
			nng_ctx_close(call->ctx);
	}
	if (rv) {
		call->aio = NULL;
		nng_msg_free(msg);
		return errno_of(rv);
	}
	call->w.run = call_run;
	call->state = CALL_SENDING;
	call->next = bus->calls;
	if (call->next)
		call->next->prev = call;
	bus->calls = call;

	nng_aio_set_timeout(call->aio, timeout_ms > 1 ? timeout_ms : 1);
	nng_aio_set_msg(call->aio, msg);
	nng_ctx_send(call->ctx, call->aio);
	return 0;
}

static int left_ms(int64_t deadline_ms)
{
	int64_t left = deadline_ms - sw_time_mono_ms();

	return left < 1 ? 1 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Start call with the envelope text[0..len) (stolen), which must be
 * answered by call->deadline_ms. */
static int call_start_text(struct sw_bus_call *call, char *text, size_t len)
{
	nng_msg *msg = NULL;
	int err;

	if (call->peer->conn)
		return call_start_direct(call, text, len);
	err = msg_of_text(&msg, text, len);
	free(text);
	if (err)
		return err;
	return call_start(call, msg, left_ms(call->deadline_ms));
}

/* body (stolen; NULL = {}) as JSON text in *textp, *lenp */
static int body_text(json_t *body, char **textp, size_t *lenp)
{
	struct sw_jw w = {0};

	if (body)
		sw_jw_json(&w, body);
	else
		sw_jw_raw(&w, "{}");
	json_decref(body);
	if (w.oom || !w.buf) {
		sw_jw_free(&w);
		return ENOMEM;
	}
	*textp = w.buf;
	*lenp = w.len;
	return 0;
}

/* An envelope of type around the body text b[0..blen) (malloc'd). */
static char *envelope_text(const char *type, const char *b, size_t blen,
			   size_t *lenp)
{
	struct sw_jw w = {0};

	sw_env_head(&w, type, NULL);
	sw_jw_mem(&w, b, blen);
	sw_jw_raw(&w, "}");
	if (w.oom || !w.buf) {
		sw_jw_free(&w);
		return NULL;
	}
	*lenp = w.len;
	return w.buf;
}

/* Send a queued request on its own. */
static void send_one(struct sw_bus_call *c)
{
	size_t len = 0;
	char *text;
	int err;

	text = envelope_text(c->type, c->btext, c->btextlen, &len);
	free(c->btext);
	c->btext = NULL;
	err = text ? call_start_text(c, text, len) : ENOMEM;
	if (err)
		sub_fail(c, err);
}

/*
 * Send n queued requests as one batch: it waits as long as the first of
 * them to expire.  When it cannot be built, or would be larger than a
 * message may be, each goes on its own.
 */
static void send_batch(struct sw_bus_peer *peer, struct sw_bus_call **subs,
		       unsigned n)
{
	struct sw_bus_call *carrier;
	struct sw_jw w = {0};
	int64_t deadline = INT64_MAX;
	size_t len = 0;
	char *buf = NULL;
	bool ok;
	int err;

	if (n == 0)
		return;
	carrier = calloc(1, sizeof(*carrier));
	/* written as text: the bodies are text already (docs/bus.md) */
	sw_env_head(&w, SW_MSG_BATCH, NULL);
	sw_jw_raw(&w, "{\"items\":[");
	for (unsigned i = 0; i < n; i++) {
		sw_jw_raw(&w, i ? ",{\"type\":" : "{\"type\":");
		sw_jw_str(&w, subs[i]->type);
		sw_jw_raw(&w, ",\"body\":");
		sw_jw_mem(&w, subs[i]->btext, subs[i]->btextlen);
		sw_jw_raw(&w, "}");
		if (subs[i]->deadline_ms < deadline)
			deadline = subs[i]->deadline_ms;
	}
	sw_jw_raw(&w, "]}}");
	if (!w.oom && w.buf) {
		buf = w.buf;
		len = w.len;
	} else
		sw_jw_free(&w);
	ok = carrier && buf && len <= SW_ENV_MAX_SIZE;
	if (ok) {
		carrier->subs = calloc(n, sizeof(struct sw_bus_call *));
		ok = carrier->subs != NULL;
	}
	if (!ok) {
		free(buf);
		if (carrier)
			free(carrier->subs);
		free(carrier);
		for (unsigned i = 0; i < n; i++)
			send_one(subs[i]);
		return;
	}

	for (unsigned i = 0; i < n; i++)
		carrier->subs[i] = subs[i];
	carrier->nsubs = n;
	carrier->peer = peer;
	carrier->deadline_ms = deadline;
	snprintf(carrier->type, sizeof(carrier->type), "%s", SW_MSG_BATCH);
	for (unsigned i = 0; i < n; i++) {
		free(subs[i]->btext);
		subs[i]->btext = NULL;
	}
	err = call_start_text(carrier, buf, len);
	if (err) {
		for (unsigned i = 0; i < n; i++)
			sub_fail(subs[i], err);
		free(carrier->subs);
		free(carrier);
		return;
	}
	peer->ncalls++;
}

/*
 * Send what the peer queued since the last drain, in batches of one type
 * each (so that one batch's timeout, its first item's, suits them all),
 * in the order they were made.
 */
static void peer_flush(struct sw_bus_peer *peer)
{
	struct sw_bus_call *subs[SW_BUS_BATCH_MAX], *c, **pp;

	while (peer->qhead) {
		const char *type = peer->qhead->type;
		unsigned n = 0;

		for (pp = &peer->qhead; (c = *pp) && n < peer->batch_max;) {
			if (strcmp(c->type, type)) {
				pp = &c->qnext;
				continue;
			}
			*pp = c->qnext;
			c->qnext = NULL;
			subs[n++] = c;
		}
		peer->qtail = NULL;
		for (c = peer->qhead; c; c = c->qnext)
			peer->qtail = c;
		if (peer->closed) {
			for (unsigned i = 0; i < n; i++)
				sub_fail(subs[i], ECANCELED);
		} else if (n == 1)
			send_one(subs[0]);
		else
			send_batch(peer, subs, n);
	}
}

/*
 * Batch the requests of this peer: those made between two drains of the
 * loop go as one "batch" message of at most max (2..SW_BUS_BATCH_MAX) and
 * are answered by one; a lone request goes as itself.  max <= 1: off.
 */
void sw_bus_peer_batch(struct sw_bus_peer *peer, unsigned max)
{
	if (peer && !peer->push)
		peer->batch_max =
		    max > SW_BUS_BATCH_MAX ? SW_BUS_BATCH_MAX : max;
}

/* sw_bus_request() with the body as text btext[0..blen) (stolen) */
static int request_text(struct sw_bus_call **callp, struct sw_bus_peer *peer,
			const char *type, char *btext, size_t blen,
			int timeout_ms, sw_bus_resp_h *h, void *arg)
{
	struct sw_bus_call *call;
	size_t len = 0;
	char *text;
	int err;

	call = calloc(1, sizeof(*call));
	if (!call) {
		free(btext);
		return ENOMEM;
	}
	call->peer = peer;
	call->h = h;
	call->arg = arg;
	call->deadline_ms =
	    sw_time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 1000);
	snprintf(call->type, sizeof(call->type), "%s", type);

	if (peer->batch_max > 1) {
		call->btext = btext;
		call->btextlen = blen;
		if (peer->qtail)
			peer->qtail->qnext = call;
		else {
			peer->qhead = call;
			wake(peer->bus);
		}
		peer->qtail = call;
		peer->ncalls++;
		if (callp)
			*callp = call;
		return 0;
	}

	text = envelope_text(type, btext, blen, &len);
	free(btext);
	err = text ? call_start_text(call, text, len) : ENOMEM;
	if (err) {
		free(call);
		return err;
	}
	peer->ncalls++;
	if (callp)
		*callp = call;
	return 0;
}

/*
 * Send a request; h(err, reply, arg) runs on the loop exactly once, unless
 * the call is cancelled first.  timeout_ms bounds waiting for a connection,
 * sending and the reply together.  On a batching peer the request leaves
 * at the loop's next drain of the bus.
 */
int sw_bus_request(struct sw_bus_call **callp, struct sw_bus_peer *peer,
		   const char *type, json_t *body, int timeout_ms,
		   sw_bus_resp_h *h, void *arg)
{
	char *btext = NULL;
	size_t blen = 0;
	int err;

	if (!peer || peer->push || peer->closed || !type) {
		json_decref(body);
		return EINVAL;
	}
	err = body_text(body, &btext, &blen);
	if (err)
		return err;
	return request_text(callp, peer, type, btext, blen, timeout_ms, h, arg);
}

/*
 * sw_bus_request() with the body given as JSON text (copied): one object,
 * written by this process (a CDR kept as text in the spool), so that it is
 * not parsed only to be written again.
 */
int sw_bus_request_raw(struct sw_bus_call **callp, struct sw_bus_peer *peer,
		       const char *type, const char *body, size_t len,
		       int timeout_ms, sw_bus_resp_h *h, void *arg)
{
	char *btext;

	if (!peer || peer->push || peer->closed || !type || !body || !len)
		return EINVAL;
	btext = malloc(len + 1);
	if (!btext)
		return ENOMEM;
	memcpy(btext, body, len);
	btext[len] = '\0';
	return request_text(callp, peer, type, btext, len, timeout_ms, h, arg);
}

/*
 * Forget the handler of an outstanding call (its owner is going away).
 * Only valid before the handler ran: a handler run ends the call.
 */
void sw_bus_call_cancel(struct sw_bus_call *call)
{
	if (!call)
		return;
	call->h = NULL;
	call->arg = NULL;
}

/*
 * Queue a one-way message; never blocks.  EAGAIN when the queue toward a
 * slow or absent receiver is full (the message is dropped).
 */
int sw_bus_push(struct sw_bus_peer *peer, const char *type, json_t *body)
{
	nng_msg *msg = NULL;
	int err, rv;

	if (!peer || !peer->push || !type) {
		json_decref(body);
		return EINVAL;
	}
	if (peer->conn) {
		size_t len = 0;
		char *text = sw_env_encode(type, NULL, body, &len);

		if (!text)
			return ENOMEM;
		err =
		    sw_busconn_send(peer->conn, NULL, 0, text, len, PUSH_QUEUE);
		free(text);
		arm(peer->bus, sw_busconn_due_ms(peer->conn));
		return err;
	}
	err = msg_of(&msg, type, NULL, body);
	if (err)
		return err;
	rv = nng_sendmsg(peer->sock, msg, NNG_FLAG_NONBLOCK);
	if (rv) {
		nng_msg_free(msg);
		return rv == NNG_EAGAIN ? EAGAIN : errno_of(rv);
	}
	return 0;
}

/* ---- loop side ---- */

/* Run the handlers of everything that finished since the last call. */
void sw_bus_drain(struct sw_bus *bus)
{
	struct work *w, *next;
	uint64_t n;

	if (!bus)
		return;
	direct_events(bus);
	if (read(bus->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: spurious wake-up, still look at the queue */
	}

	pthread_mutex_lock(&bus->lock);
	w = bus->head;
	bus->head = bus->tail = NULL;
	pthread_mutex_unlock(&bus->lock);

	for (; w; w = next) {
		next = w->next;
		w->run(w);
	}
	for (struct sw_bus_peer *p = bus->peers; p; p = p->next)
		if (p->qhead)
			peer_flush(p);
	direct_sweep(bus);
}

/*
 * Close every socket and free everything; no handler runs.  Returns after
 * at most SW_BUS_CLOSE_MS: when nng has not closed every socket by then
 * (see closer above), the bus is left allocated for the process exit.
 */
void sw_bus_free(struct sw_bus *bus)
{
	if (!bus)
		return;

	/*
	 * Stop every aio first, sockets still open: a callback still running
	 * would otherwise re-arm a receive on a closed socket (nng 1.5.2
	 * panics) or queue its operation behind one already freed (enqueue()
	 * writes through the queue's tail).
	 */
	for (struct rep *r = bus->reps; r; r = r->next)
		for (int i = 0; r->reqs && i < r->nctx; i++)
			if (r->reqs[i].aio)
				nng_aio_stop(r->reqs[i].aio);
	for (struct pull *p = bus->pulls; p; p = p->next)
		if (p->aio)
			nng_aio_stop(p->aio);
	for (struct sw_bus_call *c = bus->calls; c; c = c->next)
		if (!c->direct)
			nng_aio_stop(c->aio);
	/* finished work nobody will run: requests that never went out are
	 * freed, the rest are on the lists below */
	for (struct work *w = bus->head, *next; w; w = next) {
		next = w->next;
		if (w->run == sub_fail_run) {
			free(((struct sw_bus_call *)w)->btext);
			free(w);
		}
	}
	bus->head = bus->tail = NULL;

	for (struct rep *r = bus->reps; r; r = r->next)
		if (!r->direct)
			close_later(r->sock);
	for (struct pull *p = bus->pulls; p; p = p->next)
		if (!p->direct)
			close_later(p->sock);
	for (struct sw_bus_peer *p = bus->peers; p; p = p->next)
		if (!p->conn)
			close_later(p->sock);
	if (!closes_done(SW_BUS_CLOSE_MS)) {
		sw_err("nng_close() still blocked after %d ms (a connection "
		       "was starting as its socket closed: nng < 1.8 bug); "
		       "the bus is left to the process exit",
		       SW_BUS_CLOSE_MS);
		return;
	}

	direct_servers_free(bus);
	while (bus->reps) {
		struct rep *r = bus->reps;

		bus->reps = r->next;
		for (struct batch *b = r->batches, *next; b; b = next) {
			next = b->next;
			batch_release(b);
		}
		r->batches = NULL;
		for (int i = 0; r->reqs && i < r->nctx; i++) {
			if (r->reqs[i].aio) {
				aio_drop(r->reqs[i].aio);
				nng_aio_free(r->reqs[i].aio);
			}
			sw_env_reset(&r->reqs[i].env);
		}
		free(r->reqs);
		while (r->lsns) {
			struct lsn *l = r->lsns;

			r->lsns = l->next;
			free(l);
		}
		pthread_mutex_destroy(&r->pipes.lock);
		free(r);
	}
	while (bus->pulls) {
		struct pull *p = bus->pulls;

		bus->pulls = p->next;
		if (p->aio) {
			aio_drop(p->aio);
			nng_aio_free(p->aio);
		}
		while (p->lsns) {
			struct lsn *l = p->lsns;

			p->lsns = l->next;
			free(l);
		}
		pthread_mutex_destroy(&p->pipes.lock);
		free(p);
	}
	while (bus->calls) {
		struct sw_bus_call *c = bus->calls;

		bus->calls = c->next;
		if (c->aio) {
			aio_drop(c->aio);
			nng_aio_free(c->aio);
		}
		free(c->text);
		for (unsigned i = 0; i < c->nsubs; i++)
			free(c->subs[i]);
		free(c->subs);
		free(c);
	}
	while (bus->peers) {
		struct sw_bus_peer *p = bus->peers;

		bus->peers = p->next;
		while (p->qhead) {
			struct sw_bus_call *c = p->qhead;

			p->qhead = c->qnext;
			free(c->btext);
			free(c);
		}
		sw_busconn_free(p->conn);
		free(p);
	}
	close(bus->efd);
	close(bus->tfd);
	close(bus->epfd);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}
