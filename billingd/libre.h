/*
 * libre.h - the part of libre billingd uses
 *
 * <re.h> pulls in re_json.h, whose JSON_* enumerators clash with jansson's;
 * billingd includes this subset instead.
 *
 * Threading: declarations only.
 */
#ifndef BD_LIBRE_H
#define BD_LIBRE_H

#include <re_types.h>
#include <re_fmt.h>
#include <re_mbuf.h>
#include <re_msg.h>
#include <re_list.h>
#include <re_hash.h>
#include <re_sa.h>
#include <re_main.h>
#include <re_mem.h>
#include <re_tmr.h>
#include <re_tcp.h>
#include <re_http.h>

#endif /* BD_LIBRE_H */
