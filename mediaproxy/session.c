/*
 * session.c - the session table, plans, hold and RTP timeout handling
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include "mediaproxy/libre.h"

#define SW_LOG_MODULE "session"
#include "common/bus.h"
#include "common/log.h"
#include "common/swtime.h"
#include "mediaproxy/metrics.h"
#include "mediaproxy/node.h"
#include "mediaproxy/session.h"
#include "mediaproxy/share.h"
#include "proto/media.h"
#include "proto/proto.h"

static const char leg_name[2] = {'a', 'b'};

/*
 * True when both codecs are known and differ (always a decoded path; the
 * budget itself follows mp_xcode_decoded_path(), which also counts ptime
 * and inband DTMF conversions).
 */
bool mp_plan_is_xcode(const struct mp_plan *a, const struct mp_plan *b)
{
	if (!a || !b || !a->codec[0] || !b->codec[0])
		return false;
	return !sw_codec_same(a->codec, b->codec);
}

/*
 * True when the leg is on hold: a direction other than sendrecv, or the
 * RFC 2543 style 0.0.0.0 address.
 */
bool mp_plan_on_hold(const struct mp_plan *p)
{
	if (!p)
		return false;
	if (p->direction[0] && strcmp(p->direction, "sendrecv"))
		return true;
	return !strcmp(p->remote_ip, "0.0.0.0");
}

static void session_destructor(void *arg)
{
	struct mp_session *sess = arg;

	hash_unlink(&sess->he);
	list_unlink(&sess->xle);
	sess->xc = mem_deref(sess->xc);
	if (sess->node) {
		mp_metrics_session_end(&sess->node->metrics, sess->relay);
		mp_share_del(sess->node->share, sess->account);
		if (sess->node->nsessions)
			sess->node->nsessions--;
		if (sess->xcode && sess->node->nxcode)
			sess->node->nxcode--;
	}
	mem_deref(sess->relay);
}

/* push a leg's plan into the relay: remote address and jitter clock */
static void apply_plan(struct mp_session *sess, enum mp_leg_id id)
{
	const struct mp_plan *p = &sess->plan[id];
	struct sa remote, sig;
	bool known, sig_known;

	known = p->remote_ip[0] && p->remote_port &&
		!sa_set_str(&remote, p->remote_ip, p->remote_port) &&
		!sa_is_any(&remote);
	sig_known =
	    p->sig_ip[0] && !sa_set_str(&sig, p->sig_ip, 0) && !sa_is_any(&sig);

	mp_relay_set_remote(sess->relay, id, known ? &remote : NULL);
	mp_relay_set_guard(sess->relay, id, sig_known ? &sig : NULL,
			   p->handover);
	mp_relay_set_media(sess->relay, id, p->rate, p->pt);
}

static void log_plan(const struct mp_session *sess, enum mp_leg_id id)
{
	const struct mp_plan *p = &sess->plan[id];

	sw_cdebug(sess->id,
		  "leg %c: local %u remote %s:%u codec %s/%u pt %d "
		  "te_pt %d %s sig %s handover %s",
		  leg_name[id], mp_relay_port(sess->relay, id),
		  p->remote_ip[0] ? p->remote_ip : "-", p->remote_port,
		  p->codec[0] ? p->codec : "-", p->rate, p->pt, p->te_pt,
		  p->direction, p->sig_ip[0] ? p->sig_ip : "-",
		  p->handover ? "on" : "off");
}

static bool id_cmp(struct le *le, void *arg)
{
	const struct mp_session *sess = le->data;

	return !strcmp(sess->id, arg);
}

/* The session with this id, or NULL. */
struct mp_session *mp_session_find(const struct mp_node *node, const char *id)
{
	struct le *le;

	if (!node || !id)
		return NULL;
	le = hash_lookup(node->sessions, hash_joaat_str(id), id_cmp,
			 (void *)(uintptr_t)id);

	return le ? le->data : NULL;
}

/* ---- the media engine (mediaproxy/xcode) ---- */

/* what a pair of plans asks of the engine */
struct need {
	bool engine;  /* more than a plain relay */
	bool late;    /* a plain relay until a digit by SIP INFO must go to
		       * a leg as RFC 2833: the engine starts then */
	bool decoded; /* audio decoded: xcode_budget */
	struct mp_xcode_plan x[2];
};

/* the static payload type of a codec, -1 when it has none */
static int static_pt(const char *codec)
{
	enum sw_codec c;

	return sw_codec_parse(&c, codec) ? -1 : sw_codec_static_pt(c);
}

