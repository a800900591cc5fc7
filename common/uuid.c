/*
 * uuid.c - version 4 UUIDs from getrandom(2), drawn through a pool
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/random.h>

#include "common/uuid.h"
#include "common/swtime.h"

/*
 * Random bytes are drawn from getrandom(2) 4 KiB at a time into a pool of
 * the calling thread (a UUID is made for every call and bus message: one
 * system call each cost more than the rest of it).  A forked child empties
 * the pool it inherited (the only thread a child has is the one that
 * forked), so parent and child never hand out the same bytes.
 */
struct pool {
	uint8_t b[4096];
	size_t used; /* bytes of b handed out */
};

static __thread struct pool pool = {.used = sizeof(pool.b)};
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forked_child(void)
{
	memset(pool.b, 0, sizeof(pool.b));
	pool.used = sizeof(pool.b);
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forked_child);
}

static bool fill(struct pool *p)
{
	size_t got = 0;

	while (got < sizeof(p->b)) {
		ssize_t n = getrandom(p->b + got, sizeof(p->b) - got, 0);

		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	p->used = 0;
	return true;
}

static void random16(uint8_t b[16])
{
	pthread_once(&atfork_once, register_atfork);
	if (pool.used + 16 > sizeof(pool.b) && !fill(&pool)) {
		/* no entropy source: still unique enough per process */
		static _Atomic uint64_t seq;
		int64_t t = sw_time_mono_us() ^ sw_time_wall_ms();
		uint64_t n = ++seq;

		pool.used = sizeof(pool.b);
		memcpy(b, &t, sizeof(t));
		memcpy(b + 8, &n, sizeof(n));
		return;
	}
	memcpy(b, pool.b + pool.used, 16);
	memset(pool.b + pool.used, 0, 16); /* not handed out twice */
	pool.used += 16;
}

/* Write a new random UUID (lowercase, 36 characters + NUL) to out. */
void sw_uuid_gen(char out[SW_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	char *o = out;

	random16(b);
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 15];
	}
	*o = '\0';
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
