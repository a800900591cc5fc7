/*
 * test_mp_relay.c - unit tests of the mediaproxyd relay: RTP/RTCP header
 * checks, loss counting (gaps, wraparound, reordering, restarts), RFC 3550
 * jitter, the port-pair allocator, leg-plan validation, and one relay
 * moving real datagrams over loopback (ports 30900..30949).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "mediaproxy/control.h"
#include "mediaproxy/heartbeat.h"
#include "mediaproxy/libre.h"
#include "mediaproxy/ports.h"
#include "mediaproxy/relay.h"
#include "mediaproxy/rtp.h"
#include "mediaproxy/session.h"
#include "mediaproxy/share.h"
#include "mediaproxy/stats.h"

/* a 12-byte RTP header + payload_len bytes of payload */
static size_t mk_rtp(uint8_t *buf, uint16_t seq, uint32_t ts, uint32_t ssrc,
		     size_t payload_len)
{
	buf[0] = 0x80;
	buf[1] = 8;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[4] = (uint8_t)(ts >> 24);
	buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8);
	buf[7] = (uint8_t)ts;
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	memset(buf + 12, 0xd5, payload_len);

	return 12 + payload_len;
}

/* ---- RTP / RTCP header validation ---- */

static void rtp_valid_minimal(void **state)
{
	uint8_t buf[200];
	struct mp_rtp_hdr h;
	size_t len = mk_rtp(buf, 0xbeef, 0x01020304, 0xcafebabe, 160);

	(void)state;
	assert_int_equal(mp_rtp_parse(&h, buf, len), 0);
	assert_int_equal(h.pt, 8);
	assert_false(h.marker);
	assert_int_equal(h.seq, 0xbeef);
	assert_int_equal(h.ts, 0x01020304);
	assert_int_equal(h.ssrc, 0xcafebabe);
	assert_int_equal(h.hdr_len, 12);
	assert_int_equal(h.payload_len, 160);
	assert_ptr_equal(h.payload, buf + 12);

	/* header only, no payload, is still RTP */
	assert_int_equal(mp_rtp_parse(&h, buf, 12), 0);
	assert_int_equal(h.payload_len, 0);
}

static void rtp_invalid(void **state)
{
	uint8_t buf[200];
	struct mp_rtp_hdr h;
	size_t len = mk_rtp(buf, 1, 2, 3, 20);

	(void)state;
	assert_int_equal(mp_rtp_parse(&h, buf, 11), EBADMSG); /* short */
	assert_int_equal(mp_rtp_parse(&h, NULL, 20), EBADMSG);

	buf[0] = 0x40; /* v1 */
	assert_int_equal(mp_rtp_parse(&h, buf, len), EBADMSG);
	buf[0] = 0x00; /* v0 */
	assert_int_equal(mp_rtp_parse(&h, buf, len), EBADMSG);

	/* 15 CSRCs = 72 bytes of header, the packet has 32 */
	buf[0] = 0x8f;
	assert_int_equal(mp_rtp_parse(&h, buf, len), EBADMSG);
	/* 2 CSRCs fit in 32 bytes */
	buf[0] = 0x82;
	assert_int_equal(mp_rtp_parse(&h, buf, len), 0);
	assert_int_equal(h.hdr_len, 20);
	assert_int_equal(h.payload_len, 12);

	/* PT 72 with the marker is RTCP's range (RFC 5761): never RTP */
	buf[0] = 0x80;
	buf[1] = 200;
	assert_int_equal(mp_rtp_parse(&h, buf, len), EPROTOTYPE);
	buf[1] = 0x80 | 95;
	assert_int_equal(mp_rtp_parse(&h, buf, len), EPROTOTYPE);
	buf[1] = 0x80 | 96; /* first dynamic PT, marker set */
	assert_int_equal(mp_rtp_parse(&h, buf, len), 0);
	assert_true(h.marker);
	assert_int_equal(h.pt, 96);
}

static void rtp_encode_round_trip(void **state)
{
	uint8_t pl[160], buf[MP_RTP_MAX_LEN + 16];
	struct mp_rtp_hdr in = {.marker = true,
				.pt = 101,
				.seq = 0xfffe,
				.ts = 0x89abcdef,
				.ssrc = 0x01020304,
				.payload = pl,
				.payload_len = sizeof(pl)};
	struct mp_rtp_hdr out;
	size_t len = 0;

	(void)state;
	memset(pl, 0x5a, sizeof(pl));
	assert_int_equal(mp_rtp_encode(buf, sizeof(buf), &len, &in), 0);
	assert_int_equal(len, 12 + sizeof(pl));
	assert_int_equal(buf[0], 0x80);
	assert_int_equal(mp_rtp_parse(&out, buf, len), 0);
	assert_true(out.marker);
	assert_int_equal(out.pt, 101);
	assert_int_equal(out.seq, 0xfffe);
	assert_int_equal(out.ts, 0x89abcdef);
	assert_int_equal(out.ssrc, 0x01020304);
	assert_int_equal(out.payload_len, sizeof(pl));
	assert_memory_equal(out.payload, pl, sizeof(pl));

	/* too small a buffer, over MP_RTP_MAX_LEN, no PT above 127 */
	assert_int_equal(mp_rtp_encode(buf, 100, &len, &in), EMSGSIZE);
	in.payload_len = MP_RTP_MAX_LEN - 11;
	assert_int_equal(mp_rtp_encode(buf, sizeof(buf), &len, &in), EMSGSIZE);
	in.payload_len = 0;
	in.pt = 128;
	assert_int_equal(mp_rtp_encode(buf, sizeof(buf), &len, &in), EINVAL);
}

