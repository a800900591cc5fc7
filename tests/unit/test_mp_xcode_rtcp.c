/*
 * test_mp_xcode_rtcp.c - RTCP of the decoded path: the RFC 3550 receive
 * statistics as the engine feeds them (loss, reordering, wrap, jitter,
 * report blocks), the SR/RR/SDES the engine sends every 5 s, and the
 * round-trip time from a peer's report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <re.h>
#include "mediaproxy/rtp.h"
#include "mediaproxy/stats.h"
#include "mediaproxy/xcode/rtcp.h"
#include "mediaproxy/xcode/xcode.h"
#include "tests/unit/test_mp_xcode_util.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* one packet as the engine accounts it: sequence, then jitter at 8 kHz */
static void rx_update(struct mp_rx_stats *rs, uint32_t ssrc, uint16_t seq,
		      uint32_t ts, int64_t now_ms)
{
	mp_rxs_seq(rs, ssrc, seq);
	mp_rxs_jitter(rs, ts, mp_rtp_units(now_ms * 1000, 8000));
}

/* what the engine accepts as a report from itself: a compound SR */
static bool is_sr(const uint8_t *p, size_t len)
{
	return mp_rtcp_valid(p, len) && p[1] == 200;
}

static void rxstat_loss_reorder_wrap(void **state)
{
	struct mp_rx_stats rs;
	int64_t now = 1000;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	/* 65530..65535, 0..9 (a wrap), 3 and 7 lost, 5 late, 8 twice */
	for (uint32_t i = 0; i < 16; i++) {
		uint16_t seq = (uint16_t)(65530 + i);

		if (seq == 3 || seq == 7 || seq == 5)
			continue;
		rx_update(&rs, 42, seq, i * 160, now += 20);
		if (seq == 8)
			rx_update(&rs, 42, seq, i * 160, now);
		if (seq == 6)
			rx_update(&rs, 42, 5, 11 * 160, now);
	}
	assert_int_equal(rs.cycles, 65536);
	assert_int_equal(rs.max_seq, 9);
	/* expected 16, received 15 (14 + a duplicate): lost counts 1 */
	assert_int_equal(mp_rxs_lost(&rs), 1);

	/* regular arrivals: no jitter; 20 ms alternating offsets: jitter */
	memset(&rs, 0, sizeof(rs));
	for (uint32_t i = 0; i < 500; i++)
		rx_update(&rs, 7, (uint16_t)i, i * 160, 1000 + i * 20);
	assert_int_equal(mp_rxs_jitter_ms(&rs, 8000), 0);
	for (uint32_t i = 500; i < 1000; i++)
		rx_update(&rs, 7, (uint16_t)i, i * 160,
			  1000 + i * 20 + (i % 2) * 20);
	assert_true(mp_rxs_jitter_ms(&rs, 8000) >= 18 &&
		    mp_rxs_jitter_ms(&rs, 8000) <= 22);
}

static void sr_built_and_parsed(void **state)
{
	struct mp_xc_txstat tx = {.ssrc = 0x11111111,
				  .packets = 250,
				  .octets = 40000,
				  .last_ts = 123456};
	struct mp_rx_stats rx, peer;
	uint8_t buf[256];
	size_t len = 0;
	int32_t rtt;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	for (uint32_t i = 0; i < 100; i++)
		if (i % 10 != 5) /* 10 % loss */
			rx_update(&rx, 0x2222, (uint16_t)i, i * 160,
				  1000 + i * 20);
	assert_int_equal(mp_xc_rtcp_build(buf, sizeof(buf), &len, &tx, &rx,
					  5000, "tandem-test"),
			 0);
	assert_true(is_sr(buf, len));
	assert_int_equal(buf[1], 200);
	assert_int_equal(buf[0] & 0x1f, 1); /* one block */
	assert_int_equal(get32(buf + 4), 0x11111111);
	assert_int_equal(get32(buf + 20), 250);
	assert_int_equal(get32(buf + 24), 40000);
	assert_int_equal(get32(buf + 28), 0x2222);	  /* about it */
	assert_int_equal(buf[32], (10 << 8) / 100);	  /* fraction */
	assert_int_equal(get32(buf + 32) & 0xffffff, 10); /* lost */
	assert_int_equal(get32(buf + 36), 99);		  /* ext seq */
	assert_int_equal(buf[53], 202);			  /* SDES */
	assert_int_equal(buf[60], 1);			  /* CNAME */
	assert_memory_equal(buf + 62, "tandem-test", 11);

	/* the peer reads our SR: its next report carries LSR */
	memset(&peer, 0, sizeof(peer));
	assert_int_equal(mp_xc_rtcp_parse(buf, len, 0x2222, &peer, 5000, &rtt),
			 0);
	assert_int_equal(rtt, -1);
	assert_int_equal(peer.lsr, (uint32_t)(mp_xc_ntp_from_ms(5000) >> 16));

	/* malformed */
	assert_int_equal(mp_xc_rtcp_parse(buf, len - 3, 1, &peer, 0, &rtt),
			 EBADMSG);
	assert_int_equal(mp_xc_rtcp_build(buf, 20, &len, &tx, &rx, 0, "x"),
			 EMSGSIZE);
}

