/*
 * busprobe.c - send one message to a daemon's REP bus socket, print the reply
 *
 *   busprobe [-t MS] URL TYPE [BODY]    a proper envelope of TYPE whose body
 *                                       is the JSON object BODY (default {})
 *   busprobe [-t MS] -r URL DATA        the bytes of DATA as they are
 *   busprobe [-t MS] -r URL @FILE       the bytes of FILE ("-" = stdin), for
 *                                       payloads too big for an argument
 *
 * The reply is printed on stdout as received, followed by a newline.  Used by
 * the integration tests to send malformed input straight to a daemon.
 *
 * TLS (tls+tcp:// URLs):  -a CAFILE trusts the server's CA, -c PEM presents
 * a certificate chain with its key (none: connect without one), -n NAME
 * requires the server's certificate to carry NAME.
 * -p pushes the message to a PULL socket instead: no reply, exit 0 once
 * it is sent over an established connection.  -m (implies -r -p): every
 * line of DATA is pushed as a message of its own.
 *
 * Exit status: 0 a reply other than "error"; 1 an "error" reply; 2 usage or
 * local failure; 3 no reply within the timeout; 4 could not connect or send;
 * 5 the reply is not a valid envelope.
 *
 * Threading: single-threaded tool, blocking nng calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "common/envelope.h"

enum {
	EX_OK = 0,
	EX_ERROR_REPLY = 1,
	EX_USAGE = 2,
	EX_TIMEOUT = 3,
	EX_CONNECT = 4,
	EX_BADREPLY = 5,
};

#define MAX_INPUT (16 * 1024 * 1024)

static void usage(void)
{
	fprintf(stderr,
		"usage: busprobe [-t MS] [-p] [-a CA -c PEM -n NAME] URL TYPE "
		"[BODY-JSON]\n"
		"       busprobe [-t MS] [-p] [-a CA -c PEM -n NAME] -r URL "
		"DATA|@FILE|@-\n");
}

/* read all of fp into a malloc'd buffer */
static int read_all(char **bufp, size_t *lenp, FILE *fp)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return ENOMEM;
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb;

			if (cap >= MAX_INPUT) {
				free(buf);
				return EFBIG;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0) {
			if (ferror(fp)) {
				free(buf);
				return EIO;
			}
			break;
		}
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

static int load_raw(char **bufp, size_t *lenp, const char *arg)
{
	FILE *fp;
	int err;

	if (arg[0] != '@') {
		*bufp = strdup(arg);
		if (!*bufp)
			return ENOMEM;
		*lenp = strlen(arg);
		return 0;
	}
	if (strcmp(arg + 1, "-") == 0)
		return read_all(bufp, lenp, stdin);

	fp = fopen(arg + 1, "rb");
	if (!fp)
		return errno;
	err = read_all(bufp, lenp, fp);
	fclose(fp);
	return err;
}

static int build_envelope(char **bufp, size_t *lenp, const char *type,
			  const char *body_text)
{
	json_error_t jerr;
	json_t *body = NULL;

	if (body_text) {
		body = json_loads(body_text, 0, &jerr);
		if (!body) {
			fprintf(stderr, "busprobe: BODY: %s\n", jerr.text);
			return EINVAL;
		}
	}
	*bufp = sw_env_encode(type, NULL, body, lenp);
	return *bufp ? 0 : ENOMEM;
}

/* classify the reply: 0 normal, 1 error envelope, 5 not an envelope */
static int classify(const char *buf, size_t len)
{
	struct sw_env env;
	char err[256];
	int ex;

	if (sw_env_parse(&env, buf, len, err, sizeof(err))) {
		fprintf(stderr, "busprobe: reply is not an envelope: %s\n",
			err);
		return EX_BADREPLY;
	}
	ex = strcmp(env.type, "error") == 0 ? EX_ERROR_REPLY : EX_OK;
	sw_env_reset(&env);
	return ex;
}

