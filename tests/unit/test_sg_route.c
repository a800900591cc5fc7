/* test_sg_route.c - routing gateway selection and the switch decision */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "common/jsonw.h"
#include "signaling/route.h"
#include "signaling/tables.h"

#define MAXGW 8

struct fixture {
	struct sg_gw gw[MAXGW];
	char *pfx[MAXGW][4];
	size_t n;
};

/* add a gateway with up to 3 prefixes (NULL-terminated) */
static struct sg_gw *add(struct fixture *f, const char *name, int prio,
			 bool protect, bool locked, const char *p1,
			 const char *p2)
{
	struct sg_gw *g = &f->gw[f->n];

	memset(g, 0, sizeof(*g));
	strcpy(g->name, name);
	g->priority = prio;
	g->protect = protect;
	g->locked = locked;
	g->switch_until_connect = true;
	f->pfx[f->n][0] = (char *)(uintptr_t)p1;
	f->pfx[f->n][1] = (char *)(uintptr_t)p2;
	g->prefixes = f->pfx[f->n];
	g->nprefixes = p2 ? 2 : 1;
	f->n++;
	return g;
}

/* select among the fixture's gateways through a fresh prefix index */
static size_t sel(struct sg_route_cand *out, size_t max, struct fixture *f,
		  const char *callee, const struct sg_route_opts *o)
{
	struct sw_prefix_ix *ix = NULL;
	size_t n;

	assert_int_equal(sg_route_index(&ix, f->gw, f->n), 0);
	n = sg_route_select(out, max, f->gw, f->n, ix, callee, o);
	sw_prefix_ix_free(ix);
	return n;
}

static size_t pick(struct fixture *f, const char *callee, bool fallback,
		   struct sg_route_cand *out)
{
	struct sg_route_opts o = {.prefix_fallback = fallback};

	return sel(out, MAXGW, f, callee, &o);
}

static void longest_prefix_first(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];

	(void)state;
	add(&f, "short", 1, false, false, "1", NULL);
	add(&f, "long", 5, false, false, "1555", NULL);
	add(&f, "mid", 1, false, false, "155", NULL);
	assert_int_equal(pick(&f, "15551234", true, c), 3);
	assert_string_equal(c[0].gw->name, "long");
	assert_int_equal(c[0].prefix_len, 4);
	assert_string_equal(c[1].gw->name, "mid");
	assert_string_equal(c[2].gw->name, "short");
}

static void priority_within_prefix(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];

	(void)state;
	add(&f, "p3", 3, false, false, "44", NULL);
	add(&f, "p1", 1, false, false, "44", NULL);
	add(&f, "p2", 2, false, false, "44", NULL);
	add(&f, "p1b", 1, false, false, "44", NULL);
	assert_int_equal(pick(&f, "4420", true, c), 4);
	assert_string_equal(c[0].gw->name, "p1");
	assert_string_equal(c[1].gw->name, "p1b"); /* table order */
	assert_string_equal(c[2].gw->name, "p2");
	assert_string_equal(c[3].gw->name, "p3");
}

static void fallback_on_and_off(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];

	(void)state;
	add(&f, "any", 1, false, false, "", NULL);
	add(&f, "us", 1, false, false, "1", NULL);
	add(&f, "ny", 2, false, false, "1212", NULL);
	add(&f, "nyprot", 1, true, false, "1212", NULL);
	add(&f, "usprot", 1, true, false, "1", NULL);

	assert_int_equal(pick(&f, "12125551", true, c), 5);
	assert_string_equal(c[0].gw->name, "ny");
	assert_string_equal(c[1].gw->name, "us");
	assert_string_equal(c[2].gw->name, "any");
	assert_string_equal(c[3].gw->name, "nyprot");
	assert_string_equal(c[4].gw->name, "usprot");

	/* only the longest prefix: normal then protect */
	assert_int_equal(pick(&f, "12125551", false, c), 2);
	assert_string_equal(c[0].gw->name, "ny");
	assert_string_equal(c[1].gw->name, "nyprot");

	/* "" matches everything, length 0 */
	assert_int_equal(pick(&f, "4420", false, c), 1);
	assert_string_equal(c[0].gw->name, "any");
	assert_int_equal(c[0].prefix_len, 0);
}

static void locked_skipped(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];

	(void)state;
	add(&f, "locked", 1, false, true, "1", NULL);
	add(&f, "open", 2, false, false, "1", NULL);
	assert_int_equal(pick(&f, "1555", true, c), 1);
	assert_string_equal(c[0].gw->name, "open");

	/* a locked longest prefix does not hide the shorter ones even
	 * without fallback: it is not a candidate at all */
	add(&f, "lockedlong", 1, false, true, "1555", NULL);
	assert_int_equal(pick(&f, "15551", false, c), 1);
	assert_string_equal(c[0].gw->name, "open");
}

