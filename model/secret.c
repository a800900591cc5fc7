/*
 * secret.c - web users' passwords and the API's random tokens
 *
 * Passwords are hashed with argon2id (libargon2) in its encoded form
 * ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so the parameters travel
 * with the hash and can be raised later without breaking old ones.
 * MD_ARGON2_* follow OWASP's minimum for argon2id (19 MiB, 2 passes).
 * Session and API tokens are 32 bytes of getrandom(2), in hex; only their
 * SHA-256 is stored (by SQL, sha256()).
 *
 * Threading: no shared state; hashing takes tens of ms (never on a loop).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>

#include "model/model.h"

#define MD_ARGON2_T	  2
#define MD_ARGON2_M_KIB	  19456
#define MD_ARGON2_P	  1
#define MD_ARGON2_SALT	  16
#define MD_ARGON2_HASHLEN 32

static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		got += (size_t)r;
	}
	return 0;
}

/* A new argon2id hash of password into out (MD_PASSWORD_HASH_MAX). */
int md_password_hash(const char *password, char *out, size_t size)
{
	unsigned char salt[MD_ARGON2_SALT];
	int err;

	if (!password || !out)
		return EINVAL;
	err = random_bytes(salt, sizeof(salt));
	if (err)
		return err;
	if (argon2_encodedlen(MD_ARGON2_T, MD_ARGON2_M_KIB, MD_ARGON2_P,
			      sizeof(salt), MD_ARGON2_HASHLEN,
			      Argon2_id) > size)
		return ENOSPC;
	if (argon2id_hash_encoded(MD_ARGON2_T, MD_ARGON2_M_KIB, MD_ARGON2_P,
				  password, strlen(password), salt,
				  sizeof(salt), MD_ARGON2_HASHLEN, out,
				  size) != ARGON2_OK)
		return EINVAL;
	return 0;
}

/* true when password matches the encoded argon2id hash */
bool md_password_verify(const char *encoded, const char *password)
{
	if (!encoded || !password || strncmp(encoded, "$argon2id$", 10))
		return false;
	return argon2id_verify(encoded, password, strlen(password)) ==
	       ARGON2_OK;
}

/*
 * A password a person may choose: 10..128 bytes, not all one kind of
 * character.  NULL when fine, else why not.
 */
const char *md_password_problem(const char *password)
{
	size_t len = password ? strlen(password) : 0;
	bool lower = false, upper = false, digit = false, other = false;

	if (len < 10)
		return "at least 10 characters";
	if (len > 128)
		return "at most 128 characters";
	for (const char *p = password; *p; p++) {
		if (*p >= 'a' && *p <= 'z')
			lower = true;
		else if (*p >= 'A' && *p <= 'Z')
			upper = true;
		else if (*p >= '0' && *p <= '9')
			digit = true;
		else
			other = true;
	}
	if ((int)lower + (int)upper + (int)digit + (int)other < 2)
		return "mix at least two of: lower case, upper case, digits, "
		       "other characters";
	return NULL;
}

/* prefix + 64 hex characters of getrandom(2) into out */
int md_token_new(const char *prefix, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];
	size_t plen = prefix ? strlen(prefix) : 0;
	int err;

	if (!out || size < plen + 2 * sizeof(raw) + 1)
		return ENOSPC;
	err = random_bytes(raw, sizeof(raw));
	if (err)
		return err;
	memcpy(out, prefix ? prefix : "", plen);
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[plen + 2 * i] = hex[raw[i] >> 4];
		out[plen + 2 * i + 1] = hex[raw[i] & 15];
	}
	out[plen + 2 * sizeof(raw)] = '\0';
	return 0;
}
