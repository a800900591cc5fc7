/*
 * loopwait.c - keep sofia-sip's event loop from spinning before a timer
 *
 * sofia-sip's loop (su_base_port_run) turns the time to its next timer into
 * whole milliseconds by truncation and hands that to epoll_wait().  A timer
 * less than 1 ms away therefore becomes a timeout of 0, and the loop polls
 * without sleeping until the timer is due.  With a few timers per call
 * (transaction timers, our reap and free timers) some timer is nearly always
 * that close at a few hundred calls/s: bench/sip_cps counted 700 000
 * epoll_wait() calls a second on signalingd's loop thread at 400 calls/s, most
 * of its CPU (docs/benchmarks.md).
 *
 * The installed sofia-sip has no hook for the timeout (su_port.h is private),
 * so signalingd provides epoll_wait() itself; the dynamic linker binds
 * libsofia-sip-ua's call to it.  On the loop thread, inside sg_run(), a
 * zero-timeout poll that finds nothing is followed by one wait of 1 ms: the
 * timer that made sofia ask for 0 is due by then.  A timer fires at most
 * 1 ms late (sofia's timers are milliseconds anyway); a socket that becomes
 * readable during the wait ends it at once.  Every other thread and every
 * other timeout goes straight to the kernel.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/epoll.h>

#include "signaling/loopwait.h"

static __thread bool in_loop;	     /* this thread runs sg_run()'s loop */
static __thread unsigned long calls; /* epoll_wait() calls of this thread */

void sg_loopwait_enter(void)
{
	in_loop = true;
}

void sg_loopwait_leave(void)
{
	in_loop = false;
}

unsigned long sg_loopwait_calls(void)
{
	return calls;
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	int n;

	calls++;
	n = epoll_pwait(epfd, events, maxevents, timeout, NULL);

	if (n != 0 || timeout != 0 || !in_loop)
		return n;
	return epoll_pwait(epfd, events, maxevents, 1, NULL);
}
