/*
 * relay.c - per-session UDP sockets, symmetric latching and forwarding
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mediaproxy/libre.h"

#define SW_LOG_MODULE "relay"
#include "common/log.h"
#include "common/swtime.h"
#include "mediaproxy/ports.h"
#include "mediaproxy/relay.h"

#define RX_BATCH   32	/* datagrams read per system call */
#define RX_BUF	   4096 /* larger datagrams are dropped */
#define BIND_TRIES 64	/* pairs tried when binds fail */
#define SR_RING	   4	/* SRs remembered per leg for RTT */

struct mp_leg;

/* one UDP socket: the RTP or the RTCP port of a leg */
struct mp_sock {
	int fd;
	bool rtcp;
	struct mp_leg *leg; /* borrowed: back-pointer */
	struct sa dst;	    /* where it sends: latched or plan */
	bool dst_set;
	struct sa plan; /* the SDP address of this port's peer */
	bool plan_set;
	bool latched;
	int64_t last_rx_ms; /* last packet from the latched source */
};

struct mp_leg {
	struct mp_relay *relay; /* borrowed: back-pointer */
	enum mp_leg_id id;
	uint16_t port; /* RTP port, RTCP = port + 1; 0 = none */
	struct mp_sock rtp, rtcp;
	struct sa plan; /* RTP address from the SDP */
	bool plan_set;
	struct sa sig; /* signalling source address (port 0) */
	bool sig_set;
	bool relatch;  /* may move to a new source after silence */
	uint32_t rate; /* clock rate for the jitter estimate */
	int pt;	       /* media PT, -1 = any */
	struct mp_leg_stats st;
	struct mp_rx_stats rxs;
	int64_t last_rtp_ms; /* last valid RTP from this leg's peer */
	struct {
		uint32_t key; /* NTP middle bits of an SR sent */
		int64_t sent_us;
	} sr[SR_RING];
	unsigned sr_next;
	uint32_t rtt_ms; /* last RTT measured, 0 = none */
	bool rtcp_mux;	 /* the peer sent RTCP on the RTP port */
	bool fwd_set;	 /* fwd: the last RTP relayed from this leg */
	struct mp_relay_fwd fwd;
};

struct mp_relay {
	struct mp_leg leg[2];
	struct mp_ports *ports;	   /* borrowed: the node's allocator */
	mp_relay_media_h *media_h; /* decoded path, NULL = plain relay */
	void *media_arg;
	mp_relay_rtcp_h *rtcp_h; /* RTCP terminated, NULL = relayed */
	void *rtcp_arg;
	char tag[40];		   /* session id for logs */
	unsigned prefix4, prefix6; /* latching prefix lengths */
	int epfd;		   /* deferred reads: the node's engine epoll
				    * set; -1 = read on libre's loop */
};

static const char leg_name[2] = {'a', 'b'};

static void sock_close(struct mp_sock *s)
{
	if (s->fd < 0)
		return;
	if (s->leg->relay->epfd >= 0)
		(void)epoll_ctl(s->leg->relay->epfd, EPOLL_CTL_DEL, s->fd,
				NULL);
	else
		fd_close(s->fd);
	(void)close(s->fd);
	s->fd = -1;
}

static void relay_destructor(void *arg)
{
	struct mp_relay *relay = arg;

	for (int i = 0; i < 2; i++) {
		struct mp_leg *leg = &relay->leg[i];

		sock_close(&leg->rtp);
		sock_close(&leg->rtcp);
		if (leg->port)
			mp_ports_put(relay->ports, leg->port);
	}
}

