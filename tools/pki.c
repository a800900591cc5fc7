/*
 * pki.c - `tandemctl pki`: the certificates of the trusted bus
 *
 *   tandemctl pki init DIR [--days N]
 *       DIR/ca/root.{crt,key}: a self-signed root;
 *       DIR/ca/<role>.{crt,key}: one intermediate CA per role (signaling,
 *       media, billing, control), signed by the root.
 *   tandemctl pki issue DIR ROLE NAME [--days N]
 *       DIR/hosts/NAME/cert.pem: a certificate for NAME (its common name)
 *       signed by ROLE's CA, followed by that CA and the private key;
 *       DIR/hosts/NAME/ca-<role>.crt: every role's CA certificate.
 *       That directory is what a daemon's bus_pki names.
 *
 * A daemon's tls+tcp:// listener trusts only the CA of the role it admits
 * (ca-<role>.crt as the trust anchor), so a certificate of another role, or
 * of another root, fails the handshake.  A media node's certificate name is
 * its node_id: signalingd dials it requiring that name.  Keys are ECDSA
 * P-256, certificates SHA-256; private keys are written 0600 and never
 * overwritten (init refuses an existing CA, issue an existing host).
 *
 * Exit status: 0 done, 1 refused (exists, unknown role, I/O), 2 usage.
 * Threading: single-threaded tool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "proto/proto.h"
#include "tools/ctl.h"

#define PEM_MAX 8192

struct rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static int rng_init(struct rng *r)
{
	static const char pers[] = "tandemctl pki";

	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
	return mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func,
				     &r->entropy, (const unsigned char *)pers,
				     sizeof(pers) - 1);
}

static void rng_free(struct rng *r)
{
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
}

/* write len bytes to path with mode; EEXIST when it is there already */
static int write_file(const char *path, const void *buf, size_t len,
		      mode_t mode, bool excl)
{
	int fd, err = 0;

	fd = open(path,
		  O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC),
		  mode);
	if (fd < 0)
		return errno;
	if (write(fd, buf, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	if (close(fd) && !err)
		err = errno;
	return err;
}

static int read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return errno;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n == size - 1 ? EFBIG : 0;
}

static int gen_key(mbedtls_pk_context *key, struct rng *r)
{
	int rv;

	mbedtls_pk_init(key);
	rv = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (!rv)
		rv = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
					 mbedtls_pk_ec(*key),
					 mbedtls_ctr_drbg_random, &r->drbg);
	return rv;
}

static void utc_stamp(char out[15], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

/*
 * A certificate for subject's key, signed by issuer_key as issuer_name
 * (self-signed when issuer_key is key).  ca: a CA (pathlen: -1 none).
 */
static int make_cert(char *pem, size_t size, struct rng *r,
		     mbedtls_pk_context *key, const char *subject,
		     mbedtls_pk_context *issuer_key, const char *issuer_name,
		     bool ca, int pathlen, int days)
{
	mbedtls_x509write_cert crt;
	unsigned char serial_raw[16];
	mbedtls_mpi serial;
	char from[15], until[15];
	time_t now = time(NULL);
	int rv;

	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);
	rv = mbedtls_ctr_drbg_random(&r->drbg, serial_raw, sizeof(serial_raw));
	serial_raw[0] &= 0x7f; /* positive */
	if (!rv)
		rv = mbedtls_mpi_read_binary(&serial, serial_raw,
					     sizeof(serial_raw));
	utc_stamp(from, now - 3600); /* an hour of clock skew */
	utc_stamp(until, now + (time_t)days * 86400);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, key);
	mbedtls_x509write_crt_set_issuer_key(&crt, issuer_key);
	if (!rv)
		rv = mbedtls_x509write_crt_set_subject_name(&crt, subject);
	if (!rv)
		rv = mbedtls_x509write_crt_set_issuer_name(&crt, issuer_name);
	if (!rv)
		rv = mbedtls_x509write_crt_set_serial(&crt, &serial);
	if (!rv)
		rv = mbedtls_x509write_crt_set_validity(&crt, from, until);
	if (!rv)
		rv = mbedtls_x509write_crt_set_basic_constraints(&crt, ca,
								 pathlen);
	if (!rv)
		rv = mbedtls_x509write_crt_set_key_usage(
		    &crt, ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN |
				   MBEDTLS_X509_KU_CRL_SIGN
			     : MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
				   MBEDTLS_X509_KU_KEY_AGREEMENT);
	if (!rv)
		rv = mbedtls_x509write_crt_set_subject_key_identifier(&crt);
	if (!rv)
		rv = mbedtls_x509write_crt_set_authority_key_identifier(&crt);
	if (!rv)
		rv = mbedtls_x509write_crt_pem(&crt, (unsigned char *)pem, size,
					       mbedtls_ctr_drbg_random,
					       &r->drbg);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&crt);
	return rv;
}

