/*
 * bdload.c - load client and references of bench/billing/run.sh
 *
 *   bdload auth   -u URL -a ACCOUNT [-n INFLIGHT] [-b BATCH] [-t SECONDS]
 *   bdload cdr    -u URL -a ACCOUNT -g ROUTING_GW [-n INFLIGHT] [-b BATCH]
 *                 [-t SECONDS]
 *   bdload insert -d CONNINFO -a ACCOUNT -A ACCOUNT_ID -r ROWS [-j CONNS]
 *   bdload copy   -d CONNINFO -a ACCOUNT -A ACCOUNT_ID -r ROWS
 *
 * auth, cdr: one nng REQ socket dialled to billingd's bus_listen, INFLIGHT
 * REQ contexts (each its own aio) kept busy for SECONDS: every context sends
 * a request, waits for its reply, records the latency, sends the next.
 * auth sends auth.request for ACCOUNT and callees 12xx... (docs/bus.md);
 * cdr sends cdr.submit with a complete answered CDR (unique ids, one
 * attempt, rtp stats) whose hold time is a whole number of seconds, so the
 * fee is known in advance for the run.sh rate table (every entry 0.0100/min
 * 6/6, no connect fee: 1000 micro-units per started 6 s, first 6 s
 * minimum) and each reply's fee is checked against it.
 * With -b BATCH > 1 a context sends BATCH requests as one "batch" message
 * (docs/bus.md "Batches"), as signalingd does under load; INFLIGHT still
 * counts requests, so INFLIGHT / BATCH contexts are busy.
 *
 * insert, copy: the references.  ROWS cdr rows equal to what billingd
 * stores for such CDRs (same columns, same values apart from the ids and
 * the `account` text, which is ACCOUNT so run.sh can delete them; the
 * account_id column is ACCOUNT_ID, the customer's), written
 * into the same partitioned cdr table: insert as one prepared single-row
 * INSERT per row in autocommit over CONNS connections (one thread each),
 * copy as one COPY ... FROM STDIN (text format) on one connection.
 *
 * Output: "key=value" lines on stdout (run.sh parses them); errors on
 * stderr.  Exit 0 when the run went through (counts tell the rest), 1 on
 * a setup failure, 2 on usage.
 *
 * Threading: nng's aio threads run the context callbacks (each context's
 * state is touched by its own callbacks only, one at a time; shared
 * counters are atomics); the reference threads each own one connection.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#define INFLIGHT_MAX	 1024
#define ITEM_MAX	 2048 /* one request's body: well below 2 KiB */
#define BATCH_MAX	 256  /* SW_BUS_BATCH_MAX */
#define REPLY_TIMEOUT_MS 10000
#define DRAIN_MS	 15000 /* wait for the last replies after the deadline */
#define HOLD_MAX_S	 600   /* CDR hold times cycle through 1..600 s */
#define STEP_FEE	 1000  /* micro-units per started 6 s, customer */
#define STEP_COST	 500   /* micro-units per started 6 s, vendor */

enum mode { M_AUTH, M_CDR };

struct slot;

struct load {
	enum mode mode;
	const char *account;
	const char *gateway;
	nng_socket sock;
	atomic_bool stop;
	atomic_int active;	  /* contexts not yet finished */
	atomic_uint_fast64_t seq; /* next request number */
	atomic_uint_fast64_t sent, replies, ok, refused, dup, errors;
	atomic_uint_fast64_t timeouts, fee_bad;
	atomic_int_fast64_t fee_sum;
	atomic_int_fast64_t last_ns; /* when the last reply arrived */
	char err_sample[256];	     /* first error reply, for the log */
	atomic_flag err_taken;
	uint32_t run_id[3]; /* random part of every id */
	struct slot *slots;
	int nslots;
	int batch; /* requests per message */
};

/* one REQ context: its own aio, request and latency samples */
struct slot {
	struct load *ld; /* borrowed */
	nng_ctx ctx;
	nng_aio *aio; /* owned */
	bool receiving;
	bool done;
	int64_t sent_ns;
	int64_t expect_fee[BATCH_MAX]; /* per request of the message */
	uint32_t *lat_us;	       /* owned: one sample per reply */
	size_t nlat, lat_cap;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* a version-4 UUID unique in this run: random run part + sequence number */
static void make_uuid(char out[37], const uint32_t run[3], uint64_t n)
{
	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012" PRIx64, run[0],
		 run[1] & 0xffff, run[2] & 0xfff,
		 0x8000 | ((run[2] >> 12) & 0x3fff),
		 (uint64_t)(n & 0xffffffffffffULL));
}