static void report_blocks_per_interval(void **state)
{
	struct mp_rx_stats rx;
	struct mp_rx_report rb;
	uint32_t i;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	assert_false(mp_rxs_report(&rb, &rx, 0)); /* nothing received */
	for (i = 0; i < 100; i++)
		if (i % 10 != 5)
			rx_update(&rx, 9, (uint16_t)i, i * 160, 1000 + i * 20);
	assert_true(mp_rxs_report(&rb, &rx, 3000));
	assert_int_equal(rb.ssrc, 9);
	assert_int_equal(rb.fraction, (10 << 8) / 100);
	assert_int_equal(rb.lost, 10);
	assert_int_equal(rb.ext_max_seq, 99);
	assert_int_equal(rb.lsr, 0);
	assert_int_equal(rb.dlsr, 0);

	/* the next interval lost nothing: fraction 0, loss is cumulative */
	for (; i < 200; i++)
		rx_update(&rx, 9, (uint16_t)i, i * 160, 1000 + i * 20);
	mp_rxs_sr(&rx, 0x12345678, 5000);
	assert_true(mp_rxs_report(&rb, &rx, 5500));
	assert_int_equal(rb.fraction, 0);
	assert_int_equal(rb.lost, 10);
	assert_int_equal(rb.ext_max_seq, 199);
	assert_int_equal(rb.lsr, 0x12345678);
	assert_int_equal(rb.dlsr, 32768); /* 500 ms */

	/* another source: reports start over, the leg keeps its loss */
	rx_update(&rx, 10, 7000, 0, 6000);
	assert_true(mp_rxs_report(&rb, &rx, 6000));
	assert_int_equal(rb.ssrc, 10);
	assert_int_equal(rb.lost, 0);
	assert_int_equal(rb.fraction, 0);
	assert_int_equal(rb.lsr, 0);
	assert_int_equal(mp_rxs_lost(&rx), 10);
}

static void parse_wants_a_report(void **state)
{
	/* RFC 5506 PLI alone: valid RTCP, but no report for the engine */
	uint8_t pli[12] = {0x81, 206, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};
	/* an RR that claims a block it does not hold */
	uint8_t rr[8] = {0x81, 201, 0, 1, 1, 2, 3, 4};
	uint8_t big[MP_RTP_MAX_LEN + 4] = {0x80, 201};
	struct mp_rx_stats rx;
	int32_t rtt;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	assert_true(mp_rtcp_valid(pli, sizeof(pli)));
	assert_int_equal(mp_xc_rtcp_parse(pli, sizeof(pli), 1, &rx, 0, &rtt),
			 EBADMSG);
	assert_int_equal(mp_xc_rtcp_parse(rr, sizeof(rr), 1, &rx, 0, &rtt),
			 EBADMSG);
	rr[0] = 0x80;
	assert_int_equal(mp_xc_rtcp_parse(rr, sizeof(rr), 1, &rx, 0, &rtt), 0);
	assert_int_equal(rtt, -1);
	/* one RR of 1504 bytes: more than the engine takes */
	big[2] = (sizeof(big) / 4 - 1) >> 8;
	big[3] = (uint8_t)(sizeof(big) / 4 - 1);
	assert_true(mp_rtcp_valid(big, sizeof(big)));
	assert_int_equal(mp_xc_rtcp_parse(big, sizeof(big), 1, &rx, 0, &rtt),
			 EBADMSG);
}

struct cap {
	struct tu_sink rtp, rtcp;
	int64_t now;   /* engine time of the current call */
	int64_t sr_at; /* when the last report to A left */
};

