/*
 * http.c - tandemctl's client of billingd's HTTP API (libcurl)
 *
 * Every request carries the API token (tc_api_token) when there is one;
 * https:// works when billingd serves TLS (the system's CA store, or
 * $TANDEM_API_CA for a private one).  An answer is either collected in
 * memory (JSON, at most TC_HTTP_MAX bytes) or streamed to a FILE (CSV
 * exports of any size).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tools/ctl.h"

#define TC_HTTP_MAX (16 * 1024 * 1024)

struct sink {
	char *buf;
	size_t len, cap;
	FILE *out;   /* stream here when set (2xx only) */
	long status; /* known once the headers are in */
	CURL *curl;
	bool over;
};

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (!s->status)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->out && s->status >= 200 && s->status < 300)
		return fwrite(data, 1, len, s->out) == len ? len : 0;
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16384;
		char *tmp;

		while (cap < s->len + len + 1)
			cap *= 2;
		if (cap > TC_HTTP_MAX) {
			s->over = true;
			return 0;
		}
		tmp = realloc(s->buf, cap);
		if (!tmp)
			return 0;
		s->buf = tmp;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

/* billingd's API base: --api, else $TANDEM_API, else the default */
const char *tc_api_base(const struct tc_opts *o)
{
	const char *env = getenv("TANDEM_API");

	return o->api ? o->api : env && *env ? env : TC_DEFAULT_API;
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
 * METHOD base+path with an optional JSON body.  The answer's status goes
 * to *statusp; its body to *bodyp (NUL-terminated, caller frees) or, for a
 * 2xx answer, to out when out is set.  Returns 0 when an answer came, else
 * an errno with the reason in err.
 */
int tc_http(const char *base, const char *method, const char *path,
	    const char *body, int timeout_ms, FILE *out, int *statusp,
	    char **bodyp, char *err, size_t errsz)
{
	struct sink s = {.out = out};
	struct curl_slist *hdrs = NULL;
	char url[2048], auth[160], cerr[CURL_ERROR_SIZE] = "";
	const char *tok = tc_api_token();
	const char *ca = getenv("TANDEM_API_CA");
	CURLcode rc;
	CURL *c;

	*statusp = 0;
	if (bodyp)
		*bodyp = NULL;
	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
		snprintf(err, errsz, "%s: not an http:// or https:// URL",
			 base);
		return EINVAL;
	}
	snprintf(url, sizeof(url), "%s%s", base, path);
	c = curl_easy_init();
	if (!c) {
		snprintf(err, errsz, "libcurl: cannot start");
		return ENOMEM;
	}
	s.curl = c;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (body)
		hdrs =
		    curl_slist_append(hdrs, "Content-Type: application/json");
	if (tok) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tandemctl/" TANDEM_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	if (!out) /* an export may take long; an answer may not */
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (ca && *ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s.status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(err, errsz, "%s",
			 s.over	 ? "answer too large"
			 : *cerr ? cerr
				 : curl_easy_strerror(rc));
		free(s.buf);
		return rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO;
	}
	*statusp = (int)s.status;
	if (bodyp) {
		*bodyp = s.buf ? s.buf : strdup("");
	} else {
		free(s.buf);
	}
	return 0;
}

int tc_http_get(const char *base, const char *path, int timeout_ms,
		int *statusp, char **bodyp, char *err, size_t errsz)
{
	return tc_http(base, "GET", path, NULL, timeout_ms, NULL, statusp,
		       bodyp, err, errsz);
}
