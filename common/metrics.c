/*
 * metrics.c - Prometheus metrics over HTTP (metrics.h)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SW_LOG_MODULE "metrics"
#include "common/conf.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/swtime.h"

static const int64_t bucket_us[SW_MHIST_BUCKETS] = {
    500,   1000,   2500,   5000,   10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000};
static const char *const bucket_le[SW_MHIST_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
    "0.05",   "0.1",   "0.25",	 "0.5",	  "1",	  "2.5"};

void sw_mhist_observe(struct sw_mhist *h, int64_t us)
{
	if (us < 0)
		us = 0;
	h->count++;
	h->sum_us += (uint64_t)us;
	for (size_t i = 0; i < SW_MHIST_BUCKETS; i++) {
		if (us <= bucket_us[i]) {
			h->bucket[i]++;
			return;
		}
	}
}

/* ---- rendering ---- */

static void put(struct sw_mtext *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *b;

		while (t->len + n + 1 > cap)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b) {
			t->oom = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void puts_(struct sw_mtext *t, const char *s)
{
	put(t, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct sw_mtext *t,
						       const char *fmt, ...)
{
	char b[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(t, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

/* a label value: backslash, double quote and line feed escaped */
static void put_label_value(struct sw_mtext *t, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			puts_(t, "\\\\");
		else if (*v == '"')
			puts_(t, "\\\"");
		else if (*v == '\n')
			puts_(t, "\\n");
		else
			put(t, v, 1);
	}
}

/* HELP text: backslash and line feed escaped */
static void put_help(struct sw_mtext *t, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			puts_(t, "\\\\");
		else if (*v == '\n')
			puts_(t, "\\n");
		else
			put(t, v, 1);
	}
}

void sw_mt_family(struct sw_mtext *t, const char *name, const char *type,
		  const char *help)
{
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_help(t, help);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, type);
	puts_(t, "\n");
}

static void put_labels(struct sw_mtext *t, size_t nlabels,
		       const char *const *labels)
{
	if (!nlabels)
		return;
	puts_(t, "{");
	for (size_t i = 0; i < nlabels; i++) {
		if (i)
			puts_(t, ",");
		puts_(t, labels[2 * i]);
		puts_(t, "=\"");
		put_label_value(t, labels[2 * i + 1] ? labels[2 * i + 1] : "");
		puts_(t, "\"");
	}
	puts_(t, "}");
}

void sw_mt_sample(struct sw_mtext *t, const char *name, int64_t v,
		  size_t nlabels, const char *const *labels)
{
	puts_(t, name);
	put_labels(t, nlabels, labels);
	putf(t, " %" PRId64 "\n", v);
}

void sw_mt_sample_f(struct sw_mtext *t, const char *name, double v,
		    size_t nlabels, const char *const *labels)
{
	puts_(t, name);
	put_labels(t, nlabels, labels);
	if (isnan(v))
		puts_(t, " NaN\n");
	else if (isinf(v))
		puts_(t, v > 0 ? " +Inf\n" : " -Inf\n");
	else
		putf(t, " %.9g\n", v);
}

void sw_mt_one(struct sw_mtext *t, const char *name, const char *type,
	       const char *help, int64_t v)
{
	sw_mt_family(t, name, type, help);
	sw_mt_sample(t, name, v, 0, NULL);
}

void sw_mt_hist_series(struct sw_mtext *t, const char *name,
		       const struct sw_mhist *h, size_t nlabels,
		       const char *const *labels)
{
	uint64_t cum = 0;

	for (size_t i = 0; i <= SW_MHIST_BUCKETS; i++) {
		cum += i < SW_MHIST_BUCKETS ? h->bucket[i] : 0;
		puts_(t, name);
		puts_(t, "_bucket");
		put_labels(t, nlabels, labels);
		/* le last: after the series' own labels */
		t->len -= nlabels && !t->oom ? 1 : 0;
		puts_(t, nlabels ? ",le=\"" : "{le=\"");
		puts_(t, i < SW_MHIST_BUCKETS ? bucket_le[i] : "+Inf");
		putf(t, "\"} %" PRIu64 "\n",
		     i < SW_MHIST_BUCKETS ? cum : h->count);
	}
	puts_(t, name);
	puts_(t, "_sum");
	put_labels(t, nlabels, labels);
	putf(t, " %.6f\n", (double)h->sum_us / 1e6);
	puts_(t, name);
	puts_(t, "_count");
	put_labels(t, nlabels, labels);
	putf(t, " %" PRIu64 "\n", h->count);
}

void sw_mt_hist(struct sw_mtext *t, const char *name, const char *help,
		const struct sw_mhist *h)
{
	sw_mt_family(t, name, "histogram", help);
	sw_mt_hist_series(t, name, h, 0, NULL);
}

void sw_mt_free(struct sw_mtext *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* ---- the request ---- */

int sw_metrics_http_parse(const char *buf, size_t len, bool *head)
{
	const char *end = NULL, *sp1, *sp2, *eol;
	size_t mlen, plen;

	*head = false;
	for (size_t i = 0; i + 3 < len; i++) {
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			end = buf + i;
			break;
		}
	}
	if (!end)
		return len >= SW_METRICS_REQ ? 431 : 0;
	eol = memchr(buf, '\r', (size_t)(end - buf) + 1);
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || (size_t)(eol - sp2 - 1) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) || (sp2[8] != '0' && sp2[8] != '1'))
		return 400;
	for (const char *p = buf; p < sp1; p++) {
		if (*p < 'A' || *p > 'Z')
			return 400;
	}
	mlen = (size_t)(sp1 - buf);
	plen = (size_t)(sp2 - sp1 - 1);
	/* the path, without a query string */
	for (size_t i = 0; i < plen; i++) {
		if (sp1[1 + i] == '?') {
			plen = i;
			break;
		}
	}
	if (plen != 8 || memcmp(sp1 + 1, "/metrics", 8))
		return 404;
	if (mlen == 4 && !memcmp(buf, "HEAD", 4))
		*head = true;
	else if (mlen != 3 || memcmp(buf, "GET", 3))
		return 405;
	return 200;
}

