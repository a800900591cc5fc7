/*
 * registrar.c - where registered phones are (signaling/registrar.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/ntab.h"
#include "signaling/registrar.h"

struct sg_registrar {
	struct sw_ntab *phones; /* owned: struct reg by number */
};

struct reg {
	char contact[256];
	int64_t expires_ms; /* monotonic */
};

/** No phone registered yet. */
int sg_registrar_alloc(struct sg_registrar **rp)
{
	struct sg_registrar *r;
	int err;

	if (!rp)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	err = sw_ntab_alloc(&r->phones, sizeof(struct reg), NULL);
	if (err) {
		free(r);
		return err;
	}
	*rp = r;
	return 0;
}

/** Forget every registration (NULL is fine). */
void sg_registrar_free(struct sg_registrar *r)
{
	if (!r)
		return;
	sw_ntab_free(r->phones);
	free(r);
}

/** Store or refresh number's contact until expires_ms (monotonic). */
int sg_registrar_set(struct sg_registrar *r, const char *number,
		     const char *contact, int64_t expires_ms)
{
	struct reg *g;

	if (!r || !number || !contact)
		return EINVAL;
	g = sw_ntab_get(r->phones, number, NULL);
	if (!g)
		return ENOMEM;
	snprintf(g->contact, sizeof(g->contact), "%s", contact);
	g->expires_ms = expires_ms;
	return 0;
}

/** number's contact while registered at now_ms; false when not */
bool sg_registrar_contact(struct sg_registrar *r, const char *number,
			  int64_t now_ms, char *out, size_t size)
{
	const struct reg *g =
	    r && number ? sw_ntab_find(r->phones, number) : NULL;

	if (!g || g->expires_ms <= now_ms || !g->contact[0])
		return false;
	snprintf(out, size, "%s", g->contact);
	return true;
}

/** Whether number has a registration (expired or not). */
bool sg_registrar_has(struct sg_registrar *r, const char *number)
{
	return r && number && sw_ntab_find(r->phones, number);
}

/** Remove number's registration (absent is fine). */
void sg_registrar_del(struct sg_registrar *r, const char *number)
{
	if (r)
		sw_ntab_del(r->phones, number);
}

struct sweep {
	struct sw_ntab *tab;
	int64_t now_ms;
};

static bool sweep_h(const char *name, void *entry, void *arg)
{
	const struct reg *g = entry;
	const struct sweep *s = arg;

	if (g->expires_ms <= s->now_ms)
		sw_ntab_del(s->tab, name);
	return false;
}

/** Phones registered at now (the expired are forgotten on the way). */
unsigned sg_registrar_count(struct sg_registrar *r, int64_t now_ms)
{
	struct sweep s;

	if (!r)
		return 0;
	s.tab = r->phones;
	s.now_ms = now_ms;
	sw_ntab_walk(r->phones, sweep_h, &s);
	return (unsigned)sw_ntab_count(r->phones);
}
