"""Issue 2, done-when 5: no CDR is lost when billingd dies.

20 calls are established; billingd is SIGKILLed; the calls end; a new call
during the outage gets 503 (fail-closed); billingd is started again; all 20
CDRs arrive exactly once with their fees, and the balance moved by exactly
their sum.
"""

import time

import tandem_it as it

N = 20
HOLD_MS = 12000


def _answered(stack):
    return it.cdr_rows(stack, "end_code = 200")


def test_cdrs_survive_billingd_kill(stack):
    gw = stack.uas("gwA", "uas_answer.xml", rtp_echo=False)
    doc = it.base_doc(gw.port, 0, gw_b=False)
    stack.provision(doc)
    balance0 = stack.balance("cust1")
    stack.start_all()

    uac = stack.uac("callers", "uac_hold.xml", calls=N, limit=N, rate=10,
                    duration_ms=HOLD_MS, timeout_s=120)

    def all_up():
        if not uac.alive():
            raise it.ItError(f"callers ended early: {uac.p.returncode}")
        body = it.ping(stack.sg_control) or {}
        return body.get("calls", 0) >= N
    it.wait_for(all_up, 30, f"{N} established calls in signalingd")

    stack.daemon("billingd").kill()  # SIGKILL
    rc = uac.finish(HOLD_MS / 1000 + 60)
    assert rc == 0, f"some of the {N} calls failed (sipp exit {rc})"
    call_ids = uac.sent_call_ids()
    assert len(call_ids) == N

    # fail-closed while billing is down
    outage = stack.uac("outage", "uac_expect_code.xml", code=503, calls=1,
                       timeout_s=30)
    orc = outage.finish(45)
    assert orc == 0, f"call during the outage did not get 503 (exit {orc})"
    assert _answered(stack) == [], "CDRs stored while billingd was dead?"

    stack.start_daemon("billingd")
    it.wait_for(lambda: len(_answered(stack)) >= N, 90,
                f"{N} CDRs after billingd restarted")
    time.sleep(3)  # any duplicate resend would land by now

    rows = _answered(stack)
    assert len(rows) == N, f"{len(rows)} answered CDRs"
    assert len({r["id"] for r in rows}) == N
    assert stack.scalar("SELECT count(DISTINCT id) FROM cdr") == \
        stack.scalar("SELECT count(*) FROM cdr")
    assert {r["call_id_a"] for r in rows} == set(call_ids)

    entry = it.rate_entry(doc)
    for r in rows:
        assert r["fee"] == it.expected_fee(r["hold_ms"], entry), r
        assert r["hold_ms"] >= HOLD_MS - 500, r["hold_ms"]
    all_rows = it.cdr_rows(stack, "account = 'cust1'")
    total = sum(r["fee"] for r in all_rows)
    assert total == sum(r["fee"] for r in rows)
    assert stack.balance("cust1") == balance0 - total

    # the refused call has its CDR too (SERVER_BILLING_RECORD_ZERO_HOLD_TIME)
    refused = it.cdr_rows(stack, "end_code = 503")
    assert len(refused) == 1, refused
    assert refused[0]["end_reason"] == "BillingUnavailable"
    assert refused[0]["fee"] == 0