static int sock_open(int *fdp, const struct sa *laddr, uint16_t port)
{
	struct sa a = *laddr;
	int fd, err = 0;

	sa_set_port(&a, port);
	fd = socket(sa_af(&a), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (bind(fd, &a.u.sa, a.len) < 0) {
		err = errno;
		(void)close(fd);
		return err;
	}
	*fdp = fd;

	return 0;
}

/* send buf from sock to its peer; true when the whole datagram left */
static bool sock_send(const struct mp_sock *s, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (!s->dst_set || s->fd < 0)
		return false;
	n = sendto(s->fd, buf, len, 0, &s->dst.u.sa, s->dst.len);

	return n == (ssize_t)len;
}

/* true when a and b share their first bits bits (same family only) */
static bool prefix_eq(const struct sa *a, const struct sa *b, unsigned bits)
{
	uint8_t x[16], y[16];
	unsigned max;

	if (sa_af(a) != sa_af(b))
		return false;
	if (sa_af(a) == AF_INET) {
		uint32_t xa = htonl(sa_in(a)), ya = htonl(sa_in(b));

		memcpy(x, &xa, 4);
		memcpy(y, &ya, 4);
		max = 32;
	} else if (sa_af(a) == AF_INET6) {
		sa_in6(a, x);
		sa_in6(b, y);
		max = 128;
	} else {
		return false;
	}
	if (bits > max)
		bits = max;
	if (memcmp(x, y, bits / 8))
		return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xffu << (8 - bits % 8));

		return (x[bits / 8] & mask) == (y[bits / 8] & mask);
	}
	return true;
}

/* src is one of the leg's own addresses: its SDP or its signalling one */
static bool leg_owns(const struct mp_leg *leg, const struct sa *src)
{
	unsigned bits =
	    sa_af(src) == AF_INET6 ? leg->relay->prefix6 : leg->relay->prefix4;

	return (leg->plan_set && prefix_eq(&leg->plan, src, bits)) ||
	       (leg->sig_set && prefix_eq(&leg->sig, src, bits));
}

/*
 * Strict symmetric latching, the one rule for every RTP and RTCP datagram
 * the node accepts (plain relay and media engine alike).  src is taken
 * when it is the latched source; otherwise only when its address is within
 * the latching prefix of the leg's SDP or signalling address, and then
 * when nothing is latched yet, when it is the SDP address and port itself
 * (it beats an early packet from another port of that address), or when
 * the latched source has been silent for MP_RELAY_RELATCH_MS and the leg
 * allows re-latching (media_handover of its gateway: NAT'd customers).
 * False = a stranger's packet, counted and dropped.
 */
static bool sock_latch(struct mp_sock *s, const struct sa *src, int64_t now)
{
	struct mp_leg *leg = s->leg;
	char was[64] = "", now_s[64] = "";
	bool relatch;

	if (s->latched && sa_cmp(&s->dst, src, SA_ALL)) {
		s->last_rx_ms = now;
		return true;
	}
	if (!leg_owns(leg, src) ||
	    (s->latched && !(s->plan_set && sa_cmp(&s->plan, src, SA_ALL)) &&
	     !(leg->relatch && now - s->last_rx_ms >= MP_RELAY_RELATCH_MS))) {
		leg->st.strangers++;
		return false;
	}

	/* the first latch is routine (debug); a re-latch is news (info) */
	relatch = s->latched;
	if (sw_log_enabled(relatch ? SW_LOG_INFO : SW_LOG_DEBUG,
			   SW_LOG_MODULE)) {
		if (s->dst_set)
			(void)re_snprintf(was, sizeof(was), "%J", &s->dst);
		(void)re_snprintf(now_s, sizeof(now_s), "%J", src);
		sw_log(relatch ? SW_LOG_INFO : SW_LOG_DEBUG, SW_LOG_MODULE,
		       leg->relay->tag, "leg %c %s %s %s (%s %s)",
		       leg_name[leg->id], s->rtcp ? "rtcp" : "rtp",
		       relatch ? "re-latched to" : "latched to", now_s,
		       relatch ? "was" : "planned", was[0] ? was : "none");
	}
	s->dst = *src;
	s->dst_set = true;
	s->latched = true;
	s->last_rx_ms = now;

	return true;
}

/*
 * Round-trip time from RTCP (RFC 3550 §6.4.1) between the node and in's
 * peer: an SR forwarded to a peer is remembered by its NTP middle bits; when
 * that peer's report block names it (LSR), RTT = now - sent - DLSR.
 * sent: the packet was forwarded to out's peer.
 */
static void rtcp_track(struct mp_leg *in, struct mp_leg *out,
		       const uint8_t *buf, size_t len, bool sent)
{
	int64_t now = sw_time_mono_us(), rtt;
	struct mp_rtcp_info info;

	(void)mp_rtcp_scan(&info, buf, len);

	for (unsigned i = 0; i < info.nblocks; i++) {
		if (!info.block[i].lsr)
			continue;
		for (unsigned j = 0; j < SR_RING; j++) {
			if (in->sr[j].key != info.block[i].lsr ||
			    !in->sr[j].sent_us)
				continue;
			rtt = now - in->sr[j].sent_us -
			      (int64_t)info.block[i].dlsr * 1000000 / 65536;
			if (rtt >= 0 && rtt < 60000000)
				in->rtt_ms = (uint32_t)(rtt / 1000);
		}
	}

	if (sent && info.has_sr) {
		out->sr[out->sr_next % SR_RING].key = info.sr_ntp_mid;
		out->sr[out->sr_next % SR_RING].sent_us = now;
		out->sr_next++;
	}
}

