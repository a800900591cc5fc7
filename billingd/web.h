/*
 * web.h - the web manager's files, served under /manage/ (issue 10)
 *
 * The files of web_root (the output of `make web`: index.html, app.js,
 * CSS, icons) are read once at start into memory, so a request never
 * touches the disk and no path from a request ever reaches the file system.
 * Every answer carries the Content Security Policy (no inline script, no
 * other origin) and the headers that keep the pages out of frames and
 * caches' reach.  The pages talk to the API alone (/api/v1/).
 *
 * Threading: billingd's loop.
 */
#ifndef BD_WEB_H
#define BD_WEB_H

#include <stdbool.h>

struct bd_web;
struct http_conn;
struct http_msg;

#define BD_WEB_FILES_MAX 256		    /* files under web_root */
#define BD_WEB_BYTES_MAX (32 * 1024 * 1024) /* all of them together */

int bd_web_load(struct bd_web **webp, const char *root, char *err,
		size_t errsz);
bool bd_web_handle(const struct bd_web *web, struct http_conn *conn,
		   const struct http_msg *msg);

#endif /* BD_WEB_H */
