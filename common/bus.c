/*
 * bus.c - nng sockets whose completions are handled on the owner's loop
 *
 * nng finishes asynchronous operations on its own threads.  Our aio
 * callbacks do only nng plumbing (re-arming a receive after a send) and
 * otherwise put the finished object on a mutex-protected queue and poke an
 * eventfd.  sw_bus_drain(), called by the daemon's loop when that fd is
 * readable, runs every application handler on the loop thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#define SW_LOG_MODULE "bus"
#include "common/bus.h"
#include "common/log.h"
#include "common/swtime.h"
#include "proto/proto.h"

#define RECV_MAX   (4 * 1024 * 1024) /* transport limit; envelope says 256k */
#define PUSH_QUEUE 1024		     /* messages buffered per PUSH socket */

/* something that finished on an nng thread and waits for the loop */
struct work {
	struct work *next;
	void (*run)(struct work *w);
};

struct rep {
	struct rep *next;
	struct sw_bus *bus; /* borrowed */
	nng_socket sock;
	sw_bus_req_h *h;
	void *arg;
	int nctx;
	struct sw_bus_req *reqs; /* owned, nctx of them */
};

enum req_state { REQ_RECV, REQ_HANDLING, REQ_SENDING };

struct sw_bus_req {
	struct work w;
	struct rep *rep; /* borrowed */
	nng_ctx ctx;
	nng_aio *aio; /* owned */
	enum req_state state;
	struct sw_env env;
	bool open;
};

struct pull {
	struct work w;
	struct pull *next;
	struct sw_bus *bus; /* borrowed */
	nng_socket sock;
	nng_aio *aio; /* owned */
	sw_bus_msg_h *h;
	void *arg;
};

struct sw_bus_peer {
	struct sw_bus_peer *next;
	struct sw_bus *bus; /* borrowed */
	nng_socket sock;
	bool push;
	bool closed;
	int ncalls; /* outstanding requests */
	char url[256];
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
};

