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
	char listen[64];
	char ip[64];
};

static const struct sw_conf_item tab[] = {
    {"port_min", SW_CONF_INT, offsetof(struct cfg, port_min), sizeof(int64_t),
     "10000", 1024, 65534, "first RTP port"},
    {"debug", SW_CONF_BOOL, offsetof(struct cfg, debug), sizeof(bool), "no", 0,
     0, "debug mode"},
    {"db", SW_CONF_STR, offsetof(struct cfg, db), 64, "dbname=tandem", 1, 0,
     "conninfo"},
    {"log_level", SW_CONF_LOGLEVEL, offsetof(struct cfg, level),
     sizeof(enum sw_log_level), "info", 0, 0, "log level"},
    {"listen", SW_CONF_HOSTPORT, offsetof(struct cfg, listen), 64,
     "127.0.0.1:8080", 1, 63, "ip:port"},
    {"ip", SW_CONF_IP, offsetof(struct cfg, ip), 64, "", 0, 63, "address"},
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
	assert_int_equal(
	    sw_conf_parse(tab, &c, text, "a.conf", err, sizeof(err)), 0);
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
	assert_int_equal(sw_conf_parse(tab, &c, "debug 1\n\nbogus 3\n",
				       "b.conf", err, sizeof(err)),
			 EINVAL);
	assert_string_equal(err, "b.conf:3: unknown key 'bogus'");

	assert_int_equal(
	    sw_conf_parse(tab, &c, "port_min 80\n", "c.conf", err, sizeof(err)),
	    ERANGE);
	assert_non_null(strstr(err, "c.conf:1: port_min:"));
	assert_non_null(strstr(err, "1024..65534"));

	assert_int_equal(sw_conf_parse(tab, &c, "port_min 12x\n", "d.conf", err,
				       sizeof(err)),
			 EINVAL);
	assert_non_null(strstr(err, "d.conf:1"));

	assert_int_equal(sw_conf_parse(tab, &c, "debug 1\ndebug 0\n", "e.conf",
				       err, sizeof(err)),
			 EINVAL);
	assert_string_equal(err, "e.conf:2: duplicate key 'debug'");

	assert_int_equal(
	    sw_conf_parse(tab, &c, "debug maybe\n", "f.conf", err, sizeof(err)),
	    EINVAL);
	assert_int_equal(sw_conf_parse(tab, &c, "log_level loud\n", "g.conf",
				       err, sizeof(err)),
			 EINVAL);
	assert_int_equal(
	    sw_conf_parse(tab, &c, "db\n", "h.conf", err, sizeof(err)), ERANGE);
}

/* addresses: the 124536 case and its kin, each named with file:line */
static void addresses(void **state)
{
	static const char *const bad[] = {
	    "listen 127.0.0.1:124536\n", "listen 127.0.0.1:0\n",
	    "listen 127.0.0.1\n",	 "listen 127.0.0.1:80x\n",
	    "listen host.example:80\n",	 "listen ::1:5060\n",
	    "listen [::1:5060\n",	 "listen 300.1.1.1:5060\n",
	    "ip 10.0.0.256\n",		 "ip pbx.example\n",
	};
	struct cfg c;
	char err[256], ip[64];
	unsigned port = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sw_conf_defaults(tab, &c, err, sizeof(err)),
				 0);
		if (sw_conf_parse(tab, &c, bad[i], "a.conf", err,
				  sizeof(err)) != EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err, "a.conf:1: "));
	}
	assert_int_equal(sw_conf_defaults(tab, &c, err, sizeof(err)), 0);
	assert_int_equal(sw_conf_parse(tab, &c,
				       "listen [2001:db8::1]:5061\nip ::1\n",
				       "b.conf", err, sizeof(err)),
			 0);
	assert_string_equal(c.listen, "[2001:db8::1]:5061");
	assert_string_equal(c.ip, "::1");
	assert_int_equal(sw_conf_hostport("0.0.0.0:65535", ip, sizeof(ip),
					  &port, err, sizeof(err)),
			 0);
	assert_string_equal(ip, "0.0.0.0");
	assert_int_equal(port, 65535);
	assert_int_equal(sw_conf_hostport("1.2.3.4:65536", ip, sizeof(ip),
					  &port, err, sizeof(err)),
			 EINVAL);
	assert_non_null(strstr(err, "1..65535"));
}

static void load_missing_file(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(
	    sw_conf_load(tab, &c, "/nonexistent/x.conf", err, sizeof(err)),
	    ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_apply),
	    cmocka_unit_test(values_parse),
	    cmocka_unit_test(errors_name_file_and_line),
	    cmocka_unit_test(load_missing_file),
	    cmocka_unit_test(addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
