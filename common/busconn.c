/*
 * busconn.c - one bus connection (REQ or PUSH) driven by the owner's loop
 *
 * States: IDLE (no socket; the next attempt is due at due_ms), CONNECTING
 * (non-blocking connect() under way), GREETING (the 8-byte SP headers are
 * being exchanged) and UP (frames flow).  A handler called from
 * sw_busconn_io() may queue frames (they are written before io returns)
 * but never frees the connection: bus.c defers that.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define SW_LOG_MODULE "bus"
#include "common/busconn.h"
#include "common/log.h"
#include "common/swtime.h"

#define RETRY_MIN_MS 50
#define RETRY_MAX_MS 1000
#define READ_CHUNK   65536
#define IOV_MAX_OUT  32

enum state { IDLE, CONNECTING, GREETING, UP, CLOSED };

struct frame {
	struct frame *next;
	size_t len, off;
	uint8_t data[];
};

struct sw_busconn {
	char url[256];
	struct sockaddr_storage sa;
	socklen_t salen;
	uint16_t proto, peer_proto;
	size_t recv_max;
	bool keep;
	bool server; /* accepted: never reconnects, CLOSED when lost */
	sw_busconn_recv_h *rh;
	sw_busconn_state_h *sh;
	void *arg;

	enum state st;
	int fd;
	int64_t due_ms;
	int retry_ms;
	bool logged_down; /* "cannot connect" said once per outage */
	bool in_io;
	int epfd;	 /* the owner's epoll set, where fd is watched */
	void *tag;	 /* epoll data of fd */
	bool reg;	 /* fd is in epfd */
	uint32_t reg_ev; /* with these events */

	uint8_t hs_out[8], hs_in[8];
	size_t hs_sent, hs_got;

	struct frame *qhead, *qtail;
	unsigned nq;

	uint8_t *in;
	size_t inlen, incap;
};

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* the protocol the other end of proto speaks */
static uint16_t peer_of(uint16_t proto)
{
	switch (proto) {
	case SW_SP_REQ0:
		return SW_SP_REP0;
	case SW_SP_REP0:
		return SW_SP_REQ0;
	case SW_SP_PUSH0:
		return SW_SP_PULL0;
	default:
		return SW_SP_PUSH0;
	}
}

/* a connection of either end, no socket yet; NULL when out of memory */
static struct sw_busconn *conn_new(const char *url, uint16_t proto,
				   size_t recv_max, int epfd, void *tag,
				   sw_busconn_recv_h *rh,
				   sw_busconn_state_h *sh, void *arg)
{
	struct sw_busconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->url, sizeof(c->url), "%s", url);
	c->proto = proto;
	c->peer_proto = peer_of(proto);
	c->recv_max = recv_max;
	c->rh = rh;
	c->sh = sh;
	c->arg = arg;
	c->epfd = epfd;
	c->tag = tag;
	c->fd = -1;
	return c;
}

int sw_busconn_alloc(struct sw_busconn **cp, const char *url,
		     const struct sockaddr_storage *sa, socklen_t salen,
		     uint16_t proto, size_t recv_max, bool keep, int epfd,
		     void *tag, sw_busconn_recv_h *rh, sw_busconn_state_h *sh,
		     void *arg)
{
	struct sw_busconn *c;

	if (!cp || !url || !sa || salen > sizeof(*sa) || !rh || !sh)
		return EINVAL;
	c = conn_new(url, proto, recv_max, epfd, tag, rh, sh, arg);
	if (!c)
		return ENOMEM;
	memcpy(&c->sa, sa, salen);
	c->salen = salen;
	c->keep = keep;
	c->st = IDLE;
	c->due_ms = sw_time_mono_ms();
	c->retry_ms = RETRY_MIN_MS;
	*cp = c;
	return 0;
}

static void queue_clear(struct sw_busconn *c)
{
	while (c->qhead) {
		struct frame *f = c->qhead;

		c->qhead = f->next;
		free(f);
	}
	c->qtail = NULL;
	c->nq = 0;
}

static uint32_t events_of(const struct sw_busconn *c);

/* Take the socket out of the epoll set and close it. */
static void close_fd(struct sw_busconn *c)
{
	if (c->fd < 0)
		return;
	if (c->reg)
		(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->reg = false;
	close(c->fd);
	c->fd = -1;
}

/* Watch the socket for what the state needs. */
static void sync_ev(struct sw_busconn *c)
{
	struct epoll_event ev = {0};

	if (c->fd < 0 || c->in_io)
		return;
	ev.events = events_of(c);
	ev.data.ptr = c->tag;
	if (!c->reg) {
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->fd, &ev) == 0) {
			c->reg = true;
			c->reg_ev = ev.events;
		} else
			sw_err("%s: epoll_ctl: %s", c->url, strerror(errno));
	} else if (ev.events != c->reg_ev &&
		   epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->reg_ev = ev.events;
}

void sw_busconn_free(struct sw_busconn *c)
{
	if (!c)
		return;
	close_fd(c);
	queue_clear(c);
	free(c->in);
	free(c);
}

