/*
 * libre.h - the parts of libre mediaproxyd uses, without <re.h>
 *
 * <re.h> pulls in re_json.h, whose JSON_* enumerators clash with jansson's;
 * every mediaproxy file includes this header instead.
 *
 * Threading: declarations only.
 * Bus:       none.
 */
#ifndef MP_LIBRE_H
#define MP_LIBRE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_hash.h>
#include <re_sa.h>
#include <re_tmr.h>
#include <re_main.h>

#endif /* MP_LIBRE_H */
