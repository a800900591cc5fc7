/*
 * utf8.h - strings from the wire made safe for JSON, logs and the database
 *
 * SIP carries bytes: a Call-ID, a From user or a reason phrase may hold
 * bytes that are not UTF-8, and a fixed buffer may cut a character in two.
 * jansson (and PostgreSQL) refuse such strings, so every wire string goes
 * through sw_utf8_copy() once, at ingress: valid UTF-8 is copied as it
 * is, every byte that is not part of a valid sequence becomes the four
 * characters "\xHH", NUL and other C0 controls but tab become "\xHH" too,
 * and the copy is cut on a character (or escape) boundary.
 *
 * Threading: any thread; no state.
 */
#ifndef SW_UTF8_H
#define SW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* copy len bytes of src into dst (size > 0), escaped and cut as above;
 * returns the number of source bytes consumed (len when nothing was cut) */
size_t sw_utf8_copy(char *dst, size_t size, const char *src, size_t len);

/* length of the valid UTF-8 sequence at s (1-4), 0 when invalid there */
size_t sw_utf8_seq(const unsigned char *s, size_t len);

bool sw_utf8_valid(const char *s, size_t len);

/* a JSON string of s, sanitised with sw_utf8_copy() when s is not valid
 * UTF-8 (at most 1024 bytes then); NULL only when out of memory */
json_t *sw_json_text(const char *s);

#endif /* SW_UTF8_H */