bool sw_busconn_up(const struct sw_busconn *c)
{
	return c && c->st == UP;
}

/* the epoll events the socket waits for in its state */
static uint32_t events_of(const struct sw_busconn *c)
{
	if (!c || c->fd < 0)
		return 0;
	switch (c->st) {
	case CONNECTING:
		return EPOLLOUT;
	case GREETING:
		return EPOLLIN |
		       (c->hs_sent < sizeof(c->hs_out) ? EPOLLOUT : 0);
	case UP:
		return EPOLLIN | (c->qhead ? EPOLLOUT : 0);
	default:
		return 0;
	}
}

int64_t sw_busconn_due_ms(const struct sw_busconn *c)
{
	return c && c->st == IDLE ? c->due_ms : INT64_MAX;
}

/* The connection is gone: close it and try again later. */
static void drop(struct sw_busconn *c, const char *why, int err)
{
	bool was_up = c->st == UP;

	close_fd(c);
	c->inlen = 0;
	if (c->server) { /* the client went: normal, the owner frees it */
		queue_clear(c);
		c->st = CLOSED;
		sw_debug("%s: connection closed (%s%s%s)", c->url, why,
			 err ? ": " : "", err ? strerror(err) : "");
		c->sh(false, c->arg);
		return;
	}
	if (c->keep) {
		if (c->qhead)
			c->qhead->off =
			    0; /* a frame cut short goes again whole */
	} else
		queue_clear(c);
	c->st = IDLE;
	c->due_ms = sw_time_mono_ms() + c->retry_ms;
	c->retry_ms =
	    c->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : c->retry_ms * 2;
	if (was_up)
		sw_warn("%s: connection lost (%s%s%s)", c->url, why,
			err ? ": " : "", err ? strerror(err) : "");
	else if (!c->logged_down)
		sw_info("%s: cannot connect yet (%s%s%s), retrying", c->url,
			why, err ? ": " : "", err ? strerror(err) : "");
	c->logged_down = true;
	if (was_up)
		c->sh(false, c->arg);
}

static void greet(struct sw_busconn *c)
{
	c->st = GREETING;
	c->hs_out[0] = 0;
	c->hs_out[1] = 'S';
	c->hs_out[2] = 'P';
	c->hs_out[3] = 0;
	c->hs_out[4] = (uint8_t)(c->proto >> 8);
	c->hs_out[5] = (uint8_t)(c->proto & 0xff);
	c->hs_out[6] = 0;
	c->hs_out[7] = 0;
	c->hs_sent = c->hs_got = 0;
}

void sw_busconn_tick(struct sw_busconn *c, int64_t now_ms)
{
	int one = 1, fd;

	if (!c || c->st != IDLE || now_ms < c->due_ms)
		return;
	fd = socket(c->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		drop(c, "socket", errno);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	if (connect(fd, (struct sockaddr *)&c->sa, c->salen) == 0)
		greet(c);
	else if (errno == EINPROGRESS)
		c->st = CONNECTING;
	else
		drop(c, "connect", errno);
	sync_ev(c);
}

int sw_busconn_accept(struct sw_busconn **cp, int fd, const char *desc,
		      uint16_t proto, size_t recv_max, int epfd, void *tag,
		      sw_busconn_recv_h *rh, sw_busconn_state_h *sh, void *arg)
{
	struct sw_busconn *c;
	int one = 1;

	if (!cp || fd < 0 || !desc || !rh || !sh)
		return EINVAL;
	c = conn_new(desc, proto, recv_max, epfd, tag, rh, sh, arg);
	if (!c)
		return ENOMEM;
	c->server = true;
	c->fd = fd;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	greet(c);
	sync_ev(c);
	*cp = c;
	return 0;
}

/* Write what is queued; false when the connection broke. */
static bool flush(struct sw_busconn *c)
{
	while (c->qhead) {
		struct iovec iov[IOV_MAX_OUT];
		struct msghdr mh = {0};
		struct frame *f = c->qhead;
		int n = 0;
		ssize_t w;

		for (; f && n < IOV_MAX_OUT; f = f->next, n++) {
			iov[n].iov_base = f->data + f->off;
			iov[n].iov_len = f->len - f->off;
		}
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			drop(c, "send", errno);
			return false;
		}
		while (w > 0 && c->qhead) {
			f = c->qhead;
			size_t left = f->len - f->off;

			if ((size_t)w < left) {
				f->off += (size_t)w;
				return true;
			}
			w -= (ssize_t)left;
			c->qhead = f->next;
			if (!c->qhead)
				c->qtail = NULL;
			c->nq--;
			free(f);
		}
	}
	return true;
}