static void rtp_extension_and_padding(void **state)
{
	uint8_t buf[200];
	struct mp_rtp_hdr h;
	size_t len = mk_rtp(buf, 1, 2, 3, 40);

	(void)state;
	/* extension header: profile 0xbede, 2 words => 12 + 4 + 8 */
	buf[0] = 0x90;
	buf[12] = 0xbe;
	buf[13] = 0xde;
	buf[14] = 0;
	buf[15] = 2;
	assert_int_equal(mp_rtp_parse(&h, buf, len), 0);
	assert_int_equal(h.hdr_len, 24);
	assert_int_equal(h.payload_len, 28);

	/* extension longer than the packet */
	buf[15] = 20;
	assert_int_equal(mp_rtp_parse(&h, buf, len), EBADMSG);
	/* extension bit set but not even its 4-byte header fits */
	assert_int_equal(mp_rtp_parse(&h, buf, 14), EBADMSG);

	/* padding: 4 bytes */
	len = mk_rtp(buf, 1, 2, 3, 40);
	buf[0] = 0xa0;
	buf[len - 1] = 4;
	assert_int_equal(mp_rtp_parse(&h, buf, len), 0);
	assert_int_equal(h.payload_len, 36);
	buf[len - 1] = 0; /* zero */
	assert_int_equal(mp_rtp_parse(&h, buf, len), EBADMSG);
	buf[len - 1] = 41; /* too big */
	assert_int_equal(mp_rtp_parse(&h, buf, len), EBADMSG);
}

static void rtcp_validation(void **state)
{
	/* receiver report without blocks: 8 bytes, length field 1 */
	uint8_t rr[8] = {0x80, 201, 0, 1, 1, 2, 3, 4};
	uint8_t big[8] = {0x80, 200, 0, 9, 1, 2, 3, 4};
	uint8_t v1[8] = {0x40, 201, 0, 1, 1, 2, 3, 4};
	uint8_t rtp[12] = {0x80, 8, 0, 1};

	(void)state;
	assert_true(mp_rtcp_valid(rr, sizeof(rr)));
	assert_false(mp_rtcp_valid(rr, 7));
	assert_false(mp_rtcp_valid(big, sizeof(big))); /* length > packet */
	assert_false(mp_rtcp_valid(v1, sizeof(v1)));
	assert_false(mp_rtcp_valid(rtp, sizeof(rtp))); /* PT 8 */
	assert_true(mp_pkt_is_rtcp(rr, sizeof(rr)));
	assert_false(mp_pkt_is_rtcp(rtp, sizeof(rtp)));
	assert_false(mp_pkt_is_rtcp(v1, sizeof(v1))); /* RTCP is version 2 */
}

static void rtcp_compound_validation(void **state)
{
	/* RR (8 bytes) + SDES (12 bytes): the lengths add up to 20 */
	uint8_t c[24] = {0x80, 201, 0, 1, 1, 2, 3, 4, 0x81, 202,
			 0,    2,   1, 2, 3, 4, 1, 1, 'x',  0};
	/* RFC 5506 reduced size: a PLI alone, no SR/RR in front */
	uint8_t pli[12] = {0x81, 206, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};

	(void)state;
	assert_true(mp_rtcp_valid(c, 20));
	assert_true(mp_rtcp_valid(pli, sizeof(pli)));
	/* bytes after the last sub-packet */
	assert_false(mp_rtcp_valid(c, 24));
	assert_false(mp_rtcp_valid(c, 22));
	/* the second sub-packet: wrong version, type outside 192..223 */
	c[8] = 0x41;
	assert_false(mp_rtcp_valid(c, 20));
	c[8] = 0x81;
	c[9] = 100;
	assert_false(mp_rtcp_valid(c, 20));
	c[9] = 202;
	/* padding only on the last sub-packet */
	c[0] = 0xa0;
	assert_false(mp_rtcp_valid(c, 20));
	c[0] = 0x80;
	c[8] = 0xa1;
	assert_true(mp_rtcp_valid(c, 20));
}

/* an SR (no blocks) with NTP time msw.lsw, then an RR with one block */
static size_t mk_sr_rr(uint8_t *buf, uint32_t msw, uint32_t lsw, uint32_t lsr,
		       uint32_t dlsr)
{
	memset(buf, 0, 60);
	buf[0] = 0x80; /* SR, RC 0, length 6 => 28 bytes */
	buf[1] = 200;
	buf[3] = 6;
	buf[8] = (uint8_t)(msw >> 24);
	buf[9] = (uint8_t)(msw >> 16);
	buf[10] = (uint8_t)(msw >> 8);
	buf[11] = (uint8_t)msw;
	buf[12] = (uint8_t)(lsw >> 24);
	buf[13] = (uint8_t)(lsw >> 16);
	buf[14] = (uint8_t)(lsw >> 8);
	buf[15] = (uint8_t)lsw;
	buf[28] = 0x81; /* RR, RC 1, length 7 => 32 bytes */
	buf[29] = 201;
	buf[31] = 7;
	for (int i = 0; i < 4; i++) {
		buf[28 + 8 + 16 + i] = (uint8_t)(lsr >> (24 - 8 * i));
		buf[28 + 8 + 20 + i] = (uint8_t)(dlsr >> (24 - 8 * i));
	}
	return 60;
}