static void xplan_of(struct mp_xcode_plan *x, const struct mp_plan *p, int pt)
{
	memset(x, 0, sizeof(*x));
	(void)snprintf(x->codec, sizeof(x->codec), "%.31s", p->codec);
	x->pt = (uint8_t)pt;
	x->rate = p->rate;
	x->ptime = p->ptime > 0 ? (uint32_t)p->ptime : 0;
	(void)snprintf(x->fmtp, sizeof(x->fmtp), "%.255s", p->fmtp);
	x->te_pt = (uint8_t)p->te_pt;
	/* "" (not known yet) is none */
	if (sw_dtmf_parse(&x->dtmf_send, p->dtmf_send, SW_DTMF_ANY))
		x->dtmf_send = SW_DTMF_NONE;
	if (sw_dtmf_parse(&x->dtmf_recv, p->dtmf_recv, SW_DTMF_ANY))
		x->dtmf_recv = SW_DTMF_NONE;
}

static bool accepts_info(const struct mp_xcode_plan *x)
{
	return sw_dtmf_recv_accepts(x->dtmf_recv, SW_DTMF_INFO);
}

/* the method a leg is sent digits by (the engine's rule, proto/media.h) */
static enum sw_dtmf send_method(const struct mp_xcode_plan *x)
{
	return sw_dtmf_send_resolve(x->dtmf_send, x->te_pt != 0);
}

/* a digit from leg from by SIP INFO goes to leg to as RFC 2833 events */
static bool info_to_events(const struct mp_xcode_plan *from,
			   const struct mp_xcode_plan *to)
{
	return accepts_info(from) && send_method(to) == SW_DTMF_RFC2833;
}

/*
 * Decide what plans a and b need.  Until both codecs are known the
 * session is a plain relay.  A digit signalingd gets by SIP INFO from one
 * leg that the other leg takes as RFC 2833 needs an engine too (the relay
 * cannot make events), but only from the first such digit on: until then
 * the pair is relayed untouched (late; media.play_dtmf starts the engine,
 * which continues the relayed streams).  EINVAL/ENOTSUP/ERANGE with err
 * naming the field when the engine is needed but cannot take the plans.
 */
static int need_of(struct need *n, const struct mp_plan *a,
		   const struct mp_plan *b, char *err, size_t errsz)
{
	const struct mp_plan *p[2] = {a, b};
	static const char legc[2] = {'a', 'b'};
	bool same_codec;
	int pt[2];

	memset(n, 0, sizeof(*n));
	if (!a->codec[0] || !b->codec[0])
		return 0;
	same_codec = sw_codec_same(a->codec, b->codec);

	for (int i = 0; i < 2; i++) {
		pt[i] = p[i]->pt >= 0 ? p[i]->pt : static_pt(p[i]->codec);
		if (pt[i] >= 0)
			continue;
		if (same_codec && p[0]->pt == p[1]->pt)
			return 0; /* nothing to tell them apart by */
		(void)snprintf(err, errsz,
			       "body.%c.pt: needed to transcode "
			       "%s (no static payload type)",
			       legc[i], p[i]->codec);
		return EINVAL;
	}
	for (int i = 0; i < 2; i++)
		xplan_of(&n->x[i], p[i], pt[i]);

	n->engine = mp_xcode_needed(&n->x[0], &n->x[1]);
	n->late = !n->engine && (info_to_events(&n->x[0], &n->x[1]) ||
				 info_to_events(&n->x[1], &n->x[0]));
	if (!n->engine && !n->late)
		return 0;

	for (int i = 0; i < 2; i++) {
		int e = mp_xcode_plan_check(&n->x[i]);

		if (e && n->late) {
			/* INFO digits toward this pair are dropped */
			memset(n, 0, sizeof(*n));
			return 0;
		}
		switch (e) {

		case 0:
			continue;
		case ENOTSUP: {
			char list[64];

			if (same_codec) {
				/* a codec the engine lacks, on both legs:
				 * relayed untouched as before */
				memset(n, 0, sizeof(*n));
				return 0;
			}
			sw_names_list(list, sizeof(list), sw_codec_names, ~0u);
			(void)snprintf(err, errsz,
				       "body.%c.codec: %s cannot "
				       "be transcoded (%s)",
				       legc[i], p[i]->codec, list);
		} break;
		case ERANGE:
			(void)snprintf(err, errsz,
				       "body.%c.ptime: %d ms is "
				       "not a ptime %s can be sent with",
				       legc[i], p[i]->ptime, p[i]->codec);
			break;
		default:
			(void)snprintf(err, errsz,
				       "body.%c.te_pt: must "
				       "differ from pt %d",
				       legc[i], pt[i]);
			break;
		}
		return e == ERANGE || e == ENOTSUP ? e : EINVAL;
	}
	n->decoded = mp_xcode_decoded_path(&n->x[0], &n->x[1]);

	return 0;
}

