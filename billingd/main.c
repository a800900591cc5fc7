/*
 * main.c - billingd: rating, credit control, CDR store and HTTP API
 *
 *   billingd [-f FILE] [-F] [-t] [-v]
 *
 * -f config file (default /etc/tandem/billingd.conf), -F foreground (always
 * the case: logs go to stderr), -t check the config and exit, -v version.
 * Exit status: 0 after SIGTERM/SIGINT, 1 on a bad config or schema, 2 on
 * usage, 3 when a listener or the loop cannot start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "billingd/libre.h"

#include "billingd/config.h"
#include "billingd/daemon.h"
#include "billingd/schema.h"
#include "common/log.h"
#include "common/sdnotify.h"

static void usage(void)
{
	fprintf(stderr, "usage: billingd [-f FILE] [-F] [-t] [-v]\n");
}

int main(int argc, char *argv[])
{
	const char *path = BD_CONF_PATH;
	bool check = false;
	struct bd_conf conf;
	struct bd *bd = NULL;
	char err[1024];
	int opt, version, ret = 0;

	while ((opt = getopt(argc, argv, "f:Ftvh")) != -1) {
		switch (opt) {
		case 'f':
			path = optarg;
			break;
		case 'F':
			break; /* always in the foreground */
		case 't':
			check = true;
			break;
		case 'v':
			printf("billingd %s\n", TANDEM_VERSION);
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}

	sw_log_init(BD_DAEMON_NAME);

	if (bd_conf_load(&conf, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration ok\n", path);
		return 0;
	}
	sw_log_set_level(conf.log_level);

	/* the one blocking database use, before the loop exists */
	if (bd_schema_check(conf.db, &version, err, sizeof(err))) {
		sw_err("refusing to start: %s", err);
		return 1;
	}

	if (libre_init()) {
		sw_err("libre_init failed");
		return 3;
	}

	if (bd_alloc(&bd, &conf, path)) {
		ret = 3;
		goto out;
	}
	sw_info("billingd %s started (schema version %d)", TANDEM_VERSION,
		version);
	bd->watchdog = sw_notify_watchdog_ms() != 0;
	sw_notify_ready("serving");

	(void)re_main(NULL);
	sw_info("stopped");

out:
	mem_deref(bd);
	libre_close();
	tmr_debug();
	mem_debug();

	return ret;
}
