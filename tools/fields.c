/*
 * fields.c - `tandemctl fields`: the provisioning field reference as
 * Markdown, printed from the very tables the validator uses (prov_schema.c),
 * so docs/provisioning.md can be regenerated and never drifts from the code.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/money.h"
#include "tools/ctl.h"
#include "model/model.h"

static void range(char *buf, size_t size, const struct md_field *f)
{
	char a[32], b[32];

	switch (f->kind) {
	case MD_INT:
		snprintf(buf, size, "%lld..%lld", (long long)f->min,
			 (long long)f->max);
		break;
	case MD_MONEY:
		md_money_str(a, sizeof(a), f->min);
		md_money_str(b, sizeof(b), f->max);
		snprintf(buf, size, "%s..%s, at most 6 decimals",
			 f->min < 0 ? "any" : a, b);
		if (f->min < 0)
			snprintf(buf, size, "± %s, at most 6 decimals", b);
		break;
	case MD_TEXT:
	case MD_DIALSTR:
	case MD_PREFIX:
	case MD_HOST:
		snprintf(buf, size, "%lld..%lld characters%s",
			 (long long)f->min, (long long)f->max,
			 f->kind == MD_DIALSTR	? " of 0-9 * # +"
			 : f->kind == MD_PREFIX ? " of 0-9"
						: "");
		break;
	case MD_ENUM:
		buf[0] = '\0';
		for (size_t i = 0; f->enums[i]; i++)
			snprintf(buf + strlen(buf), size - strlen(buf),
				 "%s`%s`", i ? ", " : "", f->enums[i]);
		break;
	case MD_INT_LIST:
		snprintf(buf, size,
			 "each %lld..%lld, at most %zu, no duplicates",
			 (long long)f->min, (long long)f->max, f->max_items);
		break;
	case MD_PREFIX_LIST:
	case MD_PREFIX_SET:
		snprintf(buf, size,
			 "digits, 0..%lld each, at most %zu, no "
			 "duplicates",
			 (long long)f->max, f->max_items);
		break;
	case MD_IP_LIST:
		snprintf(buf, size,
			 "IPv4/IPv6 address or CIDR (host bits 0), at"
			 " most %zu",
			 f->max_items);
		break;
	case MD_REF:
		snprintf(buf, size, "an existing %s or one in the file",
			 md_section_find(f->ref)->noun);
		break;
	case MD_REF_LIST:
		snprintf(buf, size, "names of %ss, at most %zu",
			 md_section_find(f->ref)->noun, f->max_items);
		break;
	case MD_ENUM_SET:
		buf[0] = '\0';
		for (size_t i = 0; f->enums[i]; i++)
			snprintf(buf + strlen(buf), size - strlen(buf),
				 "%s`%s`", i ? ", " : "", f->enums[i]);
		break;
	case MD_MEDIA:
		snprintf(buf, size, "an object, see \"Media settings\"");
		break;
	case MD_IDENTITY:
		snprintf(buf, size, "an object, see \"Caller identity\"");
		break;
	case MD_CALLER_POOL:
		snprintf(buf, size, "an object, see \"Caller identity\"");
		break;
	case MD_DIALPLAN:
		snprintf(buf, size, "at most %zu rules, see \"Dial plans\"",
			 f->max_items);
		break;
	case MD_RATE_ENTRIES:
		snprintf(buf, size, "at most %zu entries, prefixes unique",
			 f->max_items);
		break;
	case MD_TIME:
		snprintf(buf, size, "`HH:MM` or `HH:MM:SS`, 00:00..24:00");
		break;
	case MD_TZ:
		snprintf(buf, size,
			 "a name PostgreSQL knows "
			 "(`pg_timezone_names`)");
		break;
	case MD_DATE_SET:
		snprintf(buf, size, "`YYYY-MM-DD`, at most %zu, no duplicates",
			 f->max_items);
		break;
	default:
		snprintf(buf, size, "`true`/`false`");
		break;
	}
}

static const char *type_name(const struct md_field *f)
{
	static const char *const names[] = {
	    [MD_TEXT] = "string",
	    [MD_DIALSTR] = "string",
	    [MD_PREFIX] = "string",
	    [MD_HOST] = "string",
	    [MD_INT] = "integer",
	    [MD_BOOL] = "boolean",
	    [MD_MONEY] = "money string",
	    [MD_ENUM] = "string",
	    [MD_REF] = "name",
	    [MD_INT_LIST] = "list of integers",
	    [MD_PREFIX_LIST] = "list of strings",
	    [MD_IP_LIST] = "list of strings",
	    [MD_REF_LIST] = "list of names",
	    [MD_ENUM_SET] = "set of strings",
	    [MD_DIALPLAN] = "list of rules",
	    [MD_MEDIA] = "object",
	    [MD_IDENTITY] = "object",
	    [MD_CALLER_POOL] = "object",
	    [MD_PREFIX_SET] = "set of strings",
	    [MD_RATE_ENTRIES] = "list of entries",
	    [MD_TIME] = "string",
	    [MD_TZ] = "string",
	    [MD_DATE_SET] = "set of strings",
	};

	return names[f->kind];
}

/* tandemctl fields */
int tc_cmd_fields(void)
{
	char buf[256];

	for (size_t s = 0; s < md_nsections; s++) {
		const struct md_section *sec = &md_sections[s];

		printf("### `%s`\n\n", sec->key);
		printf("| field | type | default | range | meaning |\n");
		printf("|---|---|---|---|---|\n");
		if (sec->id && !strcmp(sec->id, "number"))
			printf("| `number` | string | (required) | 1..32 of "
			       "0-9 * # + | identifies the %s |\n",
			       sec->noun);
		else
			printf("| `name` | string | (required) | 1..64 "
			       "characters, no control characters | "
			       "identifies the %s |\n",
			       sec->noun);
		printf("| `delete` | boolean | `false` | | `true` removes the "
		       "%s |\n",
		       sec->noun);
		for (size_t i = 0; i < sec->nfields; i++) {
			const struct md_field *f = &sec->fields[i];

			range(buf, sizeof(buf), f);
			bool req = f->def[0] == '(';

			printf("| `%s` | %s%s | %s%s%s | %s | %s%s%s |\n",
			       f->key, type_name(f),
			       f->flags & MD_F_NULLABLE ? " or null" : "",
			       req ? "" : "`", f->def, req ? "" : "`", buf,
			       f->help,
			       f->flags & MD_F_SECRET ? " (never printed)" : "",
			       f->flags & MD_F_CREATE_ONLY ? " (creation only)"
							   : "");
		}
		printf("\n");
	}

	printf("### `system_parameters`\n\n");
	printf("| name | default | range | meaning |\n|---|---|---|---|\n");
	for (const struct md_param_def *p = md_params; p->name; p++) {
		if (p->text)
			snprintf(buf, sizeof(buf),
				 "text, %lld..%lld characters",
				 (long long)p->min, (long long)p->max);
		else if (!strcmp(p->name, "SS_ECHOCANCELTAIL"))
			snprintf(buf, sizeof(buf), "64, 128 or 256");
		else
			snprintf(buf, sizeof(buf), "%lld..%lld",
				 (long long)p->min, (long long)p->max);
		printf("| `%s` | %s%s%s | %s | %s |\n", p->name,
		       *p->def ? "`" : "", *p->def ? p->def : "daemon's",
		       *p->def ? "`" : "", buf, p->help);
	}
	return 0;
}

/* tandemctl openapi: the API's OpenAPI document (docs/openapi.json) */
int tc_cmd_openapi(void)
{
	json_t *doc = md_openapi();
	int ret;

	if (!doc) {
		fprintf(stderr, "tandemctl: out of memory\n");
		return 1;
	}
	ret = json_dumpf(doc, stdout, JSON_INDENT(1)) ? 1 : 0;
	putchar('\n');
	json_decref(doc);
	return ret;
}