static bool xplan_eq(const struct mp_xcode_plan *x,
		     const struct mp_xcode_plan *y)
{
	return !strcmp(x->codec, y->codec) && x->pt == y->pt &&
	       x->rate == y->rate && x->ptime == y->ptime &&
	       !strcmp(x->fmtp, y->fmtp) && x->te_pt == y->te_pt &&
	       x->dtmf_send == y->dtmf_send && x->dtmf_recv == y->dtmf_recv;
}

static bool conf_eq(const struct mp_xcode_conf *x,
		    const struct mp_xcode_conf *y)
{
	return x->jb_enable == y->jb_enable && x->jb_mode == y->jb_mode &&
	       x->jb_min_ms == y->jb_min_ms && x->jb_max_ms == y->jb_max_ms &&
	       x->jb_default_ms == y->jb_default_ms &&
	       x->echo_cancel == y->echo_cancel &&
	       x->ec_tail_ms == y->ec_tail_ms && x->gain_db == y->gain_db &&
	       x->comfort_noise == y->comfort_noise &&
	       x->te_passthrough == y->te_passthrough && x->rtcp == y->rtcp;
}

static void push_event(struct mp_session *sess, json_t *body)
{
	struct mp_node *node = sess->node;
	int err;

	if (!body) {
		sw_cerr(sess->id, "media.event: out of memory");
		return;
	}
	err = mp_node_push(node, SW_MSG_MEDIA_EVENT, body);
	if (err)
		sw_cwarn(sess->id, "media.event not sent: %s", strerror(err));
}

static void push_dtmf(struct mp_session *sess, int from, int to, char digit,
		      uint32_t duration_ms, enum sw_dtmf method, bool send_info)
{
	char d[2] = {digit, '\0'};
	char l[2] = {leg_name[from], '\0'}, t[2] = {leg_name[to], '\0'};

	sw_cinfo(sess->id, "dtmf %s from %s to %s, %u ms, by %s%s", d, l, t,
		 duration_ms, sw_dtmf_name(method),
		 send_info ? ", SIP INFO wanted" : "");
	push_event(sess,
		   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, "
			     "s:s, s:b}",
			     "session", sess->id, "node_id",
			     sess->node->conf.node_id, "event", "dtmf", "leg",
			     l, "to", t, "digit", d, "duration_ms",
			     (json_int_t)duration_ms, "method",
			     sw_dtmf_name(method), "send_info", send_info));
}

static void xc_send(enum mp_leg_id leg, const uint8_t *pkt, size_t len,
		    bool rtcp, void *arg)
{
	struct mp_session *sess = arg;

	/* ENOTCONN (peer unknown yet) and EIO are the packet's loss only */
	if (rtcp)
		(void)mp_relay_send_rtcp(sess->relay, leg, pkt, len);
	else
		(void)mp_relay_send(sess->relay, leg, pkt, len);
}

static void xc_event(const struct mp_xcode_event *ev, void *arg)
{
	struct mp_session *sess = arg;

	if (!ev || ev->type != MP_XCODE_EV_DTMF)
		return;
	push_dtmf(sess, ev->from == MP_LEG_B, ev->to == MP_LEG_B, ev->digit,
		  ev->duration_ms, ev->method, ev->send_info);
}

static void on_media(struct mp_relay *relay, enum mp_leg_id from,
		     const struct mp_rtp_hdr *hdr, const uint8_t *buf,
		     size_t len, void *arg)
{
	struct mp_session *sess = arg;

	(void)relay;
	(void)hdr;
	/* bad packets are counted by the engine (leg stats "dropped") */
	(void)mp_xcode_input(sess->xc, from, buf, len, sw_time_mono_ms());
}

static void on_rtcp(struct mp_relay *relay, enum mp_leg_id from,
		    const uint8_t *buf, size_t len, void *arg)
{
	struct mp_session *sess = arg;

	(void)relay;
	(void)mp_xcode_rtcp_input(sess->xc, from, buf, len, sw_time_mono_ms());
}

