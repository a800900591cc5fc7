/*
 * conf.h - declarative config tables for the daemons' `key value` files
 *
 * A daemon describes its settings as a table of sw_conf_item rows (name, type,
 * offset into its config struct, default, bounds).  sw_conf_load() applies the
 * defaults, then the file; unknown keys, duplicates, bad values and values out
 * of bounds fail with "file:line: message".  Lines are `key value`, `#` starts
 * a comment, blank lines are ignored, the value is the rest of the line with
 * surrounding blanks trimmed (it may contain spaces, e.g. a libpq conninfo).
 *
 * Threading: called at start-up and on SIGHUP from the main loop.
 */
#ifndef SW_CONF_H
#define SW_CONF_H

#include <stddef.h>
#include <stdint.h>

enum sw_conf_type {
	SW_CONF_INT,	  /* int64_t, bounded by [min, max] */
	SW_CONF_BOOL,	  /* bool: 0/1, yes/no, on/off, true/false */
	SW_CONF_STR,	  /* char[size], length < size, bounded by [min, max] */
	SW_CONF_LOGLEVEL, /* enum sw_log_level: err|warn|info|debug */
	SW_CONF_IP,	  /* char[size]: an IPv4 or IPv6 address ("" if
			     min is 0) */
	SW_CONF_HOSTPORT, /* char[size]: <IPv4>:<port> or [<IPv6>]:<port>,
			     port 1..65535 */
};

struct sw_conf_item {
	const char *name;
	enum sw_conf_type type;
	size_t offset;	  /* offsetof(struct x, field) */
	size_t size;	  /* sizeof the field (strings: buffer size) */
	const char *def;  /* default as text, NULL = empty/0 */
	int64_t min, max; /* ints: value range; strings: length range */
	const char *help; /* one line for docs and `-t` output */
};

#define SW_CONF_END                                                            \
	{                                                                      \
		NULL, SW_CONF_INT, 0, 0, NULL, 0, 0, NULL                      \
	}

int sw_parse_int(int64_t *vp, const char *s, int64_t min, int64_t max);
int sw_conf_defaults(const struct sw_conf_item *tab, void *obj, char *err,
		     size_t errsz);
int sw_conf_parse(const struct sw_conf_item *tab, void *obj, const char *text,
		  const char *fname, char *err, size_t errsz);
int sw_conf_load(const struct sw_conf_item *tab, void *obj, const char *path,
		 char *err, size_t errsz);
int sw_conf_key_line(const char *path, const char *key);
void sw_conf_key_error(char *err, size_t errsz, const char *path,
		       const char *key, const char *msg);
int sw_conf_hostport(const char *s, char *ip, size_t ipsz, unsigned *port,
		     char *why, size_t whysz);

#endif /* SW_CONF_H */
