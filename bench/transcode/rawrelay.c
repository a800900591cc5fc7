/*
 * rawrelay.c - the raw codec+socket loop ("raw-rt" column of
 * bench/transcode/run.sh): the least a real-time network transcoder has to
 * do, to compare mediaproxyd with a limit it could actually reach.
 *
 * For N calls it binds, per call, a leg a socket (PCMA, PT 8) and a leg b
 * socket (G.729 PT 18 or Opus PT -b), each with an RTCP socket on the next
 * port that is read and discarded.  One thread waits in a level-triggered
 * epoll, drains ready sockets with recvmmsg() and, for each RTP packet:
 * parses the RTP header, latches the sender as that leg's peer (symmetric
 * RTP, no checks), decodes (A-law table, bcg729 10 ms frames, libopus
 * straight at 8 kHz, as the engine does), resamples 8 -> 48 kHz with
 * speexdsp before the Opus 48k encoder,
 * encodes into the other leg's codec with the settings of transcode_bench's
 * raw column (G.729 annexb=no; Opus 8k narrowband; Opus 48k 32 kbit/s),
 * writes an RTP header (own sequence, timestamp and SSRC per direction) and
 * sendto()s it to the other leg's latched peer.  No jitter buffer, no
 * timers, no allocation after start-up.
 *
 * Ports: call i uses BASE+4i (a), +4i+1 (a RTCP), +4i+2 (b), +4i+3 (b RTCP).
 * Prints "rawrelay ready ..." once bound, and on SIGTERM its own CPU time
 * and packet counters, then exits.  CPU is measured from outside
 * (rawrelay_bench.py reads /proc, as for mediaproxyd).
 *
 * Usage: rawrelay -c g729|opus8|opus48 -n CALLS -p BASEPORT [-b PT_B]
 *                 [-i IPV4]
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
#include <spandsp.h>
#include <opus/opus.h>
#include <bcg729/encoder.h>
#include <bcg729/decoder.h>
#include <speex/speex_resampler.h>

#define BATCH		32	/* datagrams per recvmmsg() */
#define PKT_MAX		1500
#define PCM_MAX		5760	/* 120 ms at 48 kHz: the longest Opus packet */
#define G729_BYTES	10	/* one 10 ms frame */
#define G729_SAMPLES	80

enum rcase { C_G729, C_OPUS8, C_OPUS48 };

struct leg {
	int fd;			/* RTP socket */
	int rtcp;		/* RTCP socket: read and discarded */
	struct sockaddr_in peer;	/* latched from the last packet */
	bool latched;
	uint16_t seq;		/* what this leg sends */
	uint32_t ts;
	uint32_t ssrc;
};

struct call {
	struct leg leg[2];	/* 0: a (PCMA), 1: b */
	bcg729EncoderChannelContextStruct *g729e;	/* owned */
	bcg729DecoderChannelContextStruct *g729d;	/* owned */
	OpusEncoder *oe;	/* owned */
	OpusDecoder *od;	/* owned */
	SpeexResamplerState *up;	/* owned: 8 -> 48 kHz (a -> b) */
};

static enum rcase bcase;
static uint8_t pt_b = 18;
static volatile sig_atomic_t stop;
static int16_t alaw_dec[256];
static uint8_t alaw_enc[4096];	/* indexed by the sample >> 4 */
static unsigned long long n_rx, n_tx, n_drop, n_rtcp;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * A-law both ways by table.  A-law never looks below bit 4 of a sample
 * (spandsp's linear_to_alaw() shifts by at least 4), so 4096 entries are
 * exact; checked against spandsp for every sample at start-up.
 */
static int alaw_tables(void)
{
	for (int i = 0; i < 256; i++)
		alaw_dec[i] = alaw_to_linear((uint8_t)i);
	for (int i = 0; i < 4096; i++)
		alaw_enc[i] = linear_to_alaw((int16_t)(uint16_t)(i << 4));
	for (int x = -32768; x < 32768; x++)
		if (alaw_enc[((unsigned)x >> 4) & 0xfff] != linear_to_alaw(x))
			return EINVAL;
	return 0;
}

static int call_codecs(struct call *c)
{
	int rate = bcase == C_OPUS48 ? 48000 : 8000;
	int err = 0;

	if (bcase == C_G729) {
		c->g729e = initBcg729EncoderChannel(0);	/* annexb=no */
		c->g729d = initBcg729DecoderChannel();
		return c->g729e && c->g729d ? 0 : ENOMEM;
	}
	c->oe = opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, &err);
	c->od = opus_decoder_create(8000, 1, &err);	/* straight to PCMA's
							 * rate, as the engine */
	if (!c->oe || !c->od)
		return ENOMEM;
	if (bcase == C_OPUS8)	/* maxplaybackrate=8000 */
		opus_encoder_ctl(c->oe,
				 OPUS_SET_MAX_BANDWIDTH(OPUS_BANDWIDTH_NARROWBAND));
	if (bcase == C_OPUS48) {	/* maxaveragebitrate=32000 */
		opus_encoder_ctl(c->oe, OPUS_SET_BITRATE(32000));
		c->up = speex_resampler_init(1, 8000, 48000, 3, &err);
		if (!c->up)
			return ENOMEM;
	}
	return 0;
}

