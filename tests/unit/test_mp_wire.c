/*
 * test_mp_wire.c - the media engine wired into a whole mediaproxyd node
 *
 * Each test brings a node up on ipc:// bus URLs inside the test's own
 * re_main loop, drives it as signalingd would (REQ for media.*, PULL for
 * media.event and node.heartbeat) and plays both call peers with real UDP
 * sockets on loopback (node ports 31100..31399, peers 31990..31993): a
 * 20 ms pacing timer sends each peer's RTP, what the node sends back is
 * collected, decoded with the engine's own codecs and measured (tone
 * frequency and level, inband DTMF with the engine's detector, RFC 4733
 * events parsed).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/bus.h"
#include "mediaproxy/dtmf/inband.h"
#include "mediaproxy/dtmf/rtpev.h"
#include "mediaproxy/libre.h"
#include "mediaproxy/node.h"
#include "mediaproxy/session.h"
#include "mediaproxy/xcode/codec.h"
#include "mediaproxy/rtp.h"
#include "proto/proto.h"
#include "test_mp_xcode_util.h"

static char REP_URL[96], PULL_URL[96];
#define S1 "bbbbbbbb-0000-4000-8000-000000000001"
#define S2 "bbbbbbbb-0000-4000-8000-000000000002"
#define S3 "bbbbbbbb-0000-4000-8000-000000000003"

#define PORT_MIN 31100
#define PORT_MAX 31399 /* wide: pairs another node holds are skipped */
#define PEER_A	 31990
#define PEER_B	 31992
#define TONE_AMP 8000.0

/* one call peer: an RTP socket on loopback, its encoder and what it got */
struct peer {
	int fd;
	struct sa node;		 /* the node's port for this leg */
	struct mp_xc_codec *enc; /* owned */
	uint8_t pt, te_pt;
	uint16_t seq;
	uint32_t ts, ssrc;
	bool on;		 /* sends a packet every 20 ms */
	double tone_hz, phase;	 /* 0 Hz = silence */
	struct mp_dtmf_gen *gen; /* owned: inband digits, or NULL */
	int ev;			 /* RFC 4733 event being sent, -1 */
	int ev_step;
	uint32_t ev_ts;
	struct tu_sink rx; /* datagrams received */
};

struct fixture {
	struct mp_node *node;
	struct sw_bus *bus;
	struct sw_bus_peer *req;
	struct tmr guard, pace;
	char type[64];
	json_t *body; /* last reply body (owned) */
	bool replied;
	json_t *events;	 /* media.event dtmf bodies (owned) */
	json_t *last_hb; /* owned */
	struct peer pa, pb;
};

static struct fixture fx;

static void client_readable(int flags, void *arg)
{
	(void)flags;
	sw_bus_drain(arg);
}

static void on_event(const struct sw_env *env, void *arg)
{
	(void)arg;
	if (!strcmp(env->type, SW_MSG_NODE_HEARTBEAT)) {
		json_decref(fx.last_hb);
		fx.last_hb = json_incref(env->body);
	} else if (!strcmp(env->type, SW_MSG_MEDIA_EVENT)) {
		const char *ev =
		    json_string_value(json_object_get(env->body, "event"));

		if (ev && !strcmp(ev, "dtmf"))
			json_array_append(fx.events, env->body);
	}
}

static void on_reply(int err, const struct sw_env *env, void *arg)
{
	(void)arg;
	assert_int_equal(err, 0);
	snprintf(fx.type, sizeof(fx.type), "%s", env->type);
	json_decref(fx.body);
	fx.body = json_incref(env->body);
	fx.replied = true;
	re_cancel();
}

static void guard_expired(void *arg)
{
	(void)arg;
	re_cancel();
}

static void run(unsigned ms)
{
	tmr_start(&fx.guard, ms, guard_expired, NULL);
	(void)re_main(NULL);
	tmr_cancel(&fx.guard);
}

static void request(const char *type, const char *body_json)
{
	json_t *body = json_loads(body_json, 0, NULL);

	assert_non_null(body);
	fx.replied = false;
	assert_int_equal(
	    sw_bus_request(NULL, fx.req, type, body, 3000, on_reply, NULL), 0);
	run(4000);
	assert_true(fx.replied);
}

static const char *err_code(void)
{
	assert_string_equal(fx.type, SW_MSG_ERROR);
	return json_string_value(json_object_get(fx.body, "code"));
}

static const char *err_message(void)
{
	return json_string_value(json_object_get(fx.body, "message"));
}

static uint16_t local_port(const char *leg)
{
	return (uint16_t)json_integer_value(
	    json_object_get(json_object_get(fx.body, leg), "local_port"));
}

static int64_t stat_of(const char *leg, const char *key)
{
	json_t *st = json_object_get(json_object_get(fx.body, "stats"), leg);

	assert_non_null(json_object_get(st, key));
	return json_integer_value(json_object_get(st, key));
}

/* ---- the peers ---- */

static void peer_readable(int flags, void *arg)
{
	struct peer *p = arg;
	uint8_t buf[2048];
	ssize_t n;

	(void)flags;
	while ((n = recv(p->fd, buf, sizeof(buf), 0)) > 0)
		tu_sink_add(&p->rx, 0, buf, (size_t)n);
}

static void peer_open(struct peer *p, uint16_t port, uint32_t ssrc)
{
	struct sa a;

	memset(p, 0, sizeof(*p));
	p->ev = -1;
	p->seq = 1000;
	p->ts = 16000;
	p->ssrc = ssrc;
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(p->fd >= 0);
	assert_int_equal(sa_set_str(&a, "127.0.0.1", port), 0);
	assert_int_equal(bind(p->fd, &a.u.sa, a.len), 0);
	assert_int_equal(fd_listen(p->fd, FD_READ, peer_readable, p), 0);
}

/* what the peer sends: codec, payload types, and the node port */
static void peer_media(struct peer *p, const char *codec, uint8_t pt,
		       uint8_t te_pt, uint16_t node_port)
{
	enum sw_codec id;

	assert_int_equal(sw_codec_parse(&id, codec), 0);
	p->enc = mem_deref(p->enc);
	assert_int_equal(mp_xc_codec_alloc(&p->enc, id, 0, NULL), 0);
	p->pt = pt;
	p->te_pt = te_pt;
	assert_int_equal(sa_set_str(&p->node, "127.0.0.1", node_port), 0);
}

static void peer_close(struct peer *p)
{
	if (p->fd >= 0) {
		fd_close(p->fd);
		(void)close(p->fd);
	}
	p->fd = -1;
	p->enc = mem_deref(p->enc);
	p->gen = mem_deref(p->gen);
	tu_sink_free(&p->rx);
}

static void peer_send_raw(struct peer *p, const uint8_t *pkt, size_t len)
{
	assert_int_equal(sendto(p->fd, pkt, len, 0, &p->node.u.sa, p->node.len),
			 (ssize_t)len);
}

