/* test_sg_sip.h - a SIP message from text, for signalingd's unit tests */
#ifndef TEST_SG_SIP_H
#define TEST_SG_SIP_H

#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_protos.h>

/* text parsed with the extended class (unknown headers kept); the test
 * fails unless it is a request or a response */
static inline msg_t *sip_text(const char *text)
{
	static msg_mclass_t const *mc; /* the extended class, made once */
	msg_t *m;

	if (!mc)
		mc = sip_extend_mclass(NULL);
	m = msg_make(mc, 0, text, strlen(text));

	assert_non_null(m);
	assert_true(sip_object(m)->sip_request || sip_object(m)->sip_status);
	return m;
}

#endif /* TEST_SG_SIP_H */
