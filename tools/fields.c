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
#include "tools/prov.h"

static void range(char *buf, size_t size, const struct tc_field *f)
{
	char a[32], b[32];

	switch (f->kind) {
	case TC_INT:
		snprintf(buf, size, "%lld..%lld", (long long)f->min,
			 (long long)f->max);
		break;
	case TC_MONEY:
		tc_money_str(a, sizeof(a), f->min);
		tc_money_str(b, sizeof(b), f->max);
		snprintf(buf, size, "%s..%s, at most 6 decimals",
			 f->min < 0 ? "any" : a, b);
		if (f->min < 0)
			snprintf(buf, size, "± %s, at most 6 decimals", b);
		break;
	case TC_TEXT:
	case TC_DIALSTR:
	case TC_PREFIX:
	case TC_HOST:
		snprintf(buf, size, "%lld..%lld characters%s",
			 (long long)f->min, (long long)f->max,
			 f->kind == TC_DIALSTR	? " of 0-9 * # +"
			 : f->kind == TC_PREFIX ? " of 0-9"
						: "");
		break;
	case TC_ENUM:
		buf[0] = '\0';
		for (size_t i = 0; f->enums[i]; i++)
			snprintf(buf + strlen(buf), size - strlen(buf),
				 "%s`%s`", i ? ", " : "", f->enums[i]);
		break;
	case TC_INT_LIST:
		snprintf(buf, size,
			 "each %lld..%lld, at most %zu, no duplicates",
			 (long long)f->min, (long long)f->max, f->max_items);
		break;
	case TC_PREFIX_LIST:
	case TC_PREFIX_SET:
		snprintf(buf, size,
			 "digits, 0..%lld each, at most %zu, no "
			 "duplicates",
			 (long long)f->max, f->max_items);
		break;
	case TC_IP_LIST:
		snprintf(buf, size,
			 "IPv4/IPv6 address or CIDR (host bits 0), at"
			 " most %zu",
			 f->max_items);
		break;
	case TC_REF:
		snprintf(buf, size, "an existing %s or one in the file",
			 tc_section_find(f->ref)->noun);
		break;
	case TC_REF_LIST:
		snprintf(buf, size, "names of %ss, at most %zu",
			 tc_section_find(f->ref)->noun, f->max_items);
		break;
	case TC_ENUM_SET:
		buf[0] = '\0';
		for (size_t i = 0; f->enums[i]; i++)
			snprintf(buf + strlen(buf), size - strlen(buf),
				 "%s`%s`", i ? ", " : "", f->enums[i]);
		break;
	case TC_MEDIA:
		snprintf(buf, size, "an object, see \"Media settings\"");
		break;
	case TC_IDENTITY:
		snprintf(buf, size, "an object, see \"Caller identity\"");
		break;
	case TC_CALLER_POOL:
		snprintf(buf, size, "an object, see \"Caller identity\"");
		break;
	case TC_DIALPLAN:
		snprintf(buf, size, "at most %zu rules, see \"Dial plans\"",
			 f->max_items);
		break;
	case TC_RATE_ENTRIES:
		snprintf(buf, size, "at most %zu entries, prefixes unique",
			 f->max_items);
		break;
	case TC_TIME:
		snprintf(buf, size, "`HH:MM` or `HH:MM:SS`, 00:00..24:00");
		break;
	case TC_TZ:
		snprintf(buf, size,
			 "a name PostgreSQL knows "
			 "(`pg_timezone_names`)");
		break;
	case TC_DATE_SET:
		snprintf(buf, size, "`YYYY-MM-DD`, at most %zu, no duplicates",
			 f->max_items);
		break;
	default:
		snprintf(buf, size, "`true`/`false`");
		break;
	}
}

static const char *type_name(const struct tc_field *f)
{
	static const char *const names[] = {
	    [TC_TEXT] = "string",
	    [TC_DIALSTR] = "string",
	    [TC_PREFIX] = "string",
	    [TC_HOST] = "string",
	    [TC_INT] = "integer",
	    [TC_BOOL] = "boolean",
	    [TC_MONEY] = "money string",
	    [TC_ENUM] = "string",
	    [TC_REF] = "name",
	    [TC_INT_LIST] = "list of integers",
	    [TC_PREFIX_LIST] = "list of strings",
	    [TC_IP_LIST] = "list of strings",
	    [TC_REF_LIST] = "list of names",
	    [TC_ENUM_SET] = "set of strings",
	    [TC_DIALPLAN] = "list of rules",
	    [TC_MEDIA] = "object",
	    [TC_IDENTITY] = "object",
	    [TC_CALLER_POOL] = "object",
	    [TC_PREFIX_SET] = "set of strings",
	    [TC_RATE_ENTRIES] = "list of entries",
	    [TC_TIME] = "string",
	    [TC_TZ] = "string",
	    [TC_DATE_SET] = "set of strings",
	};

	return names[f->kind];
}

/* tandemctl fields */
int tc_cmd_fields(void)
{
	char buf[256];

	for (size_t s = 0; s < tc_nsections; s++) {
		const struct tc_section *sec = &tc_sections[s];

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
			const struct tc_field *f = &sec->fields[i];

			range(buf, sizeof(buf), f);
			bool req = f->def[0] == '(';

			printf("| `%s` | %s%s | %s%s%s | %s | %s%s%s |\n",
			       f->key, type_name(f),
			       f->flags & TC_F_NULLABLE ? " or null" : "",
			       req ? "" : "`", f->def, req ? "" : "`", buf,
			       f->help,
			       f->flags & TC_F_SECRET ? " (never printed)" : "",
			       f->flags & TC_F_CREATE_ONLY ? " (creation only)"
							   : "");
		}
		printf("\n");
	}

	printf("### `system_parameters`\n\n");
	printf("| name | default | range | meaning |\n|---|---|---|---|\n");
	for (const struct tc_param_def *p = tc_params; p->name; p++) {
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
