/*
 * api.h - the HTTP API under /api/v1/: authentication, roles, routing
 *
 * Every request but POST /api/v1/login needs a session cookie (web
 * manager) or an API token (Authorization: Bearer, machines); writes with a
 * cookie also need the session's CSRF token in X-CSRF-Token.  The route
 * table says which roles may use each route (SPEC §7: admin, operator,
 * agent, customer).  Database work runs on the API workers (apiq.c); the
 * routes that read billingd's memory (status, rate, reservations) run on
 * the loop once the caller is known.  docs/api.md and docs/openapi.json
 * describe the result.
 *
 * Ownership: struct bd owns the API; a request holds references to its
 * connection and message until it is answered.
 * Threading: bd_api_* on the loop; route work on an API worker.
 */
#ifndef BD_API_H
#define BD_API_H

struct bd;
struct bd_api;
struct http_conn;
struct http_msg;

typedef void(bd_api_loop_h)(struct bd *bd, struct http_conn *conn,
			    const struct http_msg *msg);

struct bd_api_loop_routes {
	bd_api_loop_h *status, *rate, *reservations, *performance;
};

int bd_api_alloc(struct bd_api **apip, struct bd *bd,
		 const struct bd_api_loop_routes *loop);
void bd_api_handle(struct bd_api *api, struct http_conn *conn,
		   const struct http_msg *msg);

#endif /* BD_API_H */
