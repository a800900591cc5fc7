// FUZZ_SOURCES: mediaproxy/xcode/*.c mediaproxy/dsp/*.c common/log.c
// FUZZ_SOURCES: mediaproxy/dtmf/*.c proto/media.c
// FUZZ_SOURCES: mediaproxy/rtp.c mediaproxy/stats.c
// FUZZ_LIBS: -lbcg729 -lopus -lspandsp -lspeexdsp -lre -lm
// FUZZ_LIBS: -lavcodec -lavutil
/*
 * fuzz_rtp.c - RTP/RTCP header checks and parsing, receive statistics,
 * telephone-event reception, codec payload parsing and the media engine
 * fed with arbitrary datagrams.
 *
 * The first input byte picks the target; the rest is split into datagrams
 * by a leading length byte.  Two long-lived engines (PCMA<->G.729 with
 * events and a jitter buffer, Opus<->G.722 decoded on arrival) keep their
 * state across inputs, as a real session would across packets.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "mediaproxy/dtmf/rtpev.h"
#include "mediaproxy/xcode/codec.h"
#include "mediaproxy/rtp.h"
#include "mediaproxy/stats.h"
#include "mediaproxy/xcode/xcode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mp_xcode *xc[2];
static struct mp_xc_codec *codec[SW_CODEC_COUNT];
static struct mp_dtmf_rx evrx;
static struct mp_rx_stats rxs;
static int64_t now = 1000;

static void sink(enum mp_leg_id leg, const uint8_t *pkt, size_t len, bool rtcp,
		 void *arg)
{
	struct mp_rtp_hdr rtp;

	(void)leg;
	(void)arg;
	/* whatever the engine sends must parse back: RTP, or an RTCP
	 * compound that starts with its SR */
	if (rtcp ? !mp_rtcp_valid(pkt, len) || pkt[1] != 200
		 : mp_rtp_parse(&rtp, pkt, len) != 0)
		__builtin_trap();
}

static void setup(void)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode_conf conf;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	strcpy(a.codec, "PCMA");
	a.pt = 8;
	a.te_pt = 101;
	a.dtmf_recv = SW_DTMF_ALL;
	a.dtmf_send = SW_DTMF_AUTO;
	strcpy(b.codec, "G729");
	b.pt = 18;
	b.te_pt = 96;
	b.dtmf_recv = SW_DTMF_ALL;
	b.dtmf_send = SW_DTMF_INBAND;
	mp_xcode_conf_default(&conf);
	conf.echo_cancel = true;
	conf.comfort_noise = true;
	if (mp_xcode_alloc(&xc[0], &a, &b, &conf, sink, NULL, NULL))
		__builtin_trap();

	strcpy(a.codec, "opus");
	a.pt = 111;
	strcpy(a.fmtp, "useinbandfec=1;maxplaybackrate=16000");
	strcpy(b.codec, "G722");
	b.pt = 9;
	b.ptime = 30;
	conf.jb_enable = false;
	conf.gain_db = 6;
	if (mp_xcode_alloc(&xc[1], &a, &b, &conf, sink, NULL, NULL))
		__builtin_trap();

	for (int i = 0; i < SW_CODEC_COUNT; i++)
		if (mp_xc_codec_alloc(&codec[i], (enum sw_codec)i, 0,
				      "annexb=yes"))
			__builtin_trap();
	mp_dtmf_rx_init(&evrx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int16_t pcm[MP_XC_PCM_MAX];
	uint8_t mode;

	if (!xc[0])
		setup();
	if (size < 1)
		return 0;
	mode = data[0] % 4;
	data++;
	size--;

	while (size) {
		size_t len = data[0] * 8u + 1u, n;
		const uint8_t *p = data + 1;
		struct mp_dtmf_rx_note note[MP_DTMF_RX_NOTES];
		struct mp_rtp_hdr rtp;
		struct mp_rtcp_info info;
		struct mp_rx_report rpt;
		unsigned nn;
		uint32_t dur;

		if (len > size - 1)
			len = size - 1;

		switch (mode) {

		case 0: /* headers, and the statistics of what parses */
			if (!mp_rtp_parse(&rtp, p, len)) {
				if (rtp.payload + rtp.payload_len > p + len)
					__builtin_trap();
				mp_rxs_seq(&rxs, rtp.ssrc, rtp.seq);
				mp_rxs_jitter(&rxs, rtp.ts, (uint32_t)now);
				(void)mp_rxs_report(&rpt, &rxs, now);
			}
			if (mp_rtcp_valid(p, len) && !mp_pkt_is_rtcp(p, len))
				__builtin_trap();
			(void)mp_rtcp_scan(&info, p, len);
			now++;
			break;

		case 1: /* telephone-events: 4-byte ts then payload */
			if (len >= 4)
				(void)mp_dtmf_rx_input(
				    &evrx, (uint32_t)p[0] << 8 | p[1], p + 4,
				    len - 4, now, note, &nn);
			(void)mp_dtmf_rx_poll(&evrx, now, note);
			break;

		case 2: /* codec payloads */
			if (len >= 1) {
				struct mp_xc_codec *c =
				    codec[p[0] % SW_CODEC_COUNT];

				(void)mp_xc_codec_duration(c, &dur, p + 1,
							   len - 1);
				(void)mp_xc_codec_decode(c, pcm, MP_XC_PCM_MAX,
							 &n, p + 1, len - 1);
			}
			break;

		default: /* whole engine: RTP, or RTCP with bit 2 */
			if (len >= 1) {
				struct mp_xcode *e = xc[p[0] & 1];
				enum mp_leg_id leg =
				    p[0] & 2 ? MP_LEG_B : MP_LEG_A;

				if (p[0] & 4)
					(void)mp_xcode_rtcp_input(e, leg, p + 1,
								  len - 1, now);
				else
					(void)mp_xcode_input(e, leg, p + 1,
							     len - 1, now);
				now += p[0] >> 3;
				(void)mp_xcode_tick(e, now);
			}
			break;
		}

		data += len + 1;
		size -= len + 1;
	}

	return 0;
}