/* one datagram received by an RTP socket from its leg's peer */
static void rx_rtp(struct mp_sock *s, const uint8_t *buf, size_t len,
		   const struct sa *src)
{
	struct mp_leg *in = s->leg;
	struct mp_leg *out = &in->relay->leg[1 - in->id];
	int64_t now_us = sw_time_mono_us();
	int64_t now = now_us / 1000;
	struct mp_rtp_hdr hdr;
	bool sent;

	/* RTCP multiplexed on the RTP port (RFC 5761) goes the same way */
	if (mp_pkt_is_rtcp(buf, len)) {
		if (!mp_rtcp_valid(buf, len) || !sock_latch(s, src, now)) {
			in->st.dropped++;
			return;
		}
		in->st.rtcp_rx++;
		in->rtcp_mux = true;
		if (in->relay->rtcp_h) {
			in->relay->rtcp_h(in->relay, in->id, buf, len,
					  in->relay->rtcp_arg);
			return;
		}
		sent = sock_send(&out->rtp, buf, len);
		if (sent)
			out->st.rtcp_tx++;
		rtcp_track(in, out, buf, len, sent);
		return;
	}

	if (mp_rtp_parse(&hdr, buf, len) || !sock_latch(s, src, now)) {
		in->st.dropped++;
		return;
	}

	in->st.rx_packets++;
	in->st.rx_bytes += len;
	in->last_rtp_ms = now;
	mp_rxs_seq(&in->rxs, hdr.ssrc, hdr.seq);
	/* only the media codec's timestamps are a clock: telephone-events
	 * keep one timestamp for the whole digit */
	if (in->pt < 0 || hdr.pt == in->pt) {
		mp_rxs_jitter(&in->rxs, hdr.ts, mp_rtp_units(now_us, in->rate));
	}

	if (in->relay->media_h) {
		in->relay->media_h(in->relay, in->id, &hdr, buf, len,
				   in->relay->media_arg);
		return;
	}
	if (!in->fwd_set || in->pt < 0 || hdr.pt == in->pt)
		in->fwd.ts = hdr.ts;
	in->fwd_set = true;
	in->fwd.ssrc = hdr.ssrc;
	in->fwd.seq = hdr.seq;
	if (sock_send(&out->rtp, buf, len)) {
		out->st.tx_packets++;
		out->st.tx_bytes += len;
	}
}

/* one datagram received by an RTCP socket from its leg's peer */
static void rx_rtcp(struct mp_sock *s, const uint8_t *buf, size_t len,
		    const struct sa *src)
{
	struct mp_leg *in = s->leg;
	struct mp_leg *out = &in->relay->leg[1 - in->id];
	bool sent;

	if (!mp_rtcp_valid(buf, len) ||
	    !sock_latch(s, src, sw_time_mono_ms())) {
		in->st.dropped++;
		return;
	}
	in->st.rtcp_rx++;
	if (in->relay->rtcp_h) {
		in->relay->rtcp_h(in->relay, in->id, buf, len,
				  in->relay->rtcp_arg);
		return;
	}
	sent = sock_send(&out->rtcp, buf, len);
	if (sent)
		out->st.rtcp_tx++;
	rtcp_track(in, out, buf, len, sent);
}

/*
 * The receive batch, shared by every socket (loop thread only).  The
 * headers are built once; a receive only resets the address lengths the
 * previous one overwrote, so a wake-up for one datagram costs one header,
 * not RX_BATCH of them.
 */