static void protect_routes_last(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];

	(void)state;
	add(&f, "prot-long", 1, true, false, "1555", NULL);
	add(&f, "norm-short", 9, false, false, "1", NULL);
	add(&f, "prot-short", 1, true, false, "1", NULL);
	assert_int_equal(pick(&f, "15551", true, c), 3);
	assert_string_equal(c[0].gw->name, "norm-short");
	assert_string_equal(c[1].gw->name, "prot-long");
	assert_string_equal(c[2].gw->name, "prot-short");
}

static void several_prefixes_no_match(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];

	(void)state;
	add(&f, "multi", 1, false, false, "44", "4420");
	add(&f, "other", 1, false, false, "33", NULL);
	assert_int_equal(pick(&f, "44207", true, c), 1);
	assert_int_equal(c[0].prefix_len, 4);
	assert_int_equal(pick(&f, "49", true, c), 0);
	/* "33" is no prefix of 4420: only the gateway with "44" */
	assert_int_equal(pick(&f, "4420", true, c), 1);
	assert_string_equal(c[0].gw->name, "multi");
}

static unsigned load_by_name(const struct sg_gw *gw, void *arg)
{
	(void)arg;
	return !strcmp(gw->name, "busy") ? 900 : 100;
}

static void load_breaks_priority_ties(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];
	struct sg_route_opts o = {.prefix_fallback = true,
				  .load = load_by_name};

	(void)state;
	add(&f, "busy", 1, false, false, "1", NULL);
	add(&f, "idle", 1, false, false, "1", NULL);
	add(&f, "second", 2, false, false, "1", NULL);
	assert_int_equal(sel(c, MAXGW, &f, "1", &o), 3);
	assert_string_equal(c[0].gw->name, "idle");
	assert_string_equal(c[1].gw->name, "busy");
	assert_string_equal(c[2].gw->name, "second");
}

static const char *skip_offline(const struct sg_gw *gw, void *arg)
{
	(void)arg;
	return !strcmp(gw->name, "offline") ? "offline" : NULL;
}

static void offline_skipped(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];
	struct sg_route_excl x[MAXGW];
	size_t nx = 99;
	struct sg_route_opts o = {.prefix_fallback = false,
				  .skip = skip_offline,
				  .excl = x,
				  .excl_max = MAXGW,
				  .nexcl = &nx};

	(void)state;
	add(&f, "offline", 1, false, false, "1555", NULL);
	add(&f, "online", 2, false, false, "1", NULL);
	/* the offline longest prefix is no candidate: fallback off still
	 * finds the shorter one */
	assert_int_equal(sel(c, MAXGW, &f, "15551", &o), 1);
	assert_string_equal(c[0].gw->name, "online");
	/* and the analysis learns why the other is not */
	assert_int_equal(nx, 1);
	assert_string_equal(x[0].gw->name, "offline");
	assert_string_equal(x[0].reason, "offline");
	assert_int_equal(x[0].prefix_len, 4);
}

/* every matching gateway left out is listed with its reason */
static void exclusions_listed(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];
	struct sg_route_excl x[MAXGW];
	size_t nx = 0;
	struct sg_route_opts o = {.prefix_fallback = false,
				  .skip = skip_offline,
				  .excl = x,
				  .excl_max = MAXGW,
				  .nexcl = &nx};

	(void)state;
	add(&f, "long", 1, false, false, "155", NULL);
	add(&f, "short", 1, false, false, "1", NULL);
	add(&f, "shut", 1, false, false, "155", NULL);
	add(&f, "other", 1, false, false, "44", NULL);
	f.gw[2].locked = true;
	assert_int_equal(sel(c, MAXGW, &f, "15551", &o), 1);
	assert_string_equal(c[0].gw->name, "long");
	assert_int_equal(nx, 2); /* "other" does not match at all */
	assert_string_equal(x[0].gw->name, "shut");
	assert_string_equal(x[0].reason, "locked");
	assert_string_equal(x[1].gw->name, "short");
	assert_string_equal(x[1].reason, "shorter_prefix");
	/* with fallback, the shorter one is a candidate after it */
	o.prefix_fallback = true;
	assert_int_equal(sel(c, MAXGW, &f, "15551", &o), 2);
	assert_int_equal(nx, 1);
}

