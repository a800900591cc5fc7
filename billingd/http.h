/*
 * http.h - the HTTP API server (libre http_listen on http_listen)
 *
 * Routes (docs/api.md):
 *   GET /api/v1/status   every daemon and media node (status.c)
 * Any other path is 404, another method on a known path 405 (with Allow);
 * errors are JSON {"error": {"code", "message"}}.
 *
 * Ownership: struct bd owns the server; a request waiting for signalingd
 * holds a reference to its connection.
 * Threading: re_main thread only.
 * Bus:       none directly (status.c pings signalingd).
 */
#ifndef BD_HTTP_H
#define BD_HTTP_H

#define BD_HTTP_BACKLOG 1024 /* pending connects the listener holds */

struct bd;
struct bd_http;

int bd_http_alloc(struct bd_http **httpp, struct bd *bd, const char *laddr);

#endif /* BD_HTTP_H */