static void peer_send(struct peer *p, uint8_t pt, bool marker, uint32_t ts,
		      const uint8_t *pl, size_t len)
{
	struct mp_rtp_hdr rtp = {.marker = marker,
				 .pt = pt,
				 .seq = p->seq++,
				 .ts = ts,
				 .ssrc = p->ssrc,
				 .payload = pl,
				 .payload_len = len};
	uint8_t pkt[1500];
	size_t n = 0;

	assert_int_equal(mp_rtp_encode(pkt, sizeof(pkt), &n, &rtp), 0);
	peer_send_raw(p, pkt, n);
}

static void peer_event(struct peer *p, bool end, uint16_t dur, bool marker)
{
	struct mp_dtmf_ev ev = {
	    .event = (uint8_t)p->ev, .end = end, .volume = 10, .duration = dur};
	uint8_t pl[4];

	mp_dtmf_ev_encode(pl, &ev);
	peer_send(p, p->te_pt, marker, p->ev_ts, pl, sizeof(pl));
}

/* one 20 ms step of a peer: an RFC 4733 digit in progress (start, an
 * update every 40 ms, three ends after 200 ms), then the audio packet */
static void peer_step(struct peer *p)
{
	int16_t pcm[160];
	uint8_t pl[400];
	size_t len = 0;

	if (p->ev >= 0) {
		if (p->ev_step == 0)
			p->ev_ts = p->ts;
		if (p->ev_step < 10 && p->ev_step % 2 == 0)
			peer_event(p, false, (uint16_t)(p->ev_step * 160),
				   p->ev_step == 0);
		if (p->ev_step == 10) {
			for (int i = 0; i < 3; i++)
				peer_event(p, true, 1600, false);
			p->ev = -1;
		}
		p->ev_step++;
	}

	if (p->tone_hz > 0)
		tu_sine(pcm, 160, p->tone_hz, TONE_AMP, 8000, &p->phase);
	else
		memset(pcm, 0, sizeof(pcm));
	if (p->gen)
		(void)mp_dtmf_gen_mix(p->gen, pcm, 160);
	assert_int_equal(
	    mp_xc_codec_encode(p->enc, pl, sizeof(pl), &len, pcm, 160), 0);
	peer_send(p, p->pt, false, p->ts, pl, len);
	p->ts += 160;
}

static void pace(void *arg)
{
	(void)arg;
	tmr_start(&fx.pace, 20, pace, NULL);
	if (fx.pa.on)
		peer_step(&fx.pa);
	if (fx.pb.on)
		peer_step(&fx.pb);
}

static void peer_digit(struct peer *p, char digit)
{
	p->ev = mp_dtmf_event_code(digit);
	assert_true(p->ev >= 0);
	p->ev_step = 0;
}

/* RTP packets of payload type pt the peer received */
static size_t rx_count(const struct peer *p, uint8_t pt)
{
	size_t n = 0;

	for (size_t i = 0; i < p->rx.n; i++) {
		struct mp_rtp_hdr rtp;

		if (!mp_rtp_parse(&rtp, p->rx.pkt[i].data, p->rx.pkt[i].len) &&
		    rtp.pt == pt)
			n++;
	}
	return n;
}

/* decode the packets of pt from index `from` on into pcm (8 kHz codecs) */
static size_t rx_decode(const struct peer *p, size_t from, const char *codec,
			uint8_t pt, int16_t *pcm, size_t max,
			size_t *bad_frames)
{
	struct mp_xc_codec *dec = NULL;
	enum sw_codec id;
	size_t total = 0;

	assert_int_equal(sw_codec_parse(&id, codec), 0);
	assert_int_equal(mp_xc_codec_alloc(&dec, id, 0, NULL), 0);
	for (size_t i = from; i < p->rx.n; i++) {
		struct mp_rtp_hdr rtp;
		size_t n = 0;

		if (mp_rtp_parse(&rtp, p->rx.pkt[i].data, p->rx.pkt[i].len) ||
		    rtp.pt != pt)
			continue;
		if (!strcmp(codec, "G729") &&
		    (rtp.payload_len % 10 || !rtp.payload_len))
			(*bad_frames)++;
		if (total + MP_XC_PCM_MAX > max)
			break;
		assert_int_equal(
		    mp_xc_codec_decode(dec, pcm + total, max - total, &n,
				       rtp.payload, rtp.payload_len),
		    0);
		total += n;
	}
	mem_deref(dec);
	return total;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/*
 * The tone in 50 ms windows: median frequency and level (dB against the
 * sent tone), and the share of windows within +-2 % of 1 kHz.  Windows, not
 * the whole stream: a jitter-buffer step (a concealed or a skipped frame
 * when the test's pacing timer jitters) breaks the phase once, which is
 * not what is measured here.
 */
static void tone_measure(const int16_t *pcm, size_t n, double *hz, double *db,
			 double *share)
{
	static double f[1000], l[1000];
	size_t w = 0, good = 0;

	for (size_t i = 0; i + 400 <= n && w < 1000; i += 400, w++) {
		f[w] = tu_freq(pcm + i, 400, 8000);
		l[w] = tu_db(tu_rms(pcm + i, 400) + 1e-9, TONE_AMP / sqrt(2));
		good += f[w] > 980 && f[w] < 1020;
	}
	assert_true(w >= 10);
	*share = (double)good / (double)w;
	qsort(f, w, sizeof(f[0]), cmp_double);
	qsort(l, w, sizeof(l[0]), cmp_double);
	*hz = f[w / 2];
	*db = l[w / 2];
}

struct det_log {
	char got[32];
	size_t n;
};

static void det_h(char digit, void *arg)
{
	struct det_log *d = arg;

	if (digit && d->n < sizeof(d->got) - 1)
		d->got[d->n++] = digit;
}

/* inband digits in the audio (PT pt, codec) the peer received */
static void rx_detect(const struct peer *p, const char *codec, uint8_t pt,
		      struct det_log *d)
{
	static int16_t pcm[8000 * 20];
	struct mp_dtmf_det *det = NULL;
	size_t bad = 0, n;
	int err;

	memset(d, 0, sizeof(*d));
	n = rx_decode(p, 0, codec, pt, pcm, sizeof(pcm) / sizeof(pcm[0]), &bad);
	err = mp_dtmf_det_alloc(&det, 8000, det_h, d);
	if (err == ELIBBAD)
		fail_msg("librem's goertzel_* shadow spandsp's: link "
			 "-lspandsp before -lrem");
	assert_int_equal(err, 0);
	mp_dtmf_det_process(det, pcm, n);
	d->got[d->n] = '\0';
	mem_deref(det);
}

/* RFC 4733 events (PT te_pt) received: digits with a start marker, ends */
static void rx_events(const struct peer *p, uint8_t te_pt, char *digits,
		      size_t dsz, unsigned *ends)
{
	size_t nd = 0;

	*ends = 0;
	for (size_t i = 0; i < p->rx.n; i++) {
		static const char map[] = "0123456789*#ABCD!";
		struct mp_rtp_hdr rtp;
		struct mp_dtmf_ev ev;

		if (mp_rtp_parse(&rtp, p->rx.pkt[i].data, p->rx.pkt[i].len) ||
		    rtp.pt != te_pt)
			continue;
		assert_int_equal(
		    mp_dtmf_ev_decode(&ev, rtp.payload, rtp.payload_len), 0);
		if (rtp.marker && nd < dsz - 1 && ev.event < 17)
			digits[nd++] = map[ev.event];
		*ends += ev.end;
	}
	digits[nd] = '\0';
}

/* ---- the node ---- */

static void node_up(int64_t xcode_budget)
{
	struct mp_conf conf;
	char err[256];

	static int seq;

	/* a URL per test: a failed test leaves its sockets behind */
	seq++;
	snprintf(REP_URL, sizeof(REP_URL), "ipc:///tmp/mp-wire-%d-%d-rep.sock",
		 (int)getpid(), seq);
	snprintf(PULL_URL, sizeof(PULL_URL),
		 "ipc:///tmp/mp-wire-%d-%d-pull.sock", (int)getpid(), seq);
	memset(&fx, 0, sizeof(fx));
	fx.pa.fd = fx.pb.fd = -1;
	tmr_init(&fx.guard);
	tmr_init(&fx.pace);
	fx.events = json_array();
	assert_int_equal(mp_conf_load(&conf, NULL, err, sizeof(err)), 0);
	snprintf(conf.node_id, sizeof(conf.node_id), "mp-wire");
	snprintf(conf.bus_listen, sizeof(conf.bus_listen), "%s", REP_URL);
	snprintf(conf.signaling_url, sizeof(conf.signaling_url), "%s",
		 PULL_URL);
	conf.port_min = PORT_MIN;
	conf.port_max = PORT_MAX;
	conf.heartbeat_ms = 100;
	conf.xcode_budget = xcode_budget;
	conf.log_level = SW_LOG_WARN;

	assert_int_equal(sw_bus_alloc(&fx.bus), 0);
	assert_int_equal(
	    sw_bus_listen_pull(fx.bus, PULL_URL, SW_ROLE_LOCAL, on_event, NULL),
	    0);
	assert_int_equal(
	    fd_listen(sw_bus_fd(fx.bus), FD_READ, client_readable, fx.bus), 0);
	assert_int_equal(mp_node_alloc(&fx.node, &conf, NULL), 0);
	assert_int_equal(
	    sw_bus_dial_req(&fx.req, fx.bus, REP_URL, SW_ROLE_LOCAL, NULL), 0);
	peer_open(&fx.pa, PEER_A, 0x11111111);
	peer_open(&fx.pb, PEER_B, 0x22222222);
	tmr_start(&fx.pace, 20, pace, NULL);
}

static void node_down(void)
{
	if (!fx.node)
		return;
	tmr_cancel(&fx.pace);
	/* let what is in flight on the bus arrive before the sockets close
	 * (nng 1.5.2 leaks a message received while its socket closes) */
	fx.node->hb = mem_deref(fx.node->hb);
	run(60);
	peer_close(&fx.pa);
	peer_close(&fx.pb);
	mp_node_free(fx.node);
	fx.node = NULL;
	fd_close(sw_bus_fd(fx.bus));
	sw_bus_free(fx.bus);
	json_decref(fx.body);
	json_decref(fx.last_hb);
	json_decref(fx.events);
	fx.body = fx.last_hb = fx.events = NULL;
	(void)unlink(REP_URL + 6);
	(void)unlink(PULL_URL + 6);
}

static struct mp_session *session(const char *id)
{
	struct mp_session *sess = mp_session_find(fx.node, id);

	assert_non_null(sess);
	return sess;
}

static json_t *event_at(size_t i)
{
	return json_array_get(fx.events, i);
}

static const char *ev_str(json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));

	assert_non_null(s);
	return s;
}

