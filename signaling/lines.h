/*
 * lines.h - lines in use, counted by name
 *
 * Routing gateways' line_limit, mapping gateways' and accounts'
 * max_concurrent_calls, gateway groups and the switch-wide limit all count
 * the calls that hold a line under a key (the gateway's name, "mg:NAME",
 * "acct:NAME", ...).  The counts survive table reloads; a key whose count
 * falls to 0 is forgotten.
 *
 * Ownership: struct sg holds the only reference.
 * Threading: signalingd's loop only.
 * Bus:       none (call.list and route.analyze read the counts).
 */
#ifndef SG_LINES_H
#define SG_LINES_H

struct sg_lines;

int sg_lines_alloc(struct sg_lines **lp);
void sg_lines_free(struct sg_lines *l);
unsigned sg_lines_active(const struct sg_lines *l, const char *key);
void sg_lines_add(struct sg_lines *l, const char *key, int delta);

#endif /* SG_LINES_H */