static struct {
	uint8_t buf[RX_BATCH][RX_BUF];
	struct mmsghdr msg[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sa src[RX_BATCH];
	int used; /* headers the last recvmmsg filled */
	bool ready;
} rx;

static void rx_setup(void)
{
	memset(&rx.msg, 0, sizeof(rx.msg));
	for (int i = 0; i < RX_BATCH; i++) {
		rx.iov[i].iov_base = rx.buf[i];
		rx.iov[i].iov_len = RX_BUF;
		rx.msg[i].msg_hdr.msg_iov = &rx.iov[i];
		rx.msg[i].msg_hdr.msg_iovlen = 1;
		rx.msg[i].msg_hdr.msg_name = &rx.src[i].u;
		rx.msg[i].msg_hdr.msg_namelen = sizeof(rx.src[i].u);
	}
	rx.used = 0;
	rx.ready = true;
}

/* read what is queued on a socket, RX_BATCH datagrams per system call */
static void sock_readable(int flags, void *arg)
{
	struct mp_sock *s = arg;
	int n;

	(void)flags;
	if (!rx.ready)
		rx_setup();
	for (int i = 0; i < rx.used; i++)
		rx.msg[i].msg_hdr.msg_namelen = sizeof(rx.src[i].u);

	n = recvmmsg(s->fd, rx.msg, RX_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		rx.used = 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			sw_cdebug(s->leg->relay->tag, "recvmmsg: %s",
				  strerror(errno));
		return;
	}
	rx.used = n;

	for (int i = 0; i < n; i++) {
		size_t len = rx.msg[i].msg_len;

		rx.src[i].len = rx.msg[i].msg_hdr.msg_namelen;
		if (rx.msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
			s->leg->st.dropped++;
			continue;
		}
		if (s->rtcp)
			rx_rtcp(s, rx.buf[i], len, &rx.src[i]);
		else
			rx_rtp(s, rx.buf[i], len, &rx.src[i]);
	}
}

/*
 * Book a pair and bind both sockets of leg.  A pair that fails to bind
 * (taken by another program) stays booked until the search ends, so every
 * try gets a different pair; then the failed ones are given back.
 */
static int leg_open(struct mp_relay *relay, struct mp_leg *leg,
		    const struct sa *laddr)
{
	uint16_t failed[BIND_TRIES], port;
	int nfailed = 0, err = ENOSPC;

	while (nfailed < BIND_TRIES) {
		err = mp_ports_get(relay->ports, &port);
		if (err)
			break; /* ENOSPC: range exhausted */

		err = sock_open(&leg->rtp.fd, laddr, port);
		if (!err) {
			err = sock_open(&leg->rtcp.fd, laddr, port + 1);
			if (err) {
				(void)close(leg->rtp.fd);
				leg->rtp.fd = -1;
			}
		}
		if (!err) {
			leg->port = port;
			break;
		}
		sw_cwarn(relay->tag,
			 "port pair %u/%u unusable (%s), "
			 "trying the next",
			 port, port + 1, strerror(err));
		failed[nfailed++] = port;
		if (err != EADDRINUSE && err != EACCES)
			break; /* not a matter of this pair */
	}
	for (int i = 0; i < nfailed; i++)
		mp_ports_put(relay->ports, failed[i]);
	if (err)
		return err == EADDRINUSE || err == EACCES ? ENOSPC : err;

	err = fd_listen(leg->rtp.fd, FD_READ, sock_readable, &leg->rtp);
	if (!err)
		err =
		    fd_listen(leg->rtcp.fd, FD_READ, sock_readable, &leg->rtcp);

	return err;
}

/*
 * Allocate a relay with a bound RTP/RTCP pair per leg on laddr (its port is
 * ignored).  ENOSPC when the port range is exhausted.  tag (the session id)
 * prefixes its log lines.
 */
int mp_relay_alloc(struct mp_relay **relayp, struct mp_ports *ports,
		   const struct sa *laddr, const char *tag)
{
	struct mp_relay *relay;
	int err = 0;

	if (!relayp || !ports || !laddr)
		return EINVAL;

	relay = mem_zalloc(sizeof(*relay), relay_destructor);
	if (!relay)
		return ENOMEM;

	relay->ports = ports;
	relay->epfd = -1;
	relay->prefix4 = 32;
	relay->prefix6 = 128;
	(void)snprintf(relay->tag, sizeof(relay->tag), "%s", tag ? tag : "");
	for (int i = 0; i < 2; i++) {
		struct mp_leg *leg = &relay->leg[i];

		leg->relay = relay;
		leg->id = (enum mp_leg_id)i;
		leg->rate = 8000;
		leg->pt = -1;
		leg->rtp.fd = leg->rtcp.fd = -1;
		leg->rtp.leg = leg->rtcp.leg = leg;
		leg->rtcp.rtcp = true;
	}

	for (int i = 0; i < 2 && !err; i++)
		err = leg_open(relay, &relay->leg[i], laddr);

	if (err)
		mem_deref(relay); /* closes what was opened */
	else
		*relayp = relay;

	return err;
}

/*
 * Set (or clear, remote NULL) the planned RTP address of a leg; RTCP goes to
 * the next port.  A changed address drops the latch: the peer moved (new
 * SDP), so its next packets decide again.
 */
void mp_relay_set_remote(struct mp_relay *relay, enum mp_leg_id id,
			 const struct sa *remote)
{
	struct mp_leg *leg;
	struct sa rtcp;

	if (!relay || (id != MP_LEG_A && id != MP_LEG_B))
		return;
	leg = &relay->leg[id];

	if (remote && leg->plan_set && sa_cmp(&leg->plan, remote, SA_ALL))
		return; /* unchanged: keep what was latched */
	if (!remote && !leg->plan_set)
		return;

	leg->plan_set = remote != NULL;
	if (remote)
		leg->plan = *remote;

	leg->rtp.latched = leg->rtcp.latched = false;
	leg->rtcp_mux = false;
	leg->rtp.dst_set = leg->rtcp.dst_set = leg->plan_set;
	leg->rtp.plan_set = leg->rtcp.plan_set = leg->plan_set;
	if (remote) {
		rtcp = *remote;
		sa_set_port(&rtcp, (uint16_t)(sa_port(remote) + 1));
		leg->rtp.dst = leg->rtp.plan = *remote;
		leg->rtcp.dst = leg->rtcp.plan = rtcp;
	}
}

/*
 * Who may send to a leg besides its SDP address: sig (NULL = none) is the
 * address the leg's signalling came from (its port is ignored); relatch
 * lets the leg move to a new source of its own addresses after
 * MP_RELAY_RELATCH_MS of silence of the latched one.
 */
void mp_relay_set_guard(struct mp_relay *relay, enum mp_leg_id id,
			const struct sa *sig, bool relatch)
{
	struct mp_leg *leg;

	if (!relay || (id != MP_LEG_A && id != MP_LEG_B))
		return;
	leg = &relay->leg[id];
	leg->sig_set = sig != NULL;
	if (sig)
		leg->sig = *sig;
	leg->relatch = relatch;
}

/*
 * Latching prefix lengths: a source is a leg's own when its address shares
 * the first v4 (IPv4, 0..32) or v6 (IPv6, 0..128) bits with the leg's SDP
 * or signalling address.  Defaults 32 and 128: the very address.
 */
void mp_relay_set_prefix(struct mp_relay *relay, unsigned v4, unsigned v6)
{
	if (!relay)
		return;
	relay->prefix4 = v4 > 32 ? 32 : v4;
	relay->prefix6 = v6 > 128 ? 128 : v6;
}

/* Clock rate (0 = 8000) and media PT (-1 = any) used for the jitter. */
void mp_relay_set_media(struct mp_relay *relay, enum mp_leg_id id,
			uint32_t rate, int pt)
{
	struct mp_leg *leg;

	if (!relay || (id != MP_LEG_A && id != MP_LEG_B))
		return;
	leg = &relay->leg[id];

	if (leg->rate != (rate ? rate : 8000u) || leg->pt != pt)
		leg->rxs.jit_started = false; /* new clock: restart */
	leg->rate = rate ? rate : 8000u;
	leg->pt = pt;
}

static int set_tos(int fd, int af, int tos)
{
	int r;

	if (fd < 0)
		return 0;
	if (af == AF_INET6)
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
			       sizeof(tos));
	else
		r = setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));

	return r < 0 ? errno : 0;
}

