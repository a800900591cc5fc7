/*
 * registrar.h - where registered phones are (SPEC §3.1 phone mode)
 *
 * A phone (a mapping gateway of auth_mode phone) that REGISTERs with
 * digest gets its contact kept here under its number until the
 * registration expires.  sip.c answers the REGISTER; health.ping counts
 * the registrations.
 *
 * Ownership: struct sg holds the only reference.
 * Threading: signalingd's loop only.
 * Bus:       none.
 */
#ifndef SG_REGISTRAR_H
#define SG_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_registrar;

int sg_registrar_alloc(struct sg_registrar **rp);
void sg_registrar_free(struct sg_registrar *r);
int sg_registrar_set(struct sg_registrar *r, const char *number,
		     const char *contact, int64_t expires_ms);
void sg_registrar_del(struct sg_registrar *r, const char *number);
bool sg_registrar_has(struct sg_registrar *r, const char *number);
bool sg_registrar_contact(struct sg_registrar *r, const char *number,
			  int64_t now_ms, char *out, size_t size);
unsigned sg_registrar_count(struct sg_registrar *r, int64_t now_ms);
bool sg_registrar_split_source(const char *source, char *ip, size_t size,
			       int *portp);
bool sg_registrar_target(char *out, size_t size, const char *contact,
			 const char *source);

#endif /* SG_REGISTRAR_H */
