/* test_sg_identity.c - caller identity toward a routing gateway (digest 2,
 * P-1..P-10) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "signaling/identity.h"
#include "tests/unit/test_sg_sip.h"

static const char invite[] =
    "INVITE sip:15551230001@10.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"222\" <sip:01712345678@10.0.0.5>;tag=a\r\n"
    "To: <sip:15551230001@10.0.0.1>\r\n"
    "Call-ID: c1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:01712345678@10.0.0.5>\r\n"
    "P-Asserted-Identity: <sip:111@x>\r\n"
    "P-Preferred-Identity: \"Bob\" <sip:333@y>\r\n"
    "Privacy: id\r\n"
    "X-Custom: abc\r\n"
    "X-Other: 1\r\n"
    "Subject: hello\r\n"
    "Proxy-Foo: never\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char bare[] = "INVITE sip:15551230001@10.0.0.1 SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK2\r\n"
			   "From: <sip:017@10.0.0.5>;tag=b\r\n"
			   "To: <sip:15551230001@10.0.0.1>\r\n"
			   "Call-ID: c2\r\n"
			   "CSeq: 1 INVITE\r\n"
			   "Content-Length: 0\r\n"
			   "\r\n";

/* the headers for identity json, from msg, support_privacy sp */
static char *headers(const char *json, msg_t *m, bool sp)
{
	struct sg_identity id;
	struct sg_identity_in in = {m, sp, "+8801712345678", "192.0.2.9"};
	char err[128];
	char *out;

	assert_int_equal(sg_identity_parse(&id, json, err, sizeof(err)), 0);
	out = sg_identity_headers(&id, &in);
	sg_identity_free(&id);
	assert_non_null(out);
	return out;
}

static void expect(const char *json, msg_t *m, bool sp, const char *want)
{
	char *got = headers(json, m, sp);

	if (strcmp(got, want))
		fail_msg("%s:\n got  [%s]\n want [%s]", json, got, want);
	free(got);
}

static void pai_ppi(void **state)
{
	msg_t *m = sip_text(invite), *b = sip_text(bare);

	(void)state;
	/* P-1, and every default */
	expect("{}", m, true, "");
	expect("{\"pai\":\"none\"}", m, true, "");
	/* P-2: as received; none received, none sent */
	expect("{\"pai\":\"pass_through\"}", m, true,
	       "P-Asserted-Identity: <sip:111@x>\r\n");
	expect("{\"pai\":\"pass_through\"}", b, true, "");
	/* P-3/P-4: the caller number given (dial plans applied) */
	expect("{\"pai\":\"caller\"}", m, true,
	       "P-Asserted-Identity: <sip:+8801712345678@192.0.2.9>\r\n");
	/* P-8 */
	expect("{\"ppi\":\"pass_through\"}", m, true,
	       "P-Preferred-Identity: \"Bob\" <sip:333@y>\r\n");
	expect("{\"ppi\":\"caller\"}", b, true,
	       "P-Preferred-Identity: <sip:+8801712345678@192.0.2.9>\r\n");
	msg_destroy(m);
	msg_destroy(b);
}

static void privacy(void **state)
{
	msg_t *m = sip_text(invite), *b = sip_text(bare);

	(void)state;
	/* P-5 */
	expect("{\"privacy\":\"none\"}", m, true, "");
	/* P-6: only with the mapping gateway's support_privacy */
	expect("{\"privacy\":\"pass_through\"}", m, true, "Privacy: id\r\n");
	expect("{\"privacy\":\"pass_through\"}", m, false, "");
	expect("{\"privacy\":\"pass_through\"}", b, true, "");
	/* P-7: always, and the PAI still goes */
	expect("{\"privacy\":\"id\",\"pai\":\"caller\"}", b, false,
	       "P-Asserted-Identity: <sip:+8801712345678@192.0.2.9>\r\n"
	       "Privacy: id\r\n");
	msg_destroy(m);
	msg_destroy(b);
}

static const char odd[] =
    "INVITE sip:15551230001@10.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK3\r\n"
    "From: <sip:017@10.0.0.5>;tag=c\r\n"
    "To: <sip:15551230001@10.0.0.1>\r\n"
    "Call-ID: c3\r\n"
    "CSeq: 1 INVITE\r\n"
    "P-Asserted-Identity: <mailto:a@b>, <tel:+15550001>\r\n"
    "Privacy: id;bogus\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

/* only what RFC 3323/3325 allow is passed on */
static void malformed_identity(void **state)
{
	msg_t *m = sip_text(odd);

	(void)state;
	expect("{\"pai\":\"pass_through\",\"privacy\":\"pass_through\"}", m,
	       true, "");
	msg_destroy(m);
}

static void extra_headers(void **state)
{
	msg_t *m = sip_text(invite);

	(void)state;
	/* P-9: every header the switch does not interpret, never a
	 * hop-by-hop one */
	expect("{\"extra_headers\":\"all\"}", m, true,
	       "X-Custom: abc\r\nX-Other: 1\r\n");
	expect("{\"extra_headers\":\"none\"}", m, true, "");
	/* P-10: the listed ones, known to sofia or not */
	expect("{\"extra_headers\":\"list\",\"headers\":[\"x-custom\"]}", m,
	       true, "X-Custom: abc\r\n");
	expect("{\"extra_headers\":\"list\",\"headers\":[\"Subject\","
	       "\"X-Other\",\"X-Missing\"]}",
	       m, true, "X-Other: 1\r\nSubject: hello\r\n");
	msg_destroy(m);
}

static void bad_identity(void **state)
{
	struct sg_identity id;
	char err[128];

	(void)state;
	assert_int_equal(sg_identity_parse(&id, "[]", err, sizeof(err)),
			 EINVAL);
	assert_int_equal(
	    sg_identity_parse(&id, "{\"pai\":\"maybe\"}", err, sizeof(err)),
	    EINVAL);
	assert_non_null(strstr(err, "identity.pai"));
	assert_int_equal(
	    sg_identity_parse(&id, "{\"pai\":1}", err, sizeof(err)), EINVAL);
	assert_int_equal(sg_identity_parse(&id, "", err, sizeof(err)), 0);
	assert_int_equal(id.pai, SW_ID_NONE);
	/* a forbidden name that reached the table is still never copied */
	assert_int_equal(
	    sg_identity_parse(&id,
			      "{\"extra_headers\":\"list\",\"headers\":"
			      "[\"Via\",\"X-A\"]}",
			      err, sizeof(err)),
	    0);
	assert_int_equal(id.nheaders, 1);
	sg_identity_free(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pai_ppi),
	    cmocka_unit_test(privacy),
	    cmocka_unit_test(extra_headers),
	    cmocka_unit_test(malformed_identity),
	    cmocka_unit_test(bad_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