static void round_robin_ties(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];
	struct sg_route_opts o = {.prefix_fallback = true};

	(void)state;
	add(&f, "a", 1, false, false, "1", NULL);
	add(&f, "b", 1, false, false, "1", NULL);
	add(&f, "c", 1, false, false, "1", NULL);
	add(&f, "second", 2, false, false, "1", NULL);
	o.rr = 1;
	assert_int_equal(sel(c, MAXGW, &f, "1", &o), 4);
	assert_string_equal(c[0].gw->name, "b");
	assert_string_equal(c[1].gw->name, "c");
	assert_string_equal(c[2].gw->name, "a");
	assert_string_equal(c[3].gw->name, "second"); /* priority first */
	o.rr = 2;
	sel(c, MAXGW, &f, "1", &o);
	assert_string_equal(c[0].gw->name, "c");
	o.rr = 4; /* wraps around the table */
	sel(c, MAXGW, &f, "1", &o);
	assert_string_equal(c[0].gw->name, "a");
}

static void asr_of(const struct sg_gw *gw, void *arg, unsigned *asr,
		   bool *below)
{
	(void)arg;
	*asr = !strcmp(gw->name, "good")  ? 600
	       : !strcmp(gw->name, "bad") ? 50
					  : 300;
	*below = *asr < 100;
}

static void asr_sorting(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];
	struct sg_route_opts o = {.prefix_fallback = true, .asr = asr_of};

	(void)state;
	add(&f, "bad", 1, false, false, "1555", NULL);
	add(&f, "mid", 1, false, false, "1555", NULL);
	add(&f, "good", 1, false, false, "1555", NULL);
	add(&f, "mid2", 2, false, false, "1555", NULL);
	add(&f, "short", 1, false, false, "1", NULL);
	assert_int_equal(sel(c, MAXGW, &f, "15551", &o), 5);
	/* equal priority: higher ASR first; under the threshold after
	 * every other gateway of the same prefix length */
	assert_string_equal(c[0].gw->name, "good");
	assert_string_equal(c[1].gw->name, "mid");
	assert_string_equal(c[2].gw->name, "mid2");
	assert_string_equal(c[3].gw->name, "bad");
	assert_string_equal(c[4].gw->name, "short");
}

static int64_t cost_of(const struct sg_gw *gw, const char *callee, void *arg)
{
	(void)callee;
	(void)arg;
	return !strcmp(gw->name, "cheap")  ? 5000
	       : !strcmp(gw->name, "dear") ? 9000
					   : INT64_MAX;
}

static void fee_rate_sorting(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];
	struct sg_route_opts o = {.prefix_fallback = true, .cost = cost_of};

	(void)state;
	add(&f, "unknown", 1, false, false, "1", NULL);
	add(&f, "dear", 1, false, false, "1", NULL);
	add(&f, "cheap", 1, false, false, "1", NULL);
	add(&f, "cheap-but-p2", 2, false, false, "1", NULL);
	assert_int_equal(sel(c, MAXGW, &f, "1", &o), 4);
	assert_string_equal(c[0].gw->name, "cheap");
	assert_string_equal(c[1].gw->name, "dear");
	assert_string_equal(c[2].gw->name, "unknown");
	assert_string_equal(c[3].gw->name, "cheap-but-p2");
}

static void buy_rate_lookup(void **state)
{
	struct sg_tables t = {0};
	struct sg_gw g = {0};
	struct sg_rate rates[] = {
	    {7, "1", 100, 100},
	    {7, "1555", 300, 300},
	    {7, "44", 50, 50},
	    {8, "1555", 999, 999},
	};
	const struct sg_rate *r;

	(void)state;
	t.rates = rates;
	t.nrates = 4;
	assert_int_equal(sg_tables_index(&t), 0);
	g.buy_table_id = 7;
	r = sg_tables_buy_rate(&t, &g, "15551234");
	assert_non_null(r);
	assert_int_equal(r->first_rate, 300);
	r = sg_tables_buy_rate(&t, &g, "1212");
	assert_int_equal(r->first_rate, 100);
	assert_null(sg_tables_buy_rate(&t, &g, "33"));
	g.buy_table_id = 8; /* another table's entries are its own */
	assert_int_equal(sg_tables_buy_rate(&t, &g, "15559")->first_rate, 999);
	assert_null(sg_tables_buy_rate(&t, &g, "1212"));
	g.buy_table_id = 0;
	assert_null(sg_tables_buy_rate(&t, &g, "1555"));
	sw_prefix_ix_free(t.gw_ix);
	sw_prefix_ix_free(t.rate_ix);
}

