/* test_mp_ports.c - the RTP port pair allocator: pairs never booked
 * twice, drawn at random, freed ones kept in quarantine while others are
 * free, the oldest freed first when none is */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/swtime.h"
#include "mediaproxy/ports.h"

/* every pair freed so far looks s seconds older (the allocator reads the
 * monotonic clock; the order of frees is kept) */
static void age(struct mp_ports *p, int64_t s)
{
	for (uint32_t i = 0; i < p->npairs; i++)
		p->freed_s[i] -= s;
}

static uint32_t idx_of(const struct mp_ports *p, uint16_t port)
{
	return (uint32_t)(port - p->first) / 2;
}

static void range_and_exhaustion(void **state)
{
	struct mp_ports p;
	uint8_t seen[50] = {0};
	uint16_t port;

	(void)state;
	assert_int_equal(mp_ports_init(&p, 0, 100), EINVAL);
	assert_int_equal(mp_ports_init(&p, 40001, 40001), EINVAL);
	assert_int_equal(mp_ports_init(&p, 30001, 30100), 0);
	assert_int_equal(p.first, 30002);
	assert_int_equal(p.npairs, 49); /* 30002..30098, RTCP 30099 */
	for (int i = 0; i < 49; i++) {
		assert_int_equal(mp_ports_get(&p, &port), 0);
		assert_true(port >= 30002 && port <= 30098 && port % 2 == 0);
		assert_int_equal(seen[idx_of(&p, port)]++, 0);
		assert_true(mp_ports_in_use(&p, port));
	}
	assert_int_equal(mp_ports_free_count(&p), 0);
	assert_int_equal(mp_ports_get(&p, &port), ENOSPC);
	mp_ports_put(&p, 30010);
	mp_ports_put(&p, 30010); /* already free: ignored */
	mp_ports_put(&p, 30011); /* not a pair: ignored */
	mp_ports_put(&p, 9);
	assert_int_equal(mp_ports_free_count(&p), 1);
	assert_int_equal(mp_ports_get(&p, &port), 0);
	assert_int_equal(port, 30010);
	mp_ports_close(&p);
}

/* the first draws of a fresh range are not in order, and two ranges draw
 * differently */
static void random_order(void **state)
{
	struct mp_ports a, b;
	uint16_t pa[16], pb[16];
	int ascending = 0, same = 0;

	(void)state;
	assert_int_equal(mp_ports_init(&a, 20000, 29999), 0);
	assert_int_equal(mp_ports_init(&b, 20000, 29999), 0);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(mp_ports_get(&a, &pa[i]), 0);
		assert_int_equal(mp_ports_get(&b, &pb[i]), 0);
		ascending += i && pa[i] == pa[i - 1] + 2;
		same += pa[i] == pb[i];
	}
	assert_true(ascending < 4);
	assert_true(same < 4);
	mp_ports_close(&a);
	mp_ports_close(&b);
}

/* a freed pair is not drawn while one out of quarantine is free; when
 * every free pair is in quarantine, the one freed longest ago; out of
 * quarantine it is drawn again */
static void quarantine(void **state)
{
	struct mp_ports p;
	uint16_t port, first[10];

	(void)state;
	assert_int_equal(mp_ports_init(&p, 30000, 30019), 0); /* 10 pairs */
	for (int i = 0; i < 5; i++)
		assert_int_equal(mp_ports_get(&p, &first[i]), 0);
	mp_ports_put(&p, first[0]);
	mp_ports_put(&p, first[1]);
	for (int i = 5; i < 10; i++) {
		assert_int_equal(mp_ports_get(&p, &first[i]), 0);
		assert_int_not_equal(first[i], first[0]);
		assert_int_not_equal(first[i], first[1]);
	}
	/* only the two in quarantine are left: oldest first */
	assert_int_equal(mp_ports_get(&p, &port), 0);
	assert_int_equal(port, first[0]);
	assert_int_equal(mp_ports_get(&p, &port), 0);
	assert_int_equal(port, first[1]);
	assert_int_equal(mp_ports_get(&p, &port), ENOSPC);

	/* out of quarantine: free like any other */
	mp_ports_put(&p, first[2]);
	age(&p, MP_PORTS_QUARANTINE_S);
	mp_ports_put(&p, first[3]);
	assert_int_equal(mp_ports_get(&p, &port), 0);
	assert_int_equal(port, first[2]);
	mp_ports_close(&p);
}

static bool out_of_quarantine(const struct mp_ports *p, const bool *never,
			      uint32_t i, int64_t now)
{
	return never[i] || now - p->freed_s[i] >= MP_PORTS_QUARANTINE_S;
}

/* A long random run against a model: nothing booked twice, the free
 * count right, and a quarantined pair drawn only when no free pair is out
 * of quarantine (the clock read around the draw; a draw that straddles a
 * second is not judged). */
static void against_a_model(void **state)
{
	enum { NP = 64, OPS = 200000 };
	struct mp_ports p;
	bool used[NP] = {false}, never[NP];
	uint32_t nused = 0, seed = 12345;
	uint16_t port;

	(void)state;
	for (int i = 0; i < NP; i++)
		never[i] = true;
	assert_int_equal(mp_ports_init(&p, 40000, 40000 + 2 * NP - 1), 0);
	for (int op = 0; op < OPS; op++) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 7 == 0) {
			age(&p, 1); /* time passes */
		} else if ((seed >> 16) % 2 && nused < NP) {
			int64_t now = sw_time_mono_ms() / 1000;
			bool ready = false;
			uint32_t idx;

			for (uint32_t i = 0; i < NP; i++)
				ready |= !used[i] &&
					 out_of_quarantine(&p, never, i, now);
			assert_int_equal(mp_ports_get(&p, &port), 0);
			idx = idx_of(&p, port);
			assert_false(used[idx]);
			if (ready && now == sw_time_mono_ms() / 1000)
				assert_true(
				    out_of_quarantine(&p, never, idx, now));
			used[idx] = true;
			nused++;
		} else if (nused) {
			uint32_t idx = (seed >> 8) % NP;

			while (!used[idx])
				idx = (idx + 1) % NP;
			mp_ports_put(&p, (uint16_t)(p.first + 2 * idx));
			used[idx] = false;
			never[idx] = false;
			nused--;
		}
		assert_int_equal(mp_ports_free_count(&p), NP - nused);
	}
	mp_ports_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(range_and_exhaustion),
	    cmocka_unit_test(random_order),
	    cmocka_unit_test(quarantine),
	    cmocka_unit_test(against_a_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
