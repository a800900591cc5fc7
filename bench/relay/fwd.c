/*
 * fwd.c - the bare UDP forwarder of bench/relay/run.sh: the least an RTP
 * relay has to do, the practical limit mediaproxyd is compared with.
 *
 * For N calls it binds, per call, a leg a and a leg b UDP socket.  One
 * thread waits in a level-triggered epoll and drains each ready socket
 * with recvmmsg(); the sender of the last packet is latched as that leg's
 * peer (symmetric RTP, no checks) and every packet goes out unchanged to
 * the other leg's latched peer: one sendto() per packet, or with -m one
 * sendmmsg() per recvmmsg() batch.  Nothing is parsed: no RTP header
 * check, no counters per call, no RTCP sockets, no timers, no allocation
 * after start-up.  A packet for a leg whose peer has not sent yet is
 * dropped.
 *
 * Ports: call i uses BASE+4i (a) and BASE+4i+2 (b) (the layout of
 * bench/transcode/rawrelay.c; the odd ports stay free for the peers' RTCP).
 * Prints "fwd ready ..." once bound, and on SIGTERM its own CPU time and
 * packet counters, then exits.  CPU is measured from outside
 * (relay_bench.py reads /proc, as for mediaproxyd and rtpengine).
 *
 * Usage: fwd -n CALLS -p BASEPORT [-m] [-i IPV4]
 * Threading: single thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH	32	/* datagrams per recvmmsg() */
#define PKT_MAX	2048

struct leg {
	int fd;
	struct sockaddr_in peer;	/* latched from the last packet */
	bool latched;
};

struct call {
	struct leg leg[2];	/* 0: a, 1: b */
};

static volatile sig_atomic_t stop;
static bool use_mmsg;
static unsigned long long n_rx, n_tx, n_drop, n_calls_rx, n_calls_tx;

static struct mmsghdr msgs[BATCH];
static struct iovec iovs[BATCH];
static struct sockaddr_in froms[BATCH];
static uint8_t bufs[BATCH][PKT_MAX];

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int udp_bind(const struct in_addr *ip, unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sin.sin_addr = *ip;
	sin.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* the received batch out to @to: one sendmmsg(), partial sends retried */
static void send_batch(const struct leg *to, int n)
{
	int done = 0;

	for (int i = 0; i < n; i++) {
		msgs[i].msg_hdr.msg_name = (void *)&to->peer;
		msgs[i].msg_hdr.msg_namelen = sizeof(to->peer);
		iovs[i].iov_len = msgs[i].msg_len;
	}
	while (done < n) {
		int k = sendmmsg(to->fd, msgs + done, (unsigned)(n - done), 0);

		n_calls_tx++;
		if (k <= 0) {
			n_drop += (unsigned long long)(n - done);
			break;
		}
		n_tx += (unsigned long long)k;
		done += k;
	}
}

/* read what @fd has (leg @side of @c) and forward it to the other leg */
static void drain(struct call *c, int side)
{
	struct leg *in = &c->leg[side], *out = &c->leg[!side];

	for (;;) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iovs[i].iov_len = PKT_MAX;
			msgs[i].msg_hdr.msg_name = &froms[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(froms[i]);
		}
		n = recvmmsg(in->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		n_calls_rx++;
		n_rx += (unsigned long long)n;
		in->peer = froms[n - 1];
		in->latched = true;
		if (!out->latched) {
			n_drop += (unsigned long long)n;
		} else if (use_mmsg) {
			send_batch(out, n);
		} else {
			for (int i = 0; i < n; i++) {
				n_calls_tx++;
				if (sendto(out->fd, bufs[i], msgs[i].msg_len, 0,
					   (const struct sockaddr *)&out->peer,
					   sizeof(out->peer)) < 0)
					n_drop++;
				else
					n_tx++;
			}
		}
		if (n < BATCH)
			return;
	}
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s -n CALLS -p BASEPORT [-m] [-i IPV4]\n",
		prog);
}

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct in_addr ip = {.s_addr = htonl(INADDR_LOOPBACK)};
	struct epoll_event evs[64];
	struct sigaction sa;
	struct rusage ru;
	struct call *calls = NULL;
	unsigned ncalls = 0, base = 0;
	int opt, ep, err = 1;

	while ((opt = getopt(argc, argv, "n:p:mi:")) != -1) {
		switch (opt) {
		case 'n':
			ncalls = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			base = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			use_mmsg = true;
			break;
		case 'i':
			if (inet_pton(AF_INET, optarg, &ip) != 1) {
				usage(argv[0]);
				return 2;
			}
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (!ncalls || ncalls > 4096 || base < 1024 ||
	    base + 4 * ncalls > 65536) {
		usage(argv[0]);
		return 2;
	}
	for (int i = 0; i < BATCH; i++) {
		iovs[i].iov_base = bufs[i];
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: epoll_wait returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	calls = calloc(ncalls, sizeof(*calls));
	if (ep < 0 || !calls) {
		perror("fwd");
		goto out;
	}
	for (unsigned i = 0; i < ncalls; i++)
		calls[i].leg[0].fd = calls[i].leg[1].fd = -1;
	for (unsigned i = 0; i < ncalls; i++) {
		for (unsigned s = 0; s < 2; s++) {
			struct leg *l = &calls[i].leg[s];
			unsigned port = base + 4 * i + 2 * s;
			struct epoll_event ev = {.events = EPOLLIN};

			l->fd = udp_bind(&ip, port);
			if (l->fd < 0) {
				fprintf(stderr, "fwd: bind %u: %s\n", port,
					strerror(errno));
				goto out;
			}
			ev.data.u64 = (uint64_t)i << 1 | s;	/* call, leg */
			if (epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &ev)) {
				perror("fwd: epoll_ctl");
				goto out;
			}
		}
	}
	printf("fwd ready: %u calls, ports %u-%u, %s\n", ncalls, base,
	       base + 4 * ncalls - 1, use_mmsg ? "sendmmsg" : "sendto");
	fflush(stdout);
	while (!stop) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;

			drain(&calls[d >> 1], (int)(d & 1));
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("fwd cpu %.3f s (user %.3f sys %.3f), rx %llu tx %llu "
	       "dropped %llu, recvmmsg %llu send calls %llu\n",
	       tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime), tv_s(&ru.ru_utime),
	       tv_s(&ru.ru_stime), n_rx, n_tx, n_drop, n_calls_rx,
	       n_calls_tx);
	err = 0;
out:
	for (unsigned i = 0; calls && i < ncalls; i++)
		for (unsigned s = 0; s < 2; s++)
			if (calls[i].leg[s].fd >= 0)
				close(calls[i].leg[s].fd);
	free(calls);
	if (ep >= 0)
		close(ep);
	return err;
}