static void switch_decision(void **state)
{
	struct fixture f = {0};
	struct sg_gw *g;
	static const int stops[] = {486, 487, 403, 404, 484,
				    488, 600, 603, 606};

	(void)state;
	g = add(&f, "g", 1, false, false, "1", NULL);
	memcpy(g->stop_codes, stops, sizeof(stops));
	g->nstop = sizeof(stops) / sizeof(stops[0]);

	assert_true(sg_route_may_switch(g, 503));
	assert_true(sg_route_may_switch(g, 408));
	assert_true(sg_route_may_switch(g, 500));
	assert_false(sg_route_may_switch(g, 486));
	assert_false(sg_route_may_switch(g, 404));
	assert_false(sg_route_may_switch(g, 603));
	assert_false(sg_route_may_switch(g, 200));
	g->switch_until_connect = false;
	assert_false(sg_route_may_switch(g, 503));
	assert_false(sg_route_may_switch(NULL, 503));
}

static void bad_input(void **state)
{
	struct fixture f = {0};
	struct sg_route_cand c[MAXGW];

	(void)state;
	add(&f, "g", 1, false, false, "1", NULL);
	assert_int_equal(sel(c, MAXGW, &f, NULL, NULL), 0);
	assert_int_equal(sel(NULL, MAXGW, &f, "1", NULL), 0);
	assert_int_equal(sel(c, 0, &f, "1", NULL), 0);
	/* NULL opts = fallback off, no load key */
	assert_int_equal(sel(c, MAXGW, &f, "1", NULL), 1);
}

static void cidr_match(void **state)
{
	struct sg_cidr cidr;
	struct sockaddr_in in = {.sin_family = AF_INET};

	(void)state;
	assert_int_equal(sg_cidr_parse(&cidr, "10.1.0.0/16"), 0);
	inet_pton(AF_INET, "10.1.200.7", &in.sin_addr);
	assert_true(sg_cidr_match(&cidr, (struct sockaddr *)&in));
	inet_pton(AF_INET, "10.2.0.1", &in.sin_addr);
	assert_false(sg_cidr_match(&cidr, (struct sockaddr *)&in));
	assert_int_equal(sg_cidr_parse(&cidr, "127.0.0.1"), 0);
	assert_int_equal(cidr.bits, 32);
	assert_int_not_equal(sg_cidr_parse(&cidr, "10.0.0.0/33"), 0);
	assert_int_not_equal(sg_cidr_parse(&cidr, "bogus"), 0);
	assert_int_equal(sg_cidr_parse(&cidr, "2001:db8::/32"), 0);
}

static void mapping_filter(void **state)
{
	struct sg_gw g = {0};
	char n1[] = "mgA", n2[] = "mgB";
	char *names[] = {n1, n2};

	(void)state;
	g.filter = names;
	g.nfilter = 2;
	assert_false(sg_gw_filtered(&g, "mgA")); /* mode none */
	g.filter_mode = SG_FILTER_ALLOW;
	assert_false(sg_gw_filtered(&g, "mgA"));
	assert_true(sg_gw_filtered(&g, "mgC"));
	g.filter_mode = SG_FILTER_FORBID;
	assert_true(sg_gw_filtered(&g, "mgB"));
	assert_false(sg_gw_filtered(&g, "mgC"));
}

static void number_section(void **state)
{
	struct sg_tables t = {0};
	struct sg_account acc[3] = {0};
	char d1[] = "1900", a1[] = "1", a2[] = "44", d2[] = "7";
	char *agent_deny[] = {d1};
	char *cust_allow[] = {a1, a2};
	char *loop_deny[] = {d2};

	(void)state;
	/* agent (id 1) denies 1900; customer (id 2, agent 1) allows 1, 44 */
	acc[0].id = 1;
	strcpy(acc[0].name, "agent");
	acc[0].deny = agent_deny;
	acc[0].ndeny = 1;
	acc[1].id = 2;
	acc[1].agent_id = 1;
	strcpy(acc[1].name, "cust");
	acc[1].allow = cust_allow;
	acc[1].nallow = 2;
	/* a corrupt cycle: 3 is its own agent */
	acc[2].id = 3;
	acc[2].agent_id = 3;
	strcpy(acc[2].name, "loop");
	acc[2].deny = loop_deny;
	acc[2].ndeny = 1;
	t.accounts = acc;
	t.naccounts = 3;

	assert_null(sg_tables_number_check(&t, "cust", "15551234"));
	assert_null(sg_tables_number_check(&t, "cust", "4420"));
	assert_string_equal(sg_tables_number_check(&t, "cust", "3312"), "cust");
	assert_string_equal(sg_tables_number_check(&t, "cust", "19005551"),
			    "agent");
	assert_null(sg_tables_number_check(&t, "nobody", "1900"));
	assert_null(sg_tables_number_check(&t, "loop", "15"));
	assert_string_equal(sg_tables_number_check(&t, "loop", "71"), "loop");
}

