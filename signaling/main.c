/*
 * main.c - signalingd command line
 *
 *   signalingd [-f FILE] [-F] [-t] [-v]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "signaling/sg.h"

static void usage(void)
{
	fprintf(stderr, "usage: signalingd [-f config] [-F] [-t] [-v]\n"
			"  -f FILE  config file (default "
			"/etc/tandem/signalingd.conf)\n"
			"  -F       foreground (always; logs to stderr)\n"
			"  -t       check the config file and exit\n"
			"  -v       print the version and exit\n");
}

int main(int argc, char **argv)
{
	const char *conf = "/etc/tandem/signalingd.conf";
	struct sg *sg = NULL;
	int opt, check = 0, err;

	while ((opt = getopt(argc, argv, "f:Ftvh")) != -1) {
		switch (opt) {
		case 'f':
			conf = optarg;
			break;
		case 'F':
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			printf("signalingd %s\n", TANDEM_VERSION);
			return 0;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}

	sw_log_init("signalingd");
	if (check)
		return sg_check_config(conf) ? 1 : 0;

	err = sg_start(&sg, conf);
	if (!err)
		err = sg_run(sg);
	sg_free(sg);
	return err ? 1 : 0;
}