/* ---- tests ---- */

/*
 * PCMA on leg a, G.729 on leg b: a 1 kHz tone each way comes out in the
 * other codec with its frequency (+-2 %) and level (+-3 dB); the peers'
 * RTCP is terminated, not relayed.
 */
static void pcma_g729_tone_both_ways(void **state)
{
	static int16_t pcm[8000 * 4];
	struct mp_session *sess;
	uint16_t la, lb;
	size_t n, bad = 0;
	double f, db, share;
	int rtcp_b;
	struct sa a;
	uint8_t rr[8] = {0x80, 201, 0, 1, 0x11, 0x11, 0x11, 0x11};

	(void)state;
	node_up(2);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"call_id\":"
		"\"w1\",\"a\":{\"remote_ip\":\"127.0.0.1\",\"remote_port\":"
		"31990,\"codec\":\"PCMA\",\"pt\":8,\"rate\":8000,\"ptime\":20},"
		"\"b\":{\"remote_ip\":\"127.0.0.1\",\"remote_port\":31992,"
		"\"codec\":\"G729\",\"pt\":18,\"rate\":8000,\"ptime\":20,"
		"\"fmtp\":\"annexb=no\"},\"media\":{\"jb_mode\":1,"
		"\"jb_min_ms\":20,\"jb_max_ms\":200,\"jb_default_ms\":60}}");
	assert_string_equal(fx.type, "media.offer.reply");
	la = local_port("a");
	lb = local_port("b");
	sess = session(S1);
	assert_non_null(sess->xc);
	assert_true(sess->xcode);
	assert_int_equal(fx.node->nxcode, 1);

	/* leg b's RTCP port: must see the engine's reports only */
	rtcp_b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_int_equal(sa_set_str(&a, "127.0.0.1", PEER_B + 1), 0);
	assert_int_equal(bind(rtcp_b, &a.u.sa, a.len), 0);

	peer_media(&fx.pa, "PCMA", 8, 0, la);
	peer_media(&fx.pb, "G729", 18, 0, lb);
	fx.pa.tone_hz = 1000;
	fx.pb.tone_hz = 1000;
	fx.pa.on = fx.pb.on = true;
	run(400);
	/* an RTCP RR from a's peer to a's RTCP port */
	assert_int_equal(sa_set_str(&a, "127.0.0.1", (uint16_t)(la + 1)), 0);
	assert_int_equal(sendto(fx.pa.fd, rr, sizeof(rr), 0, &a.u.sa, a.len),
			 (ssize_t)sizeof(rr));
	run(1600);
	fx.pa.on = fx.pb.on = false;
	run(300);

	/* leg b's peer got G.729: PT 18, 10-byte frames, the tone */
	printf("  b got %zu packets PT 18, a got %zu packets PT 8\n",
	       rx_count(&fx.pb, 18), rx_count(&fx.pa, 8));
	assert_true(rx_count(&fx.pb, 18) >= 80);
	assert_int_equal(rx_count(&fx.pb, 8), 0);
	n = rx_decode(&fx.pb, 15, "G729", 18, pcm, sizeof(pcm) / 2, &bad);
	assert_int_equal(bad, 0);
	assert_true(n >= 8000);
	tone_measure(pcm, n, &f, &db, &share);
	printf("  a->b PCMA->G.729: %.1f Hz, %+.2f dB (medians of 50 ms), "
	       "%.0f %% of windows within 2 %%, %zu samples\n",
	       f, db, share * 100, n);
	assert_true(f > 980 && f < 1020);
	assert_true(db > -3 && db < 3);
	assert_true(share >= 0.8);

	/* leg a's peer got PCMA back */
	assert_true(rx_count(&fx.pa, 8) >= 80);
	assert_int_equal(rx_count(&fx.pa, 18), 0);
	n = rx_decode(&fx.pa, 15, "PCMA", 8, pcm, sizeof(pcm) / 2, &bad);
	tone_measure(pcm, n, &f, &db, &share);
	printf("  b->a G.729->PCMA: %.1f Hz, %+.2f dB (medians of 50 ms), "
	       "%.0f %% of windows within 2 %%, %zu samples\n",
	       f, db, share * 100, n);
	assert_true(f > 980 && f < 1020);
	assert_true(db > -3 && db < 3);
	assert_true(share >= 0.8);

	request(SW_MSG_MEDIA_QUERY, "{\"session\":\"" S1 "\"}");
	printf("  a: rx %lld tx %lld rtcp_rx %lld lost %lld dropped %lld "
	       "concealed %lld jb %lld ms; b: rx %lld tx %lld rtcp_tx %lld\n",
	       (long long)stat_of("a", "rx_packets"),
	       (long long)stat_of("a", "tx_packets"),
	       (long long)stat_of("a", "rtcp_rx"),
	       (long long)stat_of("a", "lost"),
	       (long long)stat_of("a", "dropped"),
	       (long long)stat_of("a", "concealed"),
	       (long long)stat_of("a", "jb_delay_ms"),
	       (long long)stat_of("b", "rx_packets"),
	       (long long)stat_of("b", "tx_packets"),
	       (long long)stat_of("b", "rtcp_tx"));
	assert_true(stat_of("a", "rx_packets") >= 90);
	assert_true(stat_of("b", "tx_packets") >= 80);
	assert_int_equal(stat_of("a", "rtcp_rx"), 1);
	assert_int_equal(stat_of("a", "dropped"), 0);
	assert_int_equal(stat_of("a", "lost"), 0);
	assert_non_null(json_object_get(
	    json_object_get(json_object_get(fx.body, "stats"), "a"),
	    "jb_delay_ms"));
	{
		/* only the engine's own reports (if one was due) reach b's
		 * RTCP port, never a's RR */
		uint8_t buf[512];
		ssize_t r;
		int64_t got = 0;

		while ((r = recv(rtcp_b, buf, sizeof(buf), 0)) > 0) {
			got++;
			assert_false(r == (ssize_t)sizeof(rr) &&
				     !memcmp(buf, rr, sizeof(rr)));
		}
		assert_int_equal(got, stat_of("b", "rtcp_tx"));
	}
	(void)close(rtcp_b);

	request(SW_MSG_MEDIA_DELETE, "{\"session\":\"" S1 "\"}");
	assert_int_equal(fx.node->nxcode, 0);
	assert_true(list_isempty(&fx.node->xsessions));
	node_down();
}