static void call_close(struct call *c)
{
	for (int s = 0; s < 2; s++) {
		if (c->leg[s].fd >= 0)
			close(c->leg[s].fd);
		if (c->leg[s].rtcp >= 0)
			close(c->leg[s].rtcp);
	}
	if (c->g729e)
		closeBcg729EncoderChannel(c->g729e);
	if (c->g729d)
		closeBcg729DecoderChannel(c->g729d);
	if (c->oe)
		opus_encoder_destroy(c->oe);
	if (c->od)
		opus_decoder_destroy(c->od);
	if (c->up)
		speex_resampler_destroy(c->up);
}

static int udp_bind(const struct in_addr *ip, unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = *ip,
				 .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* a -> b: @n PCMA samples to G.729 or Opus; returns the payload length */
static size_t a_to_b(struct call *c, uint8_t *out, const uint8_t *pl,
		     size_t n, uint32_t *tsp)
{
	static int16_t pcm[PCM_MAX], up[PCM_MAX];
	opus_int32 len;

	if (n == 0 || n > 960 || n % G729_SAMPLES)
		return 0;
	for (size_t i = 0; i < n; i++)
		pcm[i] = alaw_dec[pl[i]];
	if (bcase == C_G729) {
		size_t k = 0;

		for (size_t i = 0; i < n; i += G729_SAMPLES) {
			uint8_t blen = 0;

			bcg729Encoder(c->g729e, pcm + i, out + k, &blen);
			k += blen;
		}
		*tsp = (uint32_t)n;
		return k;
	}
	if (bcase == C_OPUS48) {
		spx_uint32_t il = (spx_uint32_t)n, ol = (spx_uint32_t)n * 6;

		speex_resampler_process_int(c->up, 0, pcm, &il, up, &ol);
		/* the resampler may hold back a few samples at the start */
		memset(up + ol, 0, (n * 6 - ol) * sizeof(*up));
		len = opus_encode(c->oe, up, (int)n * 6, out, PKT_MAX - 12);
	}
	else {
		len = opus_encode(c->oe, pcm, (int)n, out, PKT_MAX - 12);
	}
	*tsp = (uint32_t)n * 6;	/* Opus' RTP clock is 48 kHz */
	return len > 0 ? (size_t)len : 0;
}

/* b -> a: G.729 or Opus payload to PCMA; returns the payload length */
static size_t b_to_a(struct call *c, uint8_t *out, const uint8_t *pl,
		     size_t len, uint32_t *tsp)
{
	static int16_t pcm[PCM_MAX];
	size_t n = 0;

	if (bcase == C_G729) {
		size_t frames = len / G729_BYTES;

		if (!frames || frames * G729_SAMPLES > 960)
			return 0;
		for (size_t i = 0; i < frames; i++, n += G729_SAMPLES)
			bcg729Decoder(c->g729d, pl + i * G729_BYTES,
				      G729_BYTES, 0, 0, 0, pcm + n);
	}
	else {
		int k = opus_decode(c->od, pl, (opus_int32)len, pcm, PCM_MAX,
				    0);

		if (k <= 0)
			return 0;
		n = (size_t)k;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = alaw_enc[((uint16_t)pcm[i] >> 4) & 0xfff];
	*tsp = (uint32_t)n;
	return n;
}

/* one RTP packet received on leg @side of @c from @from */
static void on_rtp(struct call *c, int side, const uint8_t *p, size_t len,
		   const struct sockaddr_in *from)
{
	static uint8_t out[PKT_MAX];
	struct leg *in = &c->leg[side], *to = &c->leg[!side];
	size_t hl = 12, plen;
	uint32_t dts = 0;

	n_rx++;
	if (len < 12 || (p[0] & 0xc0) != 0x80 ||
	    (p[1] & 0x7f) != (side ? pt_b : 8)) {
		n_drop++;	/* not RTP, or RTCP/DTMF/other payload type */
		return;
	}
	hl += (p[0] & 0x0f) * 4u;
	if ((p[0] & 0x10) && len >= hl + 4)
		hl += 4 + ((size_t)p[hl + 2] << 8 | p[hl + 3]) * 4;
	if (len <= hl) {
		n_drop++;
		return;
	}
	in->peer = *from;
	in->latched = true;
	if (!to->latched) {
		n_drop++;	/* the other side has not sent yet */
		return;
	}

	plen = side ? b_to_a(c, out + 12, p + hl, len - hl, &dts) :
		      a_to_b(c, out + 12, p + hl, len - hl, &dts);
	if (!plen) {
		n_drop++;
		return;
	}
	out[0] = 0x80;
	out[1] = side ? 8 : pt_b;
	out[2] = (uint8_t)(to->seq >> 8);
	out[3] = (uint8_t)to->seq;
	out[4] = (uint8_t)(to->ts >> 24);
	out[5] = (uint8_t)(to->ts >> 16);
	out[6] = (uint8_t)(to->ts >> 8);
	out[7] = (uint8_t)to->ts;
	out[8] = (uint8_t)(to->ssrc >> 24);
	out[9] = (uint8_t)(to->ssrc >> 16);
	out[10] = (uint8_t)(to->ssrc >> 8);
	out[11] = (uint8_t)to->ssrc;
	to->seq++;
	to->ts += dts;
	if (sendto(to->fd, out, 12 + plen, 0, (const struct sockaddr *)&to->peer,
		   sizeof(to->peer)) < 0)
		n_drop++;
	else
		n_tx++;
}

static uint8_t bufs[BATCH][PKT_MAX];
static struct sockaddr_in froms[BATCH];
static struct iovec iovs[BATCH];
static struct mmsghdr msgs[BATCH];

/* everything queued on @fd (one recvmmsg batch, level-triggered epoll
 * brings us back for the rest) */
static void drain(struct call *c, int side, int fd, bool rtcp)
{
	int n;

	for (int i = 0; i < BATCH; i++)
		msgs[i].msg_hdr.msg_namelen = sizeof(froms[i]);
	n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0 || rtcp) {
		if (n > 0)
			n_rtcp += (unsigned)n;
		return;
	}
	for (int i = 0; i < n; i++)
		on_rtp(c, side, bufs[i], msgs[i].msg_len, &froms[i]);
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s -c g729|opus8|opus48 -n CALLS -p BASEPORT "
		"[-b PT_B] [-i IPV4]\n", prog);
}