/* Mark everything the relay sends with DSCP dscp (0..63, 0 = unmarked). */
int mp_relay_set_dscp(struct mp_relay *relay, unsigned dscp)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int err = 0, af = AF_INET;

	if (!relay || dscp > 63)
		return EINVAL;
	memset(&ss, 0, sizeof(ss));
	if (relay->leg[0].rtp.fd >= 0 &&
	    !getsockname(relay->leg[0].rtp.fd, (struct sockaddr *)&ss, &sl))
		af = ss.ss_family;

	for (int i = 0; i < 2; i++) {
		err |= set_tos(relay->leg[i].rtp.fd, af, (int)dscp << 2);
		err |= set_tos(relay->leg[i].rtcp.fd, af, (int)dscp << 2);
	}

	return err ? EIO : 0;
}

/* The leg's local RTP port (RTCP = +1). */
uint16_t mp_relay_port(const struct mp_relay *relay, enum mp_leg_id id)
{
	if (!relay || (id != MP_LEG_A && id != MP_LEG_B))
		return 0;
	return relay->leg[id].port;
}

/* Counters of a leg as docs/bus.md "leg stats" reports them. */
void mp_relay_stats(const struct mp_relay *relay, enum mp_leg_id id,
		    struct mp_leg_stats *st)
{
	const struct mp_leg *leg;

	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!relay || (id != MP_LEG_A && id != MP_LEG_B))
		return;
	leg = &relay->leg[id];

	*st = leg->st;
	st->lost = mp_rxs_lost(&leg->rxs);
	st->jitter_ms = mp_rxs_jitter_ms(&leg->rxs, leg->rate);
	st->rtt_ms = leg->rtt_ms;
	st->mos_x10 =
	    mp_mos_x10(st->rx_packets, st->lost, st->jitter_ms, st->rtt_ms);
	st->remote[0] = '\0';
	if (leg->rtp.latched)
		(void)re_snprintf(st->remote, sizeof(st->remote), "%J",
				  &leg->rtp.dst);
}