/* ---- the server thread ---- */

struct mconn {
	int fd; /* -1: slot free */
	char req[SW_METRICS_REQ];
	size_t rlen;
	char *out; /* owned: the response */
	size_t olen, off;
	int64_t deadline_ms;
};

struct sw_metrics {
	int listen_fd;
	int stop_pipe[2];
	pthread_t thread;
	pthread_mutex_t lock;
	char *text; /* owned: the last text published (under lock) */
	size_t text_len;
	struct mconn conns[SW_METRICS_CONNS];
};

static void conn_close(struct mconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
}

static const char *reason_of(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Bad Request";
	}
}

/* the whole response into c->out */
static void respond(struct sw_metrics *m, struct mconn *c, int code, bool head)
{
	char hdr[256];
	const char *body;
	size_t blen;
	int n;

	pthread_mutex_lock(&m->lock);
	if (code == 200) {
		body = m->text ? m->text : "";
		blen = m->text ? m->text_len : 0;
	} else {
		body = reason_of(code);
		blen = strlen(body);
	}
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "Connection: close\r\n\r\n",
		     code, reason_of(code),
		     code == 200 ? "text/plain; version=0.0.4; charset=utf-8"
				 : "text/plain; charset=utf-8",
		     blen, code == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (head && code == 200)
		blen = 0;
	c->out = malloc((size_t)n + blen);
	if (c->out) {
		memcpy(c->out, hdr, (size_t)n);
		memcpy(c->out + n, body, blen);
		c->olen = (size_t)n + blen;
		c->off = 0;
	}
	pthread_mutex_unlock(&m->lock);
	if (!c->out)
		conn_close(c);
}

static void on_readable(struct sw_metrics *m, struct mconn *c)
{
	ssize_t r = recv(c->fd, c->req + c->rlen, sizeof(c->req) - c->rlen, 0);
	bool head;
	int code;

	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(c);
		return;
	}
	c->rlen += (size_t)r;
	code = sw_metrics_http_parse(c->req, c->rlen, &head);
	if (code)
		respond(m, c, code, head);
}

static void on_writable(struct mconn *c)
{
	ssize_t w =
	    send(c->fd, c->out + c->off, c->olen - c->off, MSG_NOSIGNAL);

	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c);
		return;
	}
	c->off += (size_t)w;
	if (c->off == c->olen) {
		(void)shutdown(c->fd, SHUT_WR);
		conn_close(c);
	}
}

static void on_accept(struct sw_metrics *m)
{
	int fd =
	    accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct mconn *slot = NULL;

	if (fd < 0)
		return;
	for (size_t i = 0; i < SW_METRICS_CONNS; i++) {
		if (m->conns[i].fd < 0) {
			slot = &m->conns[i];
			break;
		}
	}
	if (!slot) {
		close(fd); /* as many scrapes as there are slots */
		return;
	}
	slot->fd = fd;
	slot->rlen = 0;
	slot->out = NULL;
	slot->deadline_ms = sw_time_mono_ms() + SW_METRICS_REQ_MS;
}

