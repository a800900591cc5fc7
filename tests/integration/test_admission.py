"""Issue 2, done-when 4: admission.

- a caller from an unprovisioned IP (127.0.0.2) gets no response at all
  (SS_SIP_REPLY_UNKNOWN_SOURCE=0) and creates no CDR;
- a caller whose account has balance + credit limit <= 0 gets 403 and a CDR
  whose end reason is InsufficientBalance; no vendor sees an INVITE.
"""

import time

import tandem_it as it


def _doc(stack, gw_a, gw_b):
    return it.base_doc(
        gw_a.port, gw_b.port,
        extra_accounts=[{"name": "broke", "type": "customer",
                         "balance": "0", "credit_limit": "0",
                         "billing_type": "prepaid", "rate_table": "retail",
                         "max_concurrent_calls": 0}],
        extra_mgws=[{"name": "mg_broke", "account": "broke",
                     "auth_mode": "ip", "ips": ["127.0.0.3"], "ports": [],
                     "cps_limit": 0, "max_concurrent_calls": 0}])


def test_unknown_source_gets_nothing(stack):
    gw_a = stack.uas("gwA", "uas_answer.xml")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    stack.provision(_doc(stack, gw_a, gw_b))
    stack.start_all()

    uac = stack.uac("stranger", "uac_no_response.xml", ip="127.0.0.2",
                    calls=1, timeout_s=30)
    rc = uac.finish(45)
    assert uac.received() == [], f"stranger got: {uac.received()}"
    assert rc == 0, f"sipp exit {rc}"
    assert len(uac.sent_call_ids()) == 1

    time.sleep(2)  # a CDR would be on its way by now
    gw_a.quit()
    gw_b.quit()
    assert gw_a.received_requests("INVITE") == []
    assert gw_b.received_requests("INVITE") == []
    assert it.cdr_rows(stack) == []
    # signalingd keeps serving
    assert it.ping(stack.sg_control)


def test_no_balance_gets_403(stack):
    gw_a = stack.uas("gwA", "uas_answer.xml")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    stack.provision(_doc(stack, gw_a, gw_b))
    stack.start_all()

    uac = stack.uac("broke", "uac_expect_code.xml", code=403,
                    ip="127.0.0.3", calls=1, timeout_s=30)
    rc = uac.finish(45)
    assert rc == 0, f"caller did not get 403 (sipp exit {rc})"
    finals = [l for l in uac.received() if l.startswith("SIP/2.0 403")]
    assert finals, uac.received()
    assert "insufficient balance" in finals[0].lower(), finals[0]

    rows = it.wait_for(lambda: it.cdr_rows(stack) or None, 30,
                       "the CDR in PostgreSQL")
    assert len(rows) == 1, rows
    cdr = rows[0]
    assert cdr["account"] == "broke"
    assert cdr["end_code"] == 403
    assert cdr["end_reason"] == "InsufficientBalance"
    assert cdr["fee"] == 0
    assert stack.balance("broke") == 0
    gw_a.quit()
    gw_b.quit()
    assert gw_a.received_requests("INVITE") == []
    assert gw_b.received_requests("INVITE") == []