/* the engine's own SR/RR/SDES reach each peer's RTCP port (every 5 s) */
static void engine_rtcp_reports(void **state)
{
	int fd[2];
	int64_t got[2] = {0, 0};
	struct sa a;

	(void)state;
	node_up(2);
	for (int i = 0; i < 2; i++) {
		fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(
		    sa_set_str(&a, "127.0.0.1", (i ? PEER_B : PEER_A) + 1), 0);
		assert_int_equal(bind(fd[i], &a.u.sa, a.len), 0);
	}
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31990,\"codec\":"
		"\"PCMA\",\"pt\":8},\"b\":{\"remote_ip\":\"127.0.0.1\","
		"\"remote_port\":31992,\"codec\":\"G729\",\"pt\":18}}");
	peer_media(&fx.pa, "PCMA", 8, 0, local_port("a"));
	peer_media(&fx.pb, "G729", 18, 0, local_port("b"));
	fx.pa.on = fx.pb.on = true;
	run(4500);
	fx.pa.on = fx.pb.on = false; /* RTCP keeps its own clock */
	run(500);

	for (int i = 0; i < 2; i++) {
		uint8_t buf[512];
		ssize_t r;

		while ((r = recv(fd[i], buf, sizeof(buf), 0)) > 0) {
			uint32_t ssrc = (uint32_t)buf[4] << 24 |
					(uint32_t)buf[5] << 16 |
					(uint32_t)buf[6] << 8 | buf[7];

			assert_true(r >= 28);
			assert_int_equal(buf[0] >> 6, 2);
			assert_int_equal(buf[1], 200);		/* SR first */
			assert_int_not_equal(ssrc, 0x11111111); /* not */
			assert_int_not_equal(ssrc, 0x22222222); /* relayed */
			got[i]++;
		}
		(void)close(fd[i]);
	}
	request(SW_MSG_MEDIA_QUERY, "{\"session\":\"" S1 "\"}");
	printf("  engine RTCP: a got %lld (rtcp_tx %lld), b got %lld "
	       "(rtcp_tx %lld)\n",
	       (long long)got[0], (long long)stat_of("a", "rtcp_tx"),
	       (long long)got[1], (long long)stat_of("b", "rtcp_tx"));
	assert_true(got[0] >= 1 && got[1] >= 1);
	assert_int_equal(got[0], stat_of("a", "rtcp_tx"));
	assert_int_equal(got[1], stat_of("b", "rtcp_tx"));
	node_down();
}

