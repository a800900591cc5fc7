/*
 * openapi.c - the API's OpenAPI 3.1 document, from the model itself
 *
 * The routes that are not configuration sections are described by hand in
 * model/openapi_base.json (built into the binary); every configuration
 * section's paths and schemas are generated here from model/schema.c, so
 * the document cannot drift from what the API accepts.  billingd serves it
 * at /api/v1/openapi.json; `tandemctl openapi` prints it (docs/openapi.json
 * is that output, checked by the tests).
 *
 * Threading: no shared state.
 */
#include <stdio.h>
#include <string.h>

#include "model/model.h"

/* model/openapi_base.json, NUL-terminated, in .rodata */
__asm__(".section .rodata\n"
	".global md_openapi_base\n"
	".type md_openapi_base, @object\n"
	"md_openapi_base:\n"
	".incbin \"model/openapi_base.json\"\n"
	".byte 0\n"
	".previous\n");
extern const char md_openapi_base[];

static json_t *ref(const char *name)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "#/components/%s", name);
	return json_pack("{s:s}", "$ref", buf);
}

static json_t *enum_of(const char *const *enums)
{
	json_t *list = json_array();

	for (size_t i = 0; enums && enums[i]; i++)
		json_array_append_new(list, json_string(enums[i]));
	return json_pack("{s:o}", "enum", list);
}

static json_t *strings(void)
{
	return json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type",
			 "string");
}

static json_t *field_schema(const struct md_field *f)
{
	json_t *s;

	switch (f->kind) {
	case MD_INT:
		s = json_pack("{s:s, s:I, s:I}", "type", "integer", "minimum",
			      (json_int_t)f->min, "maximum",
			      (json_int_t)f->max);
		break;
	case MD_BOOL:
		s = json_pack("{s:s}", "type", "boolean");
		break;
	case MD_MONEY:
		s = ref("schemas/Money");
		break;
	case MD_ENUM:
		s = enum_of(f->enums);
		break;
	case MD_TEXT:
		s = json_pack("{s:s, s:I}", "type", "string", "maxLength",
			      (json_int_t)f->max);
		break;
	case MD_INT_LIST:
		s = json_pack("{s:s, s:{s:s}}", "type", "array", "items",
			      "type", "integer");
		break;
	case MD_PREFIX_LIST:
	case MD_IP_LIST:
	case MD_REF_LIST:
	case MD_PREFIX_SET:
	case MD_DATE_SET:
		s = strings();
		break;
	case MD_ENUM_SET:
		s = json_pack("{s:s, s:o}", "type", "array", "items",
			      enum_of(f->enums));
		break;
	case MD_RATE_ENTRIES:
		s = json_pack("{s:s, s:o}", "type", "array", "items",
			      ref("schemas/RateEntry"));
		break;
	case MD_DIALPLAN:
		s = json_pack("{s:s}", "type", "array");
		break;
	case MD_MEDIA:
	case MD_IDENTITY:
	case MD_CALLER_POOL:
		s = json_pack("{s:s}", "type", "object");
		break;
	default: /* names, numbers, hosts, times, time zones */
		s = json_pack("{s:s}", "type", "string");
		break;
	}
	if (f->help)
		json_object_set_new(s, "description", json_string(f->help));
	if (f->flags & MD_F_NULLABLE)
		s = json_pack("{s:[o,{s:s}]}", "anyOf", s, "type", "null");
	return s;
}

/* "<Section>" (as read) or "<Section>Input" (as written) */
static json_t *section_schema(const struct md_section *sec, bool input)
{
	json_t *props = json_object();
	const char *id = md_section_id(sec);

	json_object_set_new(props, id, json_pack("{s:s}", "type", "string"));
	for (size_t k = 0; k < sec->nfields; k++) {
		const struct md_field *f = &sec->fields[k];

		if ((f->flags & MD_F_SECRET) && !input)
			continue;
		json_object_set_new(props, f->key, field_schema(f));
		if (f->kind == MD_RATE_ENTRIES && !input)
			json_object_set_new(
			    props, "entry_count",
			    json_pack("{s:s, s:s}", "type", "integer",
				      "description",
				      "in lists, instead of the entries"));
	}
	return json_pack("{s:s, s:o, s:[s], s:b, s:s}", "type", "object",
			 "properties", props, "required", id,
			 "additionalProperties", 0, "description",
			 input ? "as in a provisioning file (docs/"
				 "provisioning.md); on update only the "
				 "given fields change"
			       : "as in a provisioning file; secrets are "
				 "never returned");
}

static json_t *errors(const char *const *codes)
{
	json_t *r = json_object();

	for (size_t i = 0; codes[i]; i++)
		json_object_set_new(r, codes[i], ref("responses/Error"));
	return r;
}

static json_t *ok(const char *code, const char *desc, json_t *schema,
		  json_t *rest)
{
	json_object_set_new(
	    rest, code,
	    schema ? json_pack("{s:s, s:{s:{s:o}}}", "description", desc,
			       "content", "application/json", "schema", schema)
		   : ref("responses/NoContent"));
	return rest;
}

