/*
 * status.c - `tandemctl status`: every daemon and media node, read through
 * billingd's HTTP API (GET /api/v1/status)
 *
 * A minimal HTTP/1.1 client over one TCP connection (Connection: close):
 * enough for a JSON document from our own billingd; it understands
 * Content-Length, chunked transfer encoding and read-until-close.
 *
 * Expected document (docs/provisioning.md "tandemctl status"):
 *   {"daemons": [<health.ping.reply body>...],
 *    "media_nodes": [<node.heartbeat body> + "last_seen_ms", "online"]}
 * Older/other shapes are tolerated: "nodes" for "daemons", media_nodes
 * nested in the signalingd entry, or an object keyed by daemon name.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <jansson.h>

#include "tools/ctl.h"

#define RESP_MAX (4 * 1024 * 1024)

struct url {
	char host[256];
	char port[8];
	char path[512]; /* prefix path of the API base, no trailing / */
};

static int url_parse(struct url *u, const char *s)
{
	const char *p, *host, *end;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "http://", 7)) {
		return strncmp(s, "https://", 8) ? EINVAL : EPROTONOSUPPORT;
	}
	host = s + 7;
	end = host + strcspn(host, "/");

	if (*host == '[') { /* [IPv6]:port */
		p = memchr(host, ']', (size_t)(end - host));
		if (!p)
			return EINVAL;
		hl = (size_t)(p - host - 1);
		if (hl == 0 || hl >= sizeof(u->host))
			return EINVAL;
		memcpy(u->host, host + 1, hl);
		p++;
	} else {
		p = memchr(host, ':', (size_t)(end - host));
		if (!p)
			p = end;
		hl = (size_t)(p - host);
		if (hl == 0 || hl >= sizeof(u->host))
			return EINVAL;
		memcpy(u->host, host, hl);
	}

	if (p < end && *p == ':') {
		size_t pl = (size_t)(end - p - 1);

		if (pl == 0 || pl >= sizeof(u->port))
			return EINVAL;
		memcpy(u->port, p + 1, pl);
		if (strspn(u->port, "0123456789") != pl ||
		    strtol(u->port, NULL, 10) < 1 ||
		    strtol(u->port, NULL, 10) > 65535)
			return EINVAL;
	} else if (p != end) {
		return EINVAL;
	} else {
		strcpy(u->port, "80");
	}

	snprintf(u->path, sizeof(u->path), "%s", end);
	while (*u->path && u->path[strlen(u->path) - 1] == '/')
		u->path[strlen(u->path) - 1] = '\0';
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait for fd within the deadline; 0, ETIMEDOUT or errno */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t left = deadline - now_ms();
	int n;

	if (left <= 0)
		return ETIMEDOUT;
	do {
		n = poll(&pfd, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	return n == 0 ? ETIMEDOUT : 0;
}

static int tcp_connect(const struct url *u, int64_t deadline, char *err,
		       size_t errsz)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
	int fd = -1, e = ECONNREFUSED, gai;

	gai = getaddrinfo(u->host, u->port, &hints, &ai);
	if (gai) {
		snprintf(err, errsz, "%s: %s", u->host, gai_strerror(gai));
		return -1;
	}
	for (a = ai; a; a = a->ai_next) {
		socklen_t sl = sizeof(e);

		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS &&
		    (e = wait_fd(fd, POLLOUT, deadline)) == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 &&
		    e == 0)
			break;
		if (errno != EINPROGRESS)
			e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		snprintf(err, errsz, "connect to %s port %s: %s", u->host,
			 u->port, strerror(e));
	return fd;
}

/* decode a chunked body in place; returns its length or -1 */
static long dechunk(char *body, size_t len)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *endp;
		unsigned long sz;
		char *crlf;

		if (in >= len)
			return -1;
		sz = strtoul(body + in, &endp, 16);
		if (endp == body + in)
			return -1;
		crlf = strstr(endp, "\r\n");
		if (!crlf)
			return -1;
		in = (size_t)(crlf - body) + 2;
		if (sz == 0)
			return (long)out;
		if (sz > len - in || len - in - sz < 2)
			return -1;
		memmove(body + out, body + in, sz);
		out += sz;
		in += sz + 2;
	}
}

/* a header's value in a NUL-terminated header block, or NULL */
static const char *header(const char *hdrs, size_t hlen, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(hdrs, "\r\n"); p && p < hdrs + hlen;
	     p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, name, nl) && p[2 + nl] == ':')
			return p + 3 + nl;
	}
	return NULL;
}

/* has buf (NUL-terminated) a whole response: headers and all the body? */
static bool response_complete(const char *buf, size_t len)
{
	const char *end = strstr(buf, "\r\n\r\n");
	const char *v;
	size_t hlen, blen;

	if (!end)
		return false;
	hlen = (size_t)(end - buf);
	blen = len - hlen - 4;

	v = header(buf, hlen, "Transfer-Encoding");
	if (v && strcasestr(v, "chunked")) {
		/* the last chunk: "0" CRLF, CRLF, at the end of the data */
		return (blen >= 5 && !memcmp(end + 4, "0\r\n\r\n", 5)) ||
		       (len >= 7 && !memcmp(buf + len - 7, "\r\n0\r\n\r\n", 7));
	}
	v = header(buf, hlen, "Content-Length");
	if (v)
		return blen >= strtoul(v, NULL, 10);
	return false; /* until the server closes */
}