/* engine counters as leg stats: what is added to the relay's */
static void engine_stats(const struct mp_xcode *xc, enum mp_leg_id leg,
			 struct mp_xcode_stats *xs, struct mp_leg_stats *st)
{
	memset(xs, 0, sizeof(*xs));
	memset(st, 0, sizeof(*st));
	if (!xc)
		return;
	mp_xcode_stats(xc, leg, xs);
	st->dropped = xs->rx_malformed + xs->rx_wrong_pt + xs->rx_wrong_ssrc +
		      xs->rx_bad_event + xs->rtcp_malformed;
	st->dtmf_rx = xs->dtmf_rx;
	st->dtmf_dropped = xs->dtmf_dropped;
	st->concealed = xs->concealed_frames;
	st->jb_delay_ms = xs->jb_delay_ms;
}

/* replace the session's engine by xc (NULL: back to a plain relay) */
static void engine_set(struct mp_session *sess, struct mp_xcode *xc,
		       const struct need *n)
{
	if (sess->xc) {
		for (int i = 0; i < 2; i++) {
			struct mp_xcode_stats xs;
			struct mp_leg_stats st;

			engine_stats(sess->xc, (enum mp_leg_id)i, &xs, &st);
			sess->carry[i].dropped += st.dropped;
			sess->carry[i].dtmf_rx += st.dtmf_rx;
			sess->carry[i].dtmf_dropped += st.dtmf_dropped;
			sess->carry[i].concealed += st.concealed;
		}
		sess->xc = mem_deref(sess->xc);
		list_unlink(&sess->xle);
	}
	sess->xc = xc;
	if (!xc) {
		(void)mp_relay_set_deferred(sess->relay, -1);
		mp_relay_set_media_handler(sess->relay, NULL, NULL);
		mp_relay_set_rtcp_handler(sess->relay, NULL, NULL);
		return;
	}
	sess->xplan[0] = n->x[0];
	sess->xplan[1] = n->x[1];
	mp_relay_set_media_handler(sess->relay, on_media, sess);
	mp_relay_set_rtcp_handler(sess->relay, on_rtcp, sess);
	/* read on the engine tick; on failure it stays on the loop, which
	 * works the same, only with more wake-ups */
	if (mp_relay_set_deferred(sess->relay, sess->node->xepfd))
		sw_cwarn(sess->id, "engine sockets stay on the main loop");
	list_append(&sess->node->xsessions, &sess->xle, sess);
	mp_node_xtick_start(sess->node);
	sw_cinfo(sess->id,
		 "media engine: a %s/%u ptime %u te %u dtmf %s/%s, "
		 "b %s/%u ptime %u te %u dtmf %s/%s, decoded a->b %s b->a %s",
		 n->x[0].codec, n->x[0].pt, n->x[0].ptime, n->x[0].te_pt,
		 sw_dtmf_name(n->x[0].dtmf_recv),
		 sw_dtmf_name(n->x[0].dtmf_send), n->x[1].codec, n->x[1].pt,
		 n->x[1].ptime, n->x[1].te_pt, sw_dtmf_name(n->x[1].dtmf_recv),
		 sw_dtmf_name(n->x[1].dtmf_send),
		 mp_xcode_decodes(xc, MP_LEG_A) ? "yes" : "no",
		 mp_xcode_decodes(xc, MP_LEG_B) ? "yes" : "no");
}

/* allocate the engine n asks for; err names what it refused */
static int engine_alloc(struct mp_xcode **xcp, struct mp_session *sess,
			const struct need *n, const struct mp_xcode_conf *mc,
			char *err, size_t errsz)
{
	int e;

	e = mp_xcode_alloc(xcp, &n->x[0], &n->x[1], mc, xc_send, xc_event,
			   sess);
	switch (e) {

	case 0:
	case ENOMEM:
		break;
	case ERANGE:
		(void)snprintf(err, errsz,
			       "body.media: values out of range "
			       "for the engine");
		break;
	default:
		(void)snprintf(err, errsz,
			       "body.a: plans %s/%s refused by "
			       "the media engine: %s",
			       n->x[0].codec, n->x[1].codec, strerror(e));
		e = EINVAL;
		break;
	}
	return e;
}

/* Tick every engine of the node: the 10 ms clock (node.c). */
void mp_session_xtick(struct mp_node *node)
{
	int64_t now = sw_time_mono_ms();
	struct le *le;

	if (!node)
		return;
	for (le = node->xsessions.head; le; le = le->next) {
		struct mp_session *sess = le->data;

		(void)mp_xcode_tick(sess->xc, now);
	}
}

