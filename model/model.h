/*
 * prov.h - the provisioning document: schema tables and the pure validator
 *
 * A provisioning file (docs/provisioning.md) is checked in two steps.  This
 * module does the first one, without a database: every section, object and
 * field is checked against the tables below (known keys, JSON types, ranges,
 * formats, references between objects of the same file) and turned into a
 * struct md_doc whose values are already canonical text.  provision.c then
 * checks references against the database and applies the document in one
 * transaction.
 *
 * Canonical value text (what is compared with the database and sent as a
 * query parameter): integers and money in decimal (money in micro-units),
 * booleans "true"/"false", strings as is, references as the referenced
 * object's name, lists as compact JSON ("[486,487]", "[\"1\",\"44\"]").
 *
 * Errors carry the JSON path of the problem, e.g.
 * "routing_gateways[1].port: must be 1..65535".
 *
 * Threading: single-threaded tool code; no global state.
 */
#ifndef MD_MODEL_H
#define MD_MODEL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum md_kind {
	MD_TEXT,    /* free text, length min..max */
	MD_DIALSTR, /* digits, '*', '#', '+', length min..max */
	MD_PREFIX,  /* one digit prefix, length min..max */
	MD_HOST,    /* hostname, IPv4 or IPv6 literal */
	MD_INT,	    /* integer min..max */
	MD_BOOL,
	MD_MONEY,	/* decimal string, at most 6 decimals, min..max micro */
	MD_ENUM,	/* one of enums[] */
	MD_REF,		/* the name of an object of section `ref` */
	MD_INT_LIST,	/* list of integers min..max, at most `max_items` */
	MD_PREFIX_LIST, /* list of digit prefixes (stored text[]) */
	MD_IP_LIST,	/* list of IPv4/IPv6 addresses or CIDRs */
	MD_REF_LIST,	/* list of names of section `ref` (stored text[]) */
	MD_PREFIX_SET,	/* routing gateway prefixes: child table, a set */
	MD_RATE_ENTRIES, /* rate table entries: child table, a set */
	MD_TIME,	 /* "HH:MM" or "HH:MM:SS", 00:00..24:00 */
	MD_TZ,		 /* IANA time zone name (checked in the database) */
	MD_DATE_SET,	 /* "YYYY-MM-DD" dates: child table, a set */
	MD_ENUM_SET,	 /* set of enums[] (stored text[], sorted) */
	MD_DIALPLAN,	 /* list of number rewriting rules (stored jsonb) */
	MD_MEDIA,	 /* codec/DTMF/media-proxy settings (stored jsonb) */
	MD_IDENTITY,	 /* PAI/Privacy/PPI/extra headers (stored jsonb) */
	MD_CALLER_POOL,	 /* caller number pool (stored jsonb) */
};

/* field flags */
#define MD_F_REQ_CREATE	 0x01 /* required when the object is created */
#define MD_F_CREATE_ONLY 0x02 /* applied on creation only (balance) */
#define MD_F_NULLABLE	 0x04 /* JSON null clears it (SQL NULL) */
#define MD_F_SECRET	 0x08 /* never printed */
/*
 * A SIP digest password: the column holds HA1 = MD5(user:realm:password)
 * (common/md5.h), never the password; user is the object's `username`
 * field when the section has one, else its id (a phone's number).
 */
#define MD_F_HA1 0x10

struct md_field {
	const char *key;    /* JSON key */
	const char *column; /* SQL column; NULL for child sets */
	enum md_kind kind;
	int64_t min, max; /* ints/money: value range; text: length */
	size_t max_items; /* lists */
	const char *const *enums;
	const char *ref; /* MD_REF/MD_REF_LIST: section key */
	unsigned flags;
	const char *def;  /* documented default (docs only) */
	const char *help; /* documentation */
	/* MD_PREFIX_SET, MD_DATE_SET: the child table holding the set */
	const char *set_table, *set_fk, *set_col;
};

struct md_section {
	const char *key;	       /* "routing_gateways" */
	const char *table;	       /* "routing_gateways" */
	const char *noun;	       /* "routing gateway" */
	const struct md_field *fields; /* NULL-key terminated, no "name" */
	size_t nfields;
	const char *id; /* identifying key and column; NULL = "name" */
};