/* PCMA <-> PCMA: never an engine; packets leave byte for byte */
static void pcma_pcma_plain_relay(void **state)
{
	struct mp_session *sess;
	size_t same = 0;

	(void)state;
	node_up(2);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31990,\"codec\":"
		"\"PCMA\",\"pt\":8,\"rate\":8000,\"ptime\":20,\"te_pt\":101,"
		"\"dtmf_send\":\"rfc2833\",\"dtmf_recv\":\"rfc2833\"},\"b\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31992,\"codec\":"
		"\"PCMA\",\"pt\":8,\"rate\":8000,\"ptime\":20,\"te_pt\":101,"
		"\"dtmf_send\":\"rfc2833\",\"dtmf_recv\":\"rfc2833\"}}");
	peer_media(&fx.pa, "PCMA", 8, 101, local_port("a"));
	request(SW_MSG_MEDIA_ANSWER,
		"{\"session\":\"" S1 "\",\"b\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31992,\"codec\":"
		"\"pcma\",\"pt\":8,\"rate\":8000,\"ptime\":20,\"te_pt\":101,"
		"\"dtmf_send\":\"rfc2833\",\"dtmf_recv\":\"rfc2833\"}}");
	sess = session(S1);
	assert_null(sess->xc);
	assert_false(sess->xcode);
	assert_int_equal(fx.node->nxcode, 0);
	assert_true(list_isempty(&fx.node->xsessions));

	fx.pa.tone_hz = 1000;
	fx.pa.on = true;
	run(200);
	peer_digit(&fx.pa, '5');
	run(500);
	fx.pa.on = false;
	run(100);

	/* what b's peer got is what a's peer sent: same SSRC, PTs, bytes */
	for (size_t i = 0; i < fx.pb.rx.n; i++) {
		struct mp_rtp_hdr rtp;

		assert_int_equal(mp_rtp_parse(&rtp, fx.pb.rx.pkt[i].data,
					      fx.pb.rx.pkt[i].len),
				 0);
		assert_int_equal(rtp.ssrc, 0x11111111);
		same++;
	}
	request(SW_MSG_MEDIA_QUERY, "{\"session\":\"" S1 "\"}");
	printf("  plain relay: a rx %lld, b tx %lld, b got %zu (%zu events)\n",
	       (long long)stat_of("a", "rx_packets"),
	       (long long)stat_of("b", "tx_packets"), same,
	       rx_count(&fx.pb, 101));
	assert_int_equal(stat_of("a", "rx_packets"),
			 stat_of("b", "tx_packets"));
	assert_int_equal((int64_t)same, stat_of("b", "tx_packets"));
	assert_true(rx_count(&fx.pb, 101) >= 8);      /* events relayed */
	assert_int_equal(stat_of("a", "dtmf_rx"), 0); /* not looked at */
	assert_true(fx.last_hb != NULL);
	assert_int_equal(
	    json_integer_value(json_object_get(fx.last_hb, "xcode_sessions")),
	    0);
	assert_int_equal(json_array_size(fx.events), 0);
	node_down();
}

/*
 * RFC 2833 digits from a become tones toward b (dtmf_send inband), and
 * tones from b become RFC 2833 events toward a (b's dtmf_recv inband).
 */
static void rfc2833_inband_both_ways(void **state)
{
	struct mp_session *sess;
	struct det_log d;
	char digits[16];
	unsigned ends;
	json_t *ev;

	(void)state;
	node_up(2);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S2 "\",\"a\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31990,\"codec\":"
		"\"PCMA\",\"pt\":8,\"ptime\":20,\"te_pt\":101,"
		"\"dtmf_send\":\"rfc2833\",\"dtmf_recv\":\"rfc2833\"},\"b\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31992,\"codec\":"
		"\"PCMA\",\"pt\":8,\"ptime\":20,"
		"\"dtmf_send\":\"inband\",\"dtmf_recv\":\"inband\"}}");
	assert_string_equal(fx.type, "media.offer.reply");
	peer_media(&fx.pa, "PCMA", 8, 101, local_port("a"));
	peer_media(&fx.pb, "PCMA", 8, 0, local_port("b"));
	sess = session(S2);
	assert_non_null(sess->xc);
	assert_true(sess->xcode); /* same codec, but decoded: budget */
	assert_int_equal(fx.node->nxcode, 1);

	fx.pa.on = fx.pb.on = true;
	run(300);
	peer_digit(&fx.pa, '5');
	run(700);
	peer_digit(&fx.pa, '#');
	run(700);
	/* b presses 7 (tones in its audio) */
	assert_int_equal(mp_dtmf_gen_alloc(&fx.pb.gen, 8000), 0);
	assert_int_equal(mp_dtmf_gen_put(fx.pb.gen, '7', 120), 0);
	run(800);
	fx.pa.on = fx.pb.on = false;
	run(300);

	rx_detect(&fx.pb, "PCMA", 8, &d);
	printf("  b's audio carries \"%s\" (%zu packets PT 101)\n", d.got,
	       rx_count(&fx.pb, 101));
	assert_string_equal(d.got, "5#");
	assert_int_equal(rx_count(&fx.pb, 101), 0); /* no events to b */

	rx_events(&fx.pa, 101, digits, sizeof(digits), &ends);
	printf("  a got events \"%s\" (%u end packets)\n", digits, ends);
	assert_string_equal(digits, "7");
	assert_int_equal(ends, 3);

	/* every digit reported once on the bus */
	run(100);
	printf("  %zu media.event dtmf\n", json_array_size(fx.events));
	assert_int_equal(json_array_size(fx.events), 3);
	ev = event_at(0);
	assert_string_equal(ev_str(ev, "session"), S2);
	assert_string_equal(ev_str(ev, "node_id"), "mp-wire");
	assert_string_equal(ev_str(ev, "leg"), "a");
	assert_string_equal(ev_str(ev, "to"), "b");
	assert_string_equal(ev_str(ev, "digit"), "5");
	assert_string_equal(ev_str(ev, "method"), "rfc2833");
	assert_false(json_is_true(json_object_get(ev, "send_info")));
	assert_true(json_integer_value(json_object_get(ev, "duration_ms")) >=
		    150);
	assert_string_equal(ev_str(event_at(1), "digit"), "#");
	ev = event_at(2);
	assert_string_equal(ev_str(ev, "leg"), "b");
	assert_string_equal(ev_str(ev, "to"), "a");
	assert_string_equal(ev_str(ev, "digit"), "7");
	assert_string_equal(ev_str(ev, "method"), "inband");

	request(SW_MSG_MEDIA_QUERY, "{\"session\":\"" S2 "\"}");
	assert_int_equal(stat_of("a", "dtmf_rx"), 2);
	assert_int_equal(stat_of("b", "dtmf_rx"), 1);
	node_down();
}

/*
 * b wants SIP INFO: a's RFC 2833 digit comes out as media.event with
 * send_info on the PULL side; a digit signalingd got by INFO from b
 * (media.play_dtmf) reaches a as RFC 2833 events.
 */
