/*
 * web.c - the web manager's files, served under /manage/ (web.h)
 */
#define SW_LOG_MODULE "web"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "billingd/libre.h"

#include "billingd/web.h"
#include "common/log.h"

#define PATH_MAX_LEN 200 /* a file's path below web_root */

/* every answer: no inline script, nothing from another origin, no frames */
#define SECURITY_HEADERS                                                       \
	"Content-Security-Policy: default-src 'self'; script-src 'self'; "     \
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; "         \
	"font-src 'self'; object-src 'none'; base-uri 'none'; "                \
	"frame-ancestors 'none'; form-action 'self'\r\n"                       \
	"X-Content-Type-Options: nosniff\r\n"                                  \
	"X-Frame-Options: DENY\r\n"                                            \
	"Referrer-Policy: no-referrer\r\n"

struct wfile {
	char path[PATH_MAX_LEN + 1]; /* below web_root, "index.html" */
	const char *ctype;
	char *data; /* owned */
	size_t len;
};

struct bd_web {
	struct wfile files[BD_WEB_FILES_MAX];
	size_t n, bytes;
};

static const struct {
	const char *ext, *ctype;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *ctype_of(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && !strcmp(path + n - e, types[i].ext))
			return types[i].ctype;
	}
	return NULL;
}

/* a name we serve: [A-Za-z0-9_.-], not starting with a dot */
static bool name_ok(const char *name)
{
	if (!*name || *name == '.')
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' ||
		      *c == '-'))
			return false;
	return true;
}

static void destructor(void *arg)
{
	struct bd_web *web = arg;

	for (size_t i = 0; i < web->n; i++)
		free(web->files[i].data);
}

static int add_file(struct bd_web *web, const char *full, const char *rel,
		    size_t size, char *err, size_t errsz)
{
	struct wfile *f;
	FILE *fp;

	if (web->n == BD_WEB_FILES_MAX ||
	    web->bytes + size > BD_WEB_BYTES_MAX) {
		snprintf(err, errsz, "more than %d files or %d bytes",
			 BD_WEB_FILES_MAX, BD_WEB_BYTES_MAX);
		return EFBIG;
	}
	f = &web->files[web->n];
	f->data = malloc(size ? size : 1);
	fp = fopen(full, "rb");
	if (!f->data || !fp || fread(f->data, 1, size, fp) != size) {
		snprintf(err, errsz, "%s: %s", full,
			 f->data ? strerror(errno) : "out of memory");
		free(f->data);
		f->data = NULL;
		if (fp)
			fclose(fp);
		return EIO;
	}
	fclose(fp);
	memcpy(f->path, rel, strnlen(rel, PATH_MAX_LEN));
	f->path[strnlen(rel, PATH_MAX_LEN)] = '\0';
	f->ctype = ctype_of(rel);
	f->len = size;
	web->n++;
	web->bytes += size;
	return 0;
}

/* the files of dir (rel: its path below the root, "" for the root) */
static int walk(struct bd_web *web, const char *dir, const char *rel, int depth,
		char *err, size_t errsz)
{
	struct dirent *de;
	DIR *d;
	int e = 0;

	if (depth > 4)
		return 0;
	d = opendir(dir);
	if (!d) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		return errno;
	}
	while (!e && (de = readdir(d))) {
		char full[1024], sub[PATH_MAX_LEN + 2];
		struct stat st;

		if (!name_ok(de->d_name))
			continue; /* dot files, odd names: never served */
		if (snprintf(full, sizeof(full), "%s/%s", dir, de->d_name) >=
			(int)sizeof(full) ||
		    snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
			     de->d_name) > PATH_MAX_LEN)
			continue;
		if (lstat(full, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			e = walk(web, full, sub, depth + 1, err, errsz);
		else if (S_ISREG(st.st_mode) && ctype_of(sub))
			e = add_file(web, full, sub, (size_t)st.st_size, err,
				     errsz);
	}
	closedir(d);
	return e;
}

/*
 * Read the files of root into memory.  root must hold index.html.  The
 * set is fixed until billingd restarts.
 */
int bd_web_load(struct bd_web **webp, const char *root, char *err, size_t errsz)
{
	struct bd_web *web;
	int e;

	if (!webp || !root || !*root)
		return EINVAL;
	web = mem_zalloc(sizeof(*web), destructor);
	if (!web)
		return ENOMEM;
	e = walk(web, root, "", 0, err, errsz);
	if (!e) {
		bool index = false;

		for (size_t i = 0; i < web->n; i++)
			index |= !strcmp(web->files[i].path, "index.html");
		if (!index) {
			snprintf(err, errsz,
				 "%s has no index.html (run `make web`)", root);
			e = ENOENT;
		}
	}
	if (e) {
		mem_deref(web);
		return e;
	}
	sw_info("web manager: %zu files, %zu bytes from %s", web->n, web->bytes,
		root);
	*webp = web;
	return 0;
}

static void reply_page(struct http_conn *conn, uint16_t code,
		       const char *reason, const char *extra, const char *body)
{
	(void)http_reply(conn, code, reason,
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n" SECURITY_HEADERS "%s"
			 "\r\n"
			 "%s",
			 strlen(body), extra ? extra : "", body);
}

/*
 * Answer msg when it is for /manage (true), else leave it (false).  web
 * NULL: the web manager is not installed, said as such.
 */
bool bd_web_handle(const struct bd_web *web, struct http_conn *conn,
		   const struct http_msg *msg)
{
	const struct pl *p = &msg->path;
	bool head = !pl_strcmp(&msg->met, "HEAD");
	char rel[PATH_MAX_LEN + 1];

	if (!pl_strcmp(p, "/manage")) {
		reply_page(conn, 301, "Moved Permanently",
			   "Location: /manage/\r\n", "/manage/\n");
		return true;
	}
	if (p->l < 8 || memcmp(p->p, "/manage/", 8))
		return false;
	if (!head && pl_strcmp(&msg->met, "GET")) {
		reply_page(conn, 405, "Method Not Allowed",
			   "Allow: GET, HEAD\r\n", "GET or HEAD only\n");
		return true;
	}
	if (!web) {
		reply_page(conn, 404, "Not Found", NULL,
			   "the web manager is not installed on this billingd "
			   "(web_root in billingd.conf; `make web`)\n");
		return true;
	}
	if (p->l - 8 > PATH_MAX_LEN) {
		reply_page(conn, 404, "Not Found", NULL, "no such page\n");
		return true;
	}
	if (p->l == 8)
		snprintf(rel, sizeof(rel), "index.html");
	else
		snprintf(rel, sizeof(rel), "%.*s", (int)(p->l - 8), p->p + 8);

	for (size_t i = 0; i < web->n; i++) {
		const struct wfile *f = &web->files[i];

		if (strcmp(f->path, rel))
			continue;
		(void)http_reply(conn, 200, "OK",
				 "Content-Type: %s\r\n"
				 "Content-Length: %zu\r\n"
				 "Cache-Control: no-cache\r\n" SECURITY_HEADERS
				 "\r\n"
				 "%b",
				 f->ctype, f->len, f->data, head ? 0 : f->len);
		return true;
	}
	reply_page(conn, 404, "Not Found", NULL, "no such page\n");
	return true;
}
