/*
 * cng.h - comfort noise (SS_COMFORTNOISE) and RFC 3389 CN payloads
 *
 * During silence the engine fills the decoded path with low-level noise
 * instead of digital silence, at the level a peer's CN packet announced
 * (RFC 3389 first octet, -dBov) or -65 dBov by default.
 *
 * Ownership: libre-refcounted, owned by the engine direction.
 * Threading: any single thread per instance.
 * Bus:       none.
 */
#ifndef MP_DSP_CNG_H
#define MP_DSP_CNG_H

#include <stddef.h>
#include <stdint.h>

struct mp_dsp_cng;

#define MP_DSP_CNG_DEFAULT_DBOV 65

int  mp_dsp_cng_alloc(struct mp_dsp_cng **cngp, uint32_t seed);
int  mp_dsp_cng_rx(struct mp_dsp_cng *cng, const uint8_t *pl, size_t len);
void mp_dsp_cng_generate(struct mp_dsp_cng *cng, int16_t *pcm, size_t n);
int  mp_dsp_cng_level(const struct mp_dsp_cng *cng);

#endif /* MP_DSP_CNG_H */
