/*
 * rtpev.c - RFC 4733 telephone-event receiver and generator
 */
#include <errno.h>
#include <string.h>
#include "mediaproxy/dtmf/rtpev.h"

static const char event_chars[] = "0123456789*#ABCD!";

/** Event code of a digit (0-9 * # A-D, '!' = flash), or -1. */
int mp_dtmf_event_code(char digit)
{
	const char *p;

	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	if (!digit)
		return -1;
	p = strchr(event_chars, digit);
	return p ? (int)(p - event_chars) : -1;
}

/** Digit character of an event code 0..16, or 0. */
char mp_dtmf_event_char(int code)
{
	return code >= 0 && code <= MP_DTMF_EVENT_MAX ? event_chars[code] : 0;
}

/** Parse the first 4 octets of a telephone-event payload. */
int mp_dtmf_ev_decode(struct mp_dtmf_ev *ev, const uint8_t *pl, size_t len)
{
	if (!ev || !pl || len < 4 || len % 4)
		return EBADMSG;

	ev->event = pl[0];
	ev->end = (pl[1] & 0x80) != 0;
	ev->volume = pl[1] & 0x3f;
	ev->duration = (uint16_t)((pl[2] << 8) | pl[3]);

	return ev->event <= MP_DTMF_EVENT_MAX ? 0 : ENOTSUP;
}

/** Write one telephone-event payload. */
void mp_dtmf_ev_encode(uint8_t pl[4], const struct mp_dtmf_ev *ev)
{
	pl[0] = ev->event;
	pl[1] = (uint8_t)((ev->end ? 0x80 : 0) | (ev->volume & 0x3f));
	pl[2] = (uint8_t)(ev->duration >> 8);
	pl[3] = (uint8_t)ev->duration;
}

/* ---- receiver --------------------------------------------------------- */

void mp_dtmf_rx_init(struct mp_dtmf_rx *rx)
{
	if (rx)
		memset(rx, 0, sizeof(*rx));
}

static void note_end(struct mp_dtmf_rx *rx, struct mp_dtmf_rx_note *n)
{
	n->what = MP_DTMF_RX_END;
	n->digit = mp_dtmf_event_char(rx->event);
	n->duration = rx->duration;
	rx->active = false;
}

/**
 * Feed one telephone-event packet (RTP timestamp @ts, payload @pl).  Up to
 * three notes (MP_DTMF_RX_NOTES) come back: the implicit end of a digit
 * whose end packets were lost, then the start and possibly the end of a new
 * one.  Malformed and
 * unsupported events are EBADMSG/ENOTSUP and counted.
 */
int mp_dtmf_rx_input(struct mp_dtmf_rx *rx, uint32_t ts, const uint8_t *pl,
		     size_t len, int64_t now_ms,
		     struct mp_dtmf_rx_note note[MP_DTMF_RX_NOTES],
		     unsigned *nnote)
{
	struct mp_dtmf_ev ev;
	unsigned n = 0;
	int err;

	if (!rx || !note || !nnote)
		return EINVAL;
	*nnote = 0;

	err = mp_dtmf_ev_decode(&ev, pl, len);
	if (err) {
		rx->dropped++;
		return err;
	}

	if (rx->have_last && ts == rx->ts) {
		if (!rx->active)
			return 0; /* retransmitted end, or after end */
		if (ev.event != rx->event) {
			rx->dropped++; /* same timestamp, other digit */
			return EBADMSG;
		}
		if (ev.duration > rx->duration)
			rx->duration = ev.duration;
		rx->last_ms = now_ms;
		if (ev.end)
			note_end(rx, &note[n++]);
		*nnote = n;
		return 0;
	}

	/* an older timestamp than the current event: stale, ignore */
	if (rx->have_last && (int32_t)(ts - rx->ts) < 0)
		return 0;

	if (rx->active)
		note_end(rx, &note[n++]); /* end packets were lost */

	rx->have_last = true;
	rx->active = true;
	rx->event = ev.event;
	rx->ts = ts;
	rx->duration = ev.duration;
	rx->last_ms = now_ms;
	rx->digits++;

	note[n].what = MP_DTMF_RX_START;
	note[n].digit = mp_dtmf_event_char(ev.event);
	note[n].duration = 0;
	n++;
	if (ev.end)
		note_end(rx, &note[n++]);

	*nnote = n;
	return 0;
}

/** End a digit whose packets stopped without an end; true if @note set. */
bool mp_dtmf_rx_poll(struct mp_dtmf_rx *rx, int64_t now_ms,
		     struct mp_dtmf_rx_note *note)
{
	if (!rx || !note || !rx->active ||
	    now_ms - rx->last_ms < MP_DTMF_RX_TIMEOUT_MS)
		return false;

	note_end(rx, note);
	return true;
}

/* ---- generator -------------------------------------------------------- */

void mp_dtmf_tx_init(struct mp_dtmf_tx *tx, uint32_t rate)
{
	if (!tx)
		return;
	memset(tx, 0, sizeof(*tx));
	tx->rate = rate ? rate : 8000;
	tx->volume = 10;
}

/**
 * Queue a digit lasting @duration_ms (clamped to 40..5000; 0 = until
 * mp_dtmf_tx_stop()).
 */