/*
 * The first digit by SIP INFO for a leg that takes RFC 2833, on a plain
 * relay: start the engine that makes the events.  It takes over both
 * relayed streams where they are (same SSRC, next sequence number, the
 * timestamps as they come), so each peer sees one stream with the events
 * added.  ENOTCONN when the plans do not allow an engine (need_of).
 */
static int late_engine(struct mp_session *sess, enum mp_leg_id from, char digit,
		       uint32_t duration_ms)
{
	struct mp_xcode *xc = NULL;
	struct need n;
	char err[160];

	if (need_of(&n, &sess->plan[MP_LEG_A], &sess->plan[MP_LEG_B], err,
		    sizeof(err)) ||
	    !n.late)
		return ENOTCONN;
	if (engine_alloc(&xc, sess, &n, &sess->media, err, sizeof(err))) {
		sw_cwarn(sess->id, "dtmf %c: no media engine: %s", digit, err);
		return ENOTCONN;
	}
	for (int i = 0; i < 2; i++) {
		struct mp_relay_fwd f;

		if (mp_relay_forwarded(sess->relay, (enum mp_leg_id)i, &f))
			mp_xcode_continue(xc, i ? MP_LEG_A : MP_LEG_B, f.ssrc,
					  f.seq, f.ts);
	}
	sw_cinfo(sess->id, "dtmf %c by INFO from %c: media engine started",
		 digit, leg_name[from]);
	engine_set(sess, xc, &n);

	return mp_xcode_dtmf_in(sess->xc, from, digit, duration_ms,
				sw_time_mono_ms());
}

/*
 * A digit signalingd received by SIP INFO from leg from (media.play_dtmf):
 * the engine delivers it to the other leg by that leg's send method.  A
 * plain relay hands it back for SIP INFO (media.event with send_info),
 * drops it (send method none, or from does not take INFO), or starts the
 * engine for a leg that takes RFC 2833 (late_engine); ENOTCONN when the
 * other leg wants tones, or events before both codecs are known.
 */
int mp_session_play_dtmf(struct mp_session *sess, enum mp_leg_id from,
			 char digit, uint32_t duration_ms)
{
	struct mp_xcode_plan x[2];
	int to = from == MP_LEG_A ? MP_LEG_B : MP_LEG_A;

	if (!sess)
		return EINVAL;
	if (sess->xc) {
		return mp_xcode_dtmf_in(sess->xc, from, digit, duration_ms,
					sw_time_mono_ms());
	}

	for (int i = 0; i < 2; i++)
		xplan_of(&x[i], &sess->plan[i], 0);
	x[0].te_pt = (uint8_t)sess->plan[0].te_pt;
	x[1].te_pt = (uint8_t)sess->plan[1].te_pt;
	if (!accepts_info(&x[from])) {
		sw_cinfo(sess->id,
			 "dtmf %c from %c by INFO dropped: the leg "
			 "receives %s",
			 digit, leg_name[from], sess->plan[from].dtmf_recv);
		return 0;
	}
	switch (send_method(&x[to])) {

	case SW_DTMF_RFC2833:
		return late_engine(sess, from, digit, duration_ms);
	case SW_DTMF_NONE:
		sw_cinfo(sess->id, "dtmf %c for %c dropped: dtmf_send none",
			 digit, leg_name[to]);
		return 0;
	case SW_DTMF_INFO:
		push_dtmf(sess, from, to, digit,
			  duration_ms ? duration_ms : 160, SW_DTMF_INFO, true);
		return 0;
	default:
		return ENOTCONN;
	}
}

/*
 * Create a session with a port pair per leg and enter it in the node's
 * table, with a media engine when the plans need one.  media: the SS_*
 * values (NULL = defaults).  ENOSPC: port range exhausted; EDQUOT: the
 * plans need the decoded path and xcode_budget is used up; EEXIST: the id
 * is taken; EINVAL/ENOTSUP/ERANGE: the engine cannot take the plans (err
 * names the field).  dscp (0..63) marks every packet the session sends.
 * account (NULL/"" = not counted) is the billed customer: EUSERS when it
 * already holds account_port_share_pct % of the node's pairs.
 */
