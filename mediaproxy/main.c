/*
 * main.c - mediaproxyd: command line, start-up and the re_main loop
 *
 *   mediaproxyd [-f FILE] [-F] [-t] [-v]
 *
 * -f config file (default /etc/tandem/mediaproxyd.conf when it exists,
 * else built-in defaults), -F foreground (always), -t check the config and
 * exit, -v print the version.  SIGTERM/SIGINT drain (drain_timeout_s) or
 * end the loop, then exit 0,
 * SIGHUP reloads (node.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mediaproxy/libre.h"

#define SW_LOG_MODULE "main"
#include "common/log.h"
#include "common/sdnotify.h"
#include "mediaproxy/config.h"
#include "mediaproxy/node.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mediaproxyd [-f FILE] [-F] [-t] [-v]\n"
		"  -f FILE  configuration (default %s)\n"
		"  -F       stay in the foreground (always the case)\n"
		"  -t       check the configuration and exit\n"
		"  -v       print the version and exit\n",
		MP_CONF_DEFAULT_PATH);
}

/* SIGTERM/SIGINT, in libre's signal handler: the loop decides (drain) */
static void on_signal(int sig)
{
	mp_node_on_signal(sig);
}

/* room for every port of the range plus the bus, logs and spares */
static void raise_fd_limit(const struct mp_conf *conf)
{
	rlim_t want = (rlim_t)(conf->port_max - conf->port_min + 1) + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want)
		sw_warn("open files limited to %llu: fewer sessions than "
			"ports fit",
			(unsigned long long)rl.rlim_cur);
	(void)fd_setsize(rl.rlim_cur < want ? (int)rl.rlim_cur : (int)want);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	struct mp_node *node = NULL;
	struct mp_conf conf;
	bool check = false;
	char err[512];
	int opt, ret;

	while ((opt = getopt(argc, argv, "f:Fthv")) != -1) {
		switch (opt) {
		case 'f':
			path = optarg;
			break;
		case 'F':
			break;
		case 't':
			check = true;
			break;
		case 'v':
			printf("mediaproxyd %s\n", TANDEM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!path && access(MP_CONF_DEFAULT_PATH, F_OK) == 0)
		path = MP_CONF_DEFAULT_PATH;

	sw_log_init("mediaproxyd");
	if (mp_conf_load(&conf, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration ok\n", path ? path : "(defaults)");
		return 0;
	}
	sw_log_set_level(conf.log_level);

	ret = libre_init();
	if (ret) {
		sw_err("libre_init: %s", strerror(ret));
		return 1;
	}
	raise_fd_limit(&conf);
	(void)signal(SIGPIPE, SIG_IGN);

	ret = mp_node_alloc(&node, &conf, path);
	if (ret) {
		sw_err("start-up failed: %s", strerror(ret));
		libre_close();
		return 1;
	}

	sw_info("mediaproxyd %s started", TANDEM_VERSION);
	sw_notify_ready("serving");
	ret = re_main(on_signal);
	sw_info("shutting down%s", ret ? " after a loop error" : "");
	sw_notify_stopping("shutting down");

	mp_node_free(node);
	libre_close();

	return ret ? 1 : 0;
}