/*
 * Add both legs' RTP counters to t: a few additions per session, for the
 * node's totals (metrics.c), without what mp_relay_stats formats.
 */
void mp_relay_add_totals(const struct mp_relay *relay,
			 struct mp_media_totals *t)
{
	if (!relay || !t)
		return;
	for (int i = 0; i < 2; i++) {
		const struct mp_leg *leg = &relay->leg[i];

		t->rx_packets += leg->st.rx_packets;
		t->tx_packets += leg->st.tx_packets;
		t->rx_bytes += leg->st.rx_bytes;
		t->tx_bytes += leg->st.tx_bytes;
		t->lost += mp_rxs_lost(&leg->rxs);
		t->dropped += leg->st.dropped;
	}
}

/* Monotonic ms of the last valid RTP from either leg, 0 = none yet. */
int64_t mp_relay_last_rtp_ms(const struct mp_relay *relay)
{
	if (!relay)
		return 0;
	return relay->leg[0].last_rtp_ms > relay->leg[1].last_rtp_ms
		   ? relay->leg[0].last_rtp_ms
		   : relay->leg[1].last_rtp_ms;
}

/*
 * The header of the last RTP packet relayed untouched from leg from's peer
 * (the media timestamp: telephone-events keep their digit's start), so an
 * engine started mid-call continues that stream.  false when none was.
 */
bool mp_relay_forwarded(const struct mp_relay *relay, enum mp_leg_id from,
			struct mp_relay_fwd *fwd)
{
	if (!relay || !fwd || (from != MP_LEG_A && from != MP_LEG_B) ||
	    !relay->leg[from].fwd_set)
		return false;
	*fwd = relay->leg[from].fwd;
	return true;
}

/* Route received RTP to h (the decoded path); NULL restores plain relaying. */
void mp_relay_set_media_handler(struct mp_relay *relay, mp_relay_media_h *h,
				void *arg)
{
	if (!relay)
		return;
	relay->media_h = h;
	relay->media_arg = arg;
}

/*
 * Send one RTP datagram to leg to's peer from that leg's RTP port, counted
 * in its tx counters.  ENOTCONN when the peer is not known yet, EIO when the
 * datagram did not leave whole.
 */
int mp_relay_send(struct mp_relay *relay, enum mp_leg_id to, const uint8_t *buf,
		  size_t len)
{
	struct mp_leg *leg;

	if (!relay || !buf || (to != MP_LEG_A && to != MP_LEG_B))
		return EINVAL;
	leg = &relay->leg[to];
	if (!leg->rtp.dst_set)
		return ENOTCONN;
	if (!sock_send(&leg->rtp, buf, len))
		return EIO;
	leg->st.tx_packets++;
	leg->st.tx_bytes += len;

	return 0;
}

/* Route received RTCP to h (terminated); NULL restores relaying it. */
void mp_relay_set_rtcp_handler(struct mp_relay *relay, mp_relay_rtcp_h *h,
			       void *arg)
{
	if (!relay)
		return;
	relay->rtcp_h = h;
	relay->rtcp_arg = arg;
}

