/*
 * dtmfinfo.h - DTMF digits carried in SIP INFO bodies (SPEC §5)
 *
 * Reads `application/dtmf-relay` (`Signal=5\r\nDuration=160\r\n`) and
 * `application/dtmf` (the digit alone, or the same key=value lines) bodies
 * and writes `application/dtmf-relay` ones.  Digits: 0-9 * # A-D and `!`
 * (hook flash, event 16); Signal may also be the event number 0-16.
 *
 * Threading: any (pure functions).  Bus: none.
 */
#ifndef SG_DTMFINFO_H
#define SG_DTMFINFO_H

#include <stdbool.h>
#include <stddef.h>

#define SG_DTMF_INFO_TYPE	 "application/dtmf-relay"
#define SG_DTMF_DURATION_DEFAULT 160
#define SG_DTMF_DURATION_MAX	 10000

bool sg_dtmf_info_type(const char *content_type);
int sg_dtmf_info_parse(const char *body, size_t len, char *digit,
		       unsigned *duration_ms);
int sg_dtmf_info_build(char *buf, size_t size, char digit,
		       unsigned duration_ms);

#endif /* SG_DTMFINFO_H */
