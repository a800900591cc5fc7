/*
 * ctl.h - tandemctl's commands and the helpers they share
 *
 * tandemctl is a short-lived operator tool: it may block (libpq PQexec,
 * connect(2)) because it carries no calls.  Each command returns the process
 * exit status: 0 success, 1 failure (already reported on stderr), 2 usage.
 *
 * Threading: single-threaded.
 */
#ifndef TC_CTL_H
#define TC_CTL_H

#include <stdbool.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "model/model.h"

#define TC_DEFAULT_DB  "host=127.0.0.1 port=5432 user=tandem dbname=tandem"
#define TC_DEFAULT_API "http://127.0.0.1:8080"

struct tc_opts {
	const char *conninfo;	 /* -d, else $TANDEM_DB, else TC_DEFAULT_DB */
	const char *api;	 /* --api, else $TANDEM_API, else default */
	const char *schema_dir;	 /* --schema-dir */
	bool dry_run;		 /* provision --dry-run */
	bool quiet;		 /* -q: no "unchanged" lines */
	int timeout_ms;		 /* status: connect + response timeout */
	const char *memo;	 /* payment --memo */
	const char *by;		 /* payment --by (else $USER) */
	const char *at;		 /* rate --at */
	const char *agent;	 /* card --agent */
	const char *expires;	 /* card --expires */
	const char *card_prefix; /* card --number-prefix */
	const char *card_digits; /* card --number-digits */
	const char *pin_digits;	 /* card --pin-digits */
	/* firewall */
	int fw_format;	       /* TC_FW_NFT, --iptables, --ip6tables */
	const char *conf_dir;  /* --conf-dir (else /etc/tandem) */
	const char *fw_admin;  /* --admin LIST */
	const char *fw_peers;  /* --peer LIST */
	unsigned ssh_port;     /* --ssh-port (22; 0 = no rule) */
	unsigned sip_tls_port; /* --sip-tls-port (0 = none) */
	bool sip_trusted_only; /* --sip-trusted-only */
	unsigned sip_tcp_cap;  /* --sip-tcp-per-source (0 = no cap) */
	int days;	       /* pki --days */
	const char *reason;    /* blacklist --reason */
	const char *time;      /* blacklist --time (seconds) */
};

enum { TC_FW_NFT, TC_FW_IPT, TC_FW_IPT6 };

/* db.c */
const char *tc_db_conninfo(const struct tc_opts *o);
PGconn *tc_db_open(const struct tc_opts *o);
PGconn *tc_db_connect(const struct tc_opts *o);
int tc_db_schema_version(PGconn *conn, int *versionp, char *err, size_t errsz);
void tc_db_audit(PGconn *conn, const char *action, const char *object);

/* backup.c */
int tc_cmd_backup(const struct tc_opts *o, int argc, char **argv);

/* migrate.c */
int tc_cmd_migrate(const struct tc_opts *o);
int tc_cmd_db_version(const struct tc_opts *o);

/* provision.c */
int tc_cmd_provision(const struct tc_opts *o, const char *file);

/* fields.c */
int tc_cmd_fields(void);
int tc_cmd_openapi(void);

/* status.c */
int tc_cmd_status(const struct tc_opts *o);
const char *tc_api_base(const struct tc_opts *o);

/* http.c: billingd's API (libcurl) */
const char *tc_api_token(void);
int tc_http(const char *base, const char *method, const char *path,
	    const char *body, int timeout_ms, FILE *out, int *statusp,
	    char **bodyp, char *err, size_t errsz);
int tc_http_get(const char *base, const char *path, int timeout_ms,
		int *statusp, char **bodyp, char *err, size_t errsz);

/* rate.c */
int tc_cmd_rate(const struct tc_opts *o, int argc, char **argv);

/* card.c */
int tc_cmd_card(const struct tc_opts *o, int argc, char **argv);

/* live.c: calls, hangup, route, lock, unlock, cdr export (the API) */
int tc_cmd_live(const struct tc_opts *o, int argc, char **argv);

/* user.c */
int tc_cmd_user(const struct tc_opts *o, int argc, char **argv);

/* firewall.c */
int tc_cmd_firewall(const struct tc_opts *o);
/* pki.c: the bus CA and host certificates */
int ctl_pki(int argc, char **argv, int days);
/* blacklist.c */
int tc_cmd_blacklist(const struct tc_opts *o, int argc, char **argv);

/* payment.c */
int tc_cmd_payment(const struct tc_opts *o, int argc, char **argv);

#endif /* TC_CTL_H */
