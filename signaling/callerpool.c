/*
 * callerpool.c - caller number pools (see callerpool.h)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "signaling/callerpool.h"
#include "signaling/lines.h"

struct sg_callerpool {
	struct sg_lines *used;	 /* calls per "gw\npool number" */
	struct sg_lines *cursor; /* round robin: last index taken + 1, by gw */
	unsigned seed;		 /* rand_r state: the random order */
};

int sg_pool_conf_parse(struct sg_pool_conf *pc, const char *json, char *err,
		       size_t errsz)
{
	const json_t *nums, *v;
	json_int_t mux;
	json_t *o;
	size_t i;

	memset(pc, 0, sizeof(*pc));
	pc->multiplexes = 1;
	if (!json || !*json)
		return 0;
	o = json_loads(json, 0, NULL);
	if (!json_is_object(o)) {
		snprintf(err, errsz, "caller_pool: not a JSON object");
		json_decref(o);
		return EINVAL;
	}
	mux = json_integer_value(json_object_get(o, "multiplexes"));
	if (mux >= 1 && mux <= 1000)
		pc->multiplexes = (unsigned)mux;
	nums = json_object_get(o, "numbers");
	pc->numbers = calloc(json_array_size(nums) + 1, sizeof(*pc->numbers));
	if (!pc->numbers) {
		json_decref(o);
		snprintf(err, errsz, "caller_pool: out of memory");
		return ENOMEM;
	}
	json_array_foreach(nums, i, v)
	{
		const char *s = json_string_value(v);

		if (!s || !*s || strlen(s) > 32)
			continue; /* the validator refused these */
		if (!(pc->numbers[pc->n] = strdup(s))) {
			json_decref(o);
			sg_pool_conf_free(pc);
			snprintf(err, errsz, "caller_pool: out of memory");
			return ENOMEM;
		}
		pc->n++;
	}
	pc->enabled = json_is_true(json_object_get(o, "enabled")) && pc->n;
	json_decref(o);
	return 0;
}

void sg_pool_conf_free(struct sg_pool_conf *pc)
{
	for (size_t i = 0; pc && i < pc->n; i++)
		free(pc->numbers[i]);
	if (pc) {
		free(pc->numbers);
		memset(pc, 0, sizeof(*pc));
	}
}

int sg_callerpool_alloc(struct sg_callerpool **pp)
{
	struct sg_callerpool *p = calloc(1, sizeof(*p));
	int e;

	if (!p)
		return ENOMEM;
	e = sg_lines_alloc(&p->used);
	if (!e)
		e = sg_lines_alloc(&p->cursor);
	if (e) {
		sg_callerpool_free(p);
		return e;
	}
	p->seed = (unsigned)(uintptr_t)p ^ (unsigned)time(NULL);
	*pp = p;
	return 0;
}

void sg_callerpool_free(struct sg_callerpool *p)
{
	if (!p)
		return;
	sg_lines_free(p->used);
	sg_lines_free(p->cursor);
	free(p);
}

static void key_of(char key[SG_POOL_KEY_MAX], const char *gw,
		   const char *number)
{
	snprintf(key, SG_POOL_KEY_MAX, "%s\n%s", gw, number);
}

static bool is_free(const struct sg_callerpool *p, const char *gw,
		    const struct sg_pool_conf *pc, size_t i)
{
	char key[SG_POOL_KEY_MAX];

	key_of(key, gw, pc->numbers[i]);
	return sg_lines_active(p->used, key) < pc->multiplexes;
}

bool sg_callerpool_full(const struct sg_callerpool *p, const char *gw,
			const struct sg_pool_conf *pc)
{
	for (size_t i = 0; pc->enabled && i < pc->n; i++)
		if (is_free(p, gw, pc, i))
			return false;
	return pc->enabled;
}

const char *sg_callerpool_take(struct sg_callerpool *p, const char *gw,
			       const struct sg_pool_conf *pc, bool round_robin,
			       char key[SG_POOL_KEY_MAX])
{
	size_t start;

	key[0] = '\0';
	if (!pc->enabled || !pc->n)
		return NULL;
	start = round_robin ? sg_lines_active(p->cursor, gw) % pc->n
			    : (size_t)rand_r(&p->seed) % pc->n;
	for (size_t k = 0; k < pc->n; k++) {
		size_t i = (start + k) % pc->n;

		if (!is_free(p, gw, pc, i))
			continue;
		if (round_robin) {
			/* the cursor is kept as a count: set it to i + 1 */
			sg_lines_add(p->cursor, gw,
				     (int)(i + 1) -
					 (int)sg_lines_active(p->cursor, gw));
		}
		key_of(key, gw, pc->numbers[i]);
		sg_lines_add(p->used, key, 1);
		return pc->numbers[i];
	}
	return NULL;
}

void sg_callerpool_release(struct sg_callerpool *p, const char *key)
{
	if (p && key && *key)
		sg_lines_add(p->used, key, -1);
}
