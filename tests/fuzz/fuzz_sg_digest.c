// FUZZ_SOURCES: signaling/digest.c common/md5.c
// FUZZ_LIBS: -lsofia-sip-ua -lcrypto
/*
 * fuzz_sg_digest.c - digest credentials and nonces (signaling/digest.c):
 * any bytes as a nonce and as a Proxy-Authorization value, verified
 * against a request; nothing may crash, and nothing but the right
 * password with a nonce made here may pass.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sg_nonces *seen;
	su_home_t *home;
	char *text;
	struct sg_digest_req rq = {"INVITE", "sip:1555@127.0.0.1", "192.0.2.1",
				   1000000};
	msg_auth_t *au;
	bool stale;

	if (!seen && sg_nonces_alloc(&seen))
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)sg_digest_nonce_ok(text, "secret", "192.0.2.1", 1000000);
	home = su_home_new(sizeof(*home));
	au = home ? sip_proxy_authorization_make(home, text) : NULL;
	/* HA1 of alice:tandem:s3cret */
	if (au && sg_digest_verify(au, &rq, "alice",
				   "8216e56a90d63ce18e11ebcdf6ad1147", "secret",
				   seen, &stale))
		abort(); /* no nonce of ours can be in random bytes */
	su_home_unref(home);
	free(text);
	return 0;
}