static void send_h(enum mp_leg_id leg, const uint8_t *pkt, size_t len,
		   bool rtcp, void *arg)
{
	struct cap *c = arg;

	if (rtcp && leg == MP_LEG_A)
		c->sr_at = c->now;
	tu_sink_add(rtcp ? &c->rtcp : &c->rtp, (int)leg, pkt, len);
}

static void engine_reports_and_rtt(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct mp_xcode_stats st;
	struct cap c = {0};
	uint8_t pl[160] = {0}, pkt[200], rr[32];
	int64_t now = 100000, sr_at = 0;
	uint32_t sr_mid = 0, a_ssrc = 0, srs = 0;
	size_t seen = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	strcpy(a.codec, "PCMA");
	a.pt = 8;
	strcpy(b.codec, "PCMU");
	b.pt = 0;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, NULL, &c),
			 0);

	/* 21 s of PCMA from A, every 20 ms (every 10th packet lost) */
	for (uint32_t k = 0; k < 1050; k++) {
		struct mp_rtp_hdr rtp = {.pt = 8,
					 .seq = (uint16_t)k,
					 .ts = k * 160,
					 .ssrc = 0xa,
					 .payload = pl,
					 .payload_len = 160};
		size_t n;

		assert_int_equal(mp_rtp_encode(pkt, sizeof(pkt), &n, &rtp), 0);
		c.now = now;
		if (k % 10 != 5)
			mp_xcode_input(xc, MP_LEG_A, pkt, n, now);
		mp_xcode_tick(xc, c.now = now += 10);
		mp_xcode_tick(xc, c.now = now += 10);

		for (; seen < c.rtcp.n; seen++) {
			const uint8_t *p = c.rtcp.pkt[seen].data;

			assert_true(is_sr(p, c.rtcp.pkt[seen].len));
			if (c.rtcp.pkt[seen].leg != MP_LEG_A)
				continue;
			srs++;
			a_ssrc = get32(p + 4);
			sr_mid = (uint32_t)(get32(p + 8) << 16 |
					    get32(p + 12) >> 16);
			sr_at = c.sr_at;
			/* it reports on A's stream: 10 % lost */
			assert_int_equal(get32(p + 28), 0xa);
			assert_true(p[32] >= 20 && p[32] <= 32);
		}
	}
	printf("  %u reports to A in 21 s\n", srs);
	assert_true(srs >= 3 && srs <= 5); /* every 5 s +- 25 % */

	/* A's peer answers 150 ms after our last SR, having held it 100 ms */
	memset(rr, 0, sizeof(rr));
	rr[0] = 0x81;
	rr[1] = 201;
	rr[3] = 7;
	rr[7] = 0xa;
	rr[8] = (uint8_t)(a_ssrc >> 24);
	rr[9] = (uint8_t)(a_ssrc >> 16);
	rr[10] = (uint8_t)(a_ssrc >> 8);
	rr[11] = (uint8_t)a_ssrc;
	rr[24] = (uint8_t)(sr_mid >> 24);
	rr[25] = (uint8_t)(sr_mid >> 16);
	rr[26] = (uint8_t)(sr_mid >> 8);
	rr[27] = (uint8_t)sr_mid;
	rr[30] = 0x19; /* DLSR 0x1999 / 65536 s = 100 ms */
	rr[31] = 0x99;
	assert_int_equal(
	    mp_xcode_rtcp_input(xc, MP_LEG_A, rr, sizeof(rr), sr_at + 150), 0);
	assert_int_equal(mp_xcode_rtcp_input(xc, MP_LEG_A, rr, 7, sr_at + 150),
			 EBADMSG);
	mp_xcode_stats(xc, MP_LEG_A, &st);
	printf("  rtt %d ms, lost %llu, jitter %u ms\n", st.rtt_ms,
	       (unsigned long long)st.lost, st.jitter_ms);
	assert_true(st.rtt_ms >= 49 && st.rtt_ms <= 51);
	assert_int_equal(st.lost, 105);
	assert_int_equal(st.rtcp_rx, 1);
	assert_int_equal(st.rtcp_malformed, 1);
	assert_true(st.rtcp_tx >= 3);

	mem_deref(xc);
	tu_sink_free(&c.rtp);
	tu_sink_free(&c.rtcp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rxstat_loss_reorder_wrap),
	    cmocka_unit_test(sr_built_and_parsed),
	    cmocka_unit_test(report_blocks_per_interval),
	    cmocka_unit_test(parse_wants_a_report),
	    cmocka_unit_test(engine_reports_and_rtt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
