/*
 * tandemctl.c - the operator's command line: database migrations,
 * declarative provisioning, status of every node
 *
 *   tandemctl [-d CONNINFO] db migrate [--schema-dir DIR]
 *   tandemctl [-d CONNINFO] db version
 *   tandemctl [-d CONNINFO] provision FILE.json [--dry-run] [-q]
 *   tandemctl [-d CONNINFO] payment KIND ACCOUNT ... [--memo T] [--by W]
 *   tandemctl [-d CONNINFO] card batch|list|lock|unlock|expire ...
 *   tandemctl [-d CONNINFO] blacklist list|add|del|clear ...
 *   tandemctl [--api URL] rate ACCOUNT NUMBER SECONDS [--at TIME]
 *   tandemctl [--api URL] status
 *   tandemctl [-d CONNINFO] firewall [--iptables|--ip6tables] [--conf-dir D]
 *   tandemctl fields
 *   tandemctl -v | help
 *
 * Exit status: 0 success, 1 failure, 2 usage, 3 status: something unhealthy,
 * 4 not found (the API's commands).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: tandemctl [options] COMMAND ...\n"
	    "\n"
	    "commands:\n"
	    "  db migrate              apply the pending "
	    "schema/NNNN_name.sql migrations\n"
	    "  db version              print the database's schema "
	    "version (0 = empty)\n"
	    "  provision FILE.json     make the database match a "
	    "provisioning file\n"
	    "                          (docs/provisioning.md); "
	    "--dry-run: show, write nothing\n"
	    "  payment topup|deduct|refund ACCOUNT AMOUNT\n"
	    "  payment credit ACCOUNT LIMIT\n"
	    "  payment transfer AGENT SUB_ACCOUNT AMOUNT\n"
	    "  payment list ACCOUNT    move money (one ledger: payments "
	    "+ balance_history)\n"
	    "  card batch NAME COUNT VALUE RATE_TABLE\n"
	    "                          new phone cards (prints "
	    "number,pin CSV); --agent,\n"
	    "                          --expires DATE, --number-prefix, "
	    "--number-digits,\n"
	    "                          --pin-digits\n"
	    "  user add NAME ROLE [ACCOUNT] | passwd NAME | enable NAME |\n"
	    "    disable NAME | delete NAME | list\n"
	    "                          web users (passwords on stdin)\n"
	    "  user token NAME TOKEN_NAME [DAYS]\n"
	    "                          a new API token (printed once)\n"
	    "  card list BATCH | lock NUMBER | unlock NUMBER | expire "
	    "NUMBER DATE|never\n"
	    "  blacklist list | add IP [--reason TEXT] [--time S] | "
	    "del IP | clear\n"
	    "                          the SIP blacklist (signalingd "
	    "applies it live;\n"
	    "                          add without --time: until "
	    "deleted)\n"
	    "  rate ACCOUNT NUMBER SECONDS\n"
	    "                          the fee billingd charges (--at "
	    "TIME: ms or\n"
	    "                          YYYY-MM-DDTHH:MM[:SS]Z, else "
	    "now)\n"
	    "  pki init DIR            a bus CA: root and one CA per role "
	    "(--days N)\n"
	    "  pki issue DIR ROLE NAME a host certificate directory for "
	    "bus_pki\n"
	    "                          (ROLE signaling|media|billing|"
	    "control)\n"
	    "  status                  daemons and media nodes, from "
	    "billingd's HTTP API\n"
	    "  backup FILE             the database (pg_dump) and the config "
	    "files of\n"
	    "                          --conf-dir (/etc/tandem) in one "
	    "tar.gz\n"
	    "  restore FILE            into an empty database; config files "
	    "into\n"
	    "                          --conf-dir where none exists\n"
	    "  firewall                this host's nftables ruleset "
	    "(--iptables,\n"
	    "                          --ip6tables: iptables-restore) "
	    "from the database\n"
	    "                          and the config files; --conf-dir "
	    "DIR (/etc/tandem),\n"
	    "                          --admin LIST, --peer LIST, "
	    "--ssh-port N (22),\n"
	    "                          --sip-tls-port N, "
	    "--sip-trusted-only,\n"
	    "                          --sip-tcp-per-source N "
	    "(256; 0 = no cap)\n"
	    "  fields                  the provisioning field reference "
	    "(Markdown)\n"
	    "  help                    this text\n"
	    "\n"
	    "options:\n"
	    "  -d, --db CONNINFO       libpq connection string (else "
	    "$TANDEM_DB, else\n"
	    "                          \"" TC_DEFAULT_DB "\")\n"
	    "      --schema-dir DIR    migration files (else "
	    "$TANDEM_SCHEMA_DIR, else\n"
	    "                          /usr/share/tandem/schema, else "
	    "./schema)\n"
	    "      --api URL           billingd API base (else "
	    "$TANDEM_API, else\n"
	    "                          " TC_DEFAULT_API ")\n"
	    "      --timeout MS        status: connect/response timeout "
	    "(default 3000)\n"
	    "  -n, --dry-run           provision: validate and show "
	    "changes, roll back\n"
	    "  -q, --quiet             provision: do not list unchanged "
	    "objects\n"
	    "      --memo TEXT         payment: why\n"
	    "      --by NAME           payment: who (else $USER)\n"
	    "  -v, --version           print the version\n"
	    "  -h, --help              this text\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"schema-dir", required_argument, NULL, 'S'},
	    {"api", required_argument, NULL, 'A'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"memo", required_argument, NULL, 'M'},
	    {"by", required_argument, NULL, 'B'},
	    {"at", required_argument, NULL, 'R'},
	    {"agent", required_argument, NULL, 'G'},
	    {"expires", required_argument, NULL, 'E'},
	    {"number-prefix", required_argument, NULL, 'P'},
	    {"number-digits", required_argument, NULL, 'N'},
	    {"pin-digits", required_argument, NULL, 'I'},
	    {"iptables", no_argument, NULL, '4'},
	    {"ip6tables", no_argument, NULL, '6'},
	    {"conf-dir", required_argument, NULL, 'C'},
	    {"admin", required_argument, NULL, 'a'},
	    {"peer", required_argument, NULL, 'p'},
	    {"ssh-port", required_argument, NULL, 's'},
	    {"sip-tls-port", required_argument, NULL, 't'},
	    {"sip-trusted-only", no_argument, NULL, 'o'},
	    {"sip-tcp-per-source", required_argument, NULL, 'c'},
	    {"days", required_argument, NULL, 'Y'},
	    {"reason", required_argument, NULL, 'W'},
	    {"time", required_argument, NULL, 'X'},
	    {"version", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct tc_opts o = {.timeout_ms = 3000,
			    .days = 825,
			    .ssh_port = 22,
			    .sip_tcp_cap = 256};
	long port;
	const char *cmd, *sub;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "d:nqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.conninfo = optarg;
			break;
		case 'S':
			o.schema_dir = optarg;
			break;
		case 'A':
			o.api = optarg;
			break;
		case 'T':
			o.timeout_ms = (int)strtol(optarg, &end, 10);
			if (*end || o.timeout_ms < 1 || o.timeout_ms > 600000) {
				fprintf(stderr,
					"tandemctl: --timeout: 1..600000"
					" ms\n");
				return 2;
			}
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'M':
			o.memo = optarg;
			break;
		case 'B':
			o.by = optarg;
			break;
		case 'R':
			o.at = optarg;
			break;
		case 'G':
			o.agent = optarg;
			break;
		case 'E':
			o.expires = optarg;
			break;
		case 'P':
			o.card_prefix = optarg;
			break;
		case 'N':
			o.card_digits = optarg;
			break;
		case 'I':
			o.pin_digits = optarg;
			break;
		case '4':
			o.fw_format = TC_FW_IPT;
			break;
		case '6':
			o.fw_format = TC_FW_IPT6;
			break;
		case 'C':
			o.conf_dir = optarg;
			break;
		case 'a':
			o.fw_admin = optarg;
			break;
		case 'p':
			o.fw_peers = optarg;
			break;
		case 's':
		case 't':
			port = strtol(optarg, &end, 10);
			if (*end || !*optarg || port < 0 || port > 65535) {
				fprintf(stderr, "tandemctl: --%s: 0..65535\n",
					c == 's' ? "ssh-port" : "sip-tls-port");
				return 2;
			}
			if (c == 's')
				o.ssh_port = (unsigned)port;
			else
				o.sip_tls_port = (unsigned)port;
			break;
		case 'o':
			o.sip_trusted_only = true;
			break;
		case 'c':
			port = strtol(optarg, &end, 10);
			if (*end || !*optarg || port < 0 || port > 1000000) {
				fprintf(stderr,
					"tandemctl: --sip-tcp-per-source:"
					" 0..1000000\n");
				return 2;
			}
			o.sip_tcp_cap = (unsigned)port;
			break;
		case 'Y':
			o.days = (int)strtol(optarg, &end, 10);
			if (*end)
				o.days = 0; /* ctl_pki refuses it */
			break;
		case 'W':
			o.reason = optarg;
			break;
		case 'X':
			o.time = optarg;
			break;
		case 'v':
			printf("tandemctl %s\n", TANDEM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	sub = optind < argc ? argv[optind] : NULL;

	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version")) {
		printf("tandemctl %s\n", TANDEM_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "db") && sub && optind + 1 == argc) {
		if (!strcmp(sub, "migrate"))
			return tc_cmd_migrate(&o);
		if (!strcmp(sub, "version"))
			return tc_cmd_db_version(&o);
	}
	if (!strcmp(cmd, "provision") && sub && optind + 1 == argc)
		return tc_cmd_provision(&o, sub);
	if (!strcmp(cmd, "rate"))
		return tc_cmd_rate(&o, argc - optind, argv + optind);
	if (!strcmp(cmd, "card"))
		return tc_cmd_card(&o, argc - optind, argv + optind);
	if (!strcmp(cmd, "calls") || !strcmp(cmd, "hangup") ||
	    !strcmp(cmd, "users") || !strcmp(cmd, "route") ||
	    !strcmp(cmd, "lock") || !strcmp(cmd, "unlock") ||
	    !strcmp(cmd, "cdr"))
		return tc_cmd_live(&o, argc - optind + 1, argv + optind - 1);
	if (!strcmp(cmd, "user"))
		return tc_cmd_user(&o, argc - optind, argv + optind);
	if (!strcmp(cmd, "pki"))
		return ctl_pki(argc - optind, argv + optind, o.days);
	if (!strcmp(cmd, "blacklist"))
		return tc_cmd_blacklist(&o, argc - optind, argv + optind);
	if (!strcmp(cmd, "payment"))
		return tc_cmd_payment(&o, argc - optind, argv + optind);
	if (!strcmp(cmd, "fields") && !sub)
		return tc_cmd_fields();
	if (!strcmp(cmd, "openapi") && !sub)
		return tc_cmd_openapi();
	if (!strcmp(cmd, "firewall") && !sub)
		return tc_cmd_firewall(&o);
	if (!strcmp(cmd, "status") && !sub)
		return tc_cmd_status(&o);
	if (!strcmp(cmd, "backup") || !strcmp(cmd, "restore"))
		return tc_cmd_backup(&o, argc - optind + 1, argv + optind - 1);

	fprintf(stderr,
		"tandemctl: unknown command or wrong arguments: %s%s%s"
		"\n(see tandemctl help)\n",
		cmd, sub ? " " : "", sub ? sub : "");
	return 2;
}
