/*
 * prefix_bench.c - longest-prefix lookups per second over a carrier-size
 * prefix table: common/prefix.c against the references
 *
 *   scan     every prefix compared with the number, the longest kept (what
 *            routing did per gateway before the index)
 *   bsearch  the prefixes sorted; one binary search of the number's first
 *            n digits for each n from its length down (what the buy rates
 *            did)
 *   index    common/prefix.c: one binary search per prefix length present
 *
 * The prefixes are N distinct digit strings of 3 to 7 digits (random, fixed
 * seed, most of them 6 or 7 digits long); the numbers are 11 digits, half of
 * them starting with a prefix of the table.  Every method must give the same
 * answer for every number (the run fails otherwise).  Prints one markdown
 * table.
 *
 * Usage: prefix_bench [N prefixes, default 100000] [lookups, default
 * 200000] (the scan does N / 100 000 x 2 000 lookups at most: it is slow)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/prefix.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char (*pfx)[8];
static size_t npfx;

static long by_scan(const char *number)
{
	long best = -1;
	size_t best_len = 0;

	for (size_t i = 0; i < npfx; i++) {
		size_t len = strlen(pfx[i]);

		if (len >= best_len && !strncmp(number, pfx[i], len) &&
		    (best < 0 || len > best_len)) {
			best = (long)i;
			best_len = len;
		}
	}
	return best;
}

struct sorted {
	const char *p;
	long idx;
};

static struct sorted *srt;

static int srt_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sorted *)a)->p,
		      ((const struct sorted *)b)->p);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static long by_bsearch(const char *number)
{
	char key[16];
	size_t len = strlen(number);

	for (size_t n = len; n > 0; n--) {
		struct sorted k = {key, 0};
		const struct sorted *r;

		memcpy(key, number, n);
		key[n] = '\0';
		r = bsearch(&k, srt, npfx, sizeof(*srt), srt_cmp);
		if (r)
			return r->idx;
	}
	return -1;
}

static struct sw_prefix_ix *ix;

static long by_index(const char *number)
{
	uint32_t v;

	return sw_prefix_ix_longest(ix, 0, number, &v, NULL) ? (long)v : -1;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t q = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
	size_t qscan = n ? 2000 * 100000 / n : q;
	unsigned seed = 7;
	char(*num)[16];
	long *want;
	struct {
		const char *name, *what;
		long (*f)(const char *);
		size_t queries;
		double s;
	} m[] = {
	    {"index", "common/prefix.c (Tandem)", by_index, q, 0},
	    {"bsearch", "binary search per digit (reference)", by_bsearch, q,
	     0},
	    {"scan", "scan of every prefix (reference)", by_scan,
	     qscan < q ? qscan : q, 0},
	};
	double t0, build_s;
	size_t found = 0;

	if (n < 100 || n > 10000000 || q < 1 || q > 100000000) {
		fprintf(stderr, "prefix_bench: 100..10000000 prefixes, "
				"1..100000000 lookups\n");
		exit(2);
	}

	pfx = calloc(n, sizeof(*pfx));
	srt = calloc(n, sizeof(*srt));
	num = calloc(q, sizeof(*num));
	want = calloc(q, sizeof(*want));
	if (!pfx || !srt || !num || !want || sw_prefix_ix_alloc(&ix))
		exit(1); /* a benchmark: the OS frees */
	/* distinct prefixes: draw twice as many, sort, drop twins, keep n;
	 * lengths as in a real dial plan (few short codes, most 6-7) */
	{
		size_t m0 = 2 * n + 16, w = 0;
		char(*cand)[8] = calloc(m0, sizeof(*cand));

		if (!cand)
			exit(1); /* a benchmark: the OS frees */
		for (size_t i = 0; i < m0; i++) {
			unsigned r = rand_r(&seed) % 100;
			int len = r < 1	   ? 3
				  : r < 5  ? 4
				  : r < 25 ? 5
				  : r < 60 ? 6
					   : 7;

			for (int k = 0; k < len; k++)
				cand[i][k] = (char)('0' + rand_r(&seed) % 10);
		}
		qsort(cand, m0, sizeof(*cand), str_cmp);
		for (size_t i = 0; i < m0 && w < n; i++)
			if (!w || strcmp(cand[i], pfx[w - 1]))
				memcpy(pfx[w++], cand[i], sizeof(pfx[0]));
		free(cand);
		if (w < n)
			exit(1); /* a benchmark: the OS frees */
		for (size_t i = 0; i < n; i++)
			srt[i] = (struct sorted){pfx[i], (long)i};
	}
	npfx = n;
	t0 = now_s();
	for (size_t i = 0; i < n; i++)
		if (sw_prefix_ix_add(ix, 0, pfx[i], (uint32_t)i))
			exit(1); /* a benchmark: the OS frees */
	sw_prefix_ix_seal(ix);
	build_s = now_s() - t0;

	for (size_t i = 0; i < q; i++) {
		if (i % 2) /* a number of the table */
			snprintf(num[i], sizeof(num[i]), "%s%011u",
				 pfx[rand_r(&seed) % n], rand_r(&seed));
		else
			snprintf(num[i], sizeof(num[i]), "%05u%06u",
				 rand_r(&seed) % 100000,
				 rand_r(&seed) % 1000000);
		num[i][11] = '\0';
		want[i] = by_index(num[i]);
		found += want[i] >= 0;
	}

	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		t0 = now_s();
		for (size_t i = 0; i < m[k].queries; i++) {
			if (m[k].f(num[i]) != want[i]) {
				fprintf(stderr, "%s: %s gives %ld, index %ld\n",
					m[k].name, num[i], m[k].f(num[i]),
					want[i]);
				exit(1); /* a benchmark: the OS frees */
			}
		}
		m[k].s = now_s() - t0;
	}

	printf("Longest-prefix lookup, %zu prefixes of 3-7 digits, 11-digit "
	       "numbers (%zu%% match); index built in %.1f ms, %.1f MB\n",
	       n, q ? found * 100 / q : 0, build_s * 1000,
	       (double)sw_prefix_ix_bytes(ix) / 1e6);
	printf("| method | lookups | lookups/s | ns per lookup | time vs index "
	       "|\n");
	printf("|---|---:|---:|---:|---:|\n");
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		double per = m[k].queries ? m[k].s / (double)m[k].queries : 0;
		double base = m[0].s / (double)m[0].queries;

		printf("| %s | %zu | %.0f | %.0f | %.2fx |\n", m[k].what,
		       m[k].queries, per > 0 ? 1 / per : 0, per * 1e9,
		       base > 0 ? per / base : 0);
	}
	sw_prefix_ix_free(ix);
	free(pfx);
	free(srt);
	free(num);
	free(want);
	return 0;
}
