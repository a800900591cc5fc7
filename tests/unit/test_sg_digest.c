/* test_sg_digest.c - digest verification: nonces bound to the source,
 * used once, credentials bound to the Request-URI */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "signaling/digest.h"
#include <sofia-sip/su_md5.h>

#define SECRET "0b5c6f5e-8a5b-4d7e-9a63-6a4f1d0e2c11"
#define URI    "sip:1555@127.0.0.1"
#define SRC    "192.0.2.10"

static void md5(char out[33], const char *s)
{
	su_md5_t c;

	su_md5_init(&c);
	su_md5_strupdate(&c, s);
	su_md5_hexdigest(&c, out);
}

/* a credential as a client computes it (nc 0: no qop) */
static msg_auth_t *cred(su_home_t *home, const char *user, const char *pw,
			const char *nonce, const char *uri, unsigned nc)
{
	char ha1[33], ha2[33], resp[33], buf[512], ncs[16];

	snprintf(ncs, sizeof(ncs), "%08x", nc);
	snprintf(buf, sizeof(buf), "%s:%s:%s", user, SG_DIGEST_REALM, pw);
	md5(ha1, buf);
	snprintf(buf, sizeof(buf), "INVITE:%s", uri);
	md5(ha2, buf);
	if (nc)
		snprintf(buf, sizeof(buf), "%s:%s:%s:abc:auth:%s", ha1, nonce,
			 ncs, ha2);
	else
		snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, nonce, ha2);
	md5(resp, buf);
	snprintf(buf, sizeof(buf),
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		 "uri=\"%s\", response=\"%s\"%s%s%s",
		 user, SG_DIGEST_REALM, nonce, uri, resp,
		 nc ? ", qop=auth, nc=" : "", nc ? ncs : "",
		 nc ? ", cnonce=\"abc\"" : "");
	return sip_proxy_authorization_make(home, buf);
}

static uint64_t seq;

static bool check(msg_auth_t *au, const char *uri, const char *src, int64_t now,
		  struct sg_nonces *seen, bool *stale)
{
	struct sg_digest_req rq = {"INVITE", uri, src, now};
	char ha1[SW_MD5_HEX_LEN + 1];

	/* what the database holds for alice: her HA1, never the password */
	sw_digest_ha1(ha1, "alice", "s3cret");
	return sg_digest_verify(au, &rq, "alice", ha1, SECRET, seen, stale);
}

/* the stored HA1 is RFC 2617's MD5(user:realm:password) */
static void ha1_form(void **state)
{
	char ours[SW_MD5_HEX_LEN + 1], theirs[33];

	(void)state;
	sw_digest_ha1(ours, "alice", "s3cret");
	md5(theirs, "alice:" SG_DIGEST_REALM ":s3cret");
	assert_string_equal(ours, theirs);
}

static void verify(void **state)
{
	su_home_t *home = su_home_new(sizeof(su_home_t));
	struct sg_nonces *seen;
	char nonce[96], user[64];
	bool stale;

	(void)state;
	assert_int_equal(sg_nonces_alloc(&seen), 0);
	sg_digest_nonce(nonce, sizeof(nonce), SECRET, SRC, 1000000, ++seq);
	assert_true(sg_digest_nonce_ok(nonce, SECRET, SRC, 1000010));
	assert_false(sg_digest_nonce_ok(nonce, "other", SRC, 1000010));
	assert_false(sg_digest_nonce_ok(nonce, SECRET, "192.0.2.11", 1000010));
	assert_false(sg_digest_nonce_ok(nonce, SECRET, SRC,
					1000000 + SG_NONCE_TTL_S + 1));
	assert_false(sg_digest_nonce_ok("zz.1", SECRET, SRC, 1000000));
	assert_false(sg_digest_nonce_ok("f4240.1", SECRET, SRC, 1000000));
	{
		/* two challenges in one second to one address differ */
		char other[96];

		sg_digest_nonce(other, sizeof(other), SECRET, SRC, 1000000,
				++seq);
		assert_string_not_equal(nonce, other);
	}

	assert_true(check(cred(home, "alice", "s3cret", nonce, URI, 1), URI,
			  SRC, 1000005, seen, &stale));
	assert_string_equal(
	    sg_digest_user(cred(home, "alice", "x", nonce, URI, 0), user,
			   sizeof(user)),
	    "alice");
	/* the same credential again (a replay): refused, stale */
	assert_false(check(cred(home, "alice", "s3cret", nonce, URI, 1), URI,
			   SRC, 1000006, seen, &stale));
	assert_true(stale);
	/* the client's next use of the nonce, nc 2: fine */
	assert_true(check(cred(home, "alice", "s3cret", nonce, URI, 2), URI,
			  SRC, 1000007, seen, &stale));
	/* sniffed and sent from elsewhere: the nonce is not that address's */
	assert_false(check(cred(home, "alice", "s3cret", nonce, URI, 3), URI,
			   "203.0.113.5", 1000008, seen, &stale));
	assert_true(stale);
	/* used for another number: the uri is not the Request-URI */
	assert_false(check(cred(home, "alice", "s3cret", nonce, URI, 4),
			   "sip:1999@127.0.0.1", SRC, 1000008, seen, &stale));
	assert_false(stale);
	assert_false(
	    check(cred(home, "alice", "s3cret", nonce, "sip:1999@127.0.0.1", 5),
		  URI, SRC, 1000008, seen, &stale));
	/* without qop a nonce is good once */
	sg_digest_nonce(nonce, sizeof(nonce), SECRET, SRC, 1000020, ++seq);
	assert_true(check(cred(home, "alice", "s3cret", nonce, URI, 0), URI,
			  SRC, 1000021, seen, &stale));
	assert_false(check(cred(home, "alice", "s3cret", nonce, URI, 0), URI,
			   SRC, 1000022, seen, &stale));
	assert_true(stale);
	/* wrong password */
	sg_digest_nonce(nonce, sizeof(nonce), SECRET, SRC, 1000030, ++seq);
	assert_false(check(cred(home, "alice", "wrong", nonce, URI, 1), URI,
			   SRC, 1000031, seen, &stale));
	assert_false(stale);
	/* right password, old nonce: stale */
	assert_false(check(cred(home, "alice", "s3cret", nonce, URI, 1), URI,
			   SRC, 1000030 + 1000, seen, &stale));
	assert_true(stale);
	/* another user's name; no credential */
	assert_false(check(cred(home, "bob", "s3cret", nonce, URI, 1), URI, SRC,
			   1000031, seen, &stale));
	assert_false(check(NULL, URI, SRC, 1000031, seen, &stale));
	sg_nonces_free(seen);
	su_home_unref(home);
}

/* the table of nonces in use stays bounded under any number of them */
static void bounded(void **state)
{
	su_home_t *home = su_home_new(sizeof(su_home_t));
	struct sg_nonces *seen;
	char nonce[96];
	bool stale;

	(void)state;
	assert_int_equal(sg_nonces_alloc(&seen), 0);
	for (int i = 0; i < 3 * SG_NONCES_SLOTS; i++) {
		char src[32];

		snprintf(src, sizeof(src), "10.%d.%d.%d", (i >> 16) & 255,
			 (i >> 8) & 255, i & 255);
		sg_digest_nonce(nonce, sizeof(nonce), SECRET, src, 1000000,
				++seq);
		assert_true(check(cred(home, "alice", "s3cret", nonce, URI, 1),
				  URI, src, 1000001, seen, &stale));
	}
	sg_nonces_free(seen);
	su_home_unref(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ha1_form),
	    cmocka_unit_test(verify),
	    cmocka_unit_test(bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