struct sw_bus {
	int efd;
	pthread_mutex_t lock;
	struct work *head, *tail; /* finished operations */
	struct rep *reps;
	struct pull *pulls;
	struct sw_bus_peer *peers;
	struct sw_bus_call *calls; /* outstanding requests */
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

static void enqueue(struct sw_bus *bus, struct work *w)
{
	uint64_t one = 1;

	pthread_mutex_lock(&bus->lock);
	w->next = NULL;
	if (bus->tail)
		bus->tail->next = w;
	else
		bus->head = w;
	bus->tail = w;
	pthread_mutex_unlock(&bus->lock);

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

static int msg_of(nng_msg **msgp, const char *type, const char *id,
		  json_t *body)
{
	size_t len = 0;
	char *buf;
	int rv;

	buf = sw_env_encode(type, id, body, &len);
	if (!buf)
		return ENOMEM;
	rv = nng_msg_alloc(msgp, 0);
	if (!rv)
		rv = nng_msg_append(*msgp, buf, len);
	free(buf);
	if (rv && *msgp) {
		nng_msg_free(*msgp);
		*msgp = NULL;
	}
	return errno_of(rv);
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
	if (bus->efd < 0) {
		int err = errno;
		free(bus);
		return err;
	}
	pthread_mutex_init(&bus->lock, NULL);
	*busp = bus;
	return 0;
}

/* The descriptor to watch for readability in the daemon's loop. */
int sw_bus_fd(const struct sw_bus *bus)
{
	return bus ? bus->efd : -1;
}

/* ---- REP server ---- */

static void rep_arm(struct sw_bus_req *req)
{
	req->state = REQ_RECV;
	nng_ctx_recv(req->ctx, req->aio);
}

static void rep_cb(void *arg)
{
	struct sw_bus_req *req = arg;
	int rv = nng_aio_result(req->aio);

	if (req->state == REQ_SENDING) {
		if (rv) {
			nng_msg *m = nng_aio_get_msg(req->aio);
			if (m)
				nng_msg_free(m);
		}
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

static int reply_error_raw(struct sw_bus_req *req, const char *id,
			   const char *code, const char *message)
{
	nng_msg *msg = NULL;
	int err;

	err = msg_of(&msg, SW_MSG_ERROR, id,
		     json_pack("{s:s, s:s}", "code", code, "message", message));
	if (err) {
		sw_env_reset(&req->env);
		rep_arm(req); /* cannot answer: the requester times out */
		return err;
	}
	return reply_msg(req, msg);
}

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
	msg = nng_aio_get_msg(req->aio);
	rv = sw_env_parse(&req->env, nng_msg_body(msg), nng_msg_len(msg), err,
			  sizeof(err));
	nng_msg_free(msg);
	if (rv) {
		sw_warn("bad request dropped with an error reply: %s", err);
		reply_error_raw(req, NULL, SW_ERR_BAD_REQUEST, err);
		return;
	}

	req->state = REQ_HANDLING;
	req->rep->h(req, &req->env, req->rep->arg);
}

static int sock_listen(nng_socket sock, const char *url)
{
	int rv;

	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, RECV_MAX);
	rv = nng_listen(sock, url, NULL, 0);
	if (rv)
		sw_err("listen on %s: %s", url, nng_strerror(rv));
	return errno_of(rv);
}

/*
 * Answer requests on url.  nctx requests may be in flight at once (each
 * waits for its reply); h runs on the loop for each valid envelope.
 */
int sw_bus_listen_rep(struct sw_bus *bus, const char *url, int nctx,
		      sw_bus_req_h *h, void *arg)
{
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

	rv = nng_rep0_open(&rep->sock);
	if (rv) {
		free(rep->reqs);
		free(rep);
		return errno_of(rv);
	}
	/* linked first so that sw_bus_free() cleans up a half-built server */
	rep->next = bus->reps;
	bus->reps = rep;

	err = sock_listen(rep->sock, url);
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
	nng_msg *msg = NULL;
	char id[SW_UUID_LEN + 1];
	int err;

	if (!req || req->state != REQ_HANDLING) {
		json_decref(body);
		return EINVAL;
	}
	snprintf(id, sizeof(id), "%s", req->env.id);
	err = msg_of(&msg, type, id, body);
	if (err) {
		sw_env_reset(&req->env);
		rep_arm(req);
		return err;
	}
	return reply_msg(req, msg);
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

static void pull_run(struct work *w)
{
	struct pull *p = (struct pull *)w;
	struct sw_env env;
	char err[256];
	nng_msg *msg;
	int rv;

	rv = nng_aio_result(p->aio);
	if (!rv) {
		msg = nng_aio_get_msg(p->aio);
		rv = sw_env_parse(&env, nng_msg_body(msg), nng_msg_len(msg),
				  err, sizeof(err));
		nng_msg_free(msg);
		if (rv) {
			sw_warn("bad pushed message dropped: %s", err);
		} else {
			p->h(&env, p->arg);
			sw_env_reset(&env);
		}
	}
	nng_recv_aio(p->sock, p->aio);
}

/* Receive one-way messages on url; h runs on the loop for each. */
int sw_bus_listen_pull(struct sw_bus *bus, const char *url, sw_bus_msg_h *h,
		       void *arg)
{
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

	rv = nng_pull0_open(&p->sock);
	if (rv) {
		free(p);
		return errno_of(rv);
	}
	p->next = bus->pulls;
	bus->pulls = p;

	err = sock_listen(p->sock, url);
	if (err)
		return err;
	rv = nng_aio_alloc(&p->aio, pull_cb, p);
	if (rv)
		return errno_of(rv);
	nng_recv_aio(p->sock, p->aio);
	return 0;
}

/* ---- clients: REQ and PUSH ---- */

static int peer_dial(struct sw_bus_peer **peerp, struct sw_bus *bus,
		     const char *url, bool push)
{
	struct sw_bus_peer *peer;
	int rv;

	if (!peerp || !bus || !url)
		return EINVAL;
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return ENOMEM;
	peer->bus = bus;
	peer->push = push;
	snprintf(peer->url, sizeof(peer->url), "%s", url);

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

	/* non-blocking: the peer may start later, nng keeps retrying */
	rv = nng_dial(peer->sock, url, NULL, NNG_FLAG_NONBLOCK);
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

/* Connect a requester to a REP server at url (connection is lazy). */
int sw_bus_dial_req(struct sw_bus_peer **peerp, struct sw_bus *bus,
		    const char *url)
{
	return peer_dial(peerp, bus, url, false);
}

/* Connect a pusher to a PULL server at url (connection is lazy). */
int sw_bus_dial_push(struct sw_bus_peer **peerp, struct sw_bus *bus,
		     const char *url)
{
	return peer_dial(peerp, bus, url, true);
}

static void peer_destroy(struct sw_bus_peer *peer)
{
	struct sw_bus_peer **pp;

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
	if (call->state == CALL_SENDING) {
		nng_msg *m = nng_aio_get_msg(call->aio);
		if (m)
			nng_msg_free(m);
	}
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

	if (call->aio)
		nng_aio_free(call->aio);
	nng_ctx_close(call->ctx);
	call->peer->ncalls--;
	if (call->peer->closed && call->peer->ncalls == 0)
		peer_destroy(call->peer);
	free(call);
}

static void call_run(struct work *w)
{
	struct sw_bus_call *call = (struct sw_bus_call *)w;
	int rv = nng_aio_result(call->aio);
	struct sw_env env;
	char err[256];
	nng_msg *msg;
	int e = errno_of(rv);

	if (!rv) {
		msg = nng_aio_get_msg(call->aio);
		e = sw_env_parse(&env, nng_msg_body(msg), nng_msg_len(msg), err,
				 sizeof(err));
		nng_msg_free(msg);
		if (e)
			sw_warn("bad reply to %s from %s: %s", call->type,
				call->peer->url, err);
	}

	if (call->h) {
		if (e)
			call->h(e, NULL, call->arg);
		else
			call->h(0, &env, call->arg);
	}
	if (!e)
		sw_env_reset(&env);
	call_free(call);
}

/*
 * Send a request; h(err, reply, arg) runs on the loop exactly once, unless
 * the call is cancelled first.  timeout_ms bounds waiting for a connection,
 * sending and the reply together.
 */
int sw_bus_request(struct sw_bus_call **callp, struct sw_bus_peer *peer,
		   const char *type, json_t *body, int timeout_ms,
		   sw_bus_resp_h *h, void *arg)
{
	struct sw_bus_call *call;
	nng_msg *msg = NULL;
	int rv, err;

	if (!peer || peer->push || peer->closed || !type) {
		json_decref(body);
		return EINVAL;
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		json_decref(body);
		return ENOMEM;
	}
	err = msg_of(&msg, type, NULL, body);
	if (err) {
		free(call);
		return err;
	}
	rv = nng_ctx_open(&call->ctx, peer->sock);
	if (!rv) {
		rv = nng_aio_alloc(&call->aio, call_cb, call);
		if (rv)
			nng_ctx_close(call->ctx);
	}
	if (rv) {
		nng_msg_free(msg);
		free(call);
		return errno_of(rv);
	}

	call->w.run = call_run;
	call->peer = peer;
	call->h = h;
	call->arg = arg;
	call->state = CALL_SENDING;
	call->deadline_ms =
	    sw_time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 1000);
	snprintf(call->type, sizeof(call->type), "%s", type);
	peer->ncalls++;
	call->next = peer->bus->calls;
	if (call->next)
		call->next->prev = call;
	peer->bus->calls = call;

	nng_aio_set_timeout(call->aio, timeout_ms > 0 ? timeout_ms : 1000);
	nng_aio_set_msg(call->aio, msg);
	nng_ctx_send(call->ctx, call->aio);

	if (callp)
		*callp = call;
	return 0;
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
		for (int i = 0; i < r->nctx; i++)
			if (r->reqs[i].aio)
				nng_aio_stop(r->reqs[i].aio);
	for (struct pull *p = bus->pulls; p; p = p->next)
		if (p->aio)
			nng_aio_stop(p->aio);
	for (struct sw_bus_call *c = bus->calls; c; c = c->next)
		nng_aio_stop(c->aio);
	bus->head = bus->tail = NULL; /* finished work nobody will run */

	for (struct rep *r = bus->reps; r; r = r->next)
		close_later(r->sock);
	for (struct pull *p = bus->pulls; p; p = p->next)
		close_later(p->sock);
	for (struct sw_bus_peer *p = bus->peers; p; p = p->next)
		close_later(p->sock);
	if (!closes_done(SW_BUS_CLOSE_MS)) {
		sw_err("nng_close() still blocked after %d ms (a connection "
		       "was starting as its socket closed: nng < 1.8 bug); "
		       "the bus is left to the process exit",
		       SW_BUS_CLOSE_MS);
		return;
	}

	while (bus->reps) {
		struct rep *r = bus->reps;

		bus->reps = r->next;
		for (int i = 0; i < r->nctx; i++) {
			if (r->reqs[i].aio)
				nng_aio_free(r->reqs[i].aio);
			sw_env_reset(&r->reqs[i].env);
		}
		free(r->reqs);
		free(r);
	}
	while (bus->pulls) {
		struct pull *p = bus->pulls;

		bus->pulls = p->next;
		if (p->aio)
			nng_aio_free(p->aio);
		free(p);
	}
	while (bus->calls) {
		struct sw_bus_call *c = bus->calls;

		bus->calls = c->next;
		nng_aio_free(c->aio);
		free(c);
	}
	while (bus->peers) {
		struct sw_bus_peer *p = bus->peers;

		bus->peers = p->next;
		free(p);
	}
	close(bus->efd);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}
