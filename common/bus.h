/*
 * bus.h - nng + JSON message bus between the Tandem daemons
 *
 * One struct sw_bus per process loop.  nng's aio threads only move finished
 * operations onto a queue and wake the loop through an eventfd; clients
 * over tcp:// to a numeric address are not nng sockets but connections the
 * loop drives itself (busconn.h, docs/bus.md "Connections on the loop").
 * Every handler below runs on the loop thread, inside sw_bus_drain().
 * Register sw_bus_fd() (an epoll set) with the loop (su_root in signalingd,
 * fd_listen under re_main) and call sw_bus_drain() when it is readable.
 *
 * Patterns (DESIGN.md "Bus"):
 *  - REP server:  sw_bus_listen_rep(); each request reaches the handler with a
 *    struct sw_bus_req that must be answered exactly once, now or later, by
 *    sw_bus_reply() or sw_bus_reply_error().  Many requests are in flight.
 *  - REQ client:  sw_bus_dial_req() + sw_bus_request(); the response handler
 *    gets err (0, ETIMEDOUT, ECONNREFUSED, EBADMSG...) and the reply
 *    envelope; an "error" reply arrives with err = 0 and env->type "error".
 *    sw_bus_call_cancel() detaches the handler (the owner went away).
 *  - PULL server / PUSH client: one-way, lossless, for heartbeats and events.
 *
 * Ownership: the bus owns every socket, peer and pending call; sw_bus_free()
 * closes them all.
 * Threading: loop thread only (except the internal aio callbacks).
 */
#ifndef SW_BUS_H
#define SW_BUS_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"

struct sw_bus;
struct sw_bus_req;  /* a received request awaiting its reply */
struct sw_bus_peer; /* a dialled REQ or PUSH socket */
struct sw_bus_call; /* an outstanding request */

/* server side: env and its body are valid until the reply is sent */
typedef void(sw_bus_req_h)(struct sw_bus_req *req, const struct sw_env *env,
			   void *arg);
/* PULL side: env is valid during the call only */
typedef void(sw_bus_msg_h)(const struct sw_env *env, void *arg);
/* client side: env is NULL when err != 0; valid during the call only */
typedef void(sw_bus_resp_h)(int err, const struct sw_env *env, void *arg);

/* longest sw_bus_free() waits for nng to close the sockets */
#define SW_BUS_CLOSE_MS 1000

int sw_bus_alloc(struct sw_bus **busp);
void sw_bus_free(struct sw_bus *bus);
int sw_bus_fd(const struct sw_bus *bus);
void sw_bus_drain(struct sw_bus *bus);

/* connections a listening socket holds at once; more are closed at once */
#define SW_BUS_MAX_PIPES 512

bool sw_bus_url_local(const char *url);
int sw_bus_url_hostport(const char *url, char *host, size_t size, int *portp);
int sw_bus_url_check(const char *url, bool insecure, bool pki, char *err,
		     size_t errsz);
/* each URL of a comma-separated list (blanks around them ignored); h
 * returning non-zero stops the walk with that value */
typedef int(sw_bus_url_h)(const char *url, void *arg);
int sw_bus_url_each(const char *list, sw_bus_url_h *h, void *arg);
int sw_bus_url_list_check(const char *list, bool insecure, bool pki, char *err,
			  size_t errsz);
int sw_bus_set_pki(struct sw_bus *bus, const char *dir, char *err,
		   size_t errsz);
bool sw_bus_pipe_open(uint32_t pipe);

/* role: whose certificates a tls+tcp:// listener admits (docs/bus.md) */
int sw_bus_listen_rep(struct sw_bus *bus, const char *url, enum sw_role role,
		      int nctx, sw_bus_req_h *h, void *arg);
int sw_bus_listen_pull(struct sw_bus *bus, const char *url, enum sw_role role,
		       sw_bus_msg_h *h, void *arg);

/* role, name: the certificate a tls+tcp:// server must show (name: any) */
int sw_bus_dial_req(struct sw_bus_peer **peerp, struct sw_bus *bus,
		    const char *url, enum sw_role role, const char *name);
int sw_bus_dial_push(struct sw_bus_peer **peerp, struct sw_bus *bus,
		     const char *url, enum sw_role role, const char *name);
void sw_bus_peer_close(struct sw_bus_peer *peer);
/* requests in one batch message at most (docs/bus.md "Batches") */
#define SW_BUS_BATCH_MAX 256
void sw_bus_peer_batch(struct sw_bus_peer *peer, unsigned max);

/* body is stolen (NULL = {}); callp may be NULL */
int sw_bus_request(struct sw_bus_call **callp, struct sw_bus_peer *peer,
		   const char *type, json_t *body, int timeout_ms,
		   sw_bus_resp_h *h, void *arg);
/* the same with the body as JSON text of one object, copied (the caller
 * vouches for it: its own output) */
int sw_bus_request_raw(struct sw_bus_call **callp, struct sw_bus_peer *peer,
		       const char *type, const char *body, size_t len,
		       int timeout_ms, sw_bus_resp_h *h, void *arg);
void sw_bus_call_cancel(struct sw_bus_call *call);
int sw_bus_push(struct sw_bus_peer *peer, const char *type, json_t *body);

/* reply type is "<request type>.reply" unless given; body is stolen */
int sw_bus_reply(struct sw_bus_req *req, json_t *body);
int sw_bus_reply_type(struct sw_bus_req *req, const char *type, json_t *body);
int sw_bus_reply_text(struct sw_bus_req *req, const char *body, size_t len);
int sw_bus_reply_error(struct sw_bus_req *req, const char *code,
		       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* SW_BUS_H */
