/*
 * test_sg_tcpguard.c - the TCP guard at the descriptor limit
 *
 * The process stands in for signalingd: a listening socket on loopback, the
 * guard on it, and "sofia" played by the test (accept one connection per
 * turn of the loop, close a connection when it reads end-of-stream).  The
 * link wraps accept4() so that, once, the slot the guard frees to refuse
 * connections is taken before the guard's accept, as another thread of
 * signalingd (nng dialing a media node) can take it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/swtime.h"
#include "signaling/tcpguard.h"

int __real_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);
int __wrap_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);

static bool steal_armed;
static int stolen_fd = -1;

/* the guard's accept4(): once armed, another "thread" takes the slot */
int __wrap_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	if (steal_armed) {
		steal_armed = false;
		stolen_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	return __real_accept4(fd, sa, len, flags);
}

#define HELD	8  /* connections "sofia" holds when the limit is reached */
#define PENDING 24 /* connections waiting in the backlog */
#define MAXFDS	64

static bool untrusted(const struct sockaddr *sa, void *arg)
{
	(void)sa;
	(void)arg;
	return false;
}

/* what "sofia" holds: accepted connections until they read end-of-stream */
struct sofia {
	int listen_fd;
	int fds[MAXFDS];
	size_t n;
};

static void sofia_turn(struct sofia *s)
{
	for (size_t i = 0; i < s->n;) {
		struct pollfd p = {.fd = s->fds[i], .events = POLLIN};
		char b;

		if (poll(&p, 1, 0) == 1 &&
		    recv(s->fds[i], &b, 1, MSG_DONTWAIT) <= 0) {
			close(s->fds[i]);
			s->fds[i] = s->fds[--s->n];
			continue;
		}
		i++;
	}
	if (s->n < MAXFDS) {
		int fd = __real_accept4(s->listen_fd, NULL, NULL,
					SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0)
			s->fds[s->n++] = fd;
	}
}

static int client(unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* the server closed it: end-of-stream or reset */
static bool closed_by_server(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b;

	if (poll(&p, 1, 0) != 1)
		return false;
	return recv(fd, &b, 1, MSG_DONTWAIT) <= 0;
}

static size_t count_closed(const int *fds, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += closed_by_server(fds[i]);
	return c;
}

static void spare_taken_at_the_limit_recovers(void **state)
{
	struct sg_tcpguard_conf conf = {.max_total = 100,
					.max_per_source = 100,
					.unknown_grace_ms = 100,
					.idle_ms = 60000};
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	struct sofia so = {.n = 0};
	struct sg_tcpguard *g = NULL;
	int held_clients[HELD], pending[PENDING];
	struct rlimit rl0, rl;
	su_root_t *root;
	size_t n_held, n_pending;
	int64_t deadline;
	int lowest;

	(void)state;
	assert_int_equal(su_init(), 0);
	root = su_root_create(NULL);
	assert_non_null(root);
	so.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(so.listen_fd, (struct sockaddr *)&a, sizeof(a)),
			 0);
	assert_int_equal(listen(so.listen_fd, 128), 0);
	assert_int_equal(
	    getsockname(so.listen_fd, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(sg_tcpguard_alloc(&g, root, &conf, ntohs(a.sin_port),
					   untrusted, NULL),
			 0);

	for (size_t i = 0; i < HELD; i++)
		held_clients[i] = client(ntohs(a.sin_port));
	while (so.n < HELD)
		sofia_turn(&so);
	for (size_t i = 0; i < PENDING; i++)
		pending[i] = client(ntohs(a.sin_port));

	/* no descriptor left: the limit is the lowest free number */
	lowest = dup(0);
	assert_true(lowest >= 0);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl0), 0);
	rl = rl0;
	rl.rlim_cur = (rlim_t)lowest;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(dup(0), -1);

	/* the first refusal loses the spare descriptor's slot */
	steal_armed = true;
	deadline = sw_time_mono_ms() + 5000;
	while (sw_time_mono_ms() < deadline &&
	       (count_closed(pending, PENDING) < PENDING ||
		count_closed(held_clients, HELD) < HELD)) {
		su_root_step(root, 20);
		sofia_turn(&so);
	}
	n_held = count_closed(held_clients, HELD);
	n_pending = count_closed(pending, PENDING);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl0), 0);
	assert_false(steal_armed);
	assert_true(stolen_fd >= 0);
	/* shed blind (no descriptor to list descriptors with), the held
	 * connections gave their slots back; the spare came back with one
	 * and every pending connection was refused or shed */
	assert_int_equal(n_held, HELD);
	assert_int_equal(n_pending, PENDING);

	sg_tcpguard_free(g);
	for (size_t i = 0; i < so.n; i++)
		close(so.fds[i]);
	for (size_t i = 0; i < HELD; i++)
		close(held_clients[i]);
	for (size_t i = 0; i < PENDING; i++)
		close(pending[i]);
	close(stolen_fd);
	close(so.listen_fd);
	su_root_destroy(root);
	su_deinit();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spare_taken_at_the_limit_recovers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
