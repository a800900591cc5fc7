/*
 * test_bd_sgpeers.c - combining the answers of several signalingd: the
 * merged call list, the merged media nodes, the hangup's outcome
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "billingd/sgpeers.h"

static struct bd_sg_reply ok(const char *url, const char *node, json_t *body)
{
	struct bd_sg_reply r = {url, node, 0, false, body};

	return r;
}

static struct bd_sg_reply silent(const char *url, int err)
{
	struct bd_sg_reply r = {url, "", err, false, NULL};

	return r;
}

static struct bd_sg_reply err_reply(const char *url, const char *code)
{
	struct bd_sg_reply r = {
	    url, "sgx", 0, true,
	    json_pack("{s:s, s:s}", "code", code, "message", "no such call")};

	return r;
}

static json_t *call(const char *id, const char *account)
{
	return json_pack("{s:s, s:s, s:s}", "id", id, "account", account,
			 "state", "answered");
}

static void merge_calls_two(void **state)
{
	struct bd_sg_reply r[2];
	json_t *items, *down;

	(void)state;
	r[0] = ok("tcp://a:1", "sg1",
		  json_pack("{s:[o,o]}", "calls", call("c1", "acme"),
			    call("c2", "bob")));
	r[1] = ok("tcp://b:1", "",
		  json_pack("{s:[o]}", "calls", call("c3", "acme")));
	items = bd_sg_merge_calls(r, 2, "", &down);
	assert_non_null(items);
	assert_int_equal(json_array_size(items), 3);
	assert_int_equal(json_array_size(down), 0);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(items, 0), "signalingd")),
			    "sg1");
	/* no node_id known yet: named by its URL */
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(items, 2), "signalingd")),
			    "tcp://b:1");
	json_decref(items);
	json_decref(down);

	/* filtered by account; the replies are not changed */
	items = bd_sg_merge_calls(r, 2, "acme", NULL);
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(items, 1), "id")),
	    "c3");
	assert_null(json_object_get(
	    json_array_get(json_object_get(r[0].body, "calls"), 0),
	    "signalingd"));
	json_decref(items);
	json_decref(r[0].body);
	json_decref(r[1].body);
}

static void merge_calls_partial(void **state)
{
	struct bd_sg_reply r[2];
	json_t *items, *down;

	(void)state;
	r[0] = silent("tcp://a:1", ETIMEDOUT);
	r[1] = ok("tcp://b:1", "sg2",
		  json_pack("{s:[o]}", "calls", call("c3", "acme")));
	items = bd_sg_merge_calls(r, 2, NULL, &down);
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(json_array_size(down), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(down, 0), "url")),
	    "tcp://a:1");
	assert_non_null(strstr(json_string_value(json_object_get(
				   json_array_get(down, 0), "detail")),
			       "no reply"));
	json_decref(items);
	json_decref(down);
	json_decref(r[1].body);

	/* none answered: no list at all (the API answers 503) */
	r[1] = silent("tcp://b:1", ECONNREFUSED);
	assert_null(bd_sg_merge_calls(r, 2, NULL, &down));
	assert_int_equal(json_array_size(down), 2);
	json_decref(down);
}

static json_t *node(const char *id, bool online, int last_seen)
{
	return json_pack("{s:s, s:b, s:i, s:i}", "node_id", id, "online",
			 online, "last_seen_ms", last_seen, "sessions", 1);
}

static void merge_nodes(void **state)
{
	json_t *into = json_array(), *a, *b, *mp1;

	(void)state;
	a = json_pack("[o,o]", node("mp1", true, 300), node("mp2", true, 100));
	b = json_pack("[o,o]", node("mp1", false, 4000),
		      node("mp3", true, 200));
	bd_sg_merge_nodes(into, a, "sg1");
	bd_sg_merge_nodes(into, b, "sg2");
	assert_int_equal(json_array_size(into), 3);
	mp1 = json_array_get(into, 0);
	assert_string_equal(json_string_value(json_object_get(mp1, "node_id")),
			    "mp1");
	/* the stalest view stands: sg2 hears it no more */
	assert_false(json_is_true(json_object_get(mp1, "online")));
	assert_int_equal(
	    json_integer_value(json_object_get(mp1, "last_seen_ms")), 4000);
	assert_int_equal(json_array_size(json_object_get(mp1, "seen_by")), 2);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(mp1, "seen_by"), 1)),
			    "sg2");
	assert_int_equal(json_array_size(json_object_get(
			     json_array_get(into, 1), "seen_by")),
			 1);
	json_decref(a);
	json_decref(b);
	json_decref(into);
}

static void pick_hangup(void **state)
{
	struct bd_sg_reply r[3];

	(void)state;
	/* the one that had the call wins over not_found and silence */
	r[0] = err_reply("tcp://a:1", "not_found");
	r[1] = ok("tcp://b:1", "sg2", json_pack("{s:s}", "id", "x"));
	r[2] = silent("tcp://c:1", ETIMEDOUT);
	assert_int_equal(bd_sg_pick_hangup(r, 3), 1);
	assert_true(bd_sg_reply_ok(&r[1]));
	json_decref(r[1].body);

	/* not_found on one, silence on the other: maybe on the silent one */
	r[1] = silent("tcp://b:1", ETIMEDOUT);
	assert_int_equal(bd_sg_pick_hangup(r, 2), 1);

	/* every one answered not_found: 404 */
	r[1] = err_reply("tcp://b:1", "not_found");
	assert_int_equal(bd_sg_pick_hangup(r, 2), 0);
	assert_false(bd_sg_reply_ok(&r[0]));

	/* one signalingd: its answer, as before */
	assert_int_equal(bd_sg_pick_hangup(r, 1), 0);
	json_decref(r[0].body);
	json_decref(r[1].body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(merge_calls_two),
	    cmocka_unit_test(merge_calls_partial),
	    cmocka_unit_test(merge_nodes),
	    cmocka_unit_test(pick_hangup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