static void add_section(json_t *paths, json_t *schemas,
			const struct md_section *sec)
{
	static const char *const e_list[] = {"400", "401", "403", "503", NULL};
	static const char *const e_create[] = {"400", "401", "403",
					       "409", "503", NULL};
	static const char *const e_get[] = {"400", "401", "403",
					    "404", "503", NULL};
	static const char *const e_write[] = {"400", "401", "403", "404",
					      "409", "412", "503", NULL};
	char name[96], sref[128], iref[128], path[160];
	json_t *page;

	/* RoutingGateway from "routing gateway" */
	{
		size_t n = 0;
		bool up = true;

		for (const char *p = sec->noun; *p && n + 2 < sizeof(name);
		     p++) {
			if (*p == ' ') {
				up = true;
				continue;
			}
			name[n++] = up && *p >= 'a' && *p <= 'z'
					? (char)(*p - 'a' + 'A')
					: *p;
			up = false;
		}
		name[n] = '\0';
	}
	json_object_set_new(schemas, name, section_schema(sec, false));
	snprintf(sref, sizeof(sref), "schemas/%s", name);
	snprintf(iref, sizeof(iref), "%sInput", name);
	json_object_set_new(schemas, iref, section_schema(sec, true));
	snprintf(iref, sizeof(iref), "schemas/%sInput", name);

	page = json_pack(
	    "{s:s, s:[s,s,s,s], s:{s:{s:s, s:o}, s:{s:s}, s:{s:s}, s:{s:s}}}",
	    "type", "object", "required", "items", "total", "limit", "offset",
	    "properties", "items", "type", "array", "items", ref(sref), "total",
	    "type", "integer", "limit", "type", "integer", "offset", "type",
	    "integer");
	snprintf(path, sizeof(path), "/api/v1/%s", sec->key);
	json_object_set_new(
	    paths, path,
	    json_pack("{s:{s:s, s:[o,o], s:o}, s:{s:s, s:{s:b, s:{s:{s:o}}}, "
		      "s:o}}",
		      "get", "summary", sec->noun, "parameters",
		      ref("parameters/limit"), ref("parameters/offset"),
		      "responses", ok("200", "a page", page, errors(e_list)),
		      "post", "summary", "create", "requestBody", "required", 1,
		      "content", "application/json", "schema", ref(iref),
		      "responses",
		      ok("201", "created", ref(sref), errors(e_create))));
	snprintf(path, sizeof(path), "/api/v1/%s/{name}", sec->key);
	json_object_set_new(
	    paths, path,
	    json_pack(
		"{s:[o], s:{s:s, s:o}, s:{s:s, s:[o], s:{s:b, "
		"s:{s:{s:o}}}, s:o}, s:{s:s, s:[o], s:o}}",
		"parameters", ref("parameters/name"), "get", "summary",
		"one object, with its ETag", "responses",
		ok("200", "the object", ref(sref), errors(e_get)), "patch",
		"summary", "change the given fields", "parameters",
		ref("parameters/ifMatch"), "requestBody", "required", 1,
		"content", "application/json", "schema", ref(iref), "responses",
		ok("200", "the object", ref(sref), errors(e_write)), "delete",
		"summary", "delete", "parameters", ref("parameters/ifMatch"),
		"responses", ok("204", NULL, NULL, errors(e_write))));
}

/*
 * What any route but /healthz may answer: 403 (Web Access Control, role)
 * and 503 (database or API busy); 401 where a caller is needed.
 */
static void every_operation(json_t *paths)
{
	static const char *const methods[] = {"get", "post", "patch", "delete",
					      NULL};
	const char *path;
	json_t *item;

	json_object_foreach(paths, path, item)
	{
		if (!strcmp(path, "/healthz"))
			continue;
		for (size_t m = 0; methods[m]; m++) {
			json_t *op = json_object_get(item, methods[m]);
			json_t *resp = json_object_get(op, "responses");

			if (!resp)
				continue;
			if (!json_object_get(resp, "403"))
				json_object_set_new(resp, "403",
						    ref("responses/Error"));
			if (!json_object_get(resp, "503"))
				json_object_set_new(resp, "503",
						    ref("responses/Error"));
			if (strcmp(path, "/api/v1/login") &&
			    !json_object_get(resp, "401"))
				json_object_set_new(resp, "401",
						    ref("responses/Error"));
		}
	}
}

/* The whole document (a new reference), or NULL when out of memory. */
json_t *md_openapi(void)
{
	json_t *doc = json_loads(md_openapi_base, 0, NULL);
	json_t *paths = json_object_get(doc, "paths");
	json_t *schemas =
	    json_object_get(json_object_get(doc, "components"), "schemas");

	if (!paths || !schemas) {
		json_decref(doc);
		return NULL;
	}
	json_object_set_new(
	    schemas, "RateEntry",
	    json_pack("{s:s, s:[s], s:b, s:{s:{s:s}, s:{s:s}, s:o, s:{s:s}, "
		      "s:o, s:{s:s}, s:o}}",
		      "type", "object", "required", "prefix",
		      "additionalProperties", 0, "properties", "prefix", "type",
		      "string", "area_name", "type", "string", "connect_fee",
		      ref("schemas/Money"), "first_interval", "type", "integer",
		      "first_rate", ref("schemas/Money"), "next_interval",
		      "type", "integer", "next_rate", ref("schemas/Money")));
	for (size_t s = 0; s < md_nsections; s++)
		add_section(paths, schemas, &md_sections[s]);
	every_operation(paths);
	return doc;
}
