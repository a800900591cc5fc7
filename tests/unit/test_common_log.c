/* test_common_log.c - log lines: journald priorities, one event per line */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define SW_LOG_MODULE "mod"
#include "common/log.h"

/* what one call of fn writes to stderr */
static void capture(void (*fn)(void), char *out, size_t size)
{
	int fds[2], saved;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, size - 1);
	close(fds[0]);
	assert_true(n > 0);
	out[n] = '\0';
}

static void two_lines_warning(void)
{
	sw_warn("peer said %s", "one\r\ntwo\nthree");
}

static void an_error(void)
{
	sw_err("database down");
}

static void journald(void **state)
{
	char out[512];

	(void)state;
	setenv("JOURNAL_STREAM", "8:1234", 1);
	sw_log_init("test");
	capture(two_lines_warning, out, sizeof(out));
	/* the priority journald reads, no timestamp, one line */
	assert_string_equal(out,
			    "<4>warn  test/mod: peer said one  two three\n");
	capture(an_error, out, sizeof(out));
	assert_string_equal(out, "<3>err   test/mod: database down\n");
}

static void terminal(void **state)
{
	char out[512];

	(void)state;
	unsetenv("JOURNAL_STREAM");
	sw_log_init("test");
	capture(two_lines_warning, out, sizeof(out));
	/* a UTC timestamp first, no priority prefix */
	assert_true(out[0] >= '2' && out[0] <= '9');
	assert_non_null(strstr(out, "Z warn  test/mod: peer said one  two "
				    "three\n"));
	assert_null(strchr(out, '<'));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(journald),
	    cmocka_unit_test(terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