static void random_run(uint32_t run[3])
{
	if (getrandom(run, 3 * sizeof(run[0]), 0) != 3 * sizeof(run[0])) {
		uint64_t t = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);

		run[0] = (uint32_t)t;
		run[1] = (uint32_t)(t >> 32);
		run[2] = (uint32_t)(t >> 16) ^ (uint32_t)getpid();
	}
}

/* ---- the CDR every request and reference row is made of ---- */

struct cdr {
	char id[37];
	char call_id_a[64], call_id_b[64];
	char caller[24], callee[24];
	char prefix[8];
	int64_t setup_ms, ringing_ms, answer_ms, end_ms, hold_ms;
	int64_t fee, fee_s, vendor_cost;
	int64_t rx, tx; /* rtp packet counts per leg */
};

/*
 * CDR number n: callee 12xx + 7 digits (rate prefix "12xx"), hold time
 * 1..600 whole seconds, so fee = 1000 * max(1, ceil(s / 6)).
 */
static void cdr_make(struct cdr *c, const uint32_t run[3], uint64_t n,
		     int64_t now)
{
	int64_t s = (int64_t)(n % HOLD_MAX_S) + 1;
	int64_t steps = s <= 6 ? 1 : (s + 5) / 6;

	make_uuid(c->id, run, n);
	snprintf(c->call_id_a, sizeof(c->call_id_a),
		 "a%08x%" PRIu64 "@127.0.0.1", run[0], n);
	snprintf(c->call_id_b, sizeof(c->call_id_b),
		 "b%08x%" PRIu64 "@127.0.0.2", run[0], n);
	snprintf(c->caller, sizeof(c->caller), "4420%07" PRIu64, n % 10000000);
	snprintf(c->callee, sizeof(c->callee), "12%02" PRIu64 "%07" PRIu64,
		 n % 100, (n / 100) % 10000000);
	memcpy(c->prefix, c->callee, 4);
	c->prefix[4] = '\0';
	c->hold_ms = s * 1000;
	c->setup_ms = now - c->hold_ms - 3000;
	c->ringing_ms = c->setup_ms + 1000;
	c->answer_ms = c->setup_ms + 3000;
	c->end_ms = c->answer_ms + c->hold_ms;
	c->fee = steps * STEP_FEE;
	c->vendor_cost = steps * STEP_COST;
	c->fee_s = steps * 6;
	c->rx = s * 50;
	c->tx = s * 50 - 1;
}

static const char rtp_fmt[] =
    "{\"a\":{\"rx_packets\":%" PRId64 ",\"rx_bytes\":%" PRId64
    ",\"tx_packets\":%" PRId64 ",\"tx_bytes\":%" PRId64
    ",\"lost\":0,\"jitter_ms\":2,\"mos_x10\":43},"
    "\"b\":{\"rx_packets\":%" PRId64 ",\"rx_bytes\":%" PRId64
    ",\"tx_packets\":%" PRId64 ",\"tx_bytes\":%" PRId64
    ",\"lost\":1,\"jitter_ms\":3,\"mos_x10\":42}}";

static int rtp_json(char *buf, size_t sz, const struct cdr *c)
{
	return snprintf(buf, sz, rtp_fmt, c->rx, c->rx * 172, c->tx,
			c->tx * 172, c->tx, c->tx * 172, c->rx, c->rx * 172);
}

/* ---- requests ---- */

