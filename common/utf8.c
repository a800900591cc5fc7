/*
 * utf8.c - wire strings made valid UTF-8 (see utf8.h)
 */
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"

/* length of the valid UTF-8 sequence at s (1-4), 0 when invalid there */
size_t sw_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0; /* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* not above U+10FFFF */
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

bool sw_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = sw_utf8_seq(p + i, len - i);

		if (!n || (n == 1 && p[i] == 0))
			return false;
		i += n;
	}
	return true;
}

size_t sw_utf8_copy(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	if (!size)
		return 0;
	while (i < len) {
		size_t n = sw_utf8_seq(s + i, len - i);
		bool escape = !n || (n == 1 && s[i] < 0x20 && s[i] != '\t');

		if (escape) {
			if (o + 4 >= size)
				break;
			snprintf(dst + o, size - o, "\\x%02X", s[i]);
			o += 4;
			i++;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(dst + o, s + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	return i;
}

json_t *sw_json_text(const char *s)
{
	char buf[1025];
	size_t len;

	if (!s)
		s = "";
	len = strlen(s);
	if (sw_utf8_valid(s, len))
		return json_stringn(s, len);
	sw_utf8_copy(buf, sizeof(buf), s, len);
	return json_string(buf);
}
