// FUZZ_SOURCES: model/check.c model/schema.c model/user.c model/secret.c
// FUZZ_SOURCES: proto/identity.c
// FUZZ_SOURCES: model/pq.c common/money.c common/swtime.c proto/media.c
// FUZZ_LIBS: -ljansson -lpq -largon2
/*
 * fuzz_api_body.c - what the HTTP API does with a body and a query value
 * before any database work (billingd/api_config.c, api_users.c,
 * api_cdr.c): the bytes as a JSON object, checked as a one-object document
 * of every configuration section (POST/PATCH), as system parameters, as a
 * web user (create and update), and the bytes as a from/to time.  Nothing
 * may crash or leak; an accepted user has the fields it claims.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/swtime.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	char when[64];
	int64_t ms;

	/* a query value: the API copies at most this much */
	memcpy(when, data, size < sizeof(when) - 1 ? size : sizeof(when) - 1);
	when[size < sizeof(when) - 1 ? size : sizeof(when) - 1] = '\0';
	if (sw_time_parse(when, &ms) && ms < -62167219200000LL)
		abort(); /* before year 0: the parser's range is broken */

	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	for (size_t s = 0; s < md_nsections; s++) {
		struct md_doc doc = {0};
		json_t *root = json_pack("{s:[O]}", md_sections[s].key, body);

		md_doc_check(&doc, root);
		md_doc_free(&doc);
		json_decref(root);
	}
	{
		struct md_doc doc = {0};
		json_t *root = json_pack("{s:O}", "system_parameters", body);

		md_doc_check(&doc, root);
		md_doc_free(&doc);
		json_decref(root);
	}
	for (int create = 0; create < 2; create++) {
		struct md_user u;

		if (md_user_check(&u, body, create))
			continue;
		if (create && (!u.username || !u.password || !u.role))
			abort();
		if (u.username && !md_username_valid(u.username))
			abort();
		if (u.password && md_password_problem(u.password))
			abort();
	}
	json_decref(body);
	return 0;
}