static void rtcp_scan_sr_rr(void **state)
{
	struct mp_rtcp_info info;
	uint8_t buf[64];
	size_t len = mk_sr_rr(buf, 0x11223344, 0x55667788, 0xabcdef01, 65536);

	(void)state;
	assert_int_equal(mp_rtcp_scan(&info, buf, len), 0);
	assert_true(info.has_sr);
	assert_int_equal(info.sr_ntp_mid, 0x33445566);
	assert_int_equal(info.nblocks, 1);
	assert_int_equal(info.block[0].ssrc, 0);
	assert_int_equal(info.block[0].lsr, 0xabcdef01);
	assert_int_equal(info.block[0].dlsr, 65536);

	/* RR claiming 2 blocks in a 32-byte packet: malformed */
	buf[28] = 0x82;
	assert_int_equal(mp_rtcp_scan(&info, buf, len), EBADMSG);
	/* sub-packet length past the end */
	buf[28] = 0x81;
	assert_int_equal(mp_rtcp_scan(&info, buf, len - 4), EBADMSG);
}

static void mos_estimate(void **state)
{
	(void)state;
	assert_int_equal(mp_mos_x10(0, 0, 0, 0), 0);	 /* no media */
	assert_int_equal(mp_mos_x10(1000, 0, 0, 0), 44); /* clean */
	/* 5 % loss: R = 93.2 - 0.25 - 12.5 = 80.45 => 4.0 */
	assert_int_equal(mp_mos_x10(950, 50, 0, 0), 40);
	/* 400 ms round trip and 50 ms jitter: 190 ms one way */
	assert_in_range(mp_mos_x10(1000, 0, 50, 400), 38, 41);
	/* 30 % loss: bad */
	assert_in_range(mp_mos_x10(700, 300, 0, 0), 10, 15);
}

/* ---- loss counting ---- */

static void loss_simple_gaps(void **state)
{
	struct mp_rx_stats rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(mp_rxs_lost(&rs), 0);

	for (uint16_t s = 100; s < 200; s++) {
		if (s == 120 || s == 150 || s == 151)
			continue;
		mp_rxs_seq(&rs, 42, s);
	}
	assert_int_equal(mp_rxs_lost(&rs), 3);
}

static void loss_wraparound(void **state)
{
	struct mp_rx_stats rs;
	uint16_t s = 65500;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	/* 65500 .. 65535, 0 .. 63 with 65535 and 0 and 10 missing */
	for (int i = 0; i < 100; i++, s++) {
		if (s == 65535 || s == 0 || s == 10)
			continue;
		mp_rxs_seq(&rs, 7, s);
	}
	assert_int_equal(mp_rxs_lost(&rs), 3);
	assert_int_equal(rs.cycles, 65536);
	assert_int_equal(rs.max_seq, 63);

	/* a second wrap is counted too: 64 .. 65535, 0 .. 9 all present */
	for (uint32_t i = 0; i < 65536 - 64 + 10; i++, s++)
		mp_rxs_seq(&rs, 7, s);
	assert_int_equal(mp_rxs_lost(&rs), 3);
	assert_int_equal(rs.cycles, 2 * 65536);
}

static void loss_reorder_and_duplicates(void **state)
{
	struct mp_rx_stats rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	mp_rxs_seq(&rs, 1, 10);
	mp_rxs_seq(&rs, 1, 12); /* 11 late */
	mp_rxs_seq(&rs, 1, 11); /* arrives: no loss */
	mp_rxs_seq(&rs, 1, 13);
	assert_int_equal(mp_rxs_lost(&rs), 0);

	mp_rxs_seq(&rs, 1, 13); /* duplicates never make loss negative */
	mp_rxs_seq(&rs, 1, 13);
	assert_int_equal(mp_rxs_lost(&rs), 0);
	mp_rxs_seq(&rs, 1, 16); /* 14, 15 lost, but hidden by the 2 dups */
	assert_int_equal(mp_rxs_lost(&rs), 0);
	mp_rxs_seq(&rs, 1, 20); /* 17..19 lost */
	assert_int_equal(mp_rxs_lost(&rs), 3);
}

static void loss_ssrc_change_and_restart(void **state)
{
	struct mp_rx_stats rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	mp_rxs_seq(&rs, 1, 1);
	mp_rxs_seq(&rs, 1, 3); /* 1 lost */
	/* new source (failover to another vendor): loss so far is kept */
	mp_rxs_seq(&rs, 2, 5000);
	mp_rxs_seq(&rs, 2, 5001);
	mp_rxs_seq(&rs, 2, 5003); /* 1 more */
	assert_int_equal(mp_rxs_lost(&rs), 2);

	/* a single packet far ahead is ignored ... */
	mp_rxs_seq(&rs, 2, 40000);
	assert_int_equal(mp_rxs_lost(&rs), 2);
	/* ... two in a row mean the sender restarted its numbering */
	mp_rxs_seq(&rs, 2, 40001);
	mp_rxs_seq(&rs, 2, 40002);
	assert_int_equal(mp_rxs_lost(&rs), 2);
	mp_rxs_seq(&rs, 2, 40004);
	assert_int_equal(mp_rxs_lost(&rs), 3);
}

/* ---- jitter ---- */

static void jitter_constant_transit_is_zero(void **state)
{
	struct mp_rx_stats rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	for (uint32_t i = 0; i < 500; i++)
		mp_rxs_jitter(&rs, 1000 + 160 * i, 77777 + 160 * i);
	assert_int_equal(rs.jitter, 0);
	assert_int_equal(mp_rxs_jitter_ms(&rs, 8000), 0);
}

static void jitter_alternating_delay(void **state)
{
	struct mp_rx_stats rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	/* every other packet 10 ms (80 units) late: |D| = 80 each time, so
	 * J converges to 80 units = 10 ms at 8 kHz (RFC 3550 A.8) */
	for (uint32_t i = 0; i < 1000; i++)
		mp_rxs_jitter(&rs, 160 * i, 160 * i + (i & 1 ? 80 : 0));
	assert_in_range(rs.jitter >> 4, 78, 80);
	assert_in_range(mp_rxs_jitter_ms(&rs, 8000), 9, 10);
	/* the same units at 16 kHz are half the time */
	assert_in_range(mp_rxs_jitter_ms(&rs, 16000), 4, 5);
}

