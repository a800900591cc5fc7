// FUZZ_SOURCES: common/busconn.c common/log.c common/swtime.c
// FUZZ_LIBS: -lpthread
/*
 * fuzz_bus_frames.c - the SP frame reader of a connection on the loop
 * (sw_busconn_frames) on any byte stream, cut at any point: no crash,
 * every frame handed over lies inside the buffer and within the size
 * limit, and reading the stream in two pieces gives the same frames as
 * reading it whole; a request frame's backtrace (sw_busconn_backtrace)
 * lies inside the frame, within its limit, and ends with the id.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/busconn.h"
#include "common/log.h"

#define MAX 4096

struct seen {
	const uint8_t *lo, *hi;
	size_t n, bytes;
};

static void on_frame(const uint8_t *buf, size_t len, void *arg)
{
	struct seen *s = arg;

	long h = sw_busconn_backtrace(buf, len, 32);

	assert(len <= MAX);
	assert(buf >= s->lo && buf + len <= s->hi);
	assert(h == -1 || (h >= 4 && h <= 32 && h % 4 == 0 &&
			   (size_t)h <= len && (buf[h - 4] & 0x80)));
	s->n++;
	s->bytes += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen whole = {data, data + size, 0, 0}, parts = whole;
	size_t cut = size ? data[0] % (size + 1) : 0;
	long a, b, c;

	sw_log_set_level(SW_LOG_ERR);
	a = sw_busconn_frames(data, size, MAX, on_frame, &whole);
	assert(a == -1 || (a >= 0 && (size_t)a <= size));

	/* the first cut bytes, then what was left over plus the rest */
	b = sw_busconn_frames(data, cut, MAX, on_frame, &parts);
	if (b < 0) {
		assert(a == -1);
		return 0;
	}
	c = sw_busconn_frames(data + b, size - (size_t)b, MAX, on_frame,
			      &parts);
	if (c < 0) {
		assert(a == -1);
		return 0;
	}
	assert(a == b + c);
	assert(whole.n == parts.n && whole.bytes == parts.bytes);
	return 0;
}