static void info_both_ways(void **state)
{
	char digits[16];
	unsigned ends;
	json_t *ev;

	(void)state;
	node_up(2);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S3 "\",\"a\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31990,\"codec\":"
		"\"PCMA\",\"pt\":8,\"te_pt\":101,\"dtmf_send\":\"rfc2833\","
		"\"dtmf_recv\":\"rfc2833\"},\"b\":{\"remote_ip\":\"127.0.0.1\","
		"\"remote_port\":31992,\"codec\":\"G729\",\"pt\":18,"
		"\"dtmf_send\":\"info\",\"dtmf_recv\":\"info\"}}");
	assert_string_equal(fx.type, "media.offer.reply");
	peer_media(&fx.pa, "PCMA", 8, 101, local_port("a"));
	peer_media(&fx.pb, "G729", 18, 0, local_port("b"));

	fx.pa.on = fx.pb.on = true;
	run(200);
	peer_digit(&fx.pa, '9');
	run(600);

	assert_int_equal(json_array_size(fx.events), 1);
	ev = event_at(0);
	assert_string_equal(ev_str(ev, "event"), "dtmf");
	assert_string_equal(ev_str(ev, "leg"), "a");
	assert_string_equal(ev_str(ev, "to"), "b");
	assert_string_equal(ev_str(ev, "digit"), "9");
	assert_string_equal(ev_str(ev, "method"), "rfc2833");
	assert_true(json_is_true(json_object_get(ev, "send_info")));
	printf(
	    "  media.event dtmf 9 a->b send_info true, %lld ms\n",
	    (long long)json_integer_value(json_object_get(ev, "duration_ms")));

	request(SW_MSG_MEDIA_PLAY_DTMF,
		"{\"session\":\"" S3 "\",\"leg\":"
		"\"b\",\"digit\":\"4\",\"duration_ms\":200}");
	assert_string_equal(fx.type, "media.play_dtmf.reply");
	assert_string_equal(
	    json_string_value(json_object_get(fx.body, "session")), S3);
	run(700);
	fx.pa.on = fx.pb.on = false;
	run(200);
	rx_events(&fx.pa, 101, digits, sizeof(digits), &ends);
	printf("  a got events \"%s\" (%u end packets) from play_dtmf\n",
	       digits, ends);
	assert_string_equal(digits, "4");
	assert_int_equal(ends, 3);
	assert_int_equal(rx_count(&fx.pb, 101), 0);

	/* bad play_dtmf requests name the field */
	request(SW_MSG_MEDIA_PLAY_DTMF, "{\"session\":\"" S3 "\",\"leg\":"
					"\"c\",\"digit\":\"4\"}");
	assert_string_equal(err_code(), SW_ERR_BAD_REQUEST);
	assert_memory_equal(err_message(), "body.leg: ", 10);
	request(SW_MSG_MEDIA_PLAY_DTMF, "{\"session\":\"" S3 "\",\"leg\":"
					"\"a\",\"digit\":\"X\"}");
	assert_string_equal(err_code(), SW_ERR_BAD_REQUEST);
	assert_memory_equal(err_message(), "body.digit: ", 12);
	request(SW_MSG_MEDIA_PLAY_DTMF,
		"{\"session\":\"" S3 "\",\"leg\":"
		"\"a\",\"digit\":\"1\",\"duration_ms\":-5}");
	assert_string_equal(err_code(), SW_ERR_BAD_REQUEST);
	assert_memory_equal(err_message(), "body.duration_ms: ", 18);
	request(SW_MSG_MEDIA_PLAY_DTMF, "{\"session\":\"" S1 "\",\"leg\":"
					"\"a\",\"digit\":\"1\"}");
	assert_string_equal(err_code(), SW_ERR_NOT_FOUND);
	node_down();
}

/*
 * What peer p received from the node is one stream: one SSRC (want), every
 * sequence number the one after the last, and the audio (PT pt)
 * timestamps 160 apart.  Returns the number of RTP packets.
 */
static size_t rx_one_stream(const struct peer *p, uint32_t want, uint8_t pt)
{
	bool first = true, audio = false;
	uint16_t seq = 0;
	uint32_t ts = 0;
	size_t n = 0;

	for (size_t i = 0; i < p->rx.n; i++) {
		struct mp_rtp_hdr rtp;

		if (mp_pkt_is_rtcp(p->rx.pkt[i].data, p->rx.pkt[i].len))
			continue;
		assert_int_equal(
		    mp_rtp_parse(&rtp, p->rx.pkt[i].data, p->rx.pkt[i].len), 0);
		assert_int_equal(rtp.ssrc, want);
		if (!first && rtp.seq != (uint16_t)(seq + 1))
			fail_msg("packet %zu: seq %u after %u", i, rtp.seq,
				 seq);
		seq = rtp.seq;
		first = false;
		n++;
		if (rtp.pt != pt)
			continue;
		if (audio && rtp.ts != ts + 160)
			fail_msg("packet %zu: ts %u after %u", i, rtp.ts, ts);
		ts = rtp.ts;
		audio = true;
	}
	return n;
}

/*
 * PCMA both ways, RFC 2833 both ways, and a also takes SIP INFO: a plain
 * relay, no engine.  The first digit by INFO from a (media.play_dtmf)
 * starts the engine, which takes over both relayed streams where they
 * are: each peer sees one SSRC, no sequence gap, no timestamp jump, and b
 * gets the digit as events.  No transcoding budget is used.
 */
static void info_digit_starts_engine(void **state)
{
	struct mp_session *sess;
	char digits[16];
	unsigned ends;
	size_t na, nb, a0, b0;

	(void)state;
	node_up(0);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31990,\"codec\":"
		"\"PCMA\",\"pt\":8,\"te_pt\":101,\"dtmf_send\":\"rfc2833\","
		"\"dtmf_recv\":\"all\"},\"b\":{\"remote_ip\":\"127.0.0.1\","
		"\"remote_port\":31992,\"codec\":\"PCMA\",\"pt\":8,"
		"\"te_pt\":101,\"dtmf_send\":\"rfc2833\","
		"\"dtmf_recv\":\"rfc2833\"}}");
	assert_string_equal(fx.type, "media.offer.reply");
	peer_media(&fx.pa, "PCMA", 8, 101, local_port("a"));
	peer_media(&fx.pb, "PCMA", 8, 101, local_port("b"));
	sess = session(S1);
	assert_null(sess->xc); /* a plain relay until a digit by INFO */

	fx.pa.on = fx.pb.on = true;
	run(400);
	assert_null(sess->xc);
	request(SW_MSG_MEDIA_PLAY_DTMF,
		"{\"session\":\"" S1 "\",\"leg\":"
		"\"a\",\"digit\":\"6\",\"duration_ms\":200}");
	assert_string_equal(fx.type, "media.play_dtmf.reply");
	a0 = fx.pa.rx.n; /* relayed before the engine took over */
	b0 = fx.pb.rx.n;
	assert_non_null(sess->xc);
	assert_false(sess->xcode);
	assert_int_equal(fx.node->nxcode, 0);
	run(700);
	fx.pa.on = fx.pb.on = false;
	run(200);

	rx_events(&fx.pb, 101, digits, sizeof(digits), &ends);
	printf("  b got events \"%s\" (%u end packets)\n", digits, ends);
	assert_string_equal(digits, "6");
	assert_int_equal(ends, 3);
	rx_events(&fx.pa, 101, digits, sizeof(digits), &ends);
	assert_string_equal(digits, "");

	nb = rx_one_stream(&fx.pb, fx.pa.ssrc, 8);
	na = rx_one_stream(&fx.pa, fx.pb.ssrc, 8);
	printf("  one unbroken stream each way: %zu packets to b, %zu to a "
	       "(%zu and %zu of them relayed before the engine)\n",
	       nb, na, b0, a0);
	/* the check spans the switch: packets on both sides of it */
	assert_true(b0 >= 5 && nb >= b0 + 10);
	assert_true(a0 >= 5 && na >= a0 + 10);
	node_down();
}

/*
 * xcode_budget counts decoded-path sessions (mp_xcode_decoded_path): a
 * payload-type remap gets an engine without using the budget; a second
 * transcoded session and an update into one are refused with no_capacity.
 */
