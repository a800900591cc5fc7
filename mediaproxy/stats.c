/*
 * stats.c - loss, jitter and receiver-report values (RFC 3550), MOS
 */
#include <string.h>

#include "mediaproxy/stats.h"

#define RTP_SEQ_MOD  (1u << 16)
#define MAX_DROPOUT  3000u /* RFC 3550 A.1 */
#define MAX_MISORDER 100u

static void seq_init(struct mp_rx_stats *rs, uint32_t ssrc, uint16_t seq)
{
	rs->started = true;
	rs->ssrc = ssrc;
	rs->base_seq = seq;
	rs->max_seq = seq;
	rs->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
	rs->cycles = 0;
	rs->received = 0;
	rs->jit_started = false;
	/* a report is about this source from here on */
	rs->expected_prior = 0;
	rs->received_prior = 0;
	rs->lsr = 0;
	rs->lsr_at_ms = 0;
}

/* extended highest sequence number - base + 1 (RFC 3550 A.3) */
static uint64_t seq_expected(const struct mp_rx_stats *rs)
{
	return (uint64_t)rs->cycles + rs->max_seq - rs->base_seq + 1;
}

/* loss of the current source since its (re)start, never negative */
static uint64_t seq_lost(const struct mp_rx_stats *rs)
{
	uint64_t expected;

	if (!rs->started)
		return 0;
	expected = seq_expected(rs);

	return expected > rs->received ? expected - rs->received : 0;
}

/*
 * Account one valid RTP packet.  Follows RFC 3550 A.1 without probation:
 * a forward step below MAX_DROPOUT advances (counting a wrap when the number
 * goes round), a small step back is a late or duplicate packet, and a big
 * jump is taken as a restart once two packets in a row agree.  A new SSRC or
 * a restart keeps the loss seen so far (mp_rxs_lost()); receiver reports
 * start over with it.
 */
void mp_rxs_seq(struct mp_rx_stats *rs, uint32_t ssrc, uint16_t seq)
{
	uint16_t udelta;

	if (!rs)
		return;

	if (!rs->started || ssrc != rs->ssrc) {
		rs->lost_before += seq_lost(rs);
		seq_init(rs, ssrc, seq);
		rs->received = 1;
		return;
	}

	udelta = (uint16_t)(seq - rs->max_seq);
	if (udelta < MAX_DROPOUT) {
		if (seq < rs->max_seq)
			rs->cycles += RTP_SEQ_MOD;
		rs->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
		/* a very large jump */
		if (seq == rs->bad_seq) {
			rs->lost_before += seq_lost(rs);
			seq_init(rs, ssrc, seq);
		} else {
			rs->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
			return;
		}
	}
	/* else: duplicate or reordered, counted as received */
	rs->received++;
}

/*
 * Update the interarrival jitter with one packet: arrival and rtp_ts in the
 * same RTP clock units (RFC 3550 A.8, integer form scaled by 16).
 */
void mp_rxs_jitter(struct mp_rx_stats *rs, uint32_t rtp_ts, uint32_t arrival)
{
	uint32_t transit = arrival - rtp_ts;
	int32_t d;

	if (!rs)
		return;
	if (!rs->jit_started) {
		rs->jit_started = true;
		rs->transit = transit;
		return;
	}

	d = (int32_t)(transit - rs->transit);
	rs->transit = transit;
	if (d < 0)
		d = -d;
	/* one timestamp jump (new talk spurt clock, bad sender) must not
	 * poison the estimate for minutes: cap a single step at 10 s worth
	 * of 48 kHz units */
	if (d > 480000)
		d = 480000;
	rs->jitter += (uint32_t)d - ((rs->jitter + 8) >> 4);
}

/* Packets lost so far (never negative: duplicates do not hide loss). */
uint64_t mp_rxs_lost(const struct mp_rx_stats *rs)
{
	return rs ? rs->lost_before + seq_lost(rs) : 0;
}

