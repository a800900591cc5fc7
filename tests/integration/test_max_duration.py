"""Issue 7, item 2: SS_MAXCALLDURATION ends a call with its own reason.

With a large balance (billing grants far more) and SS_MAXCALLDURATION 3,
a call that would last 10 s is ended by signalingd at 3 s with end reason
MaxDuration (not BalanceExhausted) and billed for what it lasted.
"""

import tandem_it as it


def test_ss_maxcallduration_ends_the_call_as_max_duration(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False, balance="1000")
    doc["system_parameters"].update({"SS_MAXCALLDURATION": "3",
                                     "SS_MEDIAPROXYMODE": "0"})
    stack.provision(doc)
    stack.start_all()
    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=10000,
                    timeout_s=30)
    uac.finish(40)
    rows = it.wait_for(lambda: it.cdr_rows(stack), 20, "the CDR")
    gw.quit()
    cdr = rows[0]
    assert cdr["end_reason"] == "MaxDuration", cdr["end_reason"]
    assert cdr["end_direction"] == "server"
    assert 2900 <= cdr["hold_ms"] <= 4000, cdr["hold_ms"]
    assert cdr["fee"] == it.expected_fee(cdr["hold_ms"], it.rate_entry(doc))