static void budget_no_capacity(void **state)
{
	struct mp_session *sess;
	struct mp_xcode *xc;

	(void)state;
	node_up(1);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{\"codec\":"
		"\"PCMA\",\"pt\":8},\"b\":{\"codec\":\"G729\",\"pt\":18}}");
	assert_string_equal(fx.type, "media.offer.reply");
	assert_int_equal(fx.node->nxcode, 1);

	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S2 "\",\"a\":{\"codec\":"
		"\"PCMU\",\"pt\":0},\"b\":{\"codec\":\"G722\",\"pt\":9}}");
	assert_string_equal(err_code(), SW_ERR_NO_CAPACITY);
	assert_non_null(strstr(err_message(), "transcoding budget"));
	assert_null(mp_session_find(fx.node, S2));

	/* PCMA pt 8 <-> PCMA pt 96 with other event PTs: an engine that only
	 * rewrites headers, outside the budget */
	request(
	    SW_MSG_MEDIA_OFFER,
	    "{\"session\":\"" S2 "\",\"a\":{\"codec\":"
	    "\"PCMA\",\"pt\":8,\"te_pt\":101,\"dtmf_send\":\"rfc2833\","
	    "\"dtmf_recv\":\"rfc2833\"},\"b\":{\"codec\":\"PCMA\",\"pt\":96,"
	    "\"te_pt\":100,\"dtmf_send\":\"rfc2833\",\"dtmf_recv\":"
	    "\"rfc2833\"}}");
	assert_string_equal(fx.type, "media.offer.reply");
	sess = session(S2);
	assert_non_null(sess->xc);
	assert_false(sess->xcode);
	assert_int_equal(fx.node->nxcode, 1);
	xc = sess->xc;

	/* an update into transcoding is refused and changes nothing */
	request(SW_MSG_MEDIA_UPDATE, "{\"session\":\"" S2 "\",\"b\":{\"codec\":"
				     "\"G729\",\"pt\":18}}");
	assert_string_equal(err_code(), SW_ERR_NO_CAPACITY);
	assert_ptr_equal(sess->xc, xc);
	assert_string_equal(sess->plan[MP_LEG_B].codec, "PCMA");
	assert_int_equal(fx.node->nxcode, 1);

	run(250);
	assert_int_equal(
	    json_integer_value(json_object_get(fx.last_hb, "xcode_sessions")),
	    1);
	assert_int_equal(
	    json_integer_value(json_object_get(fx.last_hb, "xcode_budget")), 1);

	/* the transcoded session goes back to PCMA both sides: budget freed,
	 * the engine dropped */
	request(SW_MSG_MEDIA_UPDATE, "{\"session\":\"" S1 "\",\"b\":{\"codec\":"
				     "\"PCMA\",\"pt\":8}}");
	assert_string_equal(fx.type, "media.update.reply");
	assert_null(session(S1)->xc);
	assert_int_equal(fx.node->nxcode, 0);
	request(SW_MSG_MEDIA_UPDATE, "{\"session\":\"" S2 "\",\"b\":{\"codec\":"
				     "\"G729\",\"pt\":18}}");
	assert_string_equal(fx.type, "media.update.reply");
	assert_true(sess->xcode);
	assert_ptr_not_equal(sess->xc, xc); /* re-created */
	assert_int_equal(fx.node->nxcode, 1);
	node_down();
}

/* body.media and plans the engine cannot take: bad_request naming it */
static void media_object_and_plan_checks(void **state)
{
	static const struct {
		const char *body, *msg;
	} bad[] = {
	    {"\"media\":5", "body.media: "},
	    {"\"media\":{\"jb_mode\":2}", "body.media.jb_mode: "},
	    {"\"media\":{\"jb_min_ms\":5}", "body.media.jb_min_ms: "},
	    {"\"media\":{\"jb_max_ms\":1001}", "body.media.jb_max_ms: "},
	    {"\"media\":{\"jb_min_ms\":100,\"jb_max_ms\":50}",
	     "body.media.jb_max_ms: "},
	    {"\"media\":{\"jb_default_ms\":\"60\"}",
	     "body.media.jb_default_ms: "},
	    {"\"media\":{\"echo_cancel\":\"yes\"}", "body.media.echo_cancel: "},
	    {"\"media\":{\"echo_tail_ms\":100}", "body.media.echo_tail_ms: "},
	    {"\"media\":{\"voice_gain_db\":11}", "body.media.voice_gain_db: "},
	    {"\"media\":{\"comfort_noise\":1}", "body.media.comfort_noise: "},
	    {"\"media\":{\"te_passthrough\":\"no\"}",
	     "body.media.te_passthrough: "},
	};
	char body[512];
	struct mp_session *sess;
	struct mp_xcode *xc;

	(void)state;
	node_up(4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"session\":\"" S1 "\","
			 "\"a\":{\"codec\":\"PCMA\",\"pt\":8},\"b\":{\"codec\":"
			 "\"G729\",\"pt\":18},%s}",
			 bad[i].body);
		request(SW_MSG_MEDIA_OFFER, body);
		assert_string_equal(err_code(), SW_ERR_BAD_REQUEST);
		assert_memory_equal(err_message(), bad[i].msg,
				    strlen(bad[i].msg));
	}
	/* codecs and ptimes the engine cannot do */
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{\"codec\":"
		"\"PCMA\",\"pt\":8},\"b\":{\"codec\":\"AMR\",\"pt\":96}}");
	assert_string_equal(err_code(), SW_ERR_BAD_REQUEST);
	assert_memory_equal(err_message(), "body.b.codec: ", 14);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{\"codec\":"
		"\"PCMA\",\"pt\":8},\"b\":{\"codec\":\"G729\",\"pt\":18,"
		"\"ptime\":25}}");
	assert_string_equal(err_code(), SW_ERR_BAD_REQUEST);
	assert_memory_equal(err_message(), "body.b.ptime: ", 14);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{\"codec\":"
		"\"PCMA\",\"pt\":8},\"b\":{\"codec\":\"opus\"}}");
	assert_string_equal(err_code(), SW_ERR_BAD_REQUEST);
	assert_memory_equal(err_message(), "body.b.pt: ", 11);
	assert_int_equal(fx.node->nsessions, 0);
	assert_int_equal(fx.node->nxcode, 0);
	/* the same codec the engine lacks on both legs: plain relay */
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S2 "\",\"a\":{\"codec\":"
		"\"AMR\",\"pt\":96},\"b\":{\"codec\":\"AMR\",\"pt\":96}}");
	assert_string_equal(fx.type, "media.offer.reply");
	assert_null(session(S2)->xc);

	/* a valid object is applied */
	request(
	    SW_MSG_MEDIA_OFFER,
	    "{\"session\":\"" S1 "\",\"a\":{\"codec\":"
	    "\"PCMA\",\"pt\":8},\"b\":{\"codec\":\"G729\",\"pt\":18},"
	    "\"media\":{\"jb_mode\":0,\"jb_min_ms\":40,\"jb_max_ms\":300,"
	    "\"jb_default_ms\":80,\"echo_cancel\":true,\"echo_tail_ms\":256,"
	    "\"voice_gain_db\":-6,\"comfort_noise\":true,"
	    "\"te_passthrough\":true,\"unknown_key\":1}}");
	assert_string_equal(fx.type, "media.offer.reply");
	sess = session(S1);
	assert_non_null(sess->xc);
	assert_int_equal(sess->media.jb_mode, 0);
	assert_int_equal(sess->media.jb_min_ms, 40);
	assert_int_equal(sess->media.jb_max_ms, 300);
	assert_int_equal(sess->media.jb_default_ms, 80);
	assert_true(sess->media.echo_cancel);
	assert_int_equal(sess->media.ec_tail_ms, 256);
	assert_int_equal(sess->media.gain_db, -6);
	assert_true(sess->media.comfort_noise);
	assert_true(sess->media.te_passthrough);
	xc = sess->xc;

	/* an update without media, changing an address only: same engine */
	request(SW_MSG_MEDIA_UPDATE,
		"{\"session\":\"" S1 "\",\"a\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31990,\"codec\":"
		"\"PCMA\",\"pt\":8}}");
	assert_string_equal(fx.type, "media.update.reply");
	assert_ptr_equal(sess->xc, xc);
	assert_int_equal(sess->media.gain_db, -6);
	/* new media values: a new engine */
	request(SW_MSG_MEDIA_UPDATE, "{\"session\":\"" S1 "\",\"media\":{"
				     "\"voice_gain_db\":3}}");
	assert_string_equal(fx.type, "media.update.reply");
	assert_ptr_not_equal(sess->xc, xc);
	assert_int_equal(sess->media.gain_db, 3);
	assert_int_equal(sess->media.jb_mode, 1); /* defaults again */
	/* a bad update changes nothing */
	xc = sess->xc;
	request(SW_MSG_MEDIA_UPDATE, "{\"session\":\"" S1 "\",\"media\":{"
				     "\"voice_gain_db\":30}}");
	assert_string_equal(err_code(), SW_ERR_BAD_REQUEST);
	assert_ptr_equal(sess->xc, xc);
	assert_int_equal(sess->media.gain_db, 3);
	node_down();
}

