/* test_common_metrics.c - Prometheus text, the request parser, the server */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/metrics.h"

static void text_families_labels_escaped(void **state)
{
	struct sw_mtext t = {0};
	const char *l[] = {"gateway", "a\"b\\c\nd", "code", "503"};

	(void)state;
	sw_mt_family(&t, "tandem_x_total", "counter", "what\nit \\ counts");
	sw_mt_sample(&t, "tandem_x_total", 7, 2, l);
	sw_mt_sample(&t, "tandem_x_total", -1, 0, NULL);
	sw_mt_sample_f(&t, "tandem_y", 0.25, 0, NULL);
	assert_string_equal(
	    t.buf,
	    "# HELP tandem_x_total what\\nit \\\\ counts\n"
	    "# TYPE tandem_x_total counter\n"
	    "tandem_x_total{gateway=\"a\\\"b\\\\c\\nd\",code=\"503\"} 7\n"
	    "tandem_x_total -1\n"
	    "tandem_y 0.25\n");
	sw_mt_free(&t);
}

static void histogram_cumulative_in_seconds(void **state)
{
	const char *node[] = {"node", "mp1"};
	struct sw_mhist h = {0};
	struct sw_mtext t = {0};

	(void)state;
	sw_mhist_observe(&h, 400);     /* 0.0005 */
	sw_mhist_observe(&h, 1000);    /* 0.001, on the bound */
	sw_mhist_observe(&h, 30000);   /* 0.05 */
	sw_mhist_observe(&h, 9000000); /* over the last bound */
	sw_mt_hist(&t, "tandem_h_seconds", "h", &h);
	assert_non_null(strstr(t.buf, "# TYPE tandem_h_seconds histogram\n"));
	assert_non_null(
	    strstr(t.buf, "tandem_h_seconds_bucket{le=\"0.0005\"} 1\n"));
	assert_non_null(
	    strstr(t.buf, "tandem_h_seconds_bucket{le=\"0.001\"} 2\n"));
	assert_non_null(
	    strstr(t.buf, "tandem_h_seconds_bucket{le=\"0.025\"} 2\n"));
	assert_non_null(
	    strstr(t.buf, "tandem_h_seconds_bucket{le=\"0.05\"} 3\n"));
	assert_non_null(
	    strstr(t.buf, "tandem_h_seconds_bucket{le=\"2.5\"} 3\n"));
	assert_non_null(
	    strstr(t.buf, "tandem_h_seconds_bucket{le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(t.buf, "tandem_h_seconds_sum 9.031400\n"));
	assert_non_null(strstr(t.buf, "tandem_h_seconds_count 4\n"));
	sw_mt_free(&t);

	sw_mt_hist_series(&t, "tandem_h_seconds", &h, 1, node);
	assert_non_null(strstr(
	    t.buf, "tandem_h_seconds_bucket{node=\"mp1\",le=\"0.001\"} 2\n"));
	assert_non_null(strstr(
	    t.buf, "tandem_h_seconds_bucket{node=\"mp1\",le=\"+Inf\"} 4\n"));
	assert_non_null(
	    strstr(t.buf, "tandem_h_seconds_sum{node=\"mp1\"} 9.031400\n"));
	assert_non_null(
	    strstr(t.buf, "tandem_h_seconds_count{node=\"mp1\"} 4\n"));
	sw_mt_free(&t);
}

static int parse(const char *s, bool *head)
{
	return sw_metrics_http_parse(s, strlen(s), head);
}

static void request_parser(void **state)
{
	bool head;
	char big[SW_METRICS_REQ + 10];

	(void)state;
	assert_int_equal(
	    parse("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &head), 200);
	assert_false(head);
	assert_int_equal(parse("HEAD /metrics?x=1 HTTP/1.0\r\n\r\n", &head),
			 200);
	assert_true(head);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n", &head),
			 0);
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r\n", &head), 405);
	assert_int_equal(parse("GET /metricsx HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(parse("GET /metrics\r\n\r\n", &head), 400);
	assert_int_equal(parse("GET /metrics SIP/2.0\r\n\r\n", &head), 400);
	assert_int_equal(parse("get /metrics HTTP/1.1\r\n\r\n", &head), 400);
	assert_int_equal(parse(" /metrics HTTP/1.1\r\n\r\n", &head), 400);
	assert_int_equal(parse("\r\n\r\n", &head), 400);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &head), 431);
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* one request over TCP, the whole response */
static void fetch(int port, const char *req, char *out, size_t size)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t len = 0;
	ssize_t n;

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	while ((n = recv(fd, out + len, size - 1 - len, 0)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
}

static void server_serves_last_text(void **state)
{
	struct sw_metrics *m = NULL;
	struct sw_mtext t = {0};
	char hp[32], err[128], resp[4096];
	int port = free_port();

	(void)state;
	assert_int_equal(sw_metrics_start(&m, "", err, sizeof(err)), 0);
	assert_null(m);
	assert_int_not_equal(
	    sw_metrics_start(&m, "127.0.0.1:0", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "metrics_listen"));
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", port);
	assert_int_equal(sw_metrics_start(&m, hp, err, sizeof(err)), 0);
	assert_non_null(m);

	sw_mt_one(&t, "tandem_calls_active", "gauge", "calls up", 3);
	sw_metrics_publish(m, &t);
	assert_null(t.buf);
	sw_mt_one(&t, "tandem_calls_active", "gauge", "calls up", 4);
	sw_metrics_publish(m, &t);

	fetch(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", resp,
	      sizeof(resp));
	assert_true(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(
	    resp,
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(resp, "\r\n\r\n# HELP tandem_calls_active"));
	assert_non_null(strstr(resp, "\ntandem_calls_active 4\n"));
	assert_null(strstr(resp, "tandem_calls_active 3\n"));

	fetch(port, "HEAD /metrics HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_true(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_null(strstr(resp, "# HELP"));
	fetch(port, "GET /x HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_true(strncmp(resp, "HTTP/1.1 404 ", 13) == 0);
	fetch(port, "DELETE /metrics HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_true(strncmp(resp, "HTTP/1.1 405 ", 13) == 0);
	assert_non_null(strstr(resp, "Allow: GET, HEAD\r\n"));
	sw_metrics_stop(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(text_families_labels_escaped),
	    cmocka_unit_test(histogram_cumulative_in_seconds),
	    cmocka_unit_test(request_parser),
	    cmocka_unit_test(server_serves_last_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
