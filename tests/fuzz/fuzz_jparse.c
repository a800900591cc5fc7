// FUZZ_SOURCES: common/jparse.c
// FUZZ_LIBS: -ljansson
/* fuzz_jparse.c - the bus's JSON reader against jansson's, on every input:
 * both accept or both refuse, and what both accept is the same tree.
 * One known difference: jansson drops a raw NUL byte right after a number
 * ("[0\0]" reads as [0]); ours refuses every raw NUL byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	json_error_t jerr;
	json_t *ours =
	    sw_json_parse((const char *)data, size, err, sizeof(err));
	json_t *ref =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);

	if (memchr(data, 0, size)) {
		if (ours)
			abort(); /* a raw NUL byte is never JSON */
		json_decref(ref);
		return 0;
	}
	if (!ours != !ref)
		abort(); /* one accepted what the other refused */
	if (ours && !json_equal(ours, ref))
		abort(); /* both accepted, different trees */
	json_decref(ours);
	json_decref(ref);
	return 0;
}