static void jitter_first_steps(void **state)
{
	struct mp_rx_stats rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	/* J1 = 0 + (|D| - 0) / 16 with D = 160: J = 10 units (scaled 160) */
	mp_rxs_jitter(&rs, 0, 1000);
	mp_rxs_jitter(&rs, 160, 1320);
	assert_int_equal(rs.jitter, 160);
	/* timestamps wrap around 2^32 without a jump */
	memset(&rs, 0, sizeof(rs));
	mp_rxs_jitter(&rs, 0xffffff00u, 100);
	mp_rxs_jitter(&rs, 0xffffff00u + 160, 260);
	assert_int_equal(rs.jitter, 0);
}

static void rtp_units_of_time(void **state)
{
	(void)state;
	assert_int_equal(mp_rtp_units(1000000, 8000), 8000);
	assert_int_equal(mp_rtp_units(20000, 8000), 160);
	assert_int_equal(mp_rtp_units(20000, 48000), 960);
	assert_int_equal(mp_rtp_units(20000, 0), 160); /* 8 kHz default */
}

/* ---- port allocator ---- */

static void ports_even_pairs(void **state)
{
	struct mp_ports p;
	uint16_t port;
	unsigned seen = 0;

	(void)state;
	/* odd min: first pair 10002/10003; max 10009 => 10002, 04, 06, 08 */
	assert_int_equal(mp_ports_init(&p, 10001, 10009), 0);
	assert_int_equal(p.npairs, 4);
	assert_int_equal(mp_ports_free_count(&p), 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mp_ports_get(&p, &port), 0);
		assert_int_equal(port % 2, 0);
		assert_true(port >= 10002 && port <= 10008);
		seen |= 1u << ((port - 10002) / 2);
	}
	assert_int_equal(seen, 0xf); /* each pair once, in any order */
	mp_ports_close(&p);

	/* even max: its RTCP would not fit, so 10008 is the last RTP port */
	assert_int_equal(mp_ports_init(&p, 10000, 10008), 0);
	assert_int_equal(p.npairs, 4);
	mp_ports_close(&p);

	assert_int_equal(mp_ports_init(&p, 10001, 10002), EINVAL);
	assert_int_equal(mp_ports_init(&p, 10002, 10002), EINVAL);
	assert_int_equal(mp_ports_init(&p, 10002, 10003), 0);
	assert_int_equal(p.npairs, 1);
	mp_ports_close(&p);
}

static void ports_exhaustion_free_reuse(void **state)
{
	struct mp_ports p;
	uint16_t got[3], port;

	(void)state;
	assert_int_equal(mp_ports_init(&p, 20000, 20005), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mp_ports_get(&p, &got[i]), 0);
	assert_int_equal(mp_ports_free_count(&p), 0);
	assert_int_equal(mp_ports_get(&p, &port), ENOSPC);

	/* free one pair: the only free one is handed out next, quarantine
	 * or not */
	mp_ports_put(&p, got[1]);
	assert_false(mp_ports_in_use(&p, got[1]));
	assert_int_equal(mp_ports_free_count(&p), 1);
	assert_int_equal(mp_ports_get(&p, &port), 0);
	assert_int_equal(port, got[1]);
	assert_int_equal(mp_ports_get(&p, &port), ENOSPC);

	/* double free, odd ports and foreign ports are ignored */
	mp_ports_put(&p, got[0]);
	mp_ports_put(&p, got[0]);
	mp_ports_put(&p, (uint16_t)(got[2] + 1));
	mp_ports_put(&p, 19998);
	mp_ports_put(&p, 30000);
	assert_int_equal(mp_ports_free_count(&p), 1);
	mp_ports_close(&p);
}

static void ports_random_with_quarantine(void **state)
{
	struct mp_ports p;
	uint16_t a, b, prev = 0;
	unsigned steps_of_2 = 0;

	(void)state;
	assert_int_equal(mp_ports_init(&p, 20000, 20009), 0); /* 5 pairs */
	assert_int_equal(mp_ports_get(&p, &a), 0);
	mp_ports_put(&p, a);
	/* a pair just freed is not reused while others are free */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mp_ports_get(&p, &b), 0);
		assert_int_not_equal(a, b);
	}
	mp_ports_close(&p);

	/* in a big range, consecutive calls do not get neighbouring ports */
	assert_int_equal(mp_ports_init(&p, 20000, 59999), 0);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(mp_ports_get(&p, &b), 0);
		if (i && (b == prev + 2 || b + 2 == prev))
			steps_of_2++;
		prev = b;
	}
	assert_true(steps_of_2 < 10);
	mp_ports_close(&p);
}

/* ---- plans ---- */