/*
 * Garbage into a transcoding session: truncated, wrong PT, wrong SSRC,
 * undecodable G.729 and malformed events/RTCP are counted in `dropped`;
 * the tone keeps flowing.
 */
static void garbage_counted_session_survives(void **state)
{
	static int16_t pcm[8000 * 4];
	struct mp_rtp_hdr rtp;
	uint8_t pkt[1500], pl[200];
	size_t n = 0, before, bad = 0;
	int64_t dropped_a, dropped_b;
	struct sa rtcp;
	double f, db, share;

	(void)state;
	node_up(2);
	request(SW_MSG_MEDIA_OFFER,
		"{\"session\":\"" S1 "\",\"a\":{"
		"\"remote_ip\":\"127.0.0.1\",\"remote_port\":31990,\"codec\":"
		"\"PCMA\",\"pt\":8,\"te_pt\":101,\"dtmf_recv\":\"rfc2833\","
		"\"dtmf_send\":\"rfc2833\"},\"b\":{\"remote_ip\":\"127.0.0.1\","
		"\"remote_port\":31992,\"codec\":\"G729\",\"pt\":18}}");
	peer_media(&fx.pa, "PCMA", 8, 101, local_port("a"));
	peer_media(&fx.pb, "G729", 18, 0, local_port("b"));
	fx.pa.tone_hz = fx.pb.tone_hz = 1000;
	fx.pa.on = fx.pb.on = true;
	run(500);

	/* 1: truncated RTP (relay check) */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 8;
	peer_send_raw(&fx.pa, pkt, 5);
	/* 2: wrong payload type, valid header */
	memset(pl, 0xd5, sizeof(pl));
	peer_send(&fx.pa, 0, false, fx.pa.ts, pl, 40);
	/* 3: another SSRC while a's is alive */
	rtp = (struct mp_rtp_hdr){.pt = 8,
				  .seq = 7,
				  .ts = 1,
				  .ssrc = 0x5a5a,
				  .payload = pl,
				  .payload_len = 160};
	assert_int_equal(mp_rtp_encode(pkt, sizeof(pkt), &n, &rtp), 0);
	peer_send_raw(&fx.pa, pkt, n);
	/* 4: a malformed telephone-event (3 bytes) */
	peer_send(&fx.pa, 101, true, fx.pa.ts, pl, 3);
	/* 5: G.729 payload of 7 bytes from b */
	peer_send(&fx.pb, 18, false, fx.pb.ts, pl, 7);
	/* 6: garbage "RTCP" on b's RTCP port (relay check) */
	assert_int_equal(sa_set_str(&rtcp, "127.0.0.1",
				    (uint16_t)(sa_port(&fx.pb.node) + 1)),
			 0);
	assert_int_equal(sendto(fx.pb.fd, pl, 9, 0, &rtcp.u.sa, rtcp.len), 9);
	/* 7: an oversized datagram */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 8;
	{
		static uint8_t big[5000];

		memcpy(big, pkt, 12);
		peer_send_raw(&fx.pa, big, sizeof(big));
	}
	run(50);
	before = fx.pb.rx.n;
	run(1200);
	fx.pa.on = fx.pb.on = false;
	run(200);

	request(SW_MSG_MEDIA_QUERY, "{\"session\":\"" S1 "\"}");
	dropped_a = stat_of("a", "dropped");
	dropped_b = stat_of("b", "dropped");
	printf("  dropped a %lld (5 sent), b %lld (2 sent); b got %zu packets "
	       "after\n",
	       (long long)dropped_a, (long long)dropped_b, fx.pb.rx.n - before);
	assert_int_equal(dropped_a, 5);
	assert_int_equal(dropped_b, 2);
	assert_true(fx.pb.rx.n - before >= 50);
	n = rx_decode(&fx.pb, before, "G729", 18, pcm, sizeof(pcm) / 2, &bad);
	assert_int_equal(bad, 0);
	tone_measure(pcm, n, &f, &db, &share);
	printf("  tone after the garbage: %.1f Hz %+.2f dB, %.0f %% of "
	       "windows within 2 %%\n",
	       f, db, share * 100);
	assert_true(f > 980 && f < 1020);
	assert_true(share >= 0.8);
	assert_int_equal(json_array_size(fx.events), 0); /* no digit */
	node_down();
}

static int setup(void **state)
{
	(void)state;
	return libre_init();
}

static int teardown(void **state)
{
	(void)state;
	libre_close();
	return 0;
}

/* after each test: a failed one did not get to node_down() */
static int test_teardown(void **state)
{
	(void)state;
	node_down();
	return 0;
}

#define T(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(pcma_g729_tone_both_ways),
	    T(engine_rtcp_reports),
	    T(pcma_pcma_plain_relay),
	    T(rfc2833_inband_both_ways),
	    T(info_both_ways),
	    T(info_digit_starts_engine),
	    T(budget_no_capacity),
	    T(media_object_and_plan_checks),
	    T(garbage_counted_session_survives),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
