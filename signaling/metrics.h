/*
 * metrics.h - signalingd's Prometheus metrics (docs/metrics.md)
 *
 * sg_metrics_publish() renders every module's numbers and hands the text
 * to common/metrics.c's server; it runs at start and on each tick.
 *
 * Ownership: struct sg holds the server (sg->metrics).
 * Threading: signalingd's loop only.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

struct sg;
struct sw_mtext;

void sg_metrics_render(struct sg *sg, struct sw_mtext *t);
void sg_metrics_publish(struct sg *sg);

#endif /* SG_METRICS_H */
