/*
 * test_bd_cdr.c - validation of the cdr.submit CDR object (docs/bus.md)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "billingd/cdr.h"

#define ID "11111111-2222-4333-8444-555555555555"

static char attempts_text[1024], rtp_text[1024];

/* the owned JSON text of rec, copied; each also reads back as JSON */
static void dump(const struct bd_cdr_rec *rec)
{
	json_t *a = json_loads(rec->attempts, 0, NULL);
	json_t *r = json_loads(rec->rtp, 0, NULL);

	assert_true(json_is_array(a));
	assert_true(json_is_object(r));
	json_decref(a);
	json_decref(r);
	snprintf(attempts_text, sizeof(attempts_text), "%s", rec->attempts);
	snprintf(rtp_text, sizeof(rtp_text), "%s", rec->rtp);
}

static int decode(struct bd_cdr_rec *rec, const char *text, char *err,
		  size_t errsz)
{
	json_t *body = json_loads(text, 0, NULL);
	int ret;

	assert_non_null(body);
	ret = bd_cdr_decode(rec, body, err, errsz);
	/* strings are borrowed from body: copy what the tests look at */
	json_decref(body);
	return ret;
}

static void cdr_full(void **state)
{
	const char *text =
	    "{\"cdr\":{\"id\":\"" ID "\",\"call_id_a\":\"a@x\","
	    "\"caller\":\"100\",\"callee\":\"15551234\","
	    "\"account\":\"cust1\",\"routing_gateway\":\"gwA\","
	    "\"setup_ms\":1764149609123,\"answer_ms\":1764149610123,"
	    "\"hold_ms\":47000,\"end_code\":200,\"end_direction\":\"callee\","
	    "\"dtmf_a\":\"rfc2833\",\"dtmf_b\":\"info\","
	    "\"q850\":16,\"future_field\":[1,2],"
	    "\"attempts\":[{\"gateway\":\"gwB\",\"code\":503,"
	    "\"start_ms\":1,\"end_ms\":2},{\"gateway\":\"gwA\",\"code\":200}],"
	    "\"rtp\":{\"a\":{\"rx_packets\":10,\"remote\":\"1.2.3.4:5\","
	    "\"mos\":4.1},\"c\":{}}}}";
	json_t *body = json_loads(text, 0, NULL);
	struct bd_cdr_rec rec;
	char err[256];

	(void)state;
	assert_non_null(body);
	assert_int_equal(bd_cdr_decode(&rec, body, err, sizeof(err)), 0);
	assert_string_equal(rec.id, ID);
	assert_string_equal(rec.callee, "15551234");
	assert_string_equal(rec.account, "cust1");
	assert_string_equal(rec.caller_out, "");
	assert_int_equal(rec.setup_ms, 1764149609123LL);
	assert_int_equal(rec.hold_ms, 47000);
	assert_int_equal(rec.end_code, 200);
	assert_int_equal(rec.q850, 16);
	assert_string_equal(rec.end_direction, "callee");
	assert_string_equal(rec.dtmf_a, "rfc2833");
	assert_string_equal(rec.dtmf_b, "info");
	dump(&rec);
	assert_string_equal(attempts_text,
			    "[{\"seq\":1,\"gateway\":\"gwB\",\"code\":503,"
			    "\"start_ms\":1,\"end_ms\":2},{\"seq\":2,"
			    "\"gateway\":\"gwA\",\"code\":200,\"start_ms\":0,"
			    "\"end_ms\":0}]");
	/* only the known leg fields are kept */
	assert_string_equal(rtp_text, "{\"a\":{\"rx_packets\":10,"
				      "\"remote\":\"1.2.3.4:5\"}}");
	bd_cdr_rec_reset(&rec);
	json_decref(body);
}

static void cdr_minimal(void **state)
{
	struct bd_cdr_rec rec;
	char err[256];

	(void)state;
	assert_int_equal(decode(&rec,
				"{\"cdr\":{\"id\":\"" ID "\","
				"\"setup_ms\":1,\"end_direction\":\"\"}}",
				err, sizeof(err)),
			 0);
	bd_cdr_rec_reset(&rec);
	assert_int_equal(decode(&rec,
				"{\"cdr\":{\"id\":\"" ID "\","
				"\"setup_ms\":1}}",
				err, sizeof(err)),
			 0);
	assert_int_equal(rec.hold_ms, 0);
	dump(&rec);
	assert_string_equal(attempts_text, "[]");
	assert_string_equal(rtp_text, "{}");
	bd_cdr_rec_reset(&rec);
}

static void expect_bad(const char *cdr, const char *why)
{
	char text[2048], err[256];
	struct bd_cdr_rec rec;

	snprintf(text, sizeof(text), "{\"cdr\":%s}", cdr);
	assert_int_not_equal(decode(&rec, text, err, sizeof(err)), 0);
	if (!strstr(err, why))
		fail_msg("'%s' does not mention '%s'", err, why);
	/* nothing left allocated after a failure */
	assert_null(rec.attempts);
	assert_null(rec.rtp);
}

