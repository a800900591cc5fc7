/*
 * uuid.c - version 4 UUIDs from getrandom(2)
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/uuid.h"
#include "common/swtime.h"

/* Write a new random UUID (lowercase, 36 characters + NUL) to out. */
void sw_uuid_gen(char out[SW_UUID_LEN + 1])
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(b)) {
		/* no entropy source: still unique enough per process */
		int64_t t = sw_time_mono_us() ^ sw_time_wall_ms();
		memcpy(b, &t, sizeof(t));
	}

	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, SW_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* True when s is a UUID in 8-4-4-4-12 hex form (any version, any case). */
bool sw_uuid_valid(const char *s)
{
	if (!s || strlen(s) != SW_UUID_LEN)
		return false;

	for (int i = 0; i < SW_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}
