/*
 * live.c - tandemctl's live control, through billingd's HTTP API
 *
 *   tandemctl calls [ACCOUNT]            current calls
 *   tandemctl hangup CALL_ID             end a call (OperatorHangup)
 *   tandemctl route NUMBER [MAPPING_GW]  routing analysis
 *   tandemctl lock|unlock GATEWAY        a routing gateway, at once
 *   tandemctl users                      web users (GET /api/v1/users)
 *   tandemctl cdr export [KEY=VALUE...]  CDRs as CSV on stdout; keys:
 *                                        from to result number account
 *                                        gateway (docs/api.md)
 *
 * Exit status: 0 done, 1 refused or failed (the API's message on stderr),
 * 2 usage, 4 not found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tools/ctl.h"

/* call the API; prints why on failure; the parsed JSON answer or NULL */
static json_t *call(const struct tc_opts *o, const char *method,
		    const char *path, json_t *body, int *exitp)
{
	char err[512], *text = NULL, *b = NULL;
	const char *msg;
	json_t *root;
	int status;

	if (body)
		b = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (tc_http(tc_api_base(o), method, path, b, o->timeout_ms, NULL,
		    &status, &text, err, sizeof(err))) {
		fprintf(stderr,
			"tandemctl: billingd API at %s is unreachable: "
			"%s\n",
			tc_api_base(o), err);
		free(b);
		*exitp = 1;
		return NULL;
	}
	free(b);
	root = json_loads(text, JSON_DECODE_ANY, NULL);
	free(text);
	if (status >= 200 && status < 300) {
		*exitp = 0;
		return root ? root : json_object();
	}
	msg = json_string_value(
	    json_object_get(json_object_get(root, "error"), "message"));
	fprintf(stderr, "tandemctl: %s %s: HTTP %d%s%s\n", method, path, status,
		msg ? ": " : "", msg ? msg : "");
	if (status == 401)
		fprintf(stderr, "tandemctl: set TANDEM_API_TOKEN (tandemctl "
				"user token USER NAME)\n");
	json_decref(root);
	*exitp = status == 404 ? 4 : 1;
	return NULL;
}

/* a path segment or query value, percent-encoded */
static char *esc(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);

	return e ? e : strdup("");
}

static const char *str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v && *v ? v : "-";
}

static int calls(const struct tc_opts *o, const char *account)
{
	char path[512];
	json_t *root, *c;
	size_t i;
	int ret;

	if (account) {
		char *a = esc(account);

		snprintf(path, sizeof(path), "/api/v1/calls?account=%s", a);
		curl_free(a);
	} else {
		snprintf(path, sizeof(path), "/api/v1/calls");
	}
	root = call(o, "GET", path, NULL, &ret);
	if (!root)
		return ret;
	printf("%-36s %-10s %-16s %-16s %-12s %-12s %-8s %s/%s\n", "ID",
	       "STATE", "CALLER", "CALLEE", "ACCOUNT", "GATEWAY", "SECS",
	       "CODEC_A", "CODEC_B");
	json_array_foreach(json_object_get(root, "items"), i, c)
	{
		printf("%-36s %-10s %-16s %-16s %-12s %-12s %-8lld %s/%s\n",
		       str(c, "id"), str(c, "state"), str(c, "caller"),
		       str(c, "callee"), str(c, "account"),
		       str(c, "routing_gateway"),
		       (long long)json_integer_value(
			   json_object_get(c, "duration_s")),
		       str(c, "codec_a"), str(c, "codec_b"));
	}
	json_decref(root);
	return 0;
}

static int hangup(const struct tc_opts *o, const char *id)
{
	char path[256], *e = esc(id);
	json_t *root;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/calls/%s", e);
	curl_free(e);
	root = call(o, "DELETE", path, NULL, &ret);
	if (root)
		printf("hung up %s\n", id);
	json_decref(root);
	return ret;
}

static int route(const struct tc_opts *o, const char *number, const char *mgw)
{
	char path[512], *n = esc(number), *m = esc(mgw ? mgw : "");
	json_t *root, *c;
	size_t i;
	int ret;

	snprintf(path, sizeof(path),
		 "/api/v1/route?callee=%s&mapping_gateway=%s", n, m);
	curl_free(n);
	curl_free(m);
	root = call(o, "GET", path, NULL, &ret);
	if (!root)
		return ret;
	printf("callee %s%s%s\n", str(root, "callee"), mgw ? " via " : "",
	       mgw ? mgw : "");
	printf("%-3s %-16s %-8s %-9s %-11s %s\n", "#", "GATEWAY", "PREFIX",
	       "PRIORITY", "LINES", "NOW");
	json_array_foreach(json_object_get(root, "candidates"), i, c)
	{
		char lines[32];
		const char *skip = str(c, "skip");

		snprintf(lines, sizeof(lines), "%lld/%lld",
			 (long long)json_integer_value(
			     json_object_get(c, "line_use")),
			 (long long)json_integer_value(
			     json_object_get(c, "line_limit")));
		printf("%-3zu %-16s %-8s %-9lld %-11s %s\n", i + 1,
		       str(c, "gateway"), str(c, "prefix"),
		       (long long)json_integer_value(
			   json_object_get(c, "priority")),
		       lines, strcmp(skip, "-") ? skip : "tried");
	}
	json_array_foreach(json_object_get(root, "excluded"), i, c)
	{
		printf("excluded %-16s %-8s %s\n", str(c, "gateway"),
		       str(c, "prefix"), str(c, "reason"));
	}
	json_decref(root);
	return 0;
}

