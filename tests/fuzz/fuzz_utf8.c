// FUZZ_SOURCES: common/utf8.c
// FUZZ_LIBS: -ljansson
/*
 * fuzz_utf8.c - sw_utf8_copy() always yields valid UTF-8 that jansson
 * takes, within the buffer, cut on a boundary, for any bytes and size.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[300];
	size_t cap = size ? 1 + data[0] % sizeof(out) : sizeof(out);
	size_t used = sw_utf8_copy(out, cap, (const char *)data, size);
	size_t olen = strlen(out);
	json_t *j;
	char *z;

	assert(used <= size);
	assert(olen < cap);
	assert(sw_utf8_valid(out, olen));
	j = json_string(out);
	assert(j);
	json_decref(j);
	/* a valid input is copied unchanged when it fits */
	if (size < sizeof(out) && sw_utf8_valid((const char *)data, size)) {
		int has_ctl = 0;

		for (size_t i = 0; i < size; i++)
			has_ctl |= data[i] < 0x20 && data[i] != '\t';
		if (!has_ctl) {
			sw_utf8_copy(out, sizeof(out), (const char *)data,
				     size);
			assert(olen <= size);
			assert(!memcmp(out, data, size));
		}
	}
	z = malloc(size + 1);
	if (z) {
		memcpy(z, data, size);
		z[size] = '\0';
		j = sw_json_text(z);
		assert(j);
		json_decref(j);
		free(z);
	}
	return 0;
}
