/* test_common_conf.c - the declarative config table parser */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/conf.h"
#include "common/log.h"

struct cfg {
	int64_t port_min;
	bool debug;
	char db[64];
	enum sw_log_level level;
};

static const struct sw_conf_item tab[] = {
	{"port_min", SW_CONF_INT, offsetof(struct cfg, port_min),
	 sizeof(int64_t), "10000", 1024, 65534, "first RTP port"},
	{"debug", SW_CONF_BOOL, offsetof(struct cfg, debug), sizeof(bool), "no",
	 0, 0, "debug mode"},
	{"db", SW_CONF_STR, offsetof(struct cfg, db), 64, "dbname=tandem", 1, 0,
	 "conninfo"},
	{"log_level", SW_CONF_LOGLEVEL, offsetof(struct cfg, level),
	 sizeof(enum sw_log_level), "info", 0, 0, "log level"},
	SW_CONF_END,
};

static void defaults_apply(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	memset(&c, 0xff, sizeof(c));
	assert_int_equal(sw_conf_defaults(tab, &c, err, sizeof(err)), 0);
	assert_int_equal(c.port_min, 10000);
	assert_false(c.debug);
	assert_string_equal(c.db, "dbname=tandem");
	assert_int_equal(c.level, SW_LOG_INFO);
}

static void values_parse(void **state)
{
	struct cfg c;
	char err[256] = "";
	const char *text = "# comment\n\nport_min   20000\n"
			   "db host=127.0.0.1 port=5432 dbname=x  \n"
			   "debug on\nlog_level debug\n";

	(void)state;
	sw_conf_defaults(tab, &c, err, sizeof(err));
	assert_int_equal(sw_conf_parse(tab, &c, text, "a.conf", err,
				       sizeof(err)), 0);
	assert_int_equal(c.port_min, 20000);
	assert_true(c.debug);
	assert_string_equal(c.db, "host=127.0.0.1 port=5432 dbname=x");
	assert_int_equal(c.level, SW_LOG_DEBUG);
}

static void errors_name_file_and_line(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	sw_conf_defaults(tab, &c, err, sizeof(err));
	assert_int_equal(sw_conf_parse(tab, &c, "debug 1\n\nbogus 3\n", "b.conf",
				       err, sizeof(err)), EINVAL);
	assert_string_equal(err, "b.conf:3: unknown key 'bogus'");

	assert_int_equal(sw_conf_parse(tab, &c, "port_min 80\n", "c.conf", err,
				       sizeof(err)), ERANGE);
	assert_non_null(strstr(err, "c.conf:1: port_min:"));
	assert_non_null(strstr(err, "1024..65534"));

	assert_int_equal(sw_conf_parse(tab, &c, "port_min 12x\n", "d.conf", err,
				       sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "d.conf:1"));

	assert_int_equal(sw_conf_parse(tab, &c, "debug 1\ndebug 0\n", "e.conf",
				       err, sizeof(err)), EINVAL);
	assert_string_equal(err, "e.conf:2: duplicate key 'debug'");

	assert_int_equal(sw_conf_parse(tab, &c, "debug maybe\n", "f.conf", err,
				       sizeof(err)), EINVAL);
	assert_int_equal(sw_conf_parse(tab, &c, "log_level loud\n", "g.conf",
				       err, sizeof(err)), EINVAL);
	assert_int_equal(sw_conf_parse(tab, &c, "db\n", "h.conf", err,
				       sizeof(err)), ERANGE);
}

static void load_missing_file(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(sw_conf_load(tab, &c, "/nonexistent/x.conf", err,
				      sizeof(err)), ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_apply),
		cmocka_unit_test(values_parse),
		cmocka_unit_test(errors_name_file_and_line),
		cmocka_unit_test(load_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