/* the system parameters tandemctl knows */
struct md_param_def {
	const char *name;
	int64_t min, max; /* integer parameters */
	bool text;	  /* free text (format not fixed yet) */
	const char *def;  /* default when the row is missing */
	const char *help;
	bool cidr_list; /* text: comma-separated IPs / CIDRs */
};

struct md_val {
	bool set;   /* present in the file */
	bool null;  /* JSON null: clear */
	char *text; /* owned: canonical text, NULL if null */
};

struct md_entry {     /* one rate table entry, canonical */
	size_t index; /* position in the file's list */
	char prefix[33];
	char *area_name; /* owned */
	int64_t connect_fee, first_rate, next_rate;
	int64_t first_interval, next_interval;
};

struct md_obj {
	const struct md_section *sec;
	char path[48];		  /* "routing_gateways[1]" */
	char *name;		  /* owned */
	bool del;		  /* "delete": true */
	struct md_val *vals;	  /* owned, one per field of sec */
	struct md_entry *entries; /* owned, sorted by prefix */
	size_t nentries;
};

struct md_param {
	char *name;  /* owned */
	char *value; /* owned; NULL = delete the row (default) */
	char path[96];
};

struct md_doc {
	struct md_param *params; /* owned */
	size_t nparams;
	struct md_obj *objs; /* owned, in apply order */
	size_t nobjs;
	char **errs;	/* owned, "path: message" */
	size_t *byname; /* owned: named objects by (section, name) */
	size_t nbyname;
	size_t nerrs;
};

extern const struct md_section md_sections[];
extern const size_t md_nsections;
extern const struct md_param_def md_params[];

const struct md_section *md_section_find(const char *key);
const char *md_section_id(const struct md_section *sec);
const struct md_param_def *md_param_find(const char *name);
int md_field_index(const struct md_section *sec, const char *key);

