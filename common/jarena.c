/*
 * jarena.c - the JSON trees of bus messages in reused memory (jarena.h)
 *
 * The region is JA_CHUNKS chunks of JA_CHUNK bytes in one anonymous mmap
 * (virtual until touched).  A chunk's refs counts its live nodes, plus one
 * while it is some thread's current chunk; the owner bumps, anyone frees,
 * and whoever takes refs to zero puts the chunk back in the pool.  When
 * the owner sees refs == 1 (no live node) it starts again at offset 0.
 *
 * Under AddressSanitizer a chunk is poisoned whenever it is reset or
 * pooled and each node unpoisoned as it is carved, so a use after the
 * tree was freed and the chunk reused is still reported.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "common/jarena.h"

#if defined(__SANITIZE_ADDRESS__)
#define JA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JA_ASAN 1
#endif
#endif
#ifdef JA_ASAN
#include <sanitizer/asan_interface.h>
#define JA_POISON(p, n)	  ASAN_POISON_MEMORY_REGION(p, n)
#define JA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define JA_POISON(p, n)	  ((void)(p), (void)(n))
#define JA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define JA_CHUNK  (256u * 1024u)
#define JA_CHUNKS 64u
#define JA_BIG	  (JA_CHUNK / 8u) /* blocks above this go to malloc */
#define JA_ALIGN  16u

struct ja_chunk {
	atomic_uint refs; /* live nodes, +1 while a thread's current chunk */
	size_t used;	  /* bytes carved; the owner's alone */
};

static struct {
	pthread_once_t once;
	char *base; /* NULL: no region (mmap failed): malloc only */
	struct ja_chunk chunk[JA_CHUNKS];
	pthread_mutex_t mu; /* the pool */
	unsigned pool[JA_CHUNKS];
	unsigned npool;
} ja = {.once = PTHREAD_ONCE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local unsigned t_depth;
static _Thread_local struct ja_chunk *t_cur;
static _Thread_local unsigned long long t_arena, t_malloc;

static char *chunk_mem(const struct ja_chunk *c)
{
	return ja.base + (size_t)(c - ja.chunk) * JA_CHUNK;
}

static struct ja_chunk *chunk_of(const void *p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)ja.base;

	if (!ja.base || a < b || a >= b + (uintptr_t)JA_CHUNK * JA_CHUNKS)
		return NULL;
	return &ja.chunk[(a - b) / JA_CHUNK];
}

static void chunk_unref(struct ja_chunk *c)
{
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	JA_POISON(chunk_mem(c), JA_CHUNK);
	pthread_mutex_lock(&ja.mu);
	ja.pool[ja.npool++] = (unsigned)(c - ja.chunk);
	pthread_mutex_unlock(&ja.mu);
}

static struct ja_chunk *chunk_claim(void)
{
	struct ja_chunk *c = NULL;

	pthread_mutex_lock(&ja.mu);
	if (ja.npool)
		c = &ja.chunk[ja.pool[--ja.npool]];
	pthread_mutex_unlock(&ja.mu);
	if (c) {
		atomic_store_explicit(&c->refs, 1, memory_order_relaxed);
		c->used = 0;
	}
	return c;
}

static void *ja_malloc(size_t size)
{
	struct ja_chunk *c = t_cur;
	size_t n;
	char *p;

	if (size == 0)
		size = 1; /* a unique pointer, as malloc(0) may give */
	n = (size + JA_ALIGN - 1) & ~(size_t)(JA_ALIGN - 1);
	if (!t_depth || !ja.base || size > JA_BIG) {
		t_malloc++;
		return malloc(size);
	}
	if (c && c->used &&
	    atomic_load_explicit(&c->refs, memory_order_acquire) == 1) {
		JA_POISON(chunk_mem(c), c->used);
		c->used = 0; /* nothing of it lives: start again */
	}
	if (!c || c->used + n > JA_CHUNK) {
		if (c)
			chunk_unref(c);
		c = t_cur = chunk_claim();
		if (!c) {
			t_malloc++;
			return malloc(size);
		}
	}
	p = chunk_mem(c) + c->used;
	c->used += n;
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	JA_UNPOISON(p, size);
	t_arena++;
	return p;
}

static void ja_free(void *p)
{
	struct ja_chunk *c = chunk_of(p);

	if (c)
		chunk_unref(c);
	else
		free(p);
}

static void ja_setup(void)
{
	void *m =
	    mmap(NULL, (size_t)JA_CHUNK * JA_CHUNKS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (m != MAP_FAILED) {
		ja.base = m;
		JA_POISON(ja.base, (size_t)JA_CHUNK * JA_CHUNKS);
		for (unsigned i = 0; i < JA_CHUNKS; i++)
			ja.pool[i] = JA_CHUNKS - 1 - i;
		ja.npool = JA_CHUNKS;
	}
	/* every free from now on tells arena nodes from malloc'd blocks by
	 * address, so blocks jansson malloc'd before this are freed right */
	json_set_alloc_funcs(ja_malloc, ja_free);
}

void sw_jarena_begin(void)
{
	pthread_once(&ja.once, ja_setup);
	t_depth++;
}

void sw_jarena_end(void)
{
	if (t_depth)
		t_depth--;
}

void sw_jarena_stats(struct sw_jarena_stats *st)
{
	pthread_once(&ja.once, ja_setup);
	pthread_mutex_lock(&ja.mu);
	st->chunks_free = ja.npool;
	pthread_mutex_unlock(&ja.mu);
	st->chunks = ja.base ? JA_CHUNKS : 0;
	st->arena_allocs = t_arena;
	st->malloc_allocs = t_malloc;
}
