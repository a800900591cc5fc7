/*
 * jparse.h - JSON text to a jansson tree, faster than json_loadb
 *
 * Bus messages are parsed on every hop (a batch of 32 CDRs is ~40 kB of
 * JSON); jansson's reader takes each byte through a callback and a buffer
 * append, and was half of billingd's CPU under a CDR load
 * (docs/benchmarks.md).  This reader scans strings with a plain loop and
 * builds the same jansson tree, so every json_* accessor works on it.
 *
 * It accepts exactly what json_loadb(buf, len, JSON_REJECT_DUPLICATES)
 * accepts and builds an equal tree (checked by tests/fuzz/fuzz_jparse.c,
 * which runs both on every input): an object or array at the top; strict
 * RFC 8259 numbers (integers that fit int64_t are integers, the rest
 * reals, overflow refused); valid UTF-8 only, no \u0000, no lone
 * surrogates; duplicate keys refused; at most 2048 levels of values.
 * One difference: a raw NUL byte anywhere is refused (jansson drops one
 * that follows a number).
 */
#ifndef SW_JPARSE_H
#define SW_JPARSE_H

#include <stddef.h>

#include <jansson.h>

/* The tree of buf[0..len), or NULL with a reason and the byte offset
 * where it was found in err (when errsz > 0). */
json_t *sw_json_parse(const char *buf, size_t len, char *err, size_t errsz);

#endif /* SW_JPARSE_H */