static void plan_decode_and_reject(void **state)
{
	struct mp_plan plan;
	struct sw_jv v;
	json_t *obj;

	(void)state;
	obj = json_loads("{\"remote_ip\":\"192.0.2.1\",\"remote_port\":4000,"
			 "\"codec\":\"PCMA\",\"pt\":8,\"rate\":8000,"
			 "\"ptime\":20,\"te_pt\":101,\"direction\":"
			 "\"sendonly\",\"extra\":1,\"sig_ip\":\"198.51.100.9\","
			 "\"handover\":true}",
			 0, NULL);
	assert_non_null(obj);
	sw_jv_init(&v, "body.a");
	mp_control_decode_plan(&plan, &v, obj);
	assert_int_equal(v.bad, 0);
	assert_string_equal(plan.remote_ip, "192.0.2.1");
	assert_int_equal(plan.remote_port, 4000);
	assert_int_equal(plan.pt, 8);
	assert_int_equal(plan.te_pt, 101);
	assert_true(mp_plan_on_hold(&plan));
	assert_string_equal(plan.sig_ip, "198.51.100.9");
	assert_true(plan.handover);
	json_decref(obj);

	/* empty leg: all unknown, not on hold */
	obj = json_object();
	sw_jv_init(&v, "body.b");
	mp_control_decode_plan(&plan, &v, obj);
	assert_int_equal(v.bad, 0);
	assert_int_equal(plan.pt, -1);
	assert_string_equal(plan.direction, "sendrecv");
	assert_false(mp_plan_on_hold(&plan));
	assert_string_equal(plan.sig_ip, "");
	assert_false(plan.handover);
	json_decref(obj);

	static const struct {
		const char *json, *err;
	} bad[] = {
	    {"{\"remote_port\":65536}", "body.a.remote_port: "},
	    {"{\"remote_port\":\"80\"}", "body.a.remote_port: "},
	    {"{\"remote_ip\":\"example.com\"}", "body.a.remote_ip: "},
	    {"{\"sig_ip\":\"example.com\"}", "body.a.sig_ip: "},
	    {"{\"handover\":1}", "body.a.handover: "},
	    {"{\"pt\":128}", "body.a.pt: "},
	    {"{\"ptime\":5}", "body.a.ptime: "},
	    {"{\"rate\":-1}", "body.a.rate: "},
	    {"{\"codec\":\"PC MA\"}", "body.a.codec: "},
	    {"{\"dtmf_send\":\"smoke\"}", "body.a.dtmf_send: "},
	    {"{\"direction\":1}", "body.a.direction: "},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		obj = json_loads(bad[i].json, 0, NULL);
		assert_non_null(obj);
		sw_jv_init(&v, "body.a");
		mp_control_decode_plan(&plan, &v, obj);
		assert_int_not_equal(v.bad, 0);
		assert_memory_equal(v.err, bad[i].err, strlen(bad[i].err));
		json_decref(obj);
	}
}

static void plan_xcode_detection(void **state)
{
	struct mp_plan a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_false(mp_plan_is_xcode(&a, &b)); /* both unknown */
	strcpy(a.codec, "PCMA");
	assert_false(mp_plan_is_xcode(&a, &b)); /* b unknown */
	strcpy(b.codec, "pcma");
	assert_false(mp_plan_is_xcode(&a, &b)); /* same codec */
	strcpy(b.codec, "G729");
	assert_true(mp_plan_is_xcode(&a, &b));
	strcpy(a.codec, "G729A"); /* one bitstream: relayed as it is */
	assert_false(mp_plan_is_xcode(&a, &b));
}

static void cpu_percent(void **state)
{
	(void)state;
	assert_int_equal(mp_cpu_pct(0, 1000000), 0);
	assert_int_equal(mp_cpu_pct(250000, 1000000), 25);
	assert_int_equal(mp_cpu_pct(3000000, 1000000), 100); /* capped */
	assert_int_equal(mp_cpu_pct(100, 0), 0);
}

/* ---- a relay over loopback ---- */

static void stop_loop(void *arg)
{
	(void)arg;
	re_cancel();
}

static void run_loop_ms(unsigned ms)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, ms, stop_loop, NULL);
	(void)re_main(NULL);
	tmr_cancel(&t);
}

static int udp_sock_on(struct sa *addr, const char *ip)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(sa_set_str(addr, ip, 0), 0);
	assert_int_equal(bind(fd, &addr->u.sa, addr->len), 0);
	addr->len = sizeof(addr->u);
	assert_int_equal(getsockname(fd, &addr->u.sa, &addr->len), 0);

	return fd;
}

static int udp_sock(struct sa *addr)
{
	return udp_sock_on(addr, "127.0.0.1");
}

static void send_to(int fd, const uint8_t *buf, size_t len, uint16_t port)
{
	struct sa dst;

	assert_int_equal(sa_set_str(&dst, "127.0.0.1", port), 0);
	assert_int_equal(sendto(fd, buf, len, 0, &dst.u.sa, dst.len),
			 (ssize_t)len);
}

static int count_rx(int fd, struct sa *from)
{
	uint8_t buf[2048];
	int n = 0;

	for (;;) {
		from->len = sizeof(from->u);
		if (recvfrom(fd, buf, sizeof(buf), 0, &from->u.sa, &from->len) <
		    0)
			return n;
		n++;
	}
}

static int hook_calls;

/* a stand-in decoded path: swallows the packet, sends 3 bytes less */
static void hook(struct mp_relay *relay, enum mp_leg_id from,
		 const struct mp_rtp_hdr *hdr, const uint8_t *buf, size_t len,
		 void *arg)
{
	(void)hdr;
	(void)arg;
	hook_calls++;
	assert_int_equal(mp_relay_send(relay,
				       from == MP_LEG_A ? MP_LEG_B : MP_LEG_A,
				       buf, len - 3),
			 0);
}

