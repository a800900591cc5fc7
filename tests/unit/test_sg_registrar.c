/*
 * test_sg_registrar.c - registrations: expiry, and where a phone behind
 * NAT is called (its source, not the private contact it wrote)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "signaling/registrar.h"

static void set_find_expire(void **state)
{
	struct sg_registrar *r = NULL;
	char out[256];

	(void)state;
	assert_int_equal(sg_registrar_alloc(&r), 0);
	assert_int_equal(
	    sg_registrar_set(r, "7001", "sip:7001@10.0.0.5:5060", 2000), 0);
	assert_true(sg_registrar_contact(r, "7001", 1999, out, sizeof(out)));
	assert_string_equal(out, "sip:7001@10.0.0.5:5060");
	assert_false(sg_registrar_contact(r, "7001", 2000, out, sizeof(out)));
	assert_int_equal(sg_registrar_count(r, 1000), 1);
	assert_int_equal(sg_registrar_count(r, 3000), 0);
	sg_registrar_del(r, "7001");
	assert_false(sg_registrar_has(r, "7001"));
	sg_registrar_free(r);
}

static void source_split(void **state)
{
	char ip[64];
	int port = -1;

	(void)state;
	assert_true(sg_registrar_split_source("203.0.113.9:40000", ip,
					      sizeof(ip), &port));
	assert_string_equal(ip, "203.0.113.9");
	assert_int_equal(port, 40000);
	assert_true(
	    sg_registrar_split_source("203.0.113.9", ip, sizeof(ip), &port));
	assert_int_equal(port, 0);
	assert_true(sg_registrar_split_source("[2001:db8::1]:5062", ip,
					      sizeof(ip), &port));
	assert_string_equal(ip, "2001:db8::1");
	assert_int_equal(port, 5062);
	assert_true(
	    sg_registrar_split_source("2001:db8::1", ip, sizeof(ip), &port));
	assert_int_equal(port, 0);
	assert_false(
	    sg_registrar_split_source("phone.example", ip, sizeof(ip), &port));
	assert_false(
	    sg_registrar_split_source("1.2.3.4:99999", ip, sizeof(ip), &port));
	assert_false(sg_registrar_split_source("[::1", ip, sizeof(ip), &port));
	assert_false(sg_registrar_split_source(NULL, ip, sizeof(ip), &port));
}

static void nat_target(void **state)
{
	char out[256];

	(void)state;
	/* the contact is where we heard it from: as written */
	assert_false(sg_registrar_target(out, sizeof(out),
					 "sip:7001@198.51.100.7:5060",
					 "198.51.100.7:5060"));
	assert_string_equal(out, "sip:7001@198.51.100.7:5060");
	assert_false(sg_registrar_target(
	    out, sizeof(out), "sip:7001@198.51.100.7", "198.51.100.7:5060"));
	/* a private contact from a public source: the source */
	assert_true(sg_registrar_target(out, sizeof(out),
					"sip:7001@192.168.1.10:5060",
					"203.0.113.9:40000"));
	assert_string_equal(out, "sip:7001@203.0.113.9:40000");
	/* the same address, another port (a port-mapping NAT) */
	assert_true(sg_registrar_target(out, sizeof(out),
					"sip:7001@203.0.113.9:5060;line=x",
					"203.0.113.9:1024"));
	assert_string_equal(out, "sip:7001@203.0.113.9:1024");
	assert_true(sg_registrar_target(out, sizeof(out),
					"sip:7001@10.1.1.1;transport=udp",
					"[2001:db8::1]:5062"));
	assert_string_equal(out, "sip:7001@[2001:db8::1]:5062");
	/* a host name, a connection, or no port heard: as written */
	assert_false(sg_registrar_target(out, sizeof(out),
					 "sip:7001@phone.example:5060",
					 "203.0.113.9:40000"));
	assert_string_equal(out, "sip:7001@phone.example:5060");
	assert_false(sg_registrar_target(out, sizeof(out),
					 "sip:7001@192.168.1.10;transport=tcp",
					 "203.0.113.9:40000"));
	assert_false(sg_registrar_target(
	    out, sizeof(out), "sip:7001@192.168.1.10", "203.0.113.9"));
	assert_false(sg_registrar_target(out, sizeof(out), "not a uri",
					 "203.0.113.9:40000"));
	assert_string_equal(out, "not a uri");
	assert_false(sg_registrar_target(out, sizeof(out), NULL, NULL));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(set_find_expire),
	    cmocka_unit_test(source_split),
	    cmocka_unit_test(nat_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