/* the body of request i of the slot's next message; *typep its type */
static int build_body(struct slot *sl, int i, char *buf, size_t sz,
		      const char **typep)
{
	struct load *ld = sl->ld;
	uint64_t n = atomic_fetch_add(&ld->seq, 1);
	char rtp[512];
	struct cdr c;

	cdr_make(&c, ld->run_id, n, wall_ms());
	if (ld->mode == M_AUTH) {
		*typep = "auth.request";
		sl->expect_fee[i] = 0;
		return snprintf(
		    buf, sz,
		    "{\"call\":\"%s\","
		    "\"account\":\"%s\",\"caller\":\"%s\","
		    "\"callee\":\"%s\",\"mapping_gateway\":\"bench_mg\"}",
		    c.id, ld->account, c.caller, c.callee);
	}

	*typep = "cdr.submit";
	sl->expect_fee[i] = c.fee;
	rtp_json(rtp, sizeof(rtp), &c);
	return snprintf(
	    buf, sz,
	    "{\"cdr\":{\"id\":\"%s\","
	    "\"call_id_a\":\"%s\",\"call_id_b\":\"%s\","
	    "\"caller_in\":\"%s\",\"callee_in\":\"%s\","
	    "\"caller\":\"%s\",\"callee\":\"%s\","
	    "\"caller_out\":\"%s\",\"callee_out\":\"%s\","
	    "\"src_ip\":\"127.0.0.1\",\"dst_ip\":\"127.0.0.2\","
	    "\"mapping_gateway\":\"bench_mg\",\"account\":\"%s\","
	    "\"routing_gateway\":\"%s\",\"setup_ms\":%" PRId64 ","
	    "\"ringing_ms\":%" PRId64 ",\"answer_ms\":%" PRId64 ","
	    "\"end_ms\":%" PRId64 ",\"hold_ms\":%" PRId64 ","
	    "\"pdd_ms\":1000,\"end_code\":200,\"end_text\":\"OK\","
	    "\"end_direction\":\"caller\",\"end_reason\":\"Normal\","
	    "\"q850\":16,\"attempts\":[{\"gateway\":\"%s\",\"code\":200,"
	    "\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64 "}],"
	    "\"codec_a\":\"PCMA\",\"codec_b\":\"PCMA\","
	    "\"media_node\":\"mp-bench\",\"rtp\":%s}}",
	    c.id, c.call_id_a, c.call_id_b, c.caller, c.callee, c.caller,
	    c.callee, c.caller, c.callee, ld->account, ld->gateway, c.setup_ms,
	    c.ringing_ms, c.answer_ms, c.end_ms, c.hold_ms, ld->gateway,
	    c.setup_ms, c.end_ms, rtp);
}

/*
 * The slot's next message: one request, or a batch of ld->batch.  Returns
 * its length, or -1 when buf is too small.
 */
static int build_request(struct slot *sl, char *buf, size_t sz)
{
	struct load *ld = sl->ld;
	uint64_t n = atomic_fetch_add(&ld->seq, 1);
	char envid[37], body[ITEM_MAX];
	const char *type = "";
	size_t o;
	int len;

	/* envelope ids live in their own half of the 48-bit space */
	make_uuid(envid, ld->run_id, n | (1ULL << 47));
	if (ld->batch == 1) {
		len = build_body(sl, 0, body, sizeof(body), &type);
		if (len <= 0 || (size_t)len >= sizeof(body))
			return -1;
		return snprintf(buf, sz,
				"{\"v\":1,\"type\":\"%s\",\"id\":\"%s\","
				"\"ts\":%" PRId64 ",\"body\":%s}",
				type, envid, wall_ms(), body);
	}
	len = snprintf(buf, sz,
		       "{\"v\":1,\"type\":\"batch\",\"id\":\"%s\","
		       "\"ts\":%" PRId64 ",\"body\":{\"items\":[",
		       envid, wall_ms());
	if (len <= 0 || (size_t)len >= sz)
		return -1;
	o = (size_t)len;
	for (int i = 0; i < ld->batch; i++) {
		len = build_body(sl, i, body, sizeof(body), &type);
		if (len <= 0 || (size_t)len >= sizeof(body))
			return -1;
		len =
		    snprintf(buf + o, sz - o, "%s{\"type\":\"%s\",\"body\":%s}",
			     i ? "," : "", type, body);
		if (len <= 0 || (size_t)len >= sz - o)
			return -1;
		o += (size_t)len;
	}
	len = snprintf(buf + o, sz - o, "]}}");
	if (len <= 0 || (size_t)len >= sz - o)
		return -1;
	return (int)(o + (size_t)len);
}

static void note_error(struct load *ld, const char *what)
{
	atomic_fetch_add(&ld->errors, 1);
	if (!atomic_flag_test_and_set(&ld->err_taken))
		snprintf(ld->err_sample, sizeof(ld->err_sample), "%s", what);
}