static void relay_loopback(void **state)
{
	struct mp_ports ports;
	struct mp_relay *relay = NULL;
	struct mp_leg_stats st;
	struct sa laddr, pa, pb, stranger, from;
	uint8_t buf[200];
	int fa, fb, fx;
	uint16_t port_a, port_b;

	(void)state;
	assert_int_equal(libre_init(), 0);
	assert_int_equal(mp_ports_init(&ports, 30900, 30949), 0);
	assert_int_equal(sa_set_str(&laddr, "127.0.0.1", 0), 0);
	assert_int_equal(mp_relay_alloc(&relay, &ports, &laddr, "test"), 0);
	assert_int_equal(mp_ports_free_count(&ports), ports.npairs - 2);

	port_a = mp_relay_port(relay, MP_LEG_A);
	port_b = mp_relay_port(relay, MP_LEG_B);
	assert_int_equal(port_a % 2, 0);
	assert_int_equal(port_b % 2, 0);
	assert_int_not_equal(port_a, port_b);

	fa = udp_sock(&pa);
	fb = udp_sock(&pb);
	fx = udp_sock(&stranger);
	/* leg b's peer is known from the SDP; leg a's is learnt from its
	 * signalling address */
	mp_relay_set_remote(relay, MP_LEG_B, &pb);
	{
		struct sa sig;

		assert_int_equal(sa_set_str(&sig, "127.0.0.1", 0), 0);
		mp_relay_set_guard(relay, MP_LEG_A, &sig, false);
	}
	mp_relay_set_media(relay, MP_LEG_A, 8000, 8);

	for (uint16_t s = 0; s < 10; s++) {
		if (s == 4)
			continue; /* lost */
		send_to(fa, buf, mk_rtp(buf, s, 160u * s, 9, 160), port_a);
	}
	send_to(fa, buf, 5, port_a); /* malformed */
	run_loop_ms(50);
	/* someone else within 2 s of the latched source: dropped */
	send_to(fx, buf, mk_rtp(buf, 10, 1600, 9, 160), port_a);
	/* leg b's peer answers: goes to the latched leg a address */
	send_to(fb, buf, mk_rtp(buf, 500, 0, 77, 160), port_b);
	run_loop_ms(50);

	assert_int_equal(count_rx(fb, &from), 9);
	assert_int_equal(sa_port(&from), port_b); /* symmetric */
	assert_int_equal(count_rx(fa, &from), 1);
	assert_int_equal(sa_port(&from), port_a);
	assert_int_equal(count_rx(fx, &from), 0);

	mp_relay_stats(relay, MP_LEG_A, &st);
	assert_int_equal(st.rx_packets, 9);
	assert_int_equal(st.rx_bytes, 9 * 172);
	assert_int_equal(st.tx_packets, 1);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.dropped, 2);
	assert_true(st.remote[0] != '\0');
	mp_relay_stats(relay, MP_LEG_B, &st);
	assert_int_equal(st.rx_packets, 1);
	assert_int_equal(st.tx_packets, 9);
	assert_int_equal(st.tx_bytes, 9 * 172);
	assert_true(mp_relay_last_rtp_ms(relay) > 0);

	/* RTT: an SR from b's peer goes to a's peer; a's peer answers with
	 * an RR naming it (LSR) after 1/8 s of its own delay (DLSR) */
	{
		int ca, cb;
		struct sa rca, rcb;

		ca = udp_sock(&rca);
		cb = udp_sock(&rcb);
		(void)mk_sr_rr(buf, 0x00001111, 0x22220000, 0, 0);
		send_to(cb, buf, 28, (uint16_t)(port_b + 1)); /* SR only */
		run_loop_ms(30);
		assert_int_equal(count_rx(ca, &from), 0); /* a unknown */
		/* a's peer speaks first on RTCP: latched, then the SR again */
		(void)mk_sr_rr(buf, 0, 0, 0, 0);
		send_to(ca, buf + 28, 32, (uint16_t)(port_a + 1));
		run_loop_ms(30);
		assert_int_equal(count_rx(cb, &from), 1);
		(void)mk_sr_rr(buf, 0x00001111, 0x22220000, 0, 0);
		send_to(cb, buf, 28, (uint16_t)(port_b + 1));
		run_loop_ms(30);
		assert_int_equal(count_rx(ca, &from), 1);
		assert_int_equal(sa_port(&from), port_a + 1);
		(void)mk_sr_rr(buf, 0, 0, 0x11112222, 8192); /* 125 ms */
		send_to(ca, buf + 28, 32, (uint16_t)(port_a + 1));
		run_loop_ms(30);
		mp_relay_stats(relay, MP_LEG_A, &st);
		assert_int_equal(st.rtcp_rx, 2);
		assert_int_equal(st.rtcp_tx, 1);
		/* the relay saw ~30 ms pass, DLSR says 125 ms: negative =>
		 * not taken; then a plausible one */
		assert_int_equal(st.rtt_ms, 0);
		send_to(cb, buf, 28, (uint16_t)(port_b + 1)); /* SR again */
		run_loop_ms(30);
		mk_sr_rr(buf, 0, 0, 0x11112222, 0);
		send_to(ca, buf + 28, 32, (uint16_t)(port_a + 1));
		run_loop_ms(30);
		mp_relay_stats(relay, MP_LEG_A, &st);
		assert_in_range(st.rtt_ms, 1, 500);
		assert_true(st.mos_x10 >= 10 && st.mos_x10 <= 45);
		close(ca);
		close(cb);
	}

	/* b is latched to its planned address; a stranger is dropped, but
	 * once latched to the stranger, the planned address wins at once */
	{
		int fy;
		struct sa sy;

		fy = udp_sock(&sy);
		mp_relay_stats(relay, MP_LEG_B, &st);
		assert_int_equal(st.dropped, 0);
		send_to(fy, buf, mk_rtp(buf, 600, 0, 78, 160), port_b);
		run_loop_ms(30);
		mp_relay_stats(relay, MP_LEG_B, &st);
		assert_int_equal(st.dropped, 1);
		/* a new plan (re-INVITE) unlatches; the stranger latches */
		mp_relay_set_remote(relay, MP_LEG_B, &pa);
		mp_relay_set_remote(relay, MP_LEG_B, &pb);
		send_to(fy, buf, mk_rtp(buf, 601, 160, 78, 160), port_b);
		run_loop_ms(30);
		send_to(fb, buf, mk_rtp(buf, 501, 160, 77, 160), port_b);
		run_loop_ms(30);
		mp_relay_stats(relay, MP_LEG_B, &st);
		assert_int_equal(st.dropped, 1);
		assert_int_equal(sa_port(&pb) == 0, 0);
		{
			char want[64];

			(void)re_snprintf(want, sizeof(want), "%J", &pb);
			assert_string_equal(st.remote, want);
		}
		(void)count_rx(fa, &from);
		close(fy);
	}

	/* the decoded-path hook takes over RTP forwarding */
	{
		uint8_t rx[256];
		ssize_t n;

		mp_relay_set_media_handler(relay, hook, NULL);
		send_to(fa, buf, mk_rtp(buf, 11, 1760, 9, 160), port_a);
		run_loop_ms(30);
		assert_int_equal(hook_calls, 1);
		n = recv(fb, rx, sizeof(rx), 0);
		assert_int_equal(n, 172 - 3);
		mp_relay_set_media_handler(relay, NULL, NULL);
	}

	/* deferred reads: off the loop, read only by mp_relay_poll; the
	 * relay can be freed while deferred (it leaves the set) */
	{
		uint8_t rx[256];
		int epfd = epoll_create1(EPOLL_CLOEXEC);

		assert_true(epfd >= 0);
		hook_calls = 0;
		mp_relay_set_media_handler(relay, hook, NULL);
		assert_int_equal(mp_relay_set_deferred(relay, epfd), 0);
		assert_int_equal(mp_relay_poll(epfd), 0);
		send_to(fa, buf, mk_rtp(buf, 12, 1920, 9, 160), port_a);
		send_to(fa, buf, mk_rtp(buf, 13, 2080, 9, 160), port_a);
		run_loop_ms(30);
		assert_int_equal(hook_calls, 0);	  /* the loop left it */
		assert_int_equal(mp_relay_poll(epfd), 1); /* one socket */
		assert_int_equal(hook_calls, 2);
		assert_int_equal(recv(fb, rx, sizeof(rx), 0), 172 - 3);
		assert_int_equal(recv(fb, rx, sizeof(rx), 0), 172 - 3);
		assert_int_equal(mp_relay_poll(epfd), 0); /* drained */

		/* back on the loop: read at once again */
		assert_int_equal(mp_relay_set_deferred(relay, -1), 0);
		send_to(fa, buf, mk_rtp(buf, 14, 2240, 9, 160), port_a);
		run_loop_ms(30);
		assert_int_equal(hook_calls, 3);
		assert_int_equal(mp_relay_poll(epfd), 0);
		assert_int_equal(recv(fb, rx, sizeof(rx), 0), 172 - 3);

		assert_int_equal(mp_relay_set_deferred(relay, epfd), 0);
		send_to(fa, buf, mk_rtp(buf, 15, 2400, 9, 160), port_a);
		mem_deref(relay);
		relay = NULL;
		assert_int_equal(mp_relay_poll(epfd), 0); /* gone */
		close(epfd);
	}

	/* freeing the relay gave its pairs back */
	assert_int_equal(mp_ports_free_count(&ports), ports.npairs);
	mp_ports_close(&ports);
	close(fa);
	close(fb);
	close(fx);
	libre_close();
}

