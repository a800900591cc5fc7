// FUZZ_SOURCES: signaling/dialplan.c common/json.c common/uuid.c
// FUZZ_SOURCES: common/swtime.c
// FUZZ_LIBS: -ljansson
/*
 * fuzz_sg_card.c - the phone-card dial string split on arbitrary bytes:
 * never crash; when it accepts, the digits are 1.. of 0-9 only, fit, and
 * prefix + digits + '#' or "%23" + destination is exactly the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/dialplan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[256], pfx[8], digits[49];
	const char *dest;
	size_t plen, n;

	if (!size)
		return 0;
	/* first byte: the access prefix length (0..7) taken from the input */
	plen = data[0] % 8;
	if (plen + 1 > size)
		return 0;
	memcpy(pfx, data + 1, plen);
	pfx[plen] = '\0';
	if (strlen(pfx) != plen)
		return 0;
	n = size - 1 - plen < sizeof(buf) - 1 ? size - 1 - plen
					      : sizeof(buf) - 1;
	memcpy(buf, data + 1 + plen, n);
	buf[n] = '\0';

	if (!sg_dialplan_card_split(buf, pfx, digits, sizeof(digits), &dest))
		return 0;
	n = strlen(digits);
	if (!n || n >= sizeof(digits) || strspn(digits, "0123456789") != n ||
	    !dest || !*dest || strncmp(buf, pfx, plen) ||
	    strncmp(buf + plen, digits, n))
		abort();
	if (!(dest == buf + plen + n + 1 && buf[plen + n] == '#') &&
	    !(dest == buf + plen + n + 3 && !strncmp(buf + plen + n, "%23", 3)))
		abort();
	return 0;
}