int mp_session_create(struct mp_session **sessp, struct mp_node *node,
		      const char *id, const char *call_id, const char *account,
		      const struct mp_plan *a, const struct mp_plan *b,
		      const struct mp_xcode_conf *media, int dscp, char *errmsg,
		      size_t errsz)
{
	struct mp_session *sess;
	struct mp_xcode *xc = NULL;
	struct need n;
	int err;

	if (!sessp || !node || !id || !a || !b || !errmsg || !errsz)
		return EINVAL;
	errmsg[0] = '\0';
	if (mp_session_find(node, id))
		return EEXIST;

	err = need_of(&n, a, b, errmsg, errsz);
	if (err)
		return err;
	if (n.decoded && node->nxcode >= node->conf.xcode_budget)
		return EDQUOT;
	if (!mp_share_allows(node->share, account, mp_node_usable_pairs(node),
			     (unsigned)node->conf.account_port_share_pct)) {
		(void)snprintf(errmsg, errsz, "%s", account);
		return EUSERS;
	}

	sess = mem_zalloc(sizeof(*sess), session_destructor);
	if (!sess)
		return ENOMEM;

	(void)snprintf(sess->id, sizeof(sess->id), "%s", id);
	(void)snprintf(sess->call_id, sizeof(sess->call_id), "%s",
		       call_id ? call_id : "");
	(void)snprintf(sess->account, sizeof(sess->account), "%s",
		       account ? account : "");
	sess->plan[MP_LEG_A] = *a;
	sess->plan[MP_LEG_B] = *b;
	if (media)
		sess->media = *media;
	else
		mp_xcode_conf_default(&sess->media);
	sess->rtp_timeout_ms = -1; /* the node's rtp_timeout_s */
	sess->idle_base_ms = sw_time_mono_ms();

	err =
	    mp_relay_alloc(&sess->relay, &node->ports, &node->laddr, sess->id);
	if (err)
		goto out;
	mp_relay_set_prefix(sess->relay, (unsigned)node->conf.rtp_latch_prefix,
			    (unsigned)node->conf.rtp_latch_prefix6);
	if (dscp > 0 && mp_relay_set_dscp(sess->relay, (unsigned)dscp))
		sw_cwarn(sess->id, "cannot set DSCP %d", dscp);
	if (n.engine) {
		err = engine_alloc(&xc, sess, &n, &sess->media, errmsg, errsz);
		if (err)
			goto out;
	}

	err = mp_share_add(node->share, sess->account);
	if (err)
		goto out;

	/* counted from here on: the destructor undoes it */
	sess->node = node;
	node->nsessions++;
	node->metrics.sessions++;
	hash_append(node->sessions, hash_joaat_str(sess->id), &sess->he, sess);
	sess->xcode = n.decoded;
	if (n.decoded)
		node->nxcode++;

	apply_plan(sess, MP_LEG_A);
	apply_plan(sess, MP_LEG_B);
	sw_cinfo(sess->id,
		 "created (call-id %s): a %u remote %s:%u %s, "
		 "b %u remote %s:%u %s",
		 sess->call_id[0] ? sess->call_id : "-",
		 mp_relay_port(sess->relay, MP_LEG_A),
		 a->remote_ip[0] ? a->remote_ip : "-", a->remote_port,
		 a->codec[0] ? a->codec : "-",
		 mp_relay_port(sess->relay, MP_LEG_B),
		 b->remote_ip[0] ? b->remote_ip : "-", b->remote_port,
		 b->codec[0] ? b->codec : "-");
	log_plan(sess, MP_LEG_A);
	log_plan(sess, MP_LEG_B);
	if (xc)
		engine_set(sess, xc, &n);

out:
	if (err) {
		mem_deref(xc);
		mem_deref(sess);
	} else {
		*sessp = sess;
	}

	return err;
}

/*
 * Replace the plans of the legs given (NULL = unchanged) and, when media
 * is given, the SS_* values: answer, re-INVITE, failover to another
 * vendor.  A change the engine sees (codec, PTs, ptime, fmtp, DTMF
 * methods, media values) drops the engine and builds a new one; an
 * address change alone keeps it.  EDQUOT when the new pair needs the
 * decoded path beyond the budget, EINVAL/ENOTSUP/ERANGE when the engine
 * cannot take it (err names the field); nothing changes then.
 */
