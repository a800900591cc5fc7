/*
 * rtpev.h - RFC 4733 (RFC 2833) telephone-events: receive and generate
 *
 * Receiver: turns a stream of event packets into one start and one end per
 * digit: the first packet of a new timestamp starts a digit, the E bit ends
 * it, retransmitted end packets and stale timestamps are ignored, and a
 * digit whose end never arrives is ended after 1 s without packets.
 * Events 0-16 only (0-9 * # A-D flash); others are counted and dropped.
 *
 * Generator: one digit at a time (others queue): the first packet carries
 * the marker bit, updates follow every 50 ms with growing duration and the
 * same timestamp, and the end is sent as three packets with the E bit and
 * the final duration.
 *
 * Ownership: embedded in the engine leg (no allocation).
 * Threading: any single thread per instance.
 * Bus:       digits surface as media.event {event:"dtmf"} (docs/bus.md).
 */
#ifndef MP_DTMF_RTPEV_H
#define MP_DTMF_RTPEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_DTMF_EVENT_MAX     16 /* flash */
#define MP_DTMF_UPDATE_MS     50
#define MP_DTMF_END_PACKETS   3
#define MP_DTMF_RX_TIMEOUT_MS 1000
/* notes one packet can give: the lost end of the previous digit, the start
 * and (end bit set) the end of a new one */
#define MP_DTMF_RX_NOTES 3
#define MP_DTMF_MIN_MS	 40
#define MP_DTMF_MAX_MS	 5000
#define MP_DTMF_GAP_MS	 50 /* between generated digits */
#define MP_DTMF_QUEUE	 32

/* digit characters <-> event codes (RFC 4733 3.2) */
int mp_dtmf_event_code(char digit);
char mp_dtmf_event_char(int code);

/* one telephone-event payload (first 4 octets) */
struct mp_dtmf_ev {
	uint8_t event;
	bool end;
	uint8_t volume;
	uint16_t duration;
};

int mp_dtmf_ev_decode(struct mp_dtmf_ev *ev, const uint8_t *pl, size_t len);
void mp_dtmf_ev_encode(uint8_t pl[4], const struct mp_dtmf_ev *ev);

/* ---- receiver ---- */

enum mp_dtmf_rx_what {
	MP_DTMF_RX_NONE = 0,
	MP_DTMF_RX_START,
	MP_DTMF_RX_END,
};

struct mp_dtmf_rx_note {
	enum mp_dtmf_rx_what what;
	char digit;
	uint32_t duration; /* ts units, END only */
};

struct mp_dtmf_rx {
	bool active; /* a digit is in progress */
	bool have_last;
	uint8_t event;
	uint32_t ts; /* timestamp of the current/last event */
	uint32_t duration;
	int64_t last_ms;
	uint64_t digits, dropped;
};

void mp_dtmf_rx_init(struct mp_dtmf_rx *rx);
int mp_dtmf_rx_input(struct mp_dtmf_rx *rx, uint32_t ts, const uint8_t *pl,
		     size_t len, int64_t now_ms,
		     struct mp_dtmf_rx_note note[MP_DTMF_RX_NOTES],
		     unsigned *nnote);
bool mp_dtmf_rx_poll(struct mp_dtmf_rx *rx, int64_t now_ms,
		     struct mp_dtmf_rx_note *note);

/* ---- generator ---- */

struct mp_dtmf_tx_pkt {
	uint8_t pl[4];
	bool marker;
	uint32_t ts;
};

struct mp_dtmf_tx {
	uint32_t rate;	/* RTP clock of the leg */
	uint8_t volume; /* dBm0 below 0, RFC 4733 */
	bool active;
	uint8_t event;
	uint32_t ts;
	int64_t start_ms;
	int64_t next_ms;    /* next update */
	int64_t end_ms;	    /* 0: until mp_dtmf_tx_stop() */
	int64_t idle_until; /* gap before the next queued digit */
	bool stop;
	struct {
		char digit;
		uint32_t ms;
	} queue[MP_DTMF_QUEUE];
	unsigned qhead, qlen;
	uint64_t sent;
};

void mp_dtmf_tx_init(struct mp_dtmf_tx *tx, uint32_t rate);
int mp_dtmf_tx_put(struct mp_dtmf_tx *tx, char digit, uint32_t duration_ms);
void mp_dtmf_tx_stop(struct mp_dtmf_tx *tx);
void mp_dtmf_tx_end(struct mp_dtmf_tx *tx, char digit, uint32_t duration_ms);
bool mp_dtmf_tx_busy(const struct mp_dtmf_tx *tx);
unsigned mp_dtmf_tx_poll(struct mp_dtmf_tx *tx, int64_t now_ms, uint32_t cur_ts,
			 struct mp_dtmf_tx_pkt *pkt, unsigned max);

#endif /* MP_DTMF_RTPEV_H */