static void params_parse(void **state)
{
	struct sg_params p;

	(void)state;
	sg_params_defaults(&p);
	assert_int_equal(p.switch_limit, 5);
	assert_int_equal(p.media_mode, 3);
	assert_int_equal(p.prefix_fallback, 1);
	assert_int_equal(sg_params_set(&p, "SS_GATEWAY_SWITCH_LIMIT", "3"), 0);
	assert_int_equal(p.switch_limit, 3);
	assert_int_not_equal(sg_params_set(&p, "SS_MEDIAPROXYMODE", "7"), 0);
	assert_int_equal(p.media_mode, 3);
	assert_int_not_equal(sg_params_set(&p, "SS_MAXCALLDURATION", "x"), 0);
	assert_int_equal(sg_params_set(&p, "SERVER_BILLING_FREE_TIME", "1"),
			 ENOENT);
}

/* the media object as media.offer carries it (written as text), parsed */
static json_t *media_object(const struct sg_params *p)
{
	struct sw_jw w = {0};
	json_t *j;

	sg_params_media_write(&w, p);
	assert_false(w.oom);
	j = json_loads(w.buf, 0, NULL);
	sw_jw_free(&w);
	return j;
}

/* SS_* decoded-path settings reach the media node consistent */
static void params_media_object(void **state)
{
	struct sg_params p;
	json_t *m;

	(void)state;
	sg_params_defaults(&p);
	m = media_object(&p);
	assert_non_null(m);
	assert_int_equal(json_integer_value(json_object_get(m, "jb_mode")), 1);
	assert_int_equal(json_integer_value(json_object_get(m, "jb_min_ms")),
			 20);
	assert_int_equal(json_integer_value(json_object_get(m, "jb_max_ms")),
			 200);
	assert_int_equal(
	    json_integer_value(json_object_get(m, "jb_default_ms")), 60);
	assert_true(json_is_false(json_object_get(m, "echo_cancel")));
	json_decref(m);

	assert_int_equal(sg_params_set(&p, "SS_ECHOCANCEL", "1"), 0);
	assert_int_equal(sg_params_set(&p, "SS_ECHOCANCELTAIL", "100"), 0);
	assert_int_equal(sg_params_set(&p, "SS_VOICEGAIN", "-6"), 0);
	assert_int_equal(sg_params_set(&p, "SS_JITTERBUFFER_MIN", "300"), 0);
	assert_int_equal(sg_params_set(&p, "SS_JITTERBUFFER_MAX", "100"), 0);
	assert_int_equal(sg_params_set(&p, "SS_JITTERBUFFER_DEFAULT", "50"), 0);
	assert_int_not_equal(sg_params_set(&p, "SS_VOICEGAIN", "11"), 0);
	m = media_object(&p);
	assert_true(json_is_true(json_object_get(m, "echo_cancel")));
	/* tails are 64/128/256: 100 rounds up */
	assert_int_equal(json_integer_value(json_object_get(m, "echo_tail_ms")),
			 128);
	assert_int_equal(
	    json_integer_value(json_object_get(m, "voice_gain_db")), -6);
	/* min > max is swapped, the default kept inside */
	assert_int_equal(json_integer_value(json_object_get(m, "jb_min_ms")),
			 100);
	assert_int_equal(json_integer_value(json_object_get(m, "jb_max_ms")),
			 300);
	assert_int_equal(
	    json_integer_value(json_object_get(m, "jb_default_ms")), 100);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(longest_prefix_first),
	    cmocka_unit_test(params_media_object),
	    cmocka_unit_test(priority_within_prefix),
	    cmocka_unit_test(fallback_on_and_off),
	    cmocka_unit_test(locked_skipped),
	    cmocka_unit_test(protect_routes_last),
	    cmocka_unit_test(several_prefixes_no_match),
	    cmocka_unit_test(load_breaks_priority_ties),
	    cmocka_unit_test(offline_skipped),
	    cmocka_unit_test(exclusions_listed),
	    cmocka_unit_test(round_robin_ties),
	    cmocka_unit_test(asr_sorting),
	    cmocka_unit_test(fee_rate_sorting),
	    cmocka_unit_test(buy_rate_lookup),
	    cmocka_unit_test(switch_decision),
	    cmocka_unit_test(bad_input),
	    cmocka_unit_test(cidr_match),
	    cmocka_unit_test(mapping_filter),
	    cmocka_unit_test(number_section),
	    cmocka_unit_test(params_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