/*
 * Strict latching (issue 9, item 5): a source outside the leg's SDP and
 * signalling addresses is never taken, latched or not; a new port of the
 * leg's own address is taken after MP_RELAY_RELATCH_MS of silence only
 * when the leg allows re-latching; a wider prefix admits a neighbour.
 */
static void relay_strict_latch(void **state)
{
	struct mp_ports ports;
	struct mp_relay *relay = NULL;
	struct mp_leg_stats st;
	struct sa laddr, pa, pb, pa2, px, from;
	uint8_t buf[200];
	int fa, fb, fa2, fx;
	uint16_t port_a, port_b;

	(void)state;
	assert_int_equal(libre_init(), 0);
	assert_int_equal(mp_ports_init(&ports, 30950, 30999), 0);
	assert_int_equal(sa_set_str(&laddr, "127.0.0.1", 0), 0);
	assert_int_equal(mp_relay_alloc(&relay, &ports, &laddr, "strict"), 0);
	port_a = mp_relay_port(relay, MP_LEG_A);
	port_b = mp_relay_port(relay, MP_LEG_B);

	fa = udp_sock(&pa);
	fa2 = udp_sock(&pa2); /* the caller's address, another port */
	fb = udp_sock(&pb);
	fx = udp_sock_on(&px, "127.0.0.5"); /* the attacker */
	mp_relay_set_remote(relay, MP_LEG_A, &pa);
	mp_relay_set_remote(relay, MP_LEG_B, &pb);

	/* before anyone speaks: the attacker is not latched, and what b's
	 * peer sends goes to a's planned address, not to the attacker */
	send_to(fx, buf, mk_rtp(buf, 1, 160, 9, 160), port_a);
	send_to(fx, buf, mk_rtp(buf, 2, 320, 9, 160), port_b);
	run_loop_ms(30);
	send_to(fb, buf, mk_rtp(buf, 1, 160, 8, 160), port_b);
	run_loop_ms(30);
	assert_int_equal(count_rx(fx, &from), 0);
	assert_int_equal(count_rx(fa, &from), 1);
	mp_relay_stats(relay, MP_LEG_A, &st);
	assert_int_equal(st.strangers, 1);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.rx_packets, 0);
	mp_relay_stats(relay, MP_LEG_B, &st);
	assert_int_equal(st.strangers, 1);

	/* a speaks, goes silent past the re-latch time: neither the attacker
	 * nor (without media_handover) another port of a's address moves it */
	send_to(fa, buf, mk_rtp(buf, 2, 320, 8, 160), port_a);
	run_loop_ms(MP_RELAY_RELATCH_MS + 100);
	send_to(fx, buf, mk_rtp(buf, 3, 480, 9, 160), port_a);
	send_to(fa2, buf, mk_rtp(buf, 3, 480, 8, 160), port_a);
	run_loop_ms(30);
	send_to(fb, buf, mk_rtp(buf, 2, 320, 8, 160), port_b);
	run_loop_ms(30);
	assert_int_equal(count_rx(fb, &from), 1); /* a's one packet */
	assert_int_equal(count_rx(fx, &from), 0);
	assert_int_equal(count_rx(fa2, &from), 0);
	assert_int_equal(count_rx(fa, &from), 1);
	mp_relay_stats(relay, MP_LEG_A, &st);
	assert_int_equal(st.strangers, 3);
	assert_int_equal(st.rx_packets, 1);

	/* with media_handover the silent leg moves to its own new port, still
	 * not to the attacker */
	mp_relay_set_guard(relay, MP_LEG_A, NULL, true);
	send_to(fx, buf, mk_rtp(buf, 4, 640, 9, 160), port_a);
	send_to(fa2, buf, mk_rtp(buf, 4, 640, 8, 160), port_a);
	run_loop_ms(30);
	send_to(fb, buf, mk_rtp(buf, 3, 480, 8, 160), port_b);
	run_loop_ms(30);
	assert_int_equal(count_rx(fa2, &from), 1);
	assert_int_equal(count_rx(fx, &from), 0);
	assert_int_equal(count_rx(fb, &from), 1);
	mp_relay_stats(relay, MP_LEG_A, &st);
	assert_int_equal(st.strangers, 4);

	/* a /8 latching prefix makes 127.0.0.5 one of a's own: after a
	 * re-plan (unlatched) it is taken */
	mp_relay_set_prefix(relay, 8, 128);
	mp_relay_set_remote(relay, MP_LEG_A, NULL);
	mp_relay_set_remote(relay, MP_LEG_A, &pa);
	send_to(fx, buf, mk_rtp(buf, 5, 800, 9, 160), port_a);
	run_loop_ms(30);
	mp_relay_stats(relay, MP_LEG_A, &st);
	assert_int_equal(st.strangers, 4);
	assert_int_equal(st.rx_packets, 3);

	close(fa);
	close(fa2);
	close(fb);
	close(fx);
	mem_deref(relay);
	mp_ports_close(&ports);
	libre_close();
}

