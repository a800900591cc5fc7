/*
 * loopwait.h - sleep instead of spinning before a sofia-sip timer
 *
 * signalingd defines epoll_wait() (loopwait.c); between enter and leave, on
 * the calling thread, a zero-timeout wait that finds nothing waits 1 ms.
 * Threading: per thread.
 */
#ifndef SG_LOOPWAIT_H
#define SG_LOOPWAIT_H

void sg_loopwait_enter(void);
void sg_loopwait_leave(void);
/* epoll_wait() calls this thread made, inside a loop or not (tests) */
unsigned long sg_loopwait_calls(void);

#endif /* SG_LOOPWAIT_H */
