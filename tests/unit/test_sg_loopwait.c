/* test_sg_loopwait.c - sofia-sip's loop sleeps, not spins, before a timer */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "signaling/loopwait.h"

#define NTIMERS 20

struct run {
	su_root_t *root;
	int fired;
};

static void fire(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct run *r = (struct run *)arg;

	(void)magic;
	(void)t;
	if (++r->fired == NTIMERS)
		su_root_break(r->root);
}

static void give_up(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	su_root_break(((struct run *)arg)->root);
}

/*
 * Timers 1.5 ms apart with deadlines half a millisecond off the whole
 * millisecond: after each one fires the next is less than 1 ms away at
 * some point, where sofia-sip asks epoll_wait() for a timeout of 0.
 * Returns how many epoll_wait() calls the loop made.
 */
static unsigned long run_timers(int *fired, bool stretch)
{
	su_timer_t *t[NTIMERS], *guard;
	struct run r = {0};
	unsigned long before;

	r.root = su_root_create(NULL);
	assert_non_null(r.root);
	for (int i = 0; i < NTIMERS; i++) {
		t[i] = su_timer_create(su_root_task(r.root), 2 + i);
		assert_non_null(t[i]);
		assert_int_equal(su_timer_set(t[i], fire, &r), 0);
		usleep(500);
	}
	guard = su_timer_create(su_root_task(r.root), 2000);
	assert_int_equal(su_timer_set(guard, give_up, &r), 0);

	before = sg_loopwait_calls();
	if (stretch)
		sg_loopwait_enter();
	su_root_run(r.root);
	sg_loopwait_leave();
	*fired = r.fired;

	for (int i = 0; i < NTIMERS; i++)
		su_timer_destroy(t[i]);
	su_timer_destroy(guard);
	su_root_destroy(r.root);
	return sg_loopwait_calls() - before;
}

static void loop_sleeps_before_timers(void **state)
{
	unsigned long spun, slept;
	int fired;

	(void)state;
	/* sofia-sip alone: polls with timeout 0 until each timer is due */
	spun = run_timers(&fired, false);
	assert_int_equal(fired, NTIMERS);
	/* inside sg_run(): one zero poll and one 1 ms wait at most per gap */
	slept = run_timers(&fired, true);
	assert_int_equal(fired, NTIMERS);
	print_message("epoll_wait calls for %d timers: %lu without, %lu with\n",
		      NTIMERS, spun, slept);
	assert_true(slept <= 4 * NTIMERS);
}

static void ready_socket_returns_at_once(void **state)
{
	int sv[2];
	struct epoll_event ev = {.events = EPOLLIN}, out[2];
	int ep;

	(void)state;
	ep = epoll_create1(0);
	assert_true(ep >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	ev.data.fd = sv[0];
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	sg_loopwait_enter();
	assert_int_equal(epoll_wait(ep, out, 2, 0), 1);
	assert_int_equal(out[0].data.fd, sv[0]);
	sg_loopwait_leave();
	close(sv[0]);
	close(sv[1]);
	close(ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(loop_sleeps_before_timers),
	    cmocka_unit_test(ready_socket_returns_at_once),
	};

	su_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
