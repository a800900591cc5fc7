/* test_common_uuid.c - random UUIDs: well formed, never repeated, not
 * shared with a forked child */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/uuid.h"

#define N 5000 /* more than one pool of random bytes (256 UUIDs) */

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void well_formed_and_unique(void **state)
{
	static char ids[N][SW_UUID_LEN + 1];

	(void)state;
	for (int i = 0; i < N; i++) {
		sw_uuid_gen(ids[i]);
		assert_true(sw_uuid_valid(ids[i]));
		assert_int_equal(ids[i][14], '4');	     /* version 4 */
		assert_non_null(strchr("89ab", ids[i][19])); /* RFC 4122 */
		for (const char *p = ids[i]; *p; p++)
			assert_true(*p == '-' || (*p >= '0' && *p <= '9') ||
				    (*p >= 'a' && *p <= 'f'));
	}
	qsort(ids, N, sizeof(ids[0]), cmp);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
}

/* the pool a child inherits is not used: its next UUID is not the
 * parent's next */
static void child_draws_its_own(void **state)
{
	char warm[SW_UUID_LEN + 1], mine[SW_UUID_LEN + 1],
	    theirs[SW_UUID_LEN + 1] = "";
	int fds[2], status;
	pid_t pid;

	(void)state;
	sw_uuid_gen(warm); /* the pool is filled */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char id[SW_UUID_LEN + 1];

		sw_uuid_gen(id);
		_exit(write(fds[1], id, SW_UUID_LEN) == SW_UUID_LEN ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], theirs, SW_UUID_LEN), SW_UUID_LEN);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	sw_uuid_gen(mine);
	assert_true(sw_uuid_valid(theirs));
	assert_string_not_equal(mine, theirs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(well_formed_and_unique),
	    cmocka_unit_test(child_draws_its_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
