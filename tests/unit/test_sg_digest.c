/* test_sg_digest.c - digest verification and stateless nonces */
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

static void md5(char out[33], const char *s)
{
	su_md5_t c;

	su_md5_init(&c);
	su_md5_strupdate(&c, s);
	su_md5_hexdigest(&c, out);
}

/* a credential as a client computes it */
static msg_auth_t *cred(su_home_t *home, const char *user, const char *pw,
			const char *nonce, bool qop)
{
	char ha1[33], ha2[33], resp[33], buf[512];

	snprintf(buf, sizeof(buf), "%s:%s:%s", user, SG_DIGEST_REALM, pw);
	md5(ha1, buf);
	md5(ha2, "INVITE:sip:1555@127.0.0.1");
	if (qop)
		snprintf(buf, sizeof(buf), "%s:%s:00000001:abc:auth:%s", ha1,
			 nonce, ha2);
	else
		snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, nonce, ha2);
	md5(resp, buf);
	snprintf(buf, sizeof(buf),
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		 "uri=\"sip:1555@127.0.0.1\", response=\"%s\"%s",
		 user, SG_DIGEST_REALM, nonce, resp,
		 qop ? ", qop=auth, nc=00000001, cnonce=\"abc\"" : "");
	return sip_proxy_authorization_make(home, buf);
}

static void verify(void **state)
{
	su_home_t *home = su_home_new(sizeof(su_home_t));
	char nonce[96], user[64];
	bool stale;

	(void)state;
	sg_digest_nonce(nonce, sizeof(nonce), SECRET, 1000000);
	assert_true(sg_digest_nonce_ok(nonce, SECRET, 1000010));
	assert_false(sg_digest_nonce_ok(nonce, "other", 1000010));
	assert_false(sg_digest_nonce_ok(nonce, SECRET, 1000000 + 301));
	assert_false(sg_digest_nonce_ok("zz.1", SECRET, 1000000));

	assert_true(sg_digest_verify(cred(home, "alice", "s3cret", nonce, true),
				     "INVITE", "alice", "s3cret", SECRET,
				     1000005, &stale));
	assert_true(sg_digest_verify(cred(home, "alice", "s3cret", nonce,
					  false),
				     "INVITE", "alice", "s3cret", SECRET,
				     1000005, &stale));
	assert_string_equal(sg_digest_user(cred(home, "alice", "x", nonce,
						 false),
					    user, sizeof(user)),
			    "alice");
	/* wrong password */
	assert_false(sg_digest_verify(cred(home, "alice", "wrong", nonce, true),
				      "INVITE", "alice", "s3cret", SECRET,
				      1000005, &stale));
	assert_false(stale);
	/* right password, old nonce: stale */
	assert_false(sg_digest_verify(cred(home, "alice", "s3cret", nonce,
					   true),
				      "INVITE", "alice", "s3cret", SECRET,
				      1000000 + 1000, &stale));
	assert_true(stale);
	/* another user's name */
	assert_false(sg_digest_verify(cred(home, "bob", "s3cret", nonce, true),
				      "INVITE", "alice", "s3cret", SECRET,
				      1000005, &stale));
	assert_false(sg_digest_verify(NULL, "INVITE", "alice", "s3cret",
				      SECRET, 1000005, &stale));
	su_home_unref(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
