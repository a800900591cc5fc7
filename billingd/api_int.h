/*
 * api_int.h - what the API's route files share (api.c, api_users.c,
 * api_config.c); not for the rest of billingd
 *
 * Threading: struct api_req moves from the loop to one worker and back;
 * route work functions see only it and their PGconn.
 */
#ifndef BD_API_INT_H
#define BD_API_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "model/model.h"

#define API_BODY_MAX (512 * 1024) /* libre's HTTP server limit */
#define API_PAGE_MAX 1000
#define API_PAGE_DEF 100

enum api_role {
	ROLE_ADMIN = 1,
	ROLE_OPERATOR = 2,
	ROLE_AGENT = 4,
	ROLE_CUSTOMER = 8,
};
#define ROLES_STAFF (ROLE_ADMIN | ROLE_OPERATOR)
#define ROLES_ANY   (ROLE_ADMIN | ROLE_OPERATOR | ROLE_AGENT | ROLE_CUSTOMER)

struct api_who {
	bool known;
	long long user_id;
	char user[65];
	enum api_role role;
	long long account_id; /* agent, customer; 0 otherwise */
	char account[65];
	bool token;	  /* API token, not a session */
	char csrf[80];	  /* session's CSRF token */
	char session[80]; /* session hash (logout) */
};

struct api_req;
struct bd;
typedef void(api_work_h)(PGconn *conn, struct api_req *r);
/* on the loop after the work; must end with api_finish(r) */
typedef void(api_live_h)(struct bd *bd, struct api_req *r);

struct api_route {
	const char *method;
	const char *path; /* exact, or ending in "*": one more segment */
	unsigned roles;	  /* 0: no authentication (login) */
	api_work_h *work; /* on a worker, or NULL: */
	int loop;	  /* 1 status, 2 rate, 3 reservations */
	bool stream;	  /* the work streams its answer (api_cdr.c) */
	api_live_h *live; /* then on the loop (api_live.c) */
	api_live_h *pre;  /* on the loop before the work (reads memory) */
};

struct stream;

struct api_req {
	struct bd_api *api;	/* borrowed */
	bool tls;		/* over HTTPS: cookies are Secure */
	struct http_conn *conn; /* ref */
	struct http_msg *msg;	/* ref */
	const struct api_route *route;
	const struct md_section *sec; /* config routes */
	char method[8];
	char path[256];
	char sub[256]; /* the "*" segment, decoded */
	char query[2048];
	char ip[64];
	char *body; /* owned, NUL-terminated copy */
	size_t blen;
	char cookie[100], bearer[120], csrf_hdr[100], if_match[40];
	struct api_who who;
	/* the answer, set by the work */
	uint16_t status;
	const char *reason;
	char headers[512]; /* extra lines, each ending in CRLF */
	json_t *reply;	   /* owned; NULL: no body (204) */
	char *raw;	   /* owned: a non-JSON body (CSV), else NULL */
	const char *raw_type;
	struct stream *stream; /* owned: a streamed answer's channel */
	bool streamed;	       /* the work has answered by itself */
	bool lock_changed;     /* a routing gateway's "locked" was written */
	int64_t held;	       /* payments: what the account's calls hold */
	json_t *pre_data;      /* owned: what a pre hook read on the loop */
};

/* api.c: answers and inputs */
void api_error(struct api_req *r, uint16_t status, const char *code,
	       const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void api_ok(struct api_req *r, uint16_t status, json_t *reply);
void api_header(struct api_req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
json_t *api_body_object(struct api_req *r);
bool api_query(const struct api_req *r, const char *key, char *buf,
	       size_t size);
bool api_page(struct api_req *r, long *limit, long *offset);
json_t *api_page_json(PGresult *res, long limit, long offset);
void api_db_error(struct api_req *r, const char *err);
bool api_access_allowed(PGconn *conn, struct api_req *r, const char *list);
void api_audit(PGconn *conn, const struct api_req *r, const char *action,
	       const char *object, json_t *detail);
const char *api_role_name(enum api_role role);
enum api_role api_role_of(const char *name);

/* api_users.c */
bool api_authenticate(PGconn *conn, struct api_req *r);
void api_login(PGconn *conn, struct api_req *r);
void api_logout(PGconn *conn, struct api_req *r);
void api_me(PGconn *conn, struct api_req *r);
void api_me_update(PGconn *conn, struct api_req *r);
void api_users_list(PGconn *conn, struct api_req *r);
void api_user_get(PGconn *conn, struct api_req *r);
void api_user_create(PGconn *conn, struct api_req *r);
void api_user_update(PGconn *conn, struct api_req *r);
void api_user_delete(PGconn *conn, struct api_req *r);
void api_tokens_list(PGconn *conn, struct api_req *r);
void api_token_create(PGconn *conn, struct api_req *r);
void api_token_delete(PGconn *conn, struct api_req *r);

/* api.c: answer and free (live handlers) */
void api_finish(struct api_req *r);

/* api_live.c */
void api_calls(struct bd *bd, struct api_req *r);
void api_call_hangup(struct bd *bd, struct api_req *r);
void api_route(struct bd *bd, struct api_req *r);
void api_gateway_lock(struct bd *bd, struct api_req *r);

/* api_money.c */
void api_payment_pre(struct bd *bd, struct api_req *r);
void api_payment_create(PGconn *conn, struct api_req *r);
void api_payments_list(PGconn *conn, struct api_req *r);

/* api_cards.c */
void api_card_batches_list(PGconn *conn, struct api_req *r);
void api_card_batch_create(PGconn *conn, struct api_req *r);
void api_cards_list(PGconn *conn, struct api_req *r);
void api_card_update(PGconn *conn, struct api_req *r);

/* api_stats.c */
void api_stats(PGconn *conn, struct api_req *r);
void api_dashboard_pre(struct bd *bd, struct api_req *r);
void api_dashboard(PGconn *conn, struct api_req *r);
void api_alarms_list(PGconn *conn, struct api_req *r);
void api_registrations_list(PGconn *conn, struct api_req *r);
void api_alarm_ack(PGconn *conn, struct api_req *r);

/* api_cdr.c */
void api_cdrs_list(PGconn *conn, struct api_req *r);
void api_cdrs_export(PGconn *conn, struct api_req *r);
int api_stream_alloc(struct api_req *r);
void api_cdr_stop(void);

/* api_config.c */
void api_config_list(PGconn *conn, struct api_req *r);
void api_config_get(PGconn *conn, struct api_req *r);
void api_config_create(PGconn *conn, struct api_req *r);
void api_config_update(PGconn *conn, struct api_req *r);
void api_config_delete(PGconn *conn, struct api_req *r);
void api_params_get(PGconn *conn, struct api_req *r);
void api_params_update(PGconn *conn, struct api_req *r);
void api_audit_list(PGconn *conn, struct api_req *r);

#endif /* BD_API_INT_H */