static void cdr_malformed(void **state)
{
	char big[400];

	(void)state;
	expect_bad("5", "body.cdr: must be an object");
	expect_bad("{}", "body.cdr.id: required");
	expect_bad("{\"id\":\"nope\",\"setup_ms\":1}", "body.cdr.id");
	expect_bad("{\"id\":\"" ID "\"}", "body.cdr.setup_ms: required");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":0}", "setup_ms");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":\"1\"}", "setup_ms");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"hold_ms\":-1}",
		   "hold_ms");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"hold_ms\":1.5}",
		   "hold_ms");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"end_code\":700}",
		   "end_code");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"q850\":128}", "q850");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"callee\":7}", "callee");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,"
		   "\"end_direction\":\"up\"}",
		   "end_direction");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,"
		   "\"dtmf_a\":\"smoke\"}",
		   "dtmf_a");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"dtmf_b\":7}", "dtmf_b");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"attempts\":{}}",
		   "attempts");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"attempts\":[1]}",
		   "attempts");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,"
		   "\"attempts\":[{\"gateway\":\"g\",\"code\":200},"
		   "{\"code\":200}]}",
		   "attempts[1].gateway");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,"
		   "\"rtp\":{\"b\":{\"lost\":-1}}}",
		   "rtp.b.lost");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"rtp\":[]}", "rtp");
	expect_bad("{\"id\":\"" ID "\",\"setup_ms\":1,\"rtp\":{\"a\":1}}",
		   "rtp.a");

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char cdr[600];

		snprintf(cdr, sizeof(cdr),
			 "{\"id\":\"" ID "\",\"setup_ms\":1,"
			 "\"callee\":\"%.100s\"}",
			 big);
		expect_bad(cdr, "callee: longer than 64");
		snprintf(cdr, sizeof(cdr),
			 "{\"id\":\"" ID "\",\"setup_ms\":1,"
			 "\"call_id_a\":\"%.300s\"}",
			 big);
		expect_bad(cdr, "call_id_a: longer than 256");
	}
}

/* bd_cdr_plausible(): what no real call carries is refused, field named */
static void cdr_implausible(void **state)
{
	const int64_t now = 1796472000000LL; /* 2026-12-05 */
	struct bd_cdr_rec r;
	char err[256];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.setup_ms = now - 60000;
	r.answer_ms = now - 50000;
	r.end_ms = now;
	r.hold_ms = 50000;
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)), 0);

	/* up to SS_MAXCALLDURATION + 60 s, not a millisecond more */
	r.hold_ms = (7200 + 60) * 1000LL;
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)), 0);
	r.hold_ms++;
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)),
			 EBADMSG);
	assert_non_null(strstr(err, "hold_ms"));
	/* a ten-year hold (the attack of issue 7) */
	r.hold_ms = 3650LL * 86400 * 1000;
	assert_int_equal(bd_cdr_plausible(&r, 604800, now, err, sizeof(err)),
			 EBADMSG);
	r.hold_ms = 50000;

	/* year 9999, or far in the past */
	r.setup_ms = 253402300799000LL;
	r.answer_ms = r.end_ms = 0;
	r.hold_ms = 0;
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)),
			 EBADMSG);
	assert_non_null(strstr(err, "setup_ms"));
	r.setup_ms = now - 401 * 86400000LL;
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)),
			 EBADMSG);
	r.setup_ms = now + 11 * 60000;
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)),
			 EBADMSG);
	r.setup_ms = now - 399 * 86400000LL; /* a spool kept for months */
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)), 0);

	/* out of order, and a hold without an answer */
	r.setup_ms = now;
	r.end_ms = now - 1;
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)),
			 EBADMSG);
	r.end_ms = now;
	r.hold_ms = 1000;
	assert_int_equal(bd_cdr_plausible(&r, 7200, now, err, sizeof(err)),
			 EBADMSG);
	assert_non_null(strstr(err, "answer_ms"));
}

static void cdr_too_many_attempts(void **state)
{
	json_t *body = json_pack("{s:{s:s, s:i, s:[]}}", "cdr", "id", ID,
				 "setup_ms", 1, "attempts");
	json_t *arr = json_object_get(json_object_get(body, "cdr"), "attempts");
	struct bd_cdr_rec rec;
	char err[256];

	(void)state;
	for (int i = 0; i <= BD_CDR_MAX_ATTEMPTS; i++)
		json_array_append_new(
		    arr, json_pack("{s:s, s:i}", "gateway", "g", "code", 503));
	assert_int_not_equal(bd_cdr_decode(&rec, body, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "attempts"));
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cdr_full),
	    cmocka_unit_test(cdr_minimal),
	    cmocka_unit_test(cdr_malformed),
	    cmocka_unit_test(cdr_too_many_attempts),
	    cmocka_unit_test(cdr_implausible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