int main(int argc, char **argv)
{
	struct in_addr ip = {.s_addr = htonl(INADDR_LOOPBACK)};
	struct epoll_event evs[64];
	struct sigaction sa;
	struct rusage ru;
	struct call *calls;
	unsigned ncalls = 0, base = 0;
	const char *cname = NULL;
	int opt, ep, err = 1;

	while ((opt = getopt(argc, argv, "c:n:p:b:i:")) != -1) {
		switch (opt) {
		case 'c':
			cname = optarg;
			break;
		case 'n':
			ncalls = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			base = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			pt_b = (uint8_t)(strtoul(optarg, NULL, 10) & 0x7f);
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
	if (!cname || !strcmp(cname, "g729"))
		bcase = C_G729;
	else if (!strcmp(cname, "opus8"))
		bcase = C_OPUS8;
	else if (!strcmp(cname, "opus48"))
		bcase = C_OPUS48;
	else
		cname = NULL;
	if (!cname || !ncalls || ncalls > 4096 || base < 1024 ||
	    base + 4 * ncalls > 65536) {
		usage(argv[0]);
		return 2;
	}
	if (alaw_tables()) {
		fprintf(stderr, "rawrelay: A-law table differs from spandsp\n");
		return 1;
	}
	for (int i = 0; i < BATCH; i++) {
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &froms[i];
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: epoll_wait returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	ep = epoll_create1(0);
	calls = calloc(ncalls, sizeof(*calls));
	if (ep < 0 || !calls) {
		perror("rawrelay");
		goto out;
	}
	for (unsigned i = 0; i < ncalls; i++)
		for (unsigned s = 0; s < 2; s++)
			calls[i].leg[s].fd = calls[i].leg[s].rtcp = -1;
	for (unsigned i = 0; i < ncalls; i++) {
		struct call *c = &calls[i];

		if (call_codecs(c)) {
			fprintf(stderr, "rawrelay: codec set-up failed\n");
			goto out;
		}
		for (unsigned s = 0; s < 2; s++) {
			struct leg *l = &c->leg[s];
			unsigned port = base + 4 * i + 2 * s;
			struct epoll_event ev = {.events = EPOLLIN};

			l->fd = udp_bind(&ip, port);
			l->rtcp = udp_bind(&ip, port + 1);
			if (l->fd < 0 || l->rtcp < 0) {
				fprintf(stderr, "rawrelay: bind %u/%u: %s\n",
					port, port + 1, strerror(errno));
				goto out;
			}
			l->ssrc = 0x52570000u + 2 * i + s;
			/* data: call index, leg, RTCP bit */
			ev.data.u64 = (uint64_t)i << 2 | s << 1;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &ev))
				goto out;
			ev.data.u64 |= 1;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, l->rtcp, &ev))
				goto out;
		}
	}
	printf("rawrelay ready: %s, %u calls, ports %u-%u, pt b %u\n", cname,
	       ncalls, base, base + 4 * ncalls - 1, pt_b);
	fflush(stdout);

	while (!stop) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			struct call *c = &calls[d >> 2];
			int side = (int)(d >> 1 & 1);
			bool rtcp = d & 1;

			drain(c, side, rtcp ? c->leg[side].rtcp :
					      c->leg[side].fd, rtcp);
		}
	}

	getrusage(RUSAGE_SELF, &ru);
	printf("rawrelay cpu %.3f s (user %.3f sys %.3f), rx %llu tx %llu "
	       "dropped %llu rtcp %llu\n",
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	       n_rx, n_tx, n_drop, n_rtcp);
	err = 0;

 out:
	for (unsigned i = 0; calls && i < ncalls; i++)
		call_close(&calls[i]);
	free(calls);
	if (ep >= 0)
		close(ep);
	return err;
}
