/* test_sg_spool.c - CDR journal: durable add, ack, recovery, compaction */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "signaling/spool.h"

#define ID1 "11111111-1111-4111-8111-111111111111"
#define ID2 "22222222-2222-4222-8222-222222222222"
#define ID3 "33333333-3333-4333-8333-333333333333"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_sg_spool.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int sent;

static int count_send(const char *id, const char *json, void *arg)
{
	(void)id;
	(void)arg;
	assert_non_null(strstr(json, "\"id\""));
	sent++;
	return 0;
}

static void add(struct sg_spool *s, const char *id)
{
	char cdr[128];
	int n =
	    snprintf(cdr, sizeof(cdr), "{\"id\":\"%s\",\"end_code\":200}", id);

	assert_int_equal(sg_spool_add(s, id, cdr, (size_t)n), 0);
}

static off_t size_of(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? -1 : st.st_size;
}

static void add_ack_recover(void **state)
{
	struct sg_spool *s = NULL;
	char err[128];
	char path[128];
	FILE *f;

	(void)state;
	assert_int_equal(sg_spool_open(&s, dir, err, sizeof(err)), 0);
	add(s, ID1);
	add(s, ID2);
	add(s, ID3);
	assert_int_equal(sg_spool_pending(s), 3);

	/* nothing is sent before it is durable */
	sent = 0;
	assert_int_equal(sg_spool_kick(s, 2, count_send, NULL), 0);
	assert_int_equal(sg_spool_sync(s), 0);
	assert_int_equal(sg_spool_kick(s, 2, count_send, NULL), 2);
	assert_int_equal(sg_spool_inflight(s), 2);
	assert_int_equal(sg_spool_kick(s, 2, count_send, NULL), 0);
	sg_spool_ack(s, ID1);
	sg_spool_nack(s, ID2);
	assert_int_equal(sg_spool_pending(s), 2);
	assert_int_equal(sg_spool_inflight(s), 0);
	sg_spool_close(s);

	/* a torn last line (crash during write) is skipped */
	snprintf(path, sizeof(path), "%s/cdr.journal", dir);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"id\":\"44444444-44", f);
	fclose(f);

	/* restart: ID1 acked, ID2 + ID3 pending again */
	s = NULL;
	assert_int_equal(sg_spool_open(&s, dir, err, sizeof(err)), 0);
	assert_int_equal(sg_spool_pending(s), 2);
	sent = 0;
	assert_int_equal(sg_spool_kick(s, 10, count_send, NULL), 2);
	sg_spool_ack(s, ID3);
	sg_spool_ack(s, ID2);
	sg_spool_ack(s, ID2); /* duplicate ack is harmless */
	assert_int_equal(sg_spool_pending(s), 0);
	/* compaction (from the housekeeping tick): both journals empty */
	assert_true(size_of("cdr.journal") > 0);
	sg_spool_compact(s);
	assert_int_equal(size_of("cdr.journal"), 0);
	assert_int_equal(size_of("ack.journal"), 0);
	sg_spool_close(s);

	s = NULL;
	assert_int_equal(sg_spool_open(&s, dir, err, sizeof(err)), 0);
	assert_int_equal(sg_spool_pending(s), 0);
	sg_spool_close(s);
}

static void bad_dir(void **state)
{
	struct sg_spool *s = NULL;
	char err[128];

	(void)state;
	assert_int_not_equal(
	    sg_spool_open(&s, "/proc/nonexistent/x", err, sizeof(err)), 0);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(add_ack_recover, setup, teardown),
	    cmocka_unit_test(bad_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