int mp_session_replan(struct mp_session *sess, const struct mp_plan *a,
		      const struct mp_plan *b,
		      const struct mp_xcode_conf *media, char *errmsg,
		      size_t errsz)
{
	struct mp_xcode_conf mc;
	struct mp_xcode *xc = NULL;
	struct mp_node *node;
	struct need n;
	bool keep;
	int err;

	if (!sess || !sess->node || !errmsg || !errsz)
		return EINVAL;
	node = sess->node;
	errmsg[0] = '\0';
	mc = media ? *media : sess->media;

	err = need_of(&n, a ? a : &sess->plan[MP_LEG_A],
		      b ? b : &sess->plan[MP_LEG_B], errmsg, errsz);
	if (err)
		return err;
	if (n.decoded && !sess->xcode &&
	    node->nxcode >= node->conf.xcode_budget)
		return EDQUOT;

	keep = sess->xc && (n.engine || n.late) &&
	       xplan_eq(&n.x[0], &sess->xplan[0]) &&
	       xplan_eq(&n.x[1], &sess->xplan[1]) && conf_eq(&mc, &sess->media);
	if (n.engine && !keep) {
		err = engine_alloc(&xc, sess, &n, &mc, errmsg, errsz);
		if (err)
			return err;
	}

	/* committed: nothing fails below */
	if (n.decoded != sess->xcode) {
		if (n.decoded) {
			node->nxcode++;
		} else if (node->nxcode) {
			node->nxcode--;
		}
		sess->xcode = n.decoded;
	}
	sess->media = mc;

	if (a) {
		sess->plan[MP_LEG_A] = *a;
		apply_plan(sess, MP_LEG_A);
		log_plan(sess, MP_LEG_A);
	}
	if (b) {
		sess->plan[MP_LEG_B] = *b;
		apply_plan(sess, MP_LEG_B);
		log_plan(sess, MP_LEG_B);
	}
	sw_cinfo(sess->id, "re-planned:%s%s%s%s%s%s%s%s%s%s", a ? " a " : "",
		 a ? (a->remote_ip[0] ? a->remote_ip : "-") : "", a ? " " : "",
		 a ? (a->codec[0] ? a->codec : "-") : "",
		 a ? (mp_plan_on_hold(a) ? " hold" : "") : "", b ? " b " : "",
		 b ? (b->remote_ip[0] ? b->remote_ip : "-") : "", b ? " " : "",
		 b ? (b->codec[0] ? b->codec : "-") : "",
		 b ? (mp_plan_on_hold(b) ? " hold" : "") : "");
	if (!keep) {
		if (sess->xc && !xc)
			sw_cinfo(sess->id, "media engine dropped: plain relay");
		if (sess->xc || xc)
			engine_set(sess, xc, &n);
	}
	/* a new media path gets a whole timeout before it is judged */
	sess->idle_base_ms = sw_time_mono_ms();
	sess->timeout_sent_ms = 0;
	sess->timeout_sends = 0;

	return 0;
}

/* Counters of one leg. */
void mp_session_stats(const struct mp_session *sess, enum mp_leg_id leg,
		      struct mp_leg_stats *st)
{
	const struct mp_leg_stats *c;
	struct mp_xcode_stats xs;
	struct mp_leg_stats es;

	mp_relay_stats(sess ? sess->relay : NULL, leg, st);
	if (!sess || !st || (leg != MP_LEG_A && leg != MP_LEG_B))
		return;
	c = &sess->carry[leg];
	st->dropped += c->dropped;
	st->dtmf_rx = c->dtmf_rx;
	st->dtmf_dropped = c->dtmf_dropped;
	st->concealed = c->concealed;
	if (!sess->xc)
		return;

	/* the engine is the RTP source toward the peer: its RFC 3550
	 * statistics and RTCP round trip are the leg's */
	engine_stats(sess->xc, leg, &xs, &es);
	st->dropped += es.dropped;
	st->dtmf_rx += es.dtmf_rx;
	st->dtmf_dropped += es.dtmf_dropped;
	st->concealed += es.concealed;
	st->jb_delay_ms = es.jb_delay_ms;
	st->lost = xs.lost;
	st->jitter_ms = xs.jitter_ms;
	st->rtt_ms = xs.rtt_ms > 0 ? (uint32_t)xs.rtt_ms : 0;
	st->mos_x10 =
	    mp_mos_x10(st->rx_packets, st->lost, st->jitter_ms, st->rtt_ms);
}

