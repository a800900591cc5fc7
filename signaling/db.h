/*
 * db.h - loading the routing tables from PostgreSQL
 *
 * One multi-statement query reads system_parameters, mapping gateways (with
 * their account) and routing gateways (with their prefixes) into a new
 * struct sg_tables.  sg_db_load_sync() blocks (start-up only, before the
 * SIP socket takes calls); sg_db_load_async() runs the same query with a
 * non-blocking libpq connection watched by the su_root, for SIGHUP reloads
 * while calls are up; sg_db_load_blacklist_async() reads the blacklist
 * alone, when only it changed.
 *
 * Threading: main loop only.
 */
#ifndef SG_DB_H
#define SG_DB_H

#include <stddef.h>

#include "signaling/sofia.h"
#include "signaling/tables.h"

struct sg_db;

/* t: a new snapshot holding one reference for the handler, NULL on error */
typedef void(sg_db_loaded_h)(int err, struct sg_tables *t, void *arg);

int sg_db_load_sync(struct sg_tables **tp, const char *conninfo, char *err,
		    size_t errsz);
int sg_db_load_async(struct sg_db **dbp, su_root_t *root, const char *conninfo,
		     sg_db_loaded_h *h, void *arg);
int sg_db_load_blacklist_async(struct sg_db **dbp, su_root_t *root,
			       const char *conninfo, sg_db_loaded_h *h,
			       void *arg);
void sg_db_cancel(struct sg_db *db);
uint64_t sg_db_errors(void);
void sg_db_lastgood(const char *dir);
int sg_db_load_lastgood(struct sg_tables **tp, int64_t *saved_ms, char *err,
			size_t errsz);

#endif /* SG_DB_H */