/* dial url, with a TLS configuration when any TLS option was given */
static int dial(nng_socket sock, const char *url, const char *ca,
		const char *cert, const char *name)
{
	nng_tls_config *cfg = NULL;
	nng_dialer d;
	int rv;

	rv = nng_dialer_create(&d, sock, url);
	if (!rv && (ca || cert || name)) {
		rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
		if (!rv)
			rv = nng_tls_config_auth_mode(
			    cfg, ca ? NNG_TLS_AUTH_MODE_REQUIRED
				    : NNG_TLS_AUTH_MODE_NONE);
		if (!rv && ca)
			rv = nng_tls_config_ca_file(cfg, ca);
		if (!rv && cert)
			rv = nng_tls_config_cert_key_file(cfg, cert, NULL);
		if (!rv && name)
			rv = nng_tls_config_server_name(cfg, name);
		if (!rv)
			rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		if (cfg)
			nng_tls_config_free(cfg);
	}
	if (!rv)
		rv = nng_dialer_start(d, 0);
	return rv;
}

int main(int argc, char **argv)
{
	nng_socket sock = NNG_SOCKET_INITIALIZER;
	nng_duration tmo = 5000;
	char *msg = NULL, *reply = NULL;
	size_t msglen = 0, replylen = 0;
	bool raw = false, push = false, lines = false;
	const char *url, *ca = NULL, *cert = NULL, *name = NULL;
	int c, err, ex = EX_USAGE;

	while ((c = getopt(argc, argv, "rmpa:c:n:t:h")) != -1) {
		switch (c) {
		case 'r':
			raw = true;
			break;
		case 'p':
			push = true;
			break;
		case 'm':
			lines = raw = push = true;
			break;
		case 'a':
			ca = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 't':
			tmo = (int)strtol(optarg, NULL, 10);
			if (tmo <= 0) {
				usage();
				return EX_USAGE;
			}
			break;
		default:
			usage();
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if ((raw && argc != 2) || (!raw && (argc < 2 || argc > 3))) {
		usage();
		return EX_USAGE;
	}
	url = argv[0];

	if (raw)
		err = load_raw(&msg, &msglen, argv[1]);
	else
		err = build_envelope(&msg, &msglen, argv[1],
				     argc == 3 ? argv[2] : NULL);
	if (err) {
		fprintf(stderr, "busprobe: message: %s\n", strerror(err));
		goto out;
	}

	err = push ? nng_push0_open(&sock) : nng_req0_open(&sock);
	if (err) {
		fprintf(stderr, "busprobe: req socket: %s\n",
			nng_strerror(err));
		goto out;
	}
	nng_setopt_ms(sock, NNG_OPT_SENDTIMEO, tmo);
	nng_setopt_ms(sock, NNG_OPT_RECVTIMEO, tmo);
	nng_setopt_ms(sock, NNG_OPT_REQ_RESENDTIME, 0);
	nng_setopt_size(sock, NNG_OPT_RECVMAXSZ, 0);

	err = dial(sock, url, ca, cert, name);
	if (err) {
		fprintf(stderr, "busprobe: dial %s: %s\n", url,
			nng_strerror(err));
		ex = EX_CONNECT;
		goto out;
	}
	if (lines) {
		/* -m: each line of DATA is a message of its own */
		for (char *p = msg, *nl; !err && p < msg + msglen; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(msg + msglen - p));
			if (!nl)
				nl = msg + msglen;
			if (nl > p)
				err = nng_send(sock, p, (size_t)(nl - p), 0);
		}
	} else {
		err = nng_send(sock, msg, msglen, 0);
	}
	if (err) {
		fprintf(stderr, "busprobe: send: %s\n", nng_strerror(err));
		ex = EX_CONNECT;
		goto out;
	}
	if (push) {
		/* nng has no linger: give the queued message time to leave */
		nng_msleep(300);
		ex = EX_OK;
		goto out;
	}
	err = nng_recv(sock, &reply, &replylen, NNG_FLAG_ALLOC);
	if (err) {
		fprintf(stderr, "busprobe: no reply: %s\n", nng_strerror(err));
		ex = err == NNG_ETIMEDOUT ? EX_TIMEOUT : EX_CONNECT;
		goto out;
	}

	fwrite(reply, 1, replylen, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	ex = classify(reply, replylen);

out:
	if (reply)
		nng_free(reply, replylen);
	/*
	 * After a connection reset in the middle of a large send, nng 1.5.2's
	 * close can wait forever for that send (test_bad_input's 4 MB case
	 * hung past its timeout once).  A one-shot tool that has its answer
	 * does not close then: the process exit releases the socket.
	 */
	if (nng_socket_id(sock) > 0 && ex != EX_CONNECT && ex != EX_TIMEOUT)
		nng_close(sock);
	free(msg);
	return ex;
}