/*
 * The API token tandemctl sends: $TANDEM_API_TOKEN, else the first line of
 * $TANDEM_API_TOKEN_FILE, else of /etc/tandem/api-token; NULL when none.
 */
const char *tc_api_token(void)
{
	static char tok[MD_TOKEN_MAX];
	const char *env = getenv("TANDEM_API_TOKEN");
	const char *file = getenv("TANDEM_API_TOKEN_FILE");
	FILE *f;

	if (env && *env)
		return env;
	f = fopen(file && *file ? file : "/etc/tandem/api-token", "r");
	if (!f)
		return NULL;
	if (!fgets(tok, sizeof(tok), f))
		tok[0] = '\0';
	fclose(f);
	tok[strcspn(tok, "\r\n")] = '\0';
	return *tok ? tok : NULL;
}

/*
 * GET url+path (with the API token, when there is one).  On success *bodyp is
 * the NUL-terminated body (caller frees) and *statusp the HTTP status.
 */
int tc_http_get(const char *base, const char *path, int timeout_ms,
		int *statusp, char **bodyp, char *err, size_t errsz)
{
	int64_t deadline = now_ms() + timeout_ms;
	char req[1024], *buf = NULL, *body, *hdr_end, *p;
	size_t len = 0, cap = 0;
	struct url u;
	int fd, e, status;
	long clen = -1;
	bool chunked = false;

	e = url_parse(&u, base);
	if (e) {
		snprintf(err, errsz, "%s: %s", base,
			 e == EPROTONOSUPPORT
			     ? "https is not supported by tandemctl (use http "
			       "on loopback)"
			     : "not an http://host[:port] URL");
		return e;
	}
	fd = tcp_connect(&u, deadline, err, errsz);
	if (fd < 0)
		return ECONNREFUSED;

	snprintf(req, sizeof(req),
		 "GET %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\n"
		 "User-Agent: tandemctl/" TANDEM_VERSION "\r\n"
		 "%s%s%s"
		 "Accept: application/json\r\nConnection: close\r\n\r\n",
		 u.path, path, strchr(u.host, ':') ? "[" : "", u.host,
		 strchr(u.host, ':') ? "]" : "", u.port,
		 tc_api_token() ? "Authorization: Bearer " : "",
		 tc_api_token() ? tc_api_token() : "",
		 tc_api_token() ? "\r\n" : "");
	for (size_t off = 0, rl = strlen(req); off < rl;) {
		ssize_t n = send(fd, req + off, rl - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			e = wait_fd(fd, POLLOUT, deadline);
			if (!e)
				continue;
			snprintf(err, errsz, "send: %s", strerror(e));
			goto fail;
		}
		if (n < 0) {
			snprintf(err, errsz, "send: %s", strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}

	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *tmp;

			if (cap >= RESP_MAX) {
				snprintf(err, errsz, "response too large");
				goto fail;
			}
			cap = cap ? cap * 2 : 16384;
			tmp = realloc(buf, cap + 1);
			if (!tmp) {
				snprintf(err, errsz, "out of memory");
				goto fail;
			}
			buf = tmp;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			/* servers may keep the connection open (libre does):
			 * stop at the end of the message, not at EOF */
			if (response_complete(buf, len))
				break;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			e = wait_fd(fd, POLLIN, deadline);
			if (!e)
				continue;
			snprintf(err, errsz,
				 "no complete response within "
				 "%d ms",
				 timeout_ms);
			goto fail;
		}
		snprintf(err, errsz, "recv: %s", strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (!buf) {
		snprintf(err, errsz, "empty response");
		return EBADMSG;
	}
	buf[len] = '\0';

	if (strncmp(buf, "HTTP/1.", 7) || !isdigit((unsigned char)buf[7]) ||
	    buf[8] != ' ' || (status = (int)strtol(buf + 9, NULL, 10)) < 100) {
		snprintf(err, errsz, "not an HTTP response");
		goto fail;
	}
	hdr_end = strstr(buf, "\r\n\r\n");
	if (!hdr_end) {
		snprintf(err, errsz, "truncated HTTP headers");
		goto fail;
	}
	*hdr_end = '\0';
	body = hdr_end + 4;

	for (p = strstr(buf, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		char *h = p + 2;

		if (!strncasecmp(h, "Content-Length:", 15))
			clen = strtol(h + 15, NULL, 10);
		else if (!strncasecmp(h, "Transfer-Encoding:", 18) &&
			 strcasestr(h + 18, "chunked"))
			chunked = true;
	}

	len -= (size_t)(body - buf);
	if (chunked) {
		long n = dechunk(body, len);

		if (n < 0) {
			snprintf(err, errsz, "bad chunked encoding");
			goto fail;
		}
		len = (size_t)n;
	} else if (clen >= 0) {
		if ((size_t)clen > len) {
			snprintf(err, errsz,
				 "truncated body (%zu of %ld "
				 "bytes)",
				 len, clen);
			goto fail;
		}
		len = (size_t)clen;
	}
	memmove(buf, body, len);
	buf[len] = '\0';

	*statusp = status;
	*bodyp = buf;
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return EBADMSG;
}

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
/* billingd's API base: --api, else $TANDEM_API, else the default */
const char *tc_api_base(const struct tc_opts *o)
{
	const char *env = getenv("TANDEM_API");

	return o->api ? o->api : env && *env ? env : TC_DEFAULT_API;
}

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