static int key_pem(char *pem, size_t size, mbedtls_pk_context *key)
{
	return mbedtls_pk_write_key_pem(key, (unsigned char *)pem, size);
}

/* the subject name of the certificate in pem, for issuing under it */
static int cert_subject(char *out, size_t size, const char *pem)
{
	mbedtls_x509_crt crt;
	int rv;

	mbedtls_x509_crt_init(&crt);
	rv = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem,
				    strlen(pem) + 1);
	if (!rv && mbedtls_x509_dn_gets(out, size, &crt.subject) < 0)
		rv = -1;
	mbedtls_x509_crt_free(&crt);
	return rv;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[512], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return errno;
	return 0;
}

static int fail(const char *what, int rv)
{
	char msg[200];

	if (rv > 0) {
		fprintf(stderr, "tandemctl pki: %s: %s\n", what, strerror(rv));
	} else {
		mbedtls_strerror(rv, msg, sizeof(msg));
		fprintf(stderr, "tandemctl pki: %s: %s\n", what, msg);
	}
	return 1;
}

static int pki_init(const char *dir, int days)
{
	static char crt[PEM_MAX], kp[PEM_MAX];
	mbedtls_pk_context root, key;
	char path[600], ca[512], subj[128];
	struct rng r;
	int rv;

	snprintf(ca, sizeof(ca), "%s/ca", dir);
	snprintf(path, sizeof(path), "%s/root.key", ca);
	if (access(path, F_OK) == 0) {
		fprintf(
		    stderr,
		    "tandemctl pki: %s exists: a CA is there already "
		    "(issue host certificates with `tandemctl pki issue`)\n",
		    path);
		return 1;
	}
	rv = mkdir_p(ca, 0700);
	if (rv)
		return fail(ca, rv);
	rv = rng_init(&r);
	if (rv)
		return fail("random generator", rv);
	rv = gen_key(&root, &r);
	if (!rv)
		rv = make_cert(crt, sizeof(crt), &r, &root,
			       "CN=Tandem bus root CA", &root,
			       "CN=Tandem bus root CA", true, 1, days);
	if (!rv)
		rv = key_pem(kp, sizeof(kp), &root);
	if (rv) {
		rng_free(&r);
		mbedtls_pk_free(&root);
		return fail("root CA", rv);
	}
	rv = write_file(path, kp, strlen(kp), 0600, true);
	if (!rv) {
		snprintf(path, sizeof(path), "%s/root.crt", ca);
		rv = write_file(path, crt, strlen(crt), 0644, true);
	}
	for (int role = SW_ROLE_SIGNALING; !rv && role < SW_ROLE_COUNT;
	     role++) {
		const char *name = sw_role_name((enum sw_role)role);

		snprintf(subj, sizeof(subj), "CN=Tandem %s CA", name);
		rv = gen_key(&key, &r);
		if (!rv)
			rv = make_cert(crt, sizeof(crt), &r, &key, subj, &root,
				       "CN=Tandem bus root CA", true, 0, days);
		if (!rv)
			rv = key_pem(kp, sizeof(kp), &key);
		mbedtls_pk_free(&key);
		if (rv)
			break;
		snprintf(path, sizeof(path), "%s/%s.key", ca, name);
		rv = write_file(path, kp, strlen(kp), 0600, true);
		if (!rv) {
			snprintf(path, sizeof(path), "%s/%s.crt", ca, name);
			rv = write_file(path, crt, strlen(crt), 0644, true);
		}
	}
	mbedtls_pk_free(&root);
	rng_free(&r);
	if (rv)
		return fail(path, rv);
	printf("CA made in %s: root and role CAs signaling, media, billing, "
	       "control (keep %s/*.key off the daemons' hosts)\n",
	       ca, ca);
	return 0;
}

