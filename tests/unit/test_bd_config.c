/*
 * test_bd_config.c - billingd.conf keys, defaults and errors
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "billingd/config.h"

static const char *write_conf(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_bd_config.%d", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void conf_defaults(void **state)
{
	struct bd_conf c;
	char err[256];

	(void)state;
	assert_int_equal(bd_conf_load(&c, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.node_id, "bd1");
	assert_string_equal(c.bus_listen, "tcp://127.0.0.1:7611");
	assert_string_equal(c.signaling_url, "tcp://127.0.0.1:7602");
	assert_string_equal(
	    c.db, "host=127.0.0.1 port=5432 user=tandem dbname=tandem");
	assert_string_equal(c.http_listen, "127.0.0.1:8080");
	assert_string_equal(c.metrics_listen, ""); /* no metrics */
	assert_int_equal(c.log_level, SW_LOG_INFO);
}

static void conf_file(void **state)
{
	const char *path =
	    write_conf("# billingd\n\n"
		       "node_id bd7\n"
		       "db host=10.0.0.5 port=5433 user=t dbname=t\n"
		       "http_listen [::1]:9090\n"
		       "metrics_listen 10.0.0.5:9643\n"
		       "log_level debug\n");
	struct bd_conf c;
	char err[256];

	(void)state;
	assert_int_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.node_id, "bd7");
	assert_string_equal(c.db, "host=10.0.0.5 port=5433 user=t dbname=t");
	assert_string_equal(c.http_listen, "[::1]:9090");
	assert_string_equal(c.metrics_listen, "10.0.0.5:9643");
	assert_int_equal(c.log_level, SW_LOG_DEBUG);
	unlink(path);
}

static void conf_errors(void **state)
{
	struct bd_conf c;
	char err[256], want[128];
	const char *path;

	(void)state;
	path = write_conf("node_id a\nfoo 1\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s:2: unknown key 'foo'", path);
	assert_string_equal(err, want);

	path = write_conf("node_id a\n\nhttp_listen nowhere\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s:3: http_listen", path);
	assert_non_null(strstr(err, want));

	path = write_conf("node_id a\nmetrics_listen 127.0.0.1:99999\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s:2: metrics_listen", path);
	assert_non_null(strstr(err, want));

	path = write_conf("metrics_listen localhost:9643\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":1: metrics_listen"));

	path = write_conf("log_level loud\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":1: log_level"));

	path = write_conf("node_id\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	unlink(path);

	assert_int_not_equal(
	    bd_conf_load(&c, "/nonexistent/bd.conf", err, sizeof(err)), 0);
}

/* signaling_url: a comma-separated list, each URL checked, none twice */
static void conf_signaling_list(void **state)
{
	struct bd_conf c;
	char err[512];
	const char *path;

	(void)state;
	path = write_conf("signaling_url tcp://127.0.0.1:7602, "
			  "tcp://127.0.0.2:7602\n");
	assert_int_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.signaling_url,
			    "tcp://127.0.0.1:7602, tcp://127.0.0.2:7602");

	path = write_conf("node_id a\nsignaling_url tcp://127.0.0.1:7602,"
			  "udp://x:1\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: signaling_url"));
	assert_non_null(strstr(err, "udp://x:1"));

	path = write_conf("signaling_url tcp://127.0.0.1:7602,"
			  "tcp://127.0.0.1:7602\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":1: signaling_url"));
	assert_non_null(strstr(err, "twice"));

	path = write_conf("signaling_url ,\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":1: signaling_url"));

	/* off loopback without TLS: refused as a single URL is */
	path = write_conf("signaling_url tcp://127.0.0.1:7602,"
			  "tcp://10.0.0.2:7602\n");
	assert_int_not_equal(bd_conf_load(&c, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":1: signaling_url"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(conf_defaults),
	    cmocka_unit_test(conf_file),
	    cmocka_unit_test(conf_errors),
	    cmocka_unit_test(conf_signaling_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