/* The jitter estimate in ms for a clock of rate Hz (0 = 8000). */
uint32_t mp_rxs_jitter_ms(const struct mp_rx_stats *rs, uint32_t rate)
{
	if (!rs)
		return 0;
	if (!rate)
		rate = 8000;

	return (uint32_t)(((uint64_t)(rs->jitter >> 4) * 1000u) / rate);
}

/*
 * Note an SR received from the stream's source: its NTP time (middle 32
 * bits) and when it arrived go into the next report block (LSR/DLSR).
 */
void mp_rxs_sr(struct mp_rx_stats *rs, uint32_t ntp_mid, int64_t now_ms)
{
	if (!rs)
		return;
	rs->lsr = ntp_mid;
	rs->lsr_at_ms = (uint32_t)now_ms; /* 32 bits: DLSR is a short delay */
}

/*
 * The report block about the stream as of now_ms (RFC 3550 §6.4.1):
 * fraction lost since the previous report (A.3: the counters move to
 * "prior"), cumulative loss of the current source, extended highest
 * sequence number, jitter, LSR/DLSR.  False (rb untouched) before the
 * first packet.
 */
bool mp_rxs_report(struct mp_rx_report *rb, struct mp_rx_stats *rs,
		   int64_t now_ms)
{
	uint32_t expected, exp_int, rec_int, fraction = 0;
	uint64_t lost;
	int32_t lost_int;

	if (!rb || !rs || !rs->started)
		return false;

	expected = (uint32_t)seq_expected(rs);
	exp_int = expected - rs->expected_prior;
	rec_int = rs->received - rs->received_prior;
	lost_int = (int32_t)(exp_int - rec_int);
	rs->expected_prior = expected;
	rs->received_prior = rs->received;
	if (exp_int && lost_int > 0)
		fraction = ((uint32_t)lost_int << 8) / exp_int;
	lost = seq_lost(rs);

	memset(rb, 0, sizeof(*rb));
	rb->ssrc = rs->ssrc;
	rb->fraction = (uint8_t)(fraction > 255 ? 255 : fraction);
	rb->lost = (uint32_t)(lost > 0x7fffff ? 0x7fffff : lost);
	rb->ext_max_seq = rs->cycles + rs->max_seq;
	rb->jitter = rs->jitter >> 4;
	rb->lsr = rs->lsr;
	if (rs->lsr) {
		uint32_t held_ms = (uint32_t)now_ms - rs->lsr_at_ms;

		rb->dlsr = (uint32_t)((uint64_t)held_ms * 65536 / 1000);
	}

	return true;
}

/* A monotonic time in µs converted to RTP units of a rate Hz clock. */
uint32_t mp_rtp_units(int64_t mono_us, uint32_t rate)
{
	if (!rate)
		rate = 8000;
	/* split to stay exact without overflow for centuries of uptime */
	return (uint32_t)((uint64_t)(mono_us / 1000000) * rate +
			  (uint64_t)(mono_us % 1000000) * rate / 1000000);
}

/*
 * Mean opinion score (x10, 10..45) of a received stream from a simplified
 * E-model: one-way delay = rtt / 2 + 2 x jitter + 10 ms of coding delay,
 * R = 93.2 - delay impairment - 2.5 x loss %, MOS from R as in G.107 B.
 * 0 when nothing was received.
 */
unsigned mp_mos_x10(uint64_t received, uint64_t lost, uint32_t jitter_ms,
		    uint32_t rtt_ms)
{
	double delay, r, loss_pct, mos;

	if (!received)
		return 0;

	delay = rtt_ms / 2.0 + 2.0 * jitter_ms + 10.0;
	r = delay < 160.0 ? 93.2 - delay / 40.0 : 93.2 - (delay - 120.0) / 10.0;
	loss_pct = 100.0 * (double)lost / (double)(received + lost);
	r -= 2.5 * loss_pct;
	if (r < 0.0)
		r = 0.0;
	if (r > 100.0)
		r = 100.0;
	mos = 1.0 + 0.035 * r + 0.000007 * r * (r - 60.0) * (100.0 - r);
	if (mos < 1.0)
		mos = 1.0;
	if (mos > 4.5)
		mos = 4.5;

	return (unsigned)(mos * 10.0 + 0.5);
}
