/*
 * prov.h - the provisioning document: schema tables and the pure validator
 *
 * A provisioning file (docs/provisioning.md) is checked in two steps.  This
 * module does the first one, without a database: every section, object and
 * field is checked against the tables below (known keys, JSON types, ranges,
 * formats, references between objects of the same file) and turned into a
 * struct tc_doc whose values are already canonical text.  provision.c then
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
#ifndef TC_PROV_H
#define TC_PROV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tc_kind {
	TC_TEXT,    /* free text, length min..max */
	TC_DIALSTR, /* digits, '*', '#', '+', length min..max */
	TC_PREFIX,  /* one digit prefix, length min..max */
	TC_HOST,    /* hostname, IPv4 or IPv6 literal */
	TC_INT,	    /* integer min..max */
	TC_BOOL,
	TC_MONEY,	/* decimal string, at most 6 decimals, min..max micro */
	TC_ENUM,	/* one of enums[] */
	TC_REF,		/* the name of an object of section `ref` */
	TC_INT_LIST,	/* list of integers min..max, at most `max_items` */
	TC_PREFIX_LIST, /* list of digit prefixes (stored text[]) */
	TC_IP_LIST,	/* list of IPv4/IPv6 addresses or CIDRs */
	TC_REF_LIST,	/* list of names of section `ref` (stored text[]) */
	TC_PREFIX_SET,	/* routing gateway prefixes: child table, a set */
	TC_RATE_ENTRIES, /* rate table entries: child table, a set */
	TC_TIME,	 /* "HH:MM" or "HH:MM:SS", 00:00..24:00 */
	TC_TZ,		 /* IANA time zone name (checked in the database) */
	TC_DATE_SET,	 /* "YYYY-MM-DD" dates: child table, a set */
	TC_ENUM_SET,	 /* set of enums[] (stored text[], sorted) */
	TC_DIALPLAN,	 /* list of number rewriting rules (stored jsonb) */
	TC_MEDIA,	 /* codec/DTMF/media-proxy settings (stored jsonb) */
	TC_IDENTITY,	 /* PAI/Privacy/PPI/extra headers (stored jsonb) */
	TC_CALLER_POOL,	 /* caller number pool (stored jsonb) */
};

/* field flags */
#define TC_F_REQ_CREATE	 0x01 /* required when the object is created */
#define TC_F_CREATE_ONLY 0x02 /* applied on creation only (balance) */
#define TC_F_NULLABLE	 0x04 /* JSON null clears it (SQL NULL) */
#define TC_F_SECRET	 0x08 /* never printed */

struct tc_field {
	const char *key;    /* JSON key */
	const char *column; /* SQL column; NULL for child sets */
	enum tc_kind kind;
	int64_t min, max; /* ints/money: value range; text: length */
	size_t max_items; /* lists */
	const char *const *enums;
	const char *ref; /* TC_REF/TC_REF_LIST: section key */
	unsigned flags;
	const char *def;  /* documented default (docs only) */
	const char *help; /* documentation */
	/* TC_PREFIX_SET, TC_DATE_SET: the child table holding the set */
	const char *set_table, *set_fk, *set_col;
};

struct tc_section {
	const char *key;	       /* "routing_gateways" */
	const char *table;	       /* "routing_gateways" */
	const char *noun;	       /* "routing gateway" */
	const struct tc_field *fields; /* NULL-key terminated, no "name" */
	size_t nfields;
	const char *id; /* identifying key and column; NULL = "name" */
};

/* the system parameters tandemctl knows */
struct tc_param_def {
	const char *name;
	int64_t min, max; /* integer parameters */
	bool text;	  /* free text (format not fixed yet) */
	const char *def;  /* default when the row is missing */
	const char *help;
};

struct tc_val {
	bool set;   /* present in the file */
	bool null;  /* JSON null: clear */
	char *text; /* owned: canonical text, NULL if null */
};

struct tc_entry {     /* one rate table entry, canonical */
	size_t index; /* position in the file's list */
	char prefix[33];
	char *area_name; /* owned */
	int64_t connect_fee, first_rate, next_rate;
	int64_t first_interval, next_interval;
};

struct tc_obj {
	const struct tc_section *sec;
	char path[48];		  /* "routing_gateways[1]" */
	char *name;		  /* owned */
	bool del;		  /* "delete": true */
	struct tc_val *vals;	  /* owned, one per field of sec */
	struct tc_entry *entries; /* owned, sorted by prefix */
	size_t nentries;
};

struct tc_param {
	char *name;  /* owned */
	char *value; /* owned; NULL = delete the row (default) */
	char path[96];
};

struct tc_doc {
	struct tc_param *params; /* owned */
	size_t nparams;
	struct tc_obj *objs; /* owned, in apply order */
	size_t nobjs;
	char **errs;	/* owned, "path: message" */
	size_t *byname; /* owned: named objects by (section, name) */
	size_t nbyname;
	size_t nerrs;
};

extern const struct tc_section tc_sections[];
extern const size_t tc_nsections;
extern const struct tc_param_def tc_params[];

const struct tc_section *tc_section_find(const char *key);
const char *tc_section_id(const struct tc_section *sec);
const struct tc_param_def *tc_param_find(const char *name);
int tc_field_index(const struct tc_section *sec, const char *key);

int tc_doc_check(struct tc_doc *doc, const json_t *root);
void tc_doc_error(struct tc_doc *doc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tc_doc_free(struct tc_doc *doc);
struct tc_obj *tc_doc_find(const struct tc_doc *doc, const char *section,
			   const char *name);

int tc_money_str(char *buf, size_t size, int64_t micro);
bool tc_ip_or_cidr_valid(const char *s);
bool tc_host_valid(const char *s);

#endif /* TC_PROV_H */
