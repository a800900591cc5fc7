/*
 * uuid.h - random (version 4) UUIDs for call, CDR, session and message ids
 *
 * Threading: any thread (getrandom(2) into a pool of each thread).
 */
#ifndef SW_UUID_H
#define SW_UUID_H

#include <stdbool.h>

#define SW_UUID_LEN 36 /* characters, without the NUL */

void sw_uuid_gen(char out[SW_UUID_LEN + 1]);
bool sw_uuid_valid(const char *s);

#endif /* SW_UUID_H */