static void *serve(void *arg)
{
	struct sw_metrics *m = arg;

	for (;;) {
		struct pollfd p[2 + SW_METRICS_CONNS];
		struct mconn *of[2 + SW_METRICS_CONNS];
		int64_t now = sw_time_mono_ms();
		nfds_t n = 2;

		p[0] = (struct pollfd){.fd = m->stop_pipe[0], .events = POLLIN};
		p[1] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
		for (size_t i = 0; i < SW_METRICS_CONNS; i++) {
			struct mconn *c = &m->conns[i];

			if (c->fd < 0)
				continue;
			if (now >= c->deadline_ms) {
				conn_close(c);
				continue;
			}
			of[n] = c;
			p[n++] = (struct pollfd){
			    .fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
		}
		if (poll(p, n, 500) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN)
			on_accept(m);
		for (nfds_t i = 2; i < n; i++) {
			struct mconn *c = of[i];

			if (!p[i].revents)
				continue;
			if (c->out)
				on_writable(c);
			else
				on_readable(m, c);
		}
	}
	for (size_t i = 0; i < SW_METRICS_CONNS; i++)
		conn_close(&m->conns[i]);
	return NULL;
}

static int listen_on(const char *hostport, char *err, size_t errsz)
{
	char ip[64], why[128];
	unsigned port;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
	socklen_t alen;
	int fd, on = 1;

	memset(&a, 0, sizeof(a));
	if (sw_conf_hostport(hostport, ip, sizeof(ip), &port, why,
			     sizeof(why))) {
		snprintf(err, errsz, "metrics_listen: %s", why);
		return -1;
	}
	if (inet_pton(AF_INET, ip, &a.in.sin_addr) == 1) {
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons((uint16_t)port);
		alen = sizeof(a.in);
	} else if (inet_pton(AF_INET6, ip, &a.in6.sin6_addr) == 1) {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons((uint16_t)port);
		alen = sizeof(a.in6);
	} else {
		snprintf(err, errsz, "metrics_listen: '%s' is not an address",
			 ip);
		return -1;
	}
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		snprintf(err, errsz, "metrics_listen: socket: %s",
			 strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, &a.sa, alen) || listen(fd, 64)) {
		int e = errno;

		snprintf(err, errsz, "metrics_listen %s: %s", hostport,
			 strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int sw_metrics_start(struct sw_metrics **mp, const char *hostport, char *err,
		     size_t errsz)
{
	struct sw_metrics *m;
	int e;

	*mp = NULL;
	if (!hostport || !*hostport)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errsz, "metrics: out of memory");
		return ENOMEM;
	}
	for (size_t i = 0; i < SW_METRICS_CONNS; i++)
		m->conns[i].fd = -1;
	m->stop_pipe[0] = m->stop_pipe[1] = -1;
	errno = 0;
	m->listen_fd = listen_on(hostport, err, errsz);
	if (m->listen_fd < 0) {
		e = errno ? errno : EINVAL;
		free(m);
		return e;
	}
	if (pipe2(m->stop_pipe, O_CLOEXEC)) {
		e = errno;
		snprintf(err, errsz, "metrics: pipe: %s", strerror(e));
		goto fail;
	}
	pthread_mutex_init(&m->lock, NULL);
	e = pthread_create(&m->thread, NULL, serve, m);
	if (e) {
		snprintf(err, errsz, "metrics: thread: %s", strerror(e));
		pthread_mutex_destroy(&m->lock);
		goto fail;
	}
	sw_info("Prometheus metrics on http://%s/metrics", hostport);
	*mp = m;
	return 0;
fail:
	close(m->listen_fd);
	if (m->stop_pipe[0] >= 0) {
		close(m->stop_pipe[0]);
		close(m->stop_pipe[1]);
	}
	free(m);
	return e;
}

/*
 * The process's resident set, in every daemon's metrics (the standard
 * process_resident_memory_bytes; one read of /proc/self/statm).  No heap
 * figure: glibc's mallinfo2() walks every free chunk under the arena locks
 * and took 2-6 ms in a loaded signalingd, a stall on the call path.
 */
static void process_metrics(struct sw_mtext *t)
{
	long long resident = 0;
	char line[128];
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		/* "size resident shared ...", in pages */
		if (fgets(line, sizeof(line), f)) {
			char *end;

			(void)strtoll(line, &end, 10);
			resident = strtoll(end, NULL, 10);
		}
		fclose(f);
	}
	sw_mt_one(t, "process_resident_memory_bytes", "gauge",
		  "Resident memory size in bytes",
		  (int64_t)(resident * sysconf(_SC_PAGESIZE)));
}

void sw_metrics_publish(struct sw_metrics *m, struct sw_mtext *t)
{
	if (m)
		process_metrics(t);
	if (!m || t->oom) {
		sw_mt_free(t);
		return;
	}
	pthread_mutex_lock(&m->lock);
	free(m->text);
	m->text = t->buf;
	m->text_len = t->len;
	pthread_mutex_unlock(&m->lock);
	memset(t, 0, sizeof(*t));
}

void sw_metrics_stop(struct sw_metrics *m)
{
	if (!m)
		return;
	(void)!write(m->stop_pipe[1], "x", 1);
	pthread_join(m->thread, NULL);
	close(m->stop_pipe[0]);
	close(m->stop_pipe[1]);
	close(m->listen_fd);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m);
}