/* check one answer (its type and body) to request i and count it */
static void judge_one(struct slot *sl, int i, const char *type, json_t *body)
{
	struct load *ld = sl->ld;
	char tmp[256];

	if (!type || !json_is_object(body)) {
		note_error(ld, "malformed reply");
		return;
	}
	if (!strcmp(type, "error")) {
		snprintf(tmp, sizeof(tmp), "error %s: %s",
			 json_string_value(json_object_get(body, "code")),
			 json_string_value(json_object_get(body, "message")));
		note_error(ld, tmp);
		return;
	}
	if (ld->mode == M_AUTH) {
		if (strcmp(type, "auth.request.reply")) {
			note_error(ld, type);
		} else if (json_is_true(json_object_get(body, "allow")) &&
			   json_integer_value(
			       json_object_get(body, "max_duration_s")) > 0) {
			atomic_fetch_add(&ld->ok, 1);
		} else {
			atomic_fetch_add(&ld->refused, 1);
			note_error(ld, "refused");
		}
	} else {
		json_int_t fee =
		    json_integer_value(json_object_get(body, "fee"));

		if (strcmp(type, "cdr.submit.reply") ||
		    !json_is_integer(json_object_get(body, "fee"))) {
			note_error(ld, type);
			return;
		}
		if (json_is_true(json_object_get(body, "duplicate"))) {
			atomic_fetch_add(&ld->dup, 1);
			return;
		}
		atomic_fetch_add(&ld->ok, 1);
		atomic_fetch_add(&ld->fee_sum, (int_fast64_t)fee);
		if (fee != sl->expect_fee[i])
			atomic_fetch_add(&ld->fee_bad, 1);
	}
}

/* check one reply (the whole envelope) and count what it answers */
static void judge_reply(struct slot *sl, const void *buf, size_t len)
{
	struct load *ld = sl->ld;
	json_t *root = json_loadb(buf, len, 0, NULL), *body, *items;
	const char *type;

	type = json_string_value(json_object_get(root, "type"));
	body = json_object_get(root, "body");
	if (ld->batch == 1) {
		judge_one(sl, 0, type, body);
	} else if (type && !strcmp(type, "batch.reply") &&
		   json_array_size(items = json_object_get(body, "items")) ==
		       (size_t)ld->batch) {
		for (int i = 0; i < ld->batch; i++) {
			json_t *it = json_array_get(items, (size_t)i);

			judge_one(
			    sl, i,
			    json_string_value(json_object_get(it, "type")),
			    json_object_get(it, "body"));
		}
	} else {
		for (int i = 0; i < ld->batch; i++)
			judge_one(sl, i, type, body); /* the batch refused */
	}
	json_decref(root);
}

static void slot_finish(struct slot *sl)
{
	sl->done = true;
	atomic_fetch_sub(&sl->ld->active, 1);
}

static void slot_send(struct slot *sl)
{
	size_t size = (size_t)sl->ld->batch * (ITEM_MAX + 64) + 256;
	char *buf;
	nng_msg *msg;
	int len;

	if (atomic_load(&sl->ld->stop)) {
		slot_finish(sl);
		return;
	}
	buf = malloc(size);
	len = buf ? build_request(sl, buf, size) : -1;
	if (len <= 0 || (size_t)len >= size || nng_msg_alloc(&msg, 0)) {
		free(buf);
		note_error(sl->ld, "cannot build a request");
		slot_finish(sl);
		return;
	}
	if (nng_msg_append(msg, buf, (size_t)len)) {
		free(buf);
		nng_msg_free(msg);
		note_error(sl->ld, "cannot build a request");
		slot_finish(sl);
		return;
	}
	free(buf);
	sl->receiving = false;
	sl->sent_ns = now_ns();
	nng_aio_set_msg(sl->aio, msg);
	nng_ctx_send(sl->ctx, sl->aio);
}

