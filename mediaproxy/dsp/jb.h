/*
 * jb.h - jitter buffer of the decoded path (SS_JITTERBUFFER_*)
 *
 * Packets of one leg go in as they arrive, in any order; the engine pulls
 * one frame per frame time from a regular output clock.  Each pull gives
 * the packet due at that moment, or a "conceal" frame when it is missing
 * (lost, late, or the buffer is growing), so the output timeline never has
 * a hole.  Duplicates and packets that arrive after their play time are
 * dropped and counted.
 *
 * Fixed mode keeps the starting delay (SS_JITTERBUFFER_DEFAULT).  Adaptive
 * mode measures how far each packet arrives ahead of its play time over the
 * last 100 packets: the largest of these margins is the buffering delay,
 * their spread the jitter.  It steers the delay toward spread + 10 ms
 * within [SS_JITTERBUFFER_MIN, SS_JITTERBUFFER_MAX]:
 * - late packets, or more than half a frame short: a concealed frame (GROW);
 * - a few ms short, or under min: the output clock waits up to half a frame
 *   (the next frame leaves that much later, nothing is concealed);
 * - more than 2 ms over: the output clock moves up to half a frame earlier
 *   per 200 ms (the next frame leaves that much early, no audio is lost),
 *   never bringing the smallest margin under 4 ms;
 * - a whole frame over while the engine reports a quiet frame
 *   (mp_dsp_jb_set_quiet()), or over max: a frame is dropped, handed out
 *   as DROP so stateful decoders still see it.  A burst of early packets
 *   can push the measured delay above max until the next frames are
 *   dropped.  Frames are never dropped in sound below max.
 * The reported delay is always the measured largest margin after the
 * moves, so it settles within 2 ms of the target, not anywhere in
 * [target, target + one frame).  The caller needs no change: GROW and DROP
 * are as before, clock moves only change when get() hands frames out.
 *
 * Ownership: libre-refcounted, owned by the engine direction.
 * Threading: any single thread per instance.
 * Bus:       none; parameters arrive in the engine configuration.
 */
#ifndef MP_DSP_JB_H
#define MP_DSP_JB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_DSP_JB_SLOTS	      64
#define MP_DSP_JB_PAYLOAD_MAX 1280
#define MP_DSP_JB_WINDOW      100
#define MP_DSP_JB_IDLE_MS     1000 /* no packet for this long: restart */
/* this many late packets in a row, all within MP_DSP_JB_LATE_SPREAD_MS
 * of one offset from their timestamps: the sender's timing moved, so the
 * buffer re-anchors instead of refusing the rest of the call */
#define MP_DSP_JB_LATE_RESYNC	 10
#define MP_DSP_JB_LATE_SPREAD_MS 20

enum mp_dsp_jb_mode {
	MP_DSP_JB_FIXED = 0,
	MP_DSP_JB_ADAPTIVE = 1,
};

struct mp_dsp_jb_conf {
	enum mp_dsp_jb_mode mode;
	uint32_t min_ms;     /* 10..1000 */
	uint32_t max_ms;     /* >= min_ms, <= 1000 */
	uint32_t default_ms; /* clamped into [min, max] */
	size_t payload_max;  /* largest payload, bytes: 0 (default) =
			      * MP_DSP_JB_PAYLOAD_MAX, never more; the
			      * buffer takes 64 slots of it */
};

enum mp_dsp_jb_kind {
	MP_DSP_JB_WAIT = 0, /* nothing due yet */
	MP_DSP_JB_FRAME,    /* a packet is due: decode it */
	MP_DSP_JB_LOSS,	    /* conceal @dur (lost or late packet) */
	MP_DSP_JB_GROW,	    /* conceal @dur (buffer growing) */
	MP_DSP_JB_DROP,	    /* shrinking: decode (keeps the decoder's
			     * state) but do not play; not a frame time */
};

struct mp_dsp_jb_frame {
	enum mp_dsp_jb_kind kind;
	uint32_t ts;	  /* RTP timestamp of the frame */
	uint32_t dur;	  /* duration in RTP timestamp units */
	uint32_t skipped; /* ts units dropped just before (shrink) */
	uint16_t seq;
	bool marker;
	uint8_t pt;
	const uint8_t *payload; /* borrowed until the next put/get */
	size_t len;
	const uint8_t *next; /* LOSS: the following packet, if held */
	size_t next_len;
};

struct mp_dsp_jb_stats {
	uint64_t put, played, lost, late, dup, overflow;
	uint64_t grow;	 /* concealed frames inserted to grow */
	uint64_t shrink; /* frames dropped (DROP) to shrink */
	uint64_t trim;	 /* output clock moved earlier, < 1 frame */
	uint64_t hold;	 /* output clock moved later, < 1 frame */
	uint64_t resync;
	uint32_t delay_ms; /* current buffering delay */
};

struct mp_dsp_jb;

int mp_dsp_jb_conf_check(const struct mp_dsp_jb_conf *conf);
int mp_dsp_jb_alloc(struct mp_dsp_jb **jbp, const struct mp_dsp_jb_conf *conf,
		    uint32_t rtp_rate);
int mp_dsp_jb_put(struct mp_dsp_jb *jb, uint16_t seq, uint32_t ts, uint8_t pt,
		  bool marker, const uint8_t *pl, size_t len, uint32_t dur,
		  int64_t now_ms);
int mp_dsp_jb_get(struct mp_dsp_jb *jb, int64_t now_ms,
		  struct mp_dsp_jb_frame *f);
void mp_dsp_jb_stats(const struct mp_dsp_jb *jb, struct mp_dsp_jb_stats *st);
uint32_t mp_dsp_jb_delay_ms(const struct mp_dsp_jb *jb);
uint32_t mp_dsp_jb_min_wait_ms(const struct mp_dsp_jb *jb);
void mp_dsp_jb_set_quiet(struct mp_dsp_jb *jb, bool quiet);

#endif /* MP_DSP_JB_H */
