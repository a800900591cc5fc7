/*
 * schema.h - the start-up check of the database schema version
 *
 * billingd knows exactly the schema versions up to BD_SCHEMA_VERSION; it
 * refuses to start on a database whose highest schema_version row is
 * another one (older: run `tandemctl db migrate`; newer: upgrade billingd).
 *
 * Threading: main(), before the loop starts (this check blocks).
 * Bus:       none.
 */
#ifndef BD_SCHEMA_H
#define BD_SCHEMA_H

#include <stddef.h>

#define BD_SCHEMA_VERSION 13

int bd_schema_check(const char *conninfo, int *versionp, char *err,
		    size_t errsz);

#endif /* BD_SCHEMA_H */