static int pki_issue(const char *dir, const char *role_name, const char *name,
		     int days)
{
	static char ca_crt[PEM_MAX], ca_key[PEM_MAX], crt[PEM_MAX], kp[PEM_MAX],
	    out[3 * PEM_MAX];
	mbedtls_pk_context ca_pk, key;
	char path[700], host[600], subj[200], issuer[256];
	enum sw_role role;
	struct rng r;
	int rv;

	if (sw_role_parse(&role, role_name)) {
		fprintf(stderr,
			"tandemctl pki: role '%s': expected signaling, media, "
			"billing or control\n",
			role_name);
		return 2;
	}
	if (!*name || strlen(name) > 64 || strpbrk(name, "/,=+\"\\<>;") ||
	    name[0] == '.') {
		fprintf(stderr,
			"tandemctl pki: name '%s': 1..64 characters, no / , = "
			"+ \" \\ < > ;\n",
			name);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/ca/%s.crt", dir, role_name);
	rv = read_file(path, ca_crt, sizeof(ca_crt));
	if (!rv) {
		snprintf(path, sizeof(path), "%s/ca/%s.key", dir, role_name);
		rv = read_file(path, ca_key, sizeof(ca_key));
	}
	if (rv)
		return fail(path, rv);
	snprintf(host, sizeof(host), "%s/hosts/%s", dir, name);
	snprintf(path, sizeof(path), "%s/cert.pem", host);
	if (access(path, F_OK) == 0) {
		fprintf(stderr,
			"tandemctl pki: %s exists (remove %s to issue again)\n",
			path, host);
		return 1;
	}

	mbedtls_pk_init(&ca_pk);
	rv = rng_init(&r);
	if (!rv)
		rv = mbedtls_pk_parse_key(&ca_pk, (const unsigned char *)ca_key,
					  strlen(ca_key) + 1, NULL, 0);
	if (!rv)
		rv = cert_subject(issuer, sizeof(issuer), ca_crt);
	snprintf(subj, sizeof(subj), "CN=%s", name);
	if (!rv)
		rv = gen_key(&key, &r);
	else
		mbedtls_pk_init(&key);
	if (!rv)
		rv = make_cert(crt, sizeof(crt), &r, &key, subj, &ca_pk, issuer,
			       false, -1, days);
	if (!rv)
		rv = key_pem(kp, sizeof(kp), &key);
	mbedtls_pk_free(&key);
	mbedtls_pk_free(&ca_pk);
	rng_free(&r);
	if (rv)
		return fail("host certificate", rv);

	rv = mkdir_p(host, 0755);
	if (rv)
		return fail(host, rv);
	snprintf(out, sizeof(out), "%s%s%s", crt, ca_crt, kp);
	rv = write_file(path, out, strlen(out), 0600, true);
	for (int ro = SW_ROLE_SIGNALING; !rv && ro < SW_ROLE_COUNT; ro++) {
		const char *rn = sw_role_name((enum sw_role)ro);

		snprintf(path, sizeof(path), "%s/ca/%s.crt", dir, rn);
		rv = read_file(path, ca_crt, sizeof(ca_crt));
		if (!rv) {
			snprintf(path, sizeof(path), "%s/ca-%s.crt", host, rn);
			rv = write_file(path, ca_crt, strlen(ca_crt), 0644,
					false);
		}
	}
	if (rv)
		return fail(path, rv);
	printf("%s: %s certificate for '%s', valid %d days (bus_pki %s)\n",
	       host, role_name, name, days, host);
	return 0;
}

/* tandemctl pki init DIR | issue DIR ROLE NAME; argv after "pki" */
int ctl_pki(int argc, char **argv, int days)
{
	if (days <= 0 || days > 36500) {
		fprintf(stderr, "tandemctl pki: --days 1..36500\n");
		return 2;
	}
	if (argc == 2 && !strcmp(argv[0], "init"))
		return pki_init(argv[1], days);
	if (argc == 4 && !strcmp(argv[0], "issue"))
		return pki_issue(argv[1], argv[2], argv[3], days);
	fprintf(stderr,
		"usage: tandemctl pki init DIR [--days N]\n"
		"       tandemctl pki issue DIR ROLE NAME [--days N]\n");
	return 2;
}
