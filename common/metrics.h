/*
 * metrics.h - Prometheus metrics over HTTP (text exposition format 0.0.4)
 *
 * Each daemon renders its metrics from its own loop into a struct sw_mtext
 * (sw_mt_* below), once a second and at start, and publishes the text.  A
 * thread of this module serves `GET /metrics` on `metrics_listen` with the
 * last text published, so a scrape never waits on, or races with, the
 * daemon's loop (the value is at most one tick old).  Any other path is
 * 404, any other method 405; a connection closes after one response, and
 * one that sends no complete request within SW_METRICS_REQ_MS is closed.
 *
 * Names follow Prometheus conventions: tandem_<daemon>_<what>_<unit>,
 * counters end in _total, durations are in seconds (histograms).
 *
 * Ownership: the daemon owns its struct sw_metrics; sw_metrics_publish
 * takes the text's buffer.
 * Threading: sw_metrics_start/publish/stop from the daemon's loop; the
 * server thread reads only the published text (under a mutex).
 */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_METRICS_CONNS  16   /* scrapes served at once */
#define SW_METRICS_REQ	  4096 /* request head limit, bytes */
#define SW_METRICS_REQ_MS 5000 /* a request must arrive within */

/* text being rendered; an allocation failure is remembered (oom) */
struct sw_mtext {
	char *buf;
	size_t len, cap;
	bool oom;
};

/* a histogram of durations: fixed buckets, seconds */
#define SW_MHIST_BUCKETS 12
struct sw_mhist {
	uint64_t bucket[SW_MHIST_BUCKETS]; /* not cumulative */
	uint64_t count;
	uint64_t sum_us;
};

void sw_mhist_observe(struct sw_mhist *h, int64_t us);

/* # HELP and # TYPE lines of a family (type: counter, gauge, histogram) */
void sw_mt_family(struct sw_mtext *t, const char *name, const char *type,
		  const char *help);
/* one sample; labels as name/value pairs (nlabels pairs), values escaped */
void sw_mt_sample(struct sw_mtext *t, const char *name, int64_t v,
		  size_t nlabels, const char *const *labels);
void sw_mt_sample_f(struct sw_mtext *t, const char *name, double v,
		    size_t nlabels, const char *const *labels);
/* a family with one unlabelled sample */
void sw_mt_one(struct sw_mtext *t, const char *name, const char *type,
	       const char *help, int64_t v);
/* a histogram family with one unlabelled series */
void sw_mt_hist(struct sw_mtext *t, const char *name, const char *help,
		const struct sw_mhist *h);
/* one labelled series of a histogram family (after sw_mt_family) */
void sw_mt_hist_series(struct sw_mtext *t, const char *name,
		       const struct sw_mhist *h, size_t nlabels,
		       const char *const *labels);
void sw_mt_free(struct sw_mtext *t);

/*
 * The request head in buf[0..len): 0 while incomplete, else the status to
 * answer (200 for GET or HEAD /metrics, 400, 404, 405, 431 over
 * SW_METRICS_REQ).  *head is set for HEAD.
 */
int sw_metrics_http_parse(const char *buf, size_t len, bool *head);

struct sw_metrics;

/* listen on hostport ("" = no metrics: *mp set to NULL, 0 returned) */
int sw_metrics_start(struct sw_metrics **mp, const char *hostport, char *err,
		     size_t errsz);
/* the text served from now on; t is emptied (its buffer taken) */
void sw_metrics_publish(struct sw_metrics *m, struct sw_mtext *t);
void sw_metrics_stop(struct sw_metrics *m);

#endif /* SW_METRICS_H */
