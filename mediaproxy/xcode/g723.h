/*
 * g723.h - G.723.1 through libavcodec (ITU-T G.723.1, RFC 3551 "G723")
 *
 * One encoder and one decoder of 16-bit mono PCM at 8 kHz in 30 ms frames
 * of 240 samples.  Sent: 6.3 kbit/s frames (24 bytes; libavcodec encodes
 * no other rate).  Received: 6.3 kbit/s (24 bytes), 5.3 kbit/s (20 bytes),
 * SID (4 bytes) and untransmitted (1 byte) frames, any number of them in
 * one payload; each frame's first two bits say its kind.
 *
 * Threading: one object per call leg, used by one thread.
 */
#ifndef MP_XC_G723_H
#define MP_XC_G723_H

#include <stddef.h>
#include <stdint.h>

#define MP_G723_FRAME_SAMPLES 240 /* 30 ms at 8 kHz */
#define MP_G723_FRAME_MS      30
#define MP_G723_FRAME_BYTES   24 /* the largest frame, 6.3 kbit/s */

struct mp_g723;

int mp_g723_alloc(struct mp_g723 **gp);
size_t mp_g723_frame_bytes(uint8_t first);
int mp_g723_frames(const uint8_t *pl, size_t len);
int mp_g723_encode(struct mp_g723 *g, uint8_t *out, size_t size, size_t *lenp,
		   const int16_t *pcm, size_t n);
int mp_g723_decode(struct mp_g723 *g, int16_t *pcm, size_t max, size_t *np,
		   const uint8_t *pl, size_t len);

#endif /* MP_XC_G723_H */
