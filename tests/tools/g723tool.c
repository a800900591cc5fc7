/*
 * g723tool.c - G.723.1 frames from and to PCM with the media engine's own
 * codec (mediaproxy/xcode/g723.c), for the integration tests
 *
 *   g723tool enc < PCM > FRAMES    16-bit little-endian mono 8 kHz PCM in,
 *                                  6.3 kbit/s frames (24 bytes each) out;
 *                                  a last partial frame is left out
 *   g723tool dec < FRAMES > PCM    frames of any kind in, PCM out
 *
 * Exit status: 0 done, 1 a codec error (bad frames), 2 usage or I/O.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "mediaproxy/xcode/g723.h"

static int encode(struct mp_g723 *g)
{
	int16_t pcm[MP_G723_FRAME_SAMPLES];
	uint8_t out[MP_G723_FRAME_BYTES];
	size_t len;

	while (fread(pcm, sizeof(pcm), 1, stdin) == 1) {
		int err = mp_g723_encode(g, out, sizeof(out), &len, pcm,
					 MP_G723_FRAME_SAMPLES);

		if (err) {
			fprintf(stderr, "g723tool: encode: %s\n",
				strerror(err));
			return 1;
		}
		if (fwrite(out, 1, len, stdout) != len)
			return 2;
	}
	return 0;
}

static int decode(struct mp_g723 *g)
{
	static uint8_t in[1 << 20];
	int16_t pcm[MP_G723_FRAME_SAMPLES];
	size_t len = fread(in, 1, sizeof(in), stdin), off = 0;

	/* frame by frame, so that one bad frame says where it is */
	while (off < len) {
		size_t fb = mp_g723_frame_bytes(in[off]), n = 0;
		int err;

		if (fb > len - off) {
			fprintf(stderr, "g723tool: frame cut short at %zu\n",
				off);
			return 1;
		}
		err = mp_g723_decode(g, pcm, MP_G723_FRAME_SAMPLES, &n,
				     in + off, fb);
		if (err) {
			fprintf(stderr, "g723tool: decode at %zu: %s\n", off,
				strerror(err));
			return 1;
		}
		if (fwrite(pcm, sizeof(*pcm), n, stdout) != n)
			return 2;
		off += fb;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct mp_g723 *g = NULL;
	int rc, err;

	if (argc != 2 || (strcmp(argv[1], "enc") && strcmp(argv[1], "dec"))) {
		fprintf(stderr, "usage: g723tool enc|dec < in > out\n");
		return 2;
	}
	err = mp_g723_alloc(&g);
	if (err) {
		fprintf(stderr, "g723tool: %s\n", strerror(err));
		return 2;
	}
	rc = strcmp(argv[1], "enc") ? decode(g) : encode(g);
	mem_deref(g);
	return fflush(stdout) ? 2 : rc;
}