/*
 * Send one RTCP datagram to leg to's peer, counted in its rtcp_tx: from the
 * leg's RTCP port, or from its RTP port when the peer multiplexes RTCP
 * there (RFC 5761).  ENOTCONN when the peer is not known yet, EIO when the
 * datagram did not leave whole.
 */
int mp_relay_send_rtcp(struct mp_relay *relay, enum mp_leg_id to,
		       const uint8_t *buf, size_t len)
{
	const struct mp_sock *s;
	struct mp_leg *leg;

	if (!relay || !buf || (to != MP_LEG_A && to != MP_LEG_B))
		return EINVAL;
	leg = &relay->leg[to];
	s = leg->rtcp_mux ? &leg->rtp : &leg->rtcp;
	if (!s->dst_set)
		return ENOTCONN;
	if (!sock_send(s, buf, len))
		return EIO;
	leg->st.rtcp_tx++;

	return 0;
}

/* move one socket between libre's loop (epfd < 0) and the epoll set epfd */
static int sock_move(struct mp_sock *s, int from, int to)
{
	struct epoll_event ev;

	if (s->fd < 0)
		return 0;
	if (to >= 0) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN; /* level-triggered: what a poll
				      * leaves unread stays ready */
		ev.data.ptr = s;
		if (epoll_ctl(to, EPOLL_CTL_ADD, s->fd, &ev) < 0)
			return errno;
	} else {
		int err = fd_listen(s->fd, FD_READ, sock_readable, s);

		if (err)
			return err;
	}
	if (from >= 0)
		(void)epoll_ctl(from, EPOLL_CTL_DEL, s->fd, NULL);
	else
		fd_close(s->fd);

	return 0;
}

/*
 * Deferred reads (the decoded path): with epfd >= 0 the relay's four
 * sockets leave libre's loop for the epoll set epfd, and their datagrams
 * are read only when mp_relay_poll() runs on it (the node's 10 ms engine
 * tick), so a node wakes up once per tick instead of once per packet and
 * runs its codecs in one burst.  epfd < 0 puts them back on the loop.
 */
int mp_relay_set_deferred(struct mp_relay *relay, int epfd)
{
	int err = 0;

	if (!relay)
		return EINVAL;
	if (relay->epfd == epfd || (relay->epfd < 0 && epfd < 0))
		return 0;

	for (int i = 0; i < 2 && !err; i++) {
		err = sock_move(&relay->leg[i].rtp, relay->epfd, epfd);
		if (!err)
			err = sock_move(&relay->leg[i].rtcp, relay->epfd, epfd);
	}
	if (err) {
		/* half moved: put every socket back on libre's loop */
		for (int i = 0; i < 2; i++) {
			struct mp_sock *s[2] = {&relay->leg[i].rtp,
						&relay->leg[i].rtcp};

			for (int j = 0; j < 2; j++) {
				if (s[j]->fd < 0)
					continue;
				if (epfd >= 0)
					(void)epoll_ctl(epfd, EPOLL_CTL_DEL,
							s[j]->fd, NULL);
				if (relay->epfd >= 0)
					(void)epoll_ctl(relay->epfd,
							EPOLL_CTL_DEL, s[j]->fd,
							NULL);
				(void)fd_listen(s[j]->fd, FD_READ,
						sock_readable, s[j]);
			}
		}
		relay->epfd = -1;
		return err;
	}
	relay->epfd = epfd < 0 ? -1 : epfd;

	return 0;
}

/*
 * Read what is queued on every socket of the epoll set epfd (relays given
 * to mp_relay_set_deferred): one epoll_wait without waiting, one recvmmsg
 * per ready socket.  Returns the number of sockets read.
 */
unsigned mp_relay_poll(int epfd)
{
	struct epoll_event ev[64];
	unsigned total = 0;
	int n;

	if (epfd < 0)
		return 0;
	/* a socket with more than RX_BATCH datagrams queued stays ready
	 * and is read again, at most 4 rounds per tick */
	for (int round = 0; round < 4; round++) {
		n = epoll_wait(epfd, ev, 64, 0);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			sock_readable(FD_READ, ev[i].data.ptr);
		total += (unsigned)n;
	}

	return total;
}
