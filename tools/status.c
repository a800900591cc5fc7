/*
 * status.c - `tandemctl status`: every daemon and media node, read through
 * billingd's HTTP API (GET /api/v1/status)
 *
 * (tools/http.c: libcurl, with the API token).
 *
 * Expected document (docs/provisioning.md "tandemctl status"):
 *   {"daemons": [<health.ping.reply body>...],
 *    "media_nodes": [<node.heartbeat body> + "last_seen_ms", "online"]}
 * Older/other shapes are tolerated: "nodes" for "daemons", media_nodes
 * nested in the signalingd entry, or an object keyed by daemon name.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tools/ctl.h"

static void fmt_uptime(char *buf, size_t size, const json_t *j)
{
	long long s;

	if (!json_is_integer(j)) {
		snprintf(buf, size, "-");
		return;
	}
	s = json_integer_value(j);
	if (s >= 86400)
		snprintf(buf, size, "%lldd%02lldh%02lldm", s / 86400,
			 s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, size, "%lldh%02lldm%02llds", s / 3600,
			 s % 3600 / 60, s % 60);
	else
		snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
}

static const char *str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : def;
}

static void fmt_int(char *buf, size_t size, const json_t *o, const char *key)
{
	const json_t *j = json_object_get(o, key);

	if (json_is_integer(j))
		snprintf(buf, size, "%lld", (long long)json_integer_value(j));
	else
		snprintf(buf, size, "-");
}

/* one daemon row; returns true when it is healthy */
static bool print_daemon(const char *name, const json_t *d)
{
	const char *health = str(d, "health", NULL);
	const json_t *st = json_object_get(d, "status");
	char up[32], calls[24];

	/* a daemon billingd could not reach: {"health":"down", "error":..} */
	if (!health && json_is_string(st))
		health = json_string_value(st);
	if (!health)
		health =
		    json_is_true(json_object_get(d, "ok")) ? "ok" : "unknown";

	if (!strcmp(health, "down"))
		snprintf(up, sizeof(up), "-");
	else
		fmt_uptime(up, sizeof(up), json_object_get(d, "uptime_s"));
	fmt_int(calls, sizeof(calls), d, "calls");
	printf("%-12s %-12s %-9s %-12s %-6s %-9s %s\n",
	       str(d, "daemon", name ? name : "-"), str(d, "node_id", "-"),
	       str(d, "version", "-"), up, calls, health,
	       str(d, "detail", str(d, "error", "")));
	return !strcmp(health, "ok");
}

/* one media node row; returns true when it is online */
static bool print_media(const json_t *m)
{
	const json_t *online = json_object_get(m, "online");
	char up[32], sess[24], xc[24], xb[24], ports[24], cpu[24], seen[24];
	char xcode[64];
	bool on = !online || json_is_true(online);

	fmt_uptime(up, sizeof(up), json_object_get(m, "uptime_s"));
	fmt_int(sess, sizeof(sess), m, "sessions");
	fmt_int(xc, sizeof(xc), m, "xcode_sessions");
	fmt_int(xb, sizeof(xb), m, "xcode_budget");
	fmt_int(ports, sizeof(ports), m, "free_ports");
	fmt_int(cpu, sizeof(cpu), m, "cpu_pct");
	fmt_int(seen, sizeof(seen), m, "last_seen_ms");
	snprintf(xcode, sizeof(xcode), "%s/%s", xc, xb);
	printf("%-12s %-26s %-9s %-12s %-7s %-8s %-11s %-10s %-4s %s\n",
	       str(m, "node_id", "-"), str(m, "url", "-"),
	       str(m, "version", "-"), up, on ? "yes" : "NO", sess, xcode,
	       ports, cpu, seen);
	return on;
}

/* tandemctl status */
int tc_cmd_status(const struct tc_opts *o)
{
	const char *api = tc_api_base(o);
	char err[512], *body = NULL;
	const json_t *daemons, *media = NULL, *d;
	json_t *root = NULL;
	json_error_t jerr;
	int status, ret = 1;
	bool healthy = true;
	size_t i;

	if (tc_http_get(api, "/api/v1/status", o->timeout_ms, &status, &body,
			err, sizeof(err))) {
		fprintf(stderr,
			"tandemctl: billingd API at %s is unreachable: "
			"%s\n",
			api, err);
		return 1;
	}
	root = json_loads(body, 0, &jerr);
	if (status != 200) {
		const char *msg = json_string_value(
		    json_object_get(json_object_get(root, "error"), "message"));

		fprintf(stderr, "tandemctl: %s/api/v1/status: HTTP %d%s%s\n",
			api, status, msg ? ": " : "", msg ? msg : "");
		goto out;
	}
	if (!json_is_object(root)) {
		fprintf(stderr,
			"tandemctl: %s/api/v1/status: not a JSON "
			"object (%s)\n",
			api, root ? "wrong type" : jerr.text);
		goto out;
	}

	daemons = json_object_get(root, "daemons");
	if (!daemons)
		daemons = json_object_get(root, "nodes");
	media = json_object_get(root, "media_nodes");

	printf("%-12s %-12s %-9s %-12s %-6s %-9s %s\n", "DAEMON", "NODE",
	       "VERSION", "UPTIME", "CALLS", "HEALTH", "DETAIL");
	if (json_is_array(daemons)) {
		json_array_foreach(daemons, i, d)
		{
			healthy &= print_daemon(NULL, d);
			if (!media && json_object_get(d, "media_nodes"))
				media = json_object_get(d, "media_nodes");
		}
	} else {
		const char *key;
		json_t *val;

		/* {"billingd": {...}, "signalingd": {...}} */
		json_object_foreach(root, key, val)
		{
			if (!json_is_object(val) || !strcmp(key, "media_nodes"))
				continue;
			healthy &= print_daemon(key, val);
			if (!media && json_object_get(val, "media_nodes"))
				media = json_object_get(val, "media_nodes");
		}
	}

	printf("\n%-12s %-26s %-9s %-12s %-7s %-8s %-11s %-10s %-4s %s\n",
	       "MEDIA NODE", "URL", "VERSION", "UPTIME", "ONLINE", "SESSIONS",
	       "XCODE/MAX", "FREE_PORTS", "CPU%", "LAST_SEEN_MS");
	if (json_array_size(media) == 0)
		printf("(none registered)\n");
	json_array_foreach(media, i, d) healthy &= print_media(d);

	ret = healthy ? 0 : 3;

out:
	json_decref(root);
	free(body);
	return ret;
}