/* End a session: log its counters, free its ports, drop it. */
void mp_session_close(struct mp_session *sess, const char *reason)
{
	struct mp_leg_stats st[2];

	if (!sess)
		return;

	for (int i = 0; i < 2; i++)
		mp_session_stats(sess, (enum mp_leg_id)i, &st[i]);
	sw_cinfo(
	    sess->id,
	    "closed (%s): a rx %llu tx %llu lost %llu "
	    "dropped %llu, b rx %llu tx %llu lost %llu dropped %llu",
	    reason && reason[0] ? reason : "normal",
	    (unsigned long long)st[0].rx_packets,
	    (unsigned long long)st[0].tx_packets,
	    (unsigned long long)st[0].lost, (unsigned long long)st[0].dropped,
	    (unsigned long long)st[1].rx_packets,
	    (unsigned long long)st[1].tx_packets,
	    (unsigned long long)st[1].lost, (unsigned long long)st[1].dropped);
	mem_deref(sess);
}

static bool close_one(struct le *le, void *arg)
{
	(void)arg;
	mp_session_close(le->data, "shutdown");
	return false;
}

/* Close every session (shutdown). */
void mp_session_close_all(struct mp_node *node)
{
	if (!node || !node->sessions)
		return;
	/* hash_apply tolerates unlinking the current element */
	(void)hash_apply(node->sessions, close_one, NULL);
}

static void push_timeout(struct mp_session *sess, int64_t idle_ms)
{
	struct mp_node *node = sess->node;
	json_t *body;
	int err;

	body = json_pack("{s:s, s:s, s:s, s:I}", "session", sess->id, "node_id",
			 node->conf.node_id, "event", "rtp_timeout", "idle_ms",
			 (json_int_t)idle_ms);
	if (!body) {
		sw_cerr(sess->id, "rtp_timeout event: out of memory");
		return;
	}
	err = mp_node_push(node, SW_MSG_MEDIA_EVENT, body);
	if (err) {
		sw_cwarn(sess->id, "rtp_timeout event not sent: %s",
			 strerror(err));
	}
}

struct tick_ctx {
	int64_t now;
	int64_t timeout_ms;
	int64_t hold_ms;
};

static bool tick_one(struct le *le, void *arg)
{
	const struct tick_ctx *t = arg;
	struct mp_session *sess = le->data;
	int64_t last, idle, limit;

	last = mp_relay_last_rtp_ms(sess->relay);
	if (last < sess->idle_base_ms)
		last = sess->idle_base_ms;
	idle = t->now - last;

	/* ringing without early media is silence too: before the answer the
	 * call's own timers (signalingd) decide, the node only keeps the long
	 * hold timeout as a bound for sessions whose call was lost */
	limit = !sess->answered || mp_plan_on_hold(&sess->plan[MP_LEG_A]) ||
			mp_plan_on_hold(&sess->plan[MP_LEG_B])
		    ? t->hold_ms
		: sess->rtp_timeout_ms >= 0 ? sess->rtp_timeout_ms
					    : t->timeout_ms;

	if (idle < limit || !limit) {
		sess->timeout_sent_ms = 0; /* media came back */
		sess->timeout_sends = 0;
		return false;
	}

	if (!sess->timeout_sends) {
		sw_cinfo(sess->id, "rtp timeout: no RTP for %lld ms",
			 (long long)idle);
		sess->timeout_sent_ms = t->now;
		sess->timeout_sends = 1;
		push_timeout(sess, idle);
	} else if (t->now - sess->timeout_sent_ms >= limit) {
		/* nobody deleted the session a whole period after the event:
		 * signalingd lost it; do not hold the ports forever */
		sw_cwarn(sess->id, "idle %lld ms and never deleted: reaped",
			 (long long)idle);
		mp_session_close(sess, "reaped");
	} else if (sess->timeout_sends == 1 &&
		   t->now - sess->timeout_sent_ms >= limit / 2) {
		sess->timeout_sends = 2; /* once more, in case */
		push_timeout(sess, idle);
	}

	return false;
}

/*
 * Check every session for RTP timeout: no RTP from either leg for
 * rtp_timeout_s (rtp_hold_timeout_s when a leg is on hold or before the
 * first media.answer/update) pushes
 * media.event rtp_timeout to signalingd, once more half a period later;
 * a whole period after the first event the node frees the session itself.
 */
void mp_session_tick(struct mp_node *node)
{
	struct tick_ctx t;

	if (!node || !node->sessions)
		return;
	t.now = sw_time_mono_ms();
	t.timeout_ms = node->conf.rtp_timeout_s * 1000;
	t.hold_ms = node->conf.rtp_hold_timeout_s * 1000;
	(void)hash_apply(node->sessions, tick_one, &t);
}
