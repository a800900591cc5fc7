"""Issue 2, done-when 3: a stop code ends failover.

gwA answers 486, which is in its stop list: the caller gets 486, gwB never
sees an INVITE, and a CDR row records it (end code 486, no fee).
"""

import tandem_it as it


def test_486_is_relayed_and_stops_failover(stack):
    gw_a = stack.uas("gwA", "uas_reject.xml", code=486, reason="Busy Here")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    doc = it.base_doc(gw_a.port, gw_b.port)
    stack.provision(doc)
    balance0 = stack.balance("cust1")
    stack.start_all()

    uac = stack.uac("caller", "uac_expect_code.xml", code=486, calls=1,
                    timeout_s=30)
    rc = uac.finish(45)
    assert rc == 0, f"caller did not get 486 (sipp exit {rc})"
    assert 486 in uac.received_codes()
    assert 200 not in uac.received_codes()

    rows = it.wait_for(lambda: it.cdr_rows(stack) or None, 30,
                       "the CDR in PostgreSQL")
    # give a wrong second attempt time to show up
    gw_a.quit()
    gw_b.quit()
    assert gw_b.received_requests("INVITE") == [], \
        "gateway B saw an INVITE after a stop code"
    assert len(gw_a.received_requests("INVITE")) >= 1

    rows = it.cdr_rows(stack)
    assert len(rows) == 1, rows
    cdr = rows[0]
    assert cdr["end_code"] == 486
    assert cdr["routing_gateway"] == "gwA"
    assert cdr["hold_ms"] == 0 and cdr["fee"] == 0
    att = [(a["gateway"], a["code"]) for a in it.attempts(stack, cdr["id"])]
    assert att == [("gwA", 486)], att
    assert stack.balance("cust1") == balance0