int mp_dtmf_tx_put(struct mp_dtmf_tx *tx, char digit, uint32_t duration_ms)
{
	unsigned pos;

	if (!tx || mp_dtmf_event_code(digit) < 0)
		return EINVAL;
	if (tx->qlen >= MP_DTMF_QUEUE)
		return ENOSPC;

	if (duration_ms && duration_ms < MP_DTMF_MIN_MS)
		duration_ms = MP_DTMF_MIN_MS;
	if (duration_ms > MP_DTMF_MAX_MS)
		duration_ms = MP_DTMF_MAX_MS;

	pos = (tx->qhead + tx->qlen) % MP_DTMF_QUEUE;
	tx->queue[pos].digit = digit;
	tx->queue[pos].ms = duration_ms;
	tx->qlen++;
	return 0;
}

/** End the digit in progress (one queued with duration 0) at the next poll. */
void mp_dtmf_tx_stop(struct mp_dtmf_tx *tx)
{
	if (tx && tx->active)
		tx->stop = true;
}

/**
 * The digit @digit, queued or sounding with an open duration, ended after
 * @duration_ms: end it now, or give the queued entry that duration.
 */
void mp_dtmf_tx_end(struct mp_dtmf_tx *tx, char digit, uint32_t duration_ms)
{
	int code = mp_dtmf_event_code(digit);

	if (!tx || code < 0)
		return;
	if (tx->active && tx->event == code && !tx->end_ms) {
		tx->stop = true;
		return;
	}
	for (unsigned i = tx->qlen; i > 0; i--) {
		unsigned pos = (tx->qhead + i - 1) % MP_DTMF_QUEUE;

		if (tx->queue[pos].ms == 0 &&
		    mp_dtmf_event_code(tx->queue[pos].digit) == code) {
			tx->queue[pos].ms = duration_ms < MP_DTMF_MIN_MS
						? MP_DTMF_MIN_MS
						: duration_ms;
			return;
		}
	}
}

/** True while a digit is being sent or queued. */
bool mp_dtmf_tx_busy(const struct mp_dtmf_tx *tx)
{
	return tx && (tx->active || tx->qlen);
}

static uint16_t tx_duration(const struct mp_dtmf_tx *tx, int64_t ms)
{
	int64_t d = ms * tx->rate / 1000;

	return d > 0xffff ? 0xffff : (uint16_t)d;
}

static void tx_pkt(struct mp_dtmf_tx *tx, struct mp_dtmf_tx_pkt *p, bool marker,
		   bool end, uint16_t dur)
{
	struct mp_dtmf_ev ev = {
	    .event = tx->event,
	    .end = end,
	    .volume = tx->volume,
	    .duration = dur,
	};

	mp_dtmf_ev_encode(p->pl, &ev);
	p->marker = marker;
	p->ts = tx->ts;
	tx->sent++;
}

/**
 * Produce the packets due at @now_ms into @pkt (at most @max, 8 is always
 * enough).  @cur_ts is the leg's current RTP timestamp, used as the
 * timestamp of a digit that starts now.
 */
unsigned mp_dtmf_tx_poll(struct mp_dtmf_tx *tx, int64_t now_ms, uint32_t cur_ts,
			 struct mp_dtmf_tx_pkt *pkt, unsigned max)
{
	unsigned n = 0;

	if (!tx || !pkt || max < MP_DTMF_END_PACKETS + 2)
		return 0;

	if (!tx->active && tx->qlen && now_ms >= tx->idle_until) {
		uint32_t ms = tx->queue[tx->qhead].ms;

		tx->event =
		    (uint8_t)mp_dtmf_event_code(tx->queue[tx->qhead].digit);
		tx->qhead = (tx->qhead + 1) % MP_DTMF_QUEUE;
		tx->qlen--;
		tx->active = true;
		tx->stop = false;
		tx->ts = cur_ts;
		tx->start_ms = now_ms;
		tx->next_ms = now_ms + MP_DTMF_UPDATE_MS;
		tx->end_ms = ms ? now_ms + ms : 0;
		tx_pkt(tx, &pkt[n++], true, false, 0);
	}
	if (!tx->active)
		return n;

	if (!tx->stop && now_ms - tx->start_ms >= MP_DTMF_MAX_MS)
		tx->stop = true;
	if (tx->end_ms && now_ms >= tx->end_ms)
		tx->stop = true;

	/* updates every 50 ms of event time, durations on the 50 ms grid */
	while (tx->next_ms <= now_ms && n + MP_DTMF_END_PACKETS < max &&
	       (!tx->end_ms || tx->next_ms < tx->end_ms)) {
		tx_pkt(tx, &pkt[n++], false, false,
		       tx_duration(tx, tx->next_ms - tx->start_ms));
		tx->next_ms += MP_DTMF_UPDATE_MS;
	}

	if (tx->stop) {
		int64_t end =
		    tx->end_ms && tx->end_ms <= now_ms ? tx->end_ms : now_ms;
		uint16_t dur = tx_duration(tx, end - tx->start_ms);

		for (int i = 0; i < MP_DTMF_END_PACKETS && n < max; i++)
			tx_pkt(tx, &pkt[n++], false, true, dur);
		tx->active = false;
		tx->stop = false;
		tx->idle_until = now_ms + MP_DTMF_GAP_MS;
	}

	return n;
}