static int lock(const struct tc_opts *o, const char *gw, bool locked)
{
	char path[256], *e = esc(gw);
	json_t *root;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/routing_gateways/%s", e);
	curl_free(e);
	root =
	    call(o, "PATCH", path, json_pack("{s:b}", "locked", locked), &ret);
	if (root)
		printf("routing gateway %s %s\n", gw,
		       locked ? "locked" : "unlocked");
	json_decref(root);
	return ret;
}

static int cdr_export(const struct tc_opts *o, int argc, char **argv)
{
	static const char *const keys[] = {
	    "from", "to", "result", "number", "account", "gateway", NULL};
	char path[2048] = "/api/v1/cdrs.csv", err[512], *text = NULL;
	size_t len = strlen(path);
	int status;

	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		bool known = false;
		char *v;

		for (size_t k = 0; eq && keys[k]; k++)
			known = known ||
				(strlen(keys[k]) == (size_t)(eq - argv[i]) &&
				 !strncmp(keys[k], argv[i], strlen(keys[k])));
		if (!known) {
			fprintf(stderr,
				"tandemctl: cdr export: '%s': KEY=VALUE with "
				"KEY from, to, result, number, account or "
				"gateway\n",
				argv[i]);
			return 2;
		}
		v = esc(eq + 1);
		len += (size_t)snprintf(path + len, sizeof(path) - len,
					"%c%.*s=%s", i ? '&' : '?',
					(int)(eq - argv[i]), argv[i], v);
		curl_free(v);
		if (len >= sizeof(path)) {
			fprintf(stderr, "tandemctl: cdr export: too long\n");
			return 2;
		}
	}
	if (tc_http(tc_api_base(o), "GET", path, NULL, o->timeout_ms, stdout,
		    &status, &text, err, sizeof(err))) {
		fprintf(stderr, "tandemctl: cdr export: %s\n", err);
		free(text);
		return 1;
	}
	if (status != 200) {
		json_t *root = json_loads(text ? text : "", 0, NULL);
		const char *msg = json_string_value(
		    json_object_get(json_object_get(root, "error"), "message"));

		fprintf(stderr, "tandemctl: cdr export: HTTP %d%s%s\n", status,
			msg ? ": " : "", msg ? msg : "");
		json_decref(root);
		free(text);
		return status == 404 ? 4 : 1;
	}
	free(text);
	return fflush(stdout) ? 1 : 0;
}

/* tandemctl users: the web users, as the API lists them (admin) */
static int users(const struct tc_opts *o)
{
	json_t *root, *u;
	size_t i;
	int ret;

	root = call(o, "GET", "/api/v1/users?limit=1000", NULL, &ret);
	if (!root)
		return ret;
	printf("%-24s %-9s %-20s %-8s %-6s %s\n", "USER", "ROLE", "ACCOUNT",
	       "ENABLED", "LANG", "LAST LOGIN");
	json_array_foreach(json_object_get(root, "items"), i, u)
	{
		printf("%-24s %-9s %-20s %-8s %-6s %s\n", str(u, "username"),
		       str(u, "role"), str(u, "account"),
		       json_is_true(json_object_get(u, "enabled")) ? "yes"
								   : "no",
		       str(u, "language"), str(u, "last_login_at"));
	}
	json_decref(root);
	return 0;
}

/* argv: the command and its arguments */
int tc_cmd_live(const struct tc_opts *o, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "users") && argc == 1)
		return users(o);
	if (!strcmp(cmd, "calls") && argc <= 2)
		return calls(o, argc == 2 ? argv[1] : NULL);
	if (!strcmp(cmd, "hangup") && argc == 2)
		return hangup(o, argv[1]);
	if (!strcmp(cmd, "route") && (argc == 2 || argc == 3))
		return route(o, argv[1], argc == 3 ? argv[2] : NULL);
	if ((!strcmp(cmd, "lock") || !strcmp(cmd, "unlock")) && argc == 2)
		return lock(o, argv[1], !strcmp(cmd, "lock"));
	if (!strcmp(cmd, "cdr") && argc >= 2 && !strcmp(argv[1], "export"))
		return cdr_export(o, argc - 2, argv + 2);
	fprintf(
	    stderr,
	    "usage: tandemctl users | calls [ACCOUNT] | hangup CALL_ID | route "
	    "NUMBER [MAPPING_GW] | lock GATEWAY | unlock GATEWAY | cdr "
	    "export [KEY=VALUE...]\n");
	return 2;
}