int md_doc_check(struct md_doc *doc, const json_t *root);
void md_doc_error(struct md_doc *doc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void md_doc_free(struct md_doc *doc);
struct md_obj *md_doc_find(const struct md_doc *doc, const char *section,
			   const char *name);

int md_money_str(char *buf, size_t size, int64_t micro);
bool md_ip_or_cidr_valid(const char *s);
bool md_host_valid(const char *s);

/* pq.c: blocking statements; err gets the server's reason */
PGresult *md_pq_exec(PGconn *conn, const char *sql, int n,
		     const char *const *params, char *err, size_t errsz);
int md_pq_cmd(PGconn *conn, const char *sql, char *err, size_t errsz);
/* pq.c: rows read by column name, never by position */
const char *md_pq_val(const PGresult *res, int row, int col);
bool md_pq_null(const PGresult *res, int row, int col);
const char *md_pq_get(const PGresult *res, int row, const char *name);
int md_pq_cols(const PGresult *res, const char *const *names, int *cols,
	       size_t n, char *err, size_t errsz);

/* apply.c: write a checked document in one transaction */
int md_read_expr(char *buf, size_t size, const struct md_field *f);

enum md_apply_mode {
	MD_APPLY_ANY,	   /* create or update (provisioning) */
	MD_APPLY_CREATE,   /* every object must be new */
	MD_APPLY_EXISTING, /* every object must exist (update, delete) */
};

enum md_apply_result {
	MD_OK = 0,
	MD_INVALID,   /* doc->errs says why */
	MD_EXISTS,    /* MD_APPLY_CREATE: err names the object */
	MD_NOT_FOUND, /* MD_APPLY_EXISTING: err names the object */
	MD_REFUSED,   /* a rule across objects or rows: err */
	MD_DBERR,     /* the database failed: err */
	MD_STALE,     /* if_match differs from the object's ETag */
	MD_FORBIDDEN, /* the guard refused: err */
};

/*
 * A caller's own rule, run inside the writing transaction after the
 * database checks and before any write: MD_OK, or MD_FORBIDDEN (or
 * MD_DBERR) with the reason in err.
 */
typedef int(md_guard_h)(PGconn *conn, const struct md_doc *doc, void *arg,
			char *err, size_t errsz);

struct md_apply {
	PGconn *conn;	    /* borrowed, not in a transaction */
	const char *source; /* NOTIFY tandem_config "source" */
	enum md_apply_mode mode;
	bool dry_run; /* roll back at the end */
	bool quiet;   /* no "unchanged" lines */
	FILE *out;    /* change lines, written after success; may be NULL */
	const char *if_match; /* the one object's ETag must be this */
	md_guard_h *guard;    /* may be NULL */
	void *guard_arg;
	/* one audit_log row in the same transaction when anything changed */
	const char *audit_actor, *audit_action, *audit_object, *audit_ip;
	int created, updated, deleted, unchanged;
	char err[1024];
};

int md_apply(struct md_apply *a, struct md_doc *doc);

/* export.c: configuration objects as provisioning JSON (the API's reads) */
struct md_export_q {
	const char *name;      /* one object by name (id), NULL: a page */
	long limit, offset;    /* a page, by name order */
	bool entries;	       /* rate tables: the entries (else entry_count) */
	const char *scope;     /* SQL condition on t, may use $1 (or NULL) */
	const char *scope_arg; /* $1 of scope */
};

int md_export(PGconn *conn, const struct md_section *sec,
	      const struct md_export_q *q, json_t **itemsp, long *totalp,
	      char *err, size_t errsz);
void md_etag(const json_t *obj, char out[24]);

/* secret.c: passwords (argon2id) and random tokens */
#define MD_PASSWORD_HASH_MAX 160
#define MD_TOKEN_MAX	     80 /* prefix (<= 15) + 64 hex + NUL */

int md_password_hash(const char *password, char *out, size_t size);
bool md_password_verify(const char *encoded, const char *password);
const char *md_password_problem(const char *password);
int md_token_new(const char *prefix, char *out, size_t size);

/* user.c: web users */
struct md_user {
	const char *username, *password, *role, *account, *language,
	    *time_zone;	   /* borrowed from the checked body; NULL: unset */
	bool account_null; /* "account": null */
	bool enabled_set, enabled;
	char field[32]; /* the field a problem is about */
	char err[600];
};

bool md_username_valid(const char *s);
int md_user_check(struct md_user *u, json_t *body, bool create);
int md_user_save(PGconn *conn, struct md_user *u, const char *name,
		 bool create);
int md_token_create(PGconn *conn, const char *user_id, const char *name,
		    int days, char *token, char *err, size_t errsz);

/* payment.c: money movements (one ledger) */
struct md_payment {
	const char *kind; /* topup deduct refund credit transfer */
	const char *account, *sub_account; /* transfer: agent, sub-account */
	int64_t amount;			   /* micro-units; credit: the limit */
	int64_t held; /* what the account's live calls hold */
	const char *memo, *by;
	/* out */
	char id[24], id2[24]; /* payments rows (transfer: out, in) */
	int64_t balance_after, credit_limit_after, sub_balance_after;
	char field[32];
	char err[600];
};

const char *md_payment_kind(const char *kind);
int md_payment_apply(PGconn *conn, struct md_payment *p);

/* card.c: phone card batches and cards */
#define MD_CARD_COUNT_MAX  100000
#define MD_CARD_DIGITS_MAX 32 /* the schema's number check */
#define MD_PIN_DIGITS_MAX  16

struct md_card {
	char number[MD_CARD_DIGITS_MAX + 1];
	char pin[MD_PIN_DIGITS_MAX + 1];
};

struct md_card_batch {
	const char *name, *rate_table, *agent, *expires, *number_prefix, *by;
	int count, number_digits, pin_digits; /* digits 0: 12 and 6 */
	int64_t face_value;		      /* micro-units */
	struct md_card *cards;		      /* out: owned by the caller */
	char field[32];
	char err[600];
};

int md_card_batch_create(PGconn *conn, struct md_card_batch *b);
int md_card_set(PGconn *conn, const char *number, const char *what,
		const char *date, char *err, size_t errsz);

/* openapi.c: the API's OpenAPI document (a new reference) */
json_t *md_openapi(void);

#endif /* MD_MODEL_H */