/* an account's share of the port pairs (issue 9, fairness) */
static void share_caps_an_account(void **state)
{
	struct mp_share *sh = NULL;

	(void)state;
	assert_int_equal(mp_share_alloc(&sh), 0);
	/* 40 pairs at 50 %: 20 pairs = 10 sessions of "flood" */
	for (int i = 0; i < 10; i++) {
		assert_true(mp_share_allows(sh, "flood", 40, 50));
		assert_int_equal(mp_share_add(sh, "flood"), 0);
	}
	assert_false(mp_share_allows(sh, "flood", 40, 50));
	assert_int_equal(mp_share_count(sh, "flood"), 10);
	/* others, unnamed offers and a 100 % cap are not held back */
	assert_true(mp_share_allows(sh, "cust1", 40, 50));
	assert_true(mp_share_allows(sh, "", 40, 50));
	assert_true(mp_share_allows(sh, NULL, 40, 50));
	assert_true(mp_share_allows(sh, "flood", 40, 100));
	/* one ends: room for one more; all end: the entry is gone */
	mp_share_del(sh, "flood");
	assert_true(mp_share_allows(sh, "flood", 40, 50));
	for (int i = 0; i < 9; i++)
		mp_share_del(sh, "flood");
	assert_int_equal(mp_share_count(sh, "flood"), 0);
	mp_share_del(sh, "flood"); /* unknown: nothing */
	/* a tiny node still gives every account one session */
	assert_true(mp_share_allows(sh, "x", 1, 1));
	assert_int_equal(mp_share_add(sh, "x"), 0);
	assert_false(mp_share_allows(sh, "x", 1, 1));
	mem_deref(sh); /* frees the entries left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rtp_valid_minimal),
	    cmocka_unit_test(rtp_invalid),
	    cmocka_unit_test(rtp_extension_and_padding),
	    cmocka_unit_test(rtp_encode_round_trip),
	    cmocka_unit_test(rtcp_validation),
	    cmocka_unit_test(rtcp_compound_validation),
	    cmocka_unit_test(rtcp_scan_sr_rr),
	    cmocka_unit_test(mos_estimate),
	    cmocka_unit_test(loss_simple_gaps),
	    cmocka_unit_test(loss_wraparound),
	    cmocka_unit_test(loss_reorder_and_duplicates),
	    cmocka_unit_test(loss_ssrc_change_and_restart),
	    cmocka_unit_test(jitter_constant_transit_is_zero),
	    cmocka_unit_test(jitter_alternating_delay),
	    cmocka_unit_test(jitter_first_steps),
	    cmocka_unit_test(rtp_units_of_time),
	    cmocka_unit_test(ports_even_pairs),
	    cmocka_unit_test(ports_exhaustion_free_reuse),
	    cmocka_unit_test(ports_random_with_quarantine),
	    cmocka_unit_test(plan_decode_and_reject),
	    cmocka_unit_test(plan_xcode_detection),
	    cmocka_unit_test(cpu_percent),
	    cmocka_unit_test(relay_loopback),
	    cmocka_unit_test(relay_strict_latch),
	    cmocka_unit_test(share_caps_an_account),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