int sw_busconn_send(struct sw_busconn *c, const void *hdr, size_t hlen,
		    const void *body, size_t blen, unsigned max)
{
	struct frame *f;

	if (!c || (hlen && !hdr) || (blen && !body))
		return EINVAL;
	if (max && c->nq >= max)
		return EAGAIN;
	f = malloc(sizeof(*f) + 8 + hlen + blen);
	if (!f)
		return ENOMEM;
	f->next = NULL;
	f->len = 8 + hlen + blen;
	f->off = 0;
	put64(f->data, hlen + blen);
	if (hlen)
		memcpy(f->data + 8, hdr, hlen);
	if (blen)
		memcpy(f->data + 8 + hlen, body, blen);
	if (c->qtail)
		c->qtail->next = f;
	else
		c->qhead = f;
	c->qtail = f;
	c->nq++;
	if (c->st == UP && !c->in_io) {
		(void)flush(c);
		sync_ev(c);
	}
	return 0;
}

long sw_busconn_frames(const uint8_t *buf, size_t len, size_t max,
		       sw_busconn_recv_h *h, void *arg)
{
	size_t used = 0;

	while (len - used >= 8) {
		uint64_t n = get64(buf + used);

		if (n > max)
			return -1;
		if (len - used - 8 < n)
			break;
		h(buf + used + 8, (size_t)n, arg);
		used += 8 + (size_t)n;
	}
	return (long)used;
}

long sw_busconn_backtrace(const uint8_t *buf, size_t len, size_t max)
{
	size_t h = 0;

	do {
		if (h + 4 > len || h + 4 > max)
			return -1;
		h += 4;
	} while (!(buf[h - 4] & 0x80));
	return (long)h;
}

/* Read what arrived and hand each whole frame to rh; false when broken. */
static bool pull_in(struct sw_busconn *c)
{
	ssize_t r;
	long used;

	if (c->incap - c->inlen < READ_CHUNK) {
		size_t cap = c->inlen + READ_CHUNK;
		uint8_t *p = realloc(c->in, cap);

		if (!p) {
			drop(c, "out of memory", ENOMEM);
			return false;
		}
		c->in = p;
		c->incap = cap;
	}
	r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, MSG_DONTWAIT);
	if (r == 0) {
		drop(c, "closed by the peer", 0);
		return false;
	}
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return true;
		drop(c, "recv", errno);
		return false;
	}
	c->inlen += (size_t)r;
	used = sw_busconn_frames(c->in, c->inlen, c->recv_max, c->rh, c->arg);
	if (used < 0) {
		drop(c, "frame over the size limit", EMSGSIZE);
		return false;
	}
	if (used > 0) {
		memmove(c->in, c->in + used, c->inlen - (size_t)used);
		c->inlen -= (size_t)used;
	}
	if (c->incap > 4 * READ_CHUNK && c->inlen < READ_CHUNK) {
		uint8_t *p = realloc(c->in, READ_CHUNK);

		if (p) {
			c->in = p;
			c->incap = READ_CHUNK;
		}
	}
	return true;
}

/* The SP header exchange; true when it ended and the connection is up. */
static void greeting_io(struct sw_busconn *c, uint32_t revents)
{
	ssize_t n;

	if ((revents & EPOLLOUT) && c->hs_sent < sizeof(c->hs_out)) {
		n = send(c->fd, c->hs_out + c->hs_sent,
			 sizeof(c->hs_out) - c->hs_sent,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			drop(c, "send", errno);
			return;
		}
		if (n > 0)
			c->hs_sent += (size_t)n;
	}
	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    c->hs_got < sizeof(c->hs_in)) {
		n = recv(c->fd, c->hs_in + c->hs_got,
			 sizeof(c->hs_in) - c->hs_got, MSG_DONTWAIT);
		if (n == 0) {
			drop(c, "closed during the SP header", 0);
			return;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			drop(c, "recv", errno);
			return;
		}
		if (n > 0)
			c->hs_got += (size_t)n;
	}
	if (c->hs_sent < sizeof(c->hs_out) || c->hs_got < sizeof(c->hs_in))
		return;
	if (c->hs_in[0] || c->hs_in[1] != 'S' || c->hs_in[2] != 'P' ||
	    c->hs_in[3] || c->hs_in[6] || c->hs_in[7] ||
	    ((uint16_t)(c->hs_in[4] << 8 | c->hs_in[5])) != c->peer_proto) {
		drop(c, "not the expected SP peer", EPROTO);
		return;
	}
	c->st = UP;
	c->retry_ms = RETRY_MIN_MS;
	if (c->logged_down)
		sw_info("%s: connected", c->url);
	c->logged_down = false;
	c->sh(true, c->arg);
}

void sw_busconn_io(struct sw_busconn *c, uint32_t revents)
{
	if (!c || c->fd < 0)
		return;
	c->in_io = true;
	if (c->st == CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err)
			drop(c, "connect", err);
		else if (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			greet(c);
		if (c->st == GREETING)
			revents = EPOLLOUT;
	}
	if (c->st == GREETING)
		greeting_io(c, revents);
	else if (c->st == UP && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		(void)pull_in(c);
	if (c->st == UP)
		(void)flush(c);
	c->in_io = false;
	sync_ev(c);
}
