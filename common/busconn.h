/*
 * busconn.h - one bus connection driven by the owner's loop
 *
 * nng's SP protocol over TCP, spoken without nng's threads: a non-blocking
 * socket the bus watches in its own epoll set (bus.c), the 8-byte SP
 * header exchange, then frames of a 64-bit big-endian length and the
 * payload.  A REQ payload starts with the request's 32-bit id (top bit
 * set), which the REP server echoes.  docs/bus.md "Connections on the
 * loop".
 *
 * A client end (REQ, PUSH: sw_busconn_alloc) connects without blocking to
 * a numeric address; a lost or refused connection is tried again after
 * 50 ms, doubling up to 1 s, like the nng dialers.  A server end (REP,
 * PULL: sw_busconn_accept) is an accepted socket; when it is lost it is
 * closed for good (the state handler says down) and the owner frees it.
 *
 * Ownership: the connection owns its socket and its queue of frames.
 * Threading: the owner's loop thread only.
 */
#ifndef SW_BUSCONN_H
#define SW_BUSCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sw_busconn;

/* SP protocol numbers (the 16-bit id of the header exchange) */
#define SW_SP_REQ0  0x30
#define SW_SP_REP0  0x31
#define SW_SP_PUSH0 0x50
#define SW_SP_PULL0 0x51

/* a received payload (a REQ reply: the 4-byte id, then the body) */
typedef void(sw_busconn_recv_h)(const uint8_t *buf, size_t len, void *arg);
/* the connection came up (header exchanged) or went down */
typedef void(sw_busconn_state_h)(bool up, void *arg);

/* url: for the log; sa: the address (numeric: connecting never blocks);
 * proto: ours (SW_SP_REQ0 or SW_SP_PUSH0); keep: frames queued while down
 * stay for the next connection (PUSH), else they are dropped with it;
 * the socket is watched in epoll set epfd with data.ptr = tag */
int sw_busconn_alloc(struct sw_busconn **cp, const char *url,
		     const struct sockaddr_storage *sa, socklen_t salen,
		     uint16_t proto, size_t recv_max, bool keep, int epfd,
		     void *tag, sw_busconn_recv_h *rh, sw_busconn_state_h *sh,
		     void *arg);
/* the server end of the accepted socket fd (owned from now on); desc:
 * for the log; proto: ours (SW_SP_REP0 or SW_SP_PULL0) */
int sw_busconn_accept(struct sw_busconn **cp, int fd, const char *desc,
		      uint16_t proto, size_t recv_max, int epfd, void *tag,
		      sw_busconn_recv_h *rh, sw_busconn_state_h *sh, void *arg);
void sw_busconn_free(struct sw_busconn *c);

bool sw_busconn_up(const struct sw_busconn *c);
/* the socket is ready (revents from epoll) */
void sw_busconn_io(struct sw_busconn *c, uint32_t revents);
/* when sw_busconn_tick() has something to do (monotonic ms, INT64_MAX:
 * nothing), and doing it: a connection attempt that is due */
int64_t sw_busconn_due_ms(const struct sw_busconn *c);
void sw_busconn_tick(struct sw_busconn *c, int64_t now_ms);

/* queue one frame: hdr (may be NULL) then body; written at once when the
 * socket takes it.  EAGAIN: max frames already wait. */
int sw_busconn_send(struct sw_busconn *c, const void *hdr, size_t hlen,
		    const void *body, size_t blen, unsigned max);

/* Parse frames from buf[0..len): each complete one to h; returns the bytes
 * used, or -1 when a frame is longer than max (the stream is broken).
 * Exposed for the fuzz harness. */
long sw_busconn_frames(const uint8_t *buf, size_t len, size_t max,
		       sw_busconn_recv_h *h, void *arg);

/* The length of a request frame's backtrace: 32-bit words up to and
 * including the request id (top bit set), at most max bytes; -1 when the
 * frame has none.  A REP server echoes it in front of the reply.  Exposed
 * for the fuzz harness. */
long sw_busconn_backtrace(const uint8_t *buf, size_t len, size_t max);

#endif /* SW_BUSCONN_H */
