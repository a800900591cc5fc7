/*
 * repack.h - repacketisation between ptimes (10..60 ms)
 *
 * A PCM FIFO at the outgoing leg's PCM rate: decoded audio of whatever
 * duration goes in, whole frames of the outgoing ptime come out.  It holds
 * at most 240 ms; older audio is dropped (counted) rather than letting the
 * delay grow.
 *
 * Ownership: embedded in the engine direction (no allocation).
 * Threading: any single thread per instance.
 * Bus:       none.
 */
#ifndef MP_XC_REPACK_H
#define MP_XC_REPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_XC_REPACK_MAX 11520	/* 240 ms at 48 kHz */

struct mp_xc_repack {
	int16_t buf[MP_XC_REPACK_MAX];
	size_t  len;		/* samples queued */
	size_t  frame;		/* samples per outgoing frame */
	uint64_t overflow;	/* samples dropped */
};

int    mp_xc_repack_init(struct mp_xc_repack *rp, uint32_t pcm_rate,
			 uint32_t ptime);
void   mp_xc_repack_push(struct mp_xc_repack *rp, const int16_t *pcm,
			 size_t n);
bool   mp_xc_repack_pop(struct mp_xc_repack *rp, int16_t *frame);
size_t mp_xc_repack_level(const struct mp_xc_repack *rp);

#endif /* MP_XC_REPACK_H */