static void slot_record(struct slot *sl, int64_t t)
{
	int64_t us = (t - sl->sent_ns) / 1000;

	if (sl->nlat == sl->lat_cap) {
		size_t cap = sl->lat_cap ? sl->lat_cap * 2 : 4096;
		uint32_t *p = realloc(sl->lat_us, cap * sizeof(*p));

		if (!p)
			return; /* a lost sample, not a lost reply */
		sl->lat_us = p;
		sl->lat_cap = cap;
	}
	sl->lat_us[sl->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void slot_cb(void *arg)
{
	struct slot *sl = arg;
	struct load *ld = sl->ld;
	int rv = nng_aio_result(sl->aio);
	nng_msg *msg;
	int64_t t;

	if (!sl->receiving) {
		if (rv) {
			msg = nng_aio_get_msg(sl->aio);
			if (msg)
				nng_msg_free(msg);
			note_error(ld, nng_strerror(rv));
			slot_finish(sl);
			return;
		}
		atomic_fetch_add(&ld->sent, (uint_fast64_t)ld->batch);
		sl->receiving = true;
		nng_aio_set_timeout(sl->aio, REPLY_TIMEOUT_MS);
		nng_ctx_recv(sl->ctx, sl->aio);
		return;
	}

	if (rv) {
		if (rv == NNG_ETIMEDOUT)
			atomic_fetch_add(&ld->timeouts, 1);
		note_error(ld, nng_strerror(rv));
		slot_finish(sl);
		return;
	}
	t = now_ns();
	msg = nng_aio_get_msg(sl->aio);
	atomic_fetch_add(&ld->replies, (uint_fast64_t)ld->batch);
	atomic_store(&ld->last_ns, t);
	slot_record(sl, t);
	judge_reply(sl, nng_msg_body(msg), nng_msg_len(msg));
	nng_msg_free(msg);
	slot_send(sl);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* latency percentiles over every slot's samples, in ms */
static void print_latency(const struct load *ld)
{
	size_t n = 0, k = 0, p50, p99;
	uint32_t *all;

	for (int i = 0; i < ld->nslots; i++)
		n += ld->slots[i].nlat;
	all = n ? malloc(n * sizeof(*all)) : NULL;
	if (!all) {
		printf("p50_ms=0\np99_ms=0\nmax_ms=0\n");
		return;
	}
	for (int i = 0; i < ld->nslots; i++) {
		memcpy(all + k, ld->slots[i].lat_us,
		       ld->slots[i].nlat * sizeof(*all));
		k += ld->slots[i].nlat;
	}
	qsort(all, n, sizeof(*all), cmp_u32);
	p50 = n / 2;
	p99 = (n * 99) / 100;
	printf("p50_ms=%.2f\np99_ms=%.2f\nmax_ms=%.2f\n", all[p50] / 1000.0,
	       all[p99] / 1000.0, all[n - 1] / 1000.0);
	free(all);
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int run_load(struct load *ld, const char *url, int inflight, int seconds)
{
	int64_t t0, deadline, drain_end, last;
	double c0, el;
	int rv, started = 0;

	random_run(ld->run_id);
	rv = nng_req0_open(&ld->sock);
	if (rv) {
		fprintf(stderr, "bdload: req socket: %s\n", nng_strerror(rv));
		return 1;
	}
	/* no resends: a resent CDR would be counted as a duplicate */
	nng_socket_set_ms(ld->sock, NNG_OPT_REQ_RESENDTIME,
			  NNG_DURATION_INFINITE);
	nng_socket_set_size(ld->sock, NNG_OPT_RECVMAXSZ, 256 * 1024);
	rv = nng_dial(ld->sock, url, NULL, 0);
	if (rv) {
		fprintf(stderr, "bdload: dial %s: %s\n", url, nng_strerror(rv));
		nng_close(ld->sock);
		return 1;
	}

	inflight = (inflight + ld->batch - 1) / ld->batch; /* contexts */
	ld->slots = calloc((size_t)inflight, sizeof(*ld->slots));
	if (!ld->slots) {
		nng_close(ld->sock);
		return 1;
	}
	ld->nslots = inflight;
	for (int i = 0; i < inflight; i++) {
		struct slot *sl = &ld->slots[i];

		sl->ld = ld;
		if (nng_ctx_open(&sl->ctx, ld->sock) ||
		    nng_aio_alloc(&sl->aio, slot_cb, sl)) {
			fprintf(stderr, "bdload: context %d failed\n", i);
			return 1;
		}
	}

	c0 = cpu_s();
	t0 = now_ns();
	atomic_store(&ld->last_ns, t0);
	atomic_store(&ld->active, inflight);
	for (int i = 0; i < inflight; i++) {
		slot_send(&ld->slots[i]);
		started++;
	}
	deadline = t0 + (int64_t)seconds * 1000000000;
	while (now_ns() < deadline && atomic_load(&ld->active) > 0)
		usleep(20000);
	atomic_store(&ld->stop, true);
	drain_end = now_ns() + (int64_t)DRAIN_MS * 1000000;
	while (atomic_load(&ld->active) > 0 && now_ns() < drain_end)
		usleep(10000);

	last = atomic_load(&ld->last_ns);
	el = (double)(last - t0) / 1e9;
	printf("mode=%s\ninflight=%d\nbatch=%d\nseconds=%.3f\n",
	       ld->mode == M_AUTH ? "auth" : "cdr", started * ld->batch,
	       ld->batch, el);
	printf("sent=%" PRIuFAST64 "\nreplies=%" PRIuFAST64 "\nok=%" PRIuFAST64
	       "\n",
	       atomic_load(&ld->sent), atomic_load(&ld->replies),
	       atomic_load(&ld->ok));
	printf("refused=%" PRIuFAST64 "\nduplicate=%" PRIuFAST64
	       "\nerrors=%" PRIuFAST64 "\ntimeouts=%" PRIuFAST64 "\n",
	       atomic_load(&ld->refused), atomic_load(&ld->dup),
	       atomic_load(&ld->errors), atomic_load(&ld->timeouts));
	printf("unfinished=%d\n", atomic_load(&ld->active));
	printf("rate=%.0f\n", el > 0 ? atomic_load(&ld->ok) / el : 0.0);
	if (ld->mode == M_CDR)
		printf("fee_sum=%" PRIdFAST64 "\nfee_mismatch=%" PRIuFAST64
		       "\n",
		       atomic_load(&ld->fee_sum), atomic_load(&ld->fee_bad));
	printf("client_cpu_s=%.3f\n", cpu_s() - c0);
	if (ld->err_sample[0])
		printf("first_error=%s\n", ld->err_sample);
	print_latency(ld);
	fflush(stdout);

	/* contexts still waiting (billingd stuck) are cancelled by close */
	nng_close(ld->sock);
	for (int i = 0; i < inflight; i++) {
		nng_aio_free(ld->slots[i].aio);
		free(ld->slots[i].lat_us);
	}
	free(ld->slots);
	return 0;
}

/* ---- references: single-row INSERT and COPY ---- */

#define NCOLS 36

static const char cols[] =
    "id, setup_time, account_id, call_id_a, call_id_b, caller_in,"
    " callee_in, caller, callee, caller_out, callee_out, src_ip, dst_ip,"
    " mapping_gateway, account, routing_gateway, vendor, setup_ms,"
    " ringing_ms, answer_ms, end_ms, hold_ms, fee_s, pdd_ms, fee,"
    " vendor_cost, rate_prefix, end_code, end_text, end_direction,"
    " end_reason, q850, codec_a, codec_b, media_node, rtp";

struct ref {
	const char *conninfo;
	const char *account;
	int64_t account_id;
	uint32_t run_id[3];
	uint64_t first, count; /* row numbers of this thread */
	uint64_t done;
	char err[256];
};

/* the column texts of row n, as billingd would store its CDR n */
struct row {
	struct cdr c;
	char setup_time[32], account_id[24], ints[10][24], rtp[512];
	const char *v[NCOLS];
};

static void row_make(struct row *r, const struct ref *rf, uint64_t n,
		     int64_t now)
{
	struct cdr *c = &r->c;
	int64_t ivals[10];
	struct tm tm;
	time_t sec;
	int k;

	cdr_make(c, rf->run_id, n, now);
	sec = (time_t)(c->setup_ms / 1000);
	gmtime_r(&sec, &tm);
	k = (int)strftime(r->setup_time, sizeof(r->setup_time),
			  "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(r->setup_time + k, sizeof(r->setup_time) - (size_t)k,
		 ".%03d+00", (int)(c->setup_ms % 1000));
	k = 0;
	snprintf(r->account_id, sizeof(r->account_id), "%" PRId64,
		 rf->account_id);
	ivals[0] = c->setup_ms;
	ivals[1] = c->ringing_ms;
	ivals[2] = c->answer_ms;
	ivals[3] = c->end_ms;
	ivals[4] = c->hold_ms;
	ivals[5] = c->fee_s;
	ivals[6] = 1000; /* pdd_ms */
	ivals[7] = c->fee;
	ivals[8] = c->vendor_cost;
	ivals[9] = 200; /* end_code */
	for (int i = 0; i < 10; i++)
		snprintf(r->ints[i], sizeof(r->ints[i]), "%" PRId64, ivals[i]);
	rtp_json(r->rtp, sizeof(r->rtp), c);

	r->v[k++] = c->id;
	r->v[k++] = r->setup_time;
	r->v[k++] = r->account_id;
	r->v[k++] = c->call_id_a;
	r->v[k++] = c->call_id_b;
	r->v[k++] = c->caller; /* caller_in */
	r->v[k++] = c->callee; /* callee_in */
	r->v[k++] = c->caller;
	r->v[k++] = c->callee;
	r->v[k++] = c->caller; /* caller_out */
	r->v[k++] = c->callee; /* callee_out */
	r->v[k++] = "127.0.0.1";
	r->v[k++] = "127.0.0.2";
	r->v[k++] = "bench_mg";
	r->v[k++] = rf->account;
	r->v[k++] = "bench_gw";
	r->v[k++] = "bench_vend";
	for (int i = 0; i < 9; i++) /* setup_ms .. vendor_cost */
		r->v[k++] = r->ints[i];
	r->v[k++] = c->prefix;
	r->v[k++] = r->ints[9]; /* end_code */
	r->v[k++] = "OK";
	r->v[k++] = "caller";
	r->v[k++] = "Normal";
	r->v[k++] = "16";
	r->v[k++] = "PCMA";
	r->v[k++] = "PCMA";
	r->v[k++] = "mp-bench";
	r->v[k++] = r->rtp;
}

static const char insert_sql_head[] = "INSERT INTO cdr (";
static const char insert_sql_vals[] =
    ") VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,"
    " $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34,"
    " $35, $36::jsonb)";

static void *insert_thread(void *arg)
{
	struct ref *rf = arg;
	char sql[2048];
	int64_t now = wall_ms();
	PGconn *db = PQconnectdb(rf->conninfo);
	PGresult *res;
	struct row r;

	if (PQstatus(db) != CONNECTION_OK) {
		snprintf(rf->err, sizeof(rf->err), "%s", PQerrorMessage(db));
		goto out;
	}
	snprintf(sql, sizeof(sql), "%s%s%s", insert_sql_head, cols,
		 insert_sql_vals);
	res = PQprepare(db, "ins", sql, NCOLS, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(rf->err, sizeof(rf->err), "prepare: %s",
			 PQerrorMessage(db));
		PQclear(res);
		goto out;
	}
	PQclear(res);
	for (uint64_t i = 0; i < rf->count; i++) {
		row_make(&r, rf, rf->first + i, now);
		res = PQexecPrepared(db, "ins", NCOLS, r.v, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(rf->err, sizeof(rf->err), "insert: %s",
				 PQerrorMessage(db));
			PQclear(res);
			goto out;
		}
		PQclear(res);
		rf->done++;
	}
out:
	PQfinish(db);
	return NULL;
}

/* COPY text format: escape backslash, tab, newline, carriage return */
static size_t copy_field(char *out, const char *s)
{
	size_t k = 0;

	for (; *s; s++) {
		switch (*s) {
		case '\\':
			out[k++] = '\\';
			out[k++] = '\\';
			break;
		case '\t':
			out[k++] = '\\';
			out[k++] = 't';
			break;
		case '\n':
			out[k++] = '\\';
			out[k++] = 'n';
			break;
		case '\r':
			out[k++] = '\\';
			out[k++] = 'r';
			break;
		default:
			out[k++] = *s;
			break;
		}
	}
	return k;
}

static int copy_rows(struct ref *rf)
{
	static char buf[256 * 1024];
	char sql[1024];
	int64_t now = wall_ms();
	size_t k = 0;
	PGconn *db = PQconnectdb(rf->conninfo);
	PGresult *res;
	struct row r;
	int err = 1;

	if (PQstatus(db) != CONNECTION_OK) {
		snprintf(rf->err, sizeof(rf->err), "%s", PQerrorMessage(db));
		goto out;
	}
	snprintf(sql, sizeof(sql), "COPY cdr (%s) FROM STDIN", cols);
	res = PQexec(db, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		snprintf(rf->err, sizeof(rf->err), "copy: %s",
			 PQerrorMessage(db));
		PQclear(res);
		goto out;
	}
	PQclear(res);
	for (uint64_t i = 0; i < rf->count; i++) {
		row_make(&r, rf, rf->first + i, now);
		if (sizeof(buf) - k < 8192) {
			if (PQputCopyData(db, buf, (int)k) != 1) {
				snprintf(rf->err, sizeof(rf->err), "copy: %s",
					 PQerrorMessage(db));
				goto out;
			}
			k = 0;
		}
		for (int c = 0; c < NCOLS; c++) {
			if (c)
				buf[k++] = '\t';
			k += copy_field(buf + k, r.v[c]);
		}
		buf[k++] = '\n';
		rf->done++;
	}
	if ((k && PQputCopyData(db, buf, (int)k) != 1) ||
	    PQputCopyEnd(db, NULL) != 1) {
		snprintf(rf->err, sizeof(rf->err), "copy: %s",
			 PQerrorMessage(db));
		goto out;
	}
	res = PQgetResult(db);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(rf->err, sizeof(rf->err), "copy: %s",
			 PQerrorMessage(db));
		PQclear(res);
		rf->done = 0; /* the whole COPY is one transaction */
		goto out;
	}
	PQclear(res);
	err = 0;
out:
	PQfinish(db);
	return err;
}

static int run_ref(bool copy, const char *conninfo, const char *account,
		   int64_t account_id, uint64_t rows, int conns)
{
	struct ref *rf = calloc((size_t)conns, sizeof(*rf));
	pthread_t *th = calloc((size_t)conns, sizeof(*th));
	bool *up = calloc((size_t)conns, sizeof(*up));
	uint64_t done = 0, per;
	int64_t t0, t1;
	double c0;
	int err = 1;

	if (!rf || !th || !up)
		goto out;
	per = rows / (uint64_t)conns;
	for (int i = 0; i < conns; i++) {
		rf[i].conninfo = conninfo;
		rf[i].account = account;
		rf[i].account_id = account_id;
		random_run(rf[i].run_id);
		rf[i].first = per * (uint64_t)i;
		rf[i].count = i == conns - 1 ? rows - per * (uint64_t)i : per;
	}
	c0 = cpu_s();
	t0 = now_ns();
	if (copy) {
		copy_rows(&rf[0]);
	} else {
		for (int i = 0; i < conns; i++) {
			up[i] = !pthread_create(&th[i], NULL, insert_thread,
						&rf[i]);
			if (!up[i])
				snprintf(rf[i].err, sizeof(rf[i].err),
					 "cannot start a thread");
		}
		for (int i = 0; i < conns; i++)
			if (up[i])
				pthread_join(th[i], NULL);
	}
	t1 = now_ns();
	for (int i = 0; i < conns; i++) {
		done += rf[i].done;
		if (rf[i].err[0])
			fprintf(stderr, "bdload: %s\n", rf[i].err);
	}
	printf("mode=%s\nconns=%d\nrows=%" PRIu64 "\nseconds=%.3f\n"
	       "rate=%.0f\nclient_cpu_s=%.3f\n",
	       copy ? "copy" : "insert", conns, done, (double)(t1 - t0) / 1e9,
	       done / ((double)(t1 - t0) / 1e9), cpu_s() - c0);
	err = done == rows ? 0 : 1;
out:
	free(rf);
	free(th);
	free(up);
	return err;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: bdload auth -u URL -a ACCOUNT [-n INFLIGHT] [-b N]"
		" [-t S]\n"
		"       bdload cdr -u URL -a ACCOUNT -g GATEWAY [-n INFLIGHT]"
		" [-b N] [-t S]\n"
		"       bdload insert -d CONNINFO -a ACCOUNT -A ACCOUNT_ID"
		" -r ROWS [-j N]\n"
		"       bdload copy -d CONNINFO -a ACCOUNT -A ACCOUNT_ID"
		" -r ROWS\n");
	exit(2);
}

static long num_arg(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static struct load ld;
	const char *cmd, *url = NULL, *conninfo = NULL;
	long inflight = 128, seconds = 10, rows = 0, conns = 4;
	long account_id = -1;
	int opt;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "u:a:A:g:n:b:t:d:r:j:")) != -1) {
		switch (opt) {
		case 'u':
			url = optarg;
			break;
		case 'a':
			ld.account = optarg;
			break;
		case 'A':
			account_id = num_arg(optarg, 1, LONG_MAX);
			break;
		case 'g':
			ld.gateway = optarg;
			break;
		case 'n':
			inflight = num_arg(optarg, 1, INFLIGHT_MAX);
			break;
		case 'b':
			ld.batch = (int)num_arg(optarg, 1, BATCH_MAX);
			break;
		case 't':
			seconds = num_arg(optarg, 1, 3600);
			break;
		case 'd':
			conninfo = optarg;
			break;
		case 'r':
			rows = num_arg(optarg, 1, 100000000);
			break;
		case 'j':
			conns = num_arg(optarg, 1, 64);
			break;
		default:
			usage();
		}
	}
	if (!ld.account)
		usage();
	if (!ld.batch)
		ld.batch = 1;
	if (!strcmp(cmd, "auth") || !strcmp(cmd, "cdr")) {
		ld.mode = cmd[0] == 'a' ? M_AUTH : M_CDR;
		if (!url || (ld.mode == M_CDR && !ld.gateway))
			usage();
		return run_load(&ld, url, (int)inflight, (int)seconds);
	}
	if (!strcmp(cmd, "insert") || !strcmp(cmd, "copy")) {
		if (!conninfo || !rows || account_id < 0)
			usage();
		return run_ref(cmd[0] == 'c', conninfo, ld.account,
			       (int64_t)account_id, (uint64_t)rows,
			       cmd[0] == 'c' ? 1 : (int)conns);
	}
	usage();
	return 2;
}
