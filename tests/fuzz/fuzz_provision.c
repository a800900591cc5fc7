// FUZZ_SOURCES: model/check.c model/schema.c common/money.c proto/media.c
// FUZZ_SOURCES: proto/identity.c
// FUZZ_LIBS: -ljansson
/*
 * fuzz_provision.c - the provisioning validator (model/check.c)
 *
 * Any byte string is parsed as JSON the way `tandemctl provision` reads a
 * file and, when it parses, checked with md_doc_check().  The validator must
 * neither crash nor leak, and must accept a document only with zero errors.
 * It also round-trips the helpers the checks use.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_doc doc = {0};
	json_error_t jerr;
	json_t *root;
	char *s;
	int err;

	root =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (root) {
		err = md_doc_check(&doc, root);
		if ((err == 0) != (doc.nerrs == 0))
			abort();
		/* a valid document has canonical values everywhere */
		for (size_t i = 0; !err && i < doc.nobjs; i++) {
			const struct md_obj *o = &doc.objs[i];

			if (!o->name || !o->vals)
				abort();
			for (size_t k = 0; k < o->sec->nfields; k++) {
				if (o->vals[k].set && !o->vals[k].null &&
				    !o->vals[k].text)
					abort();
			}
		}
		md_doc_free(&doc);
		json_decref(root);
	}

	/* the string helpers on the raw bytes */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)md_ip_or_cidr_valid(s);
	(void)md_host_valid(s);
	if (size >= 8) {
		int64_t v;
		char buf[32];

		memcpy(&v, data, sizeof(v));
		if (md_money_str(buf, sizeof(buf), v))
			abort();
	}
	free(s);
	return 0;
}
