/*
 * sofia.h - the one place signalingd includes sofia-sip from
 *
 * Every magic/context pointer type of su and nta is plain void, so each
 * module casts its own context in its callbacks; defining them here once
 * keeps the prototypes identical across files.
 *
 * Threading: n/a (declarations only).
 */
#ifndef SG_SOFIA_H
#define SG_SOFIA_H

#define SU_ROOT_MAGIC_T	     void
#define SU_WAKEUP_ARG_T	     void
#define SU_TIMER_ARG_T	     void
#define NTA_AGENT_MAGIC_T    void
#define NTA_LEG_MAGIC_T	     void
#define NTA_OUTGOING_MAGIC_T void
#define NTA_INCOMING_MAGIC_T void
#define NTA_RELIABLE_MAGIC_T void

#include <sofia-sip/su.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/url.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_log.h>

#endif /* SG_SOFIA_H */
