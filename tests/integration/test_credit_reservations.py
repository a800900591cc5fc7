"""Issue 7, done-when 1 and 2: credit reservations (SPEC §6).

A prepaid account whose balance (0.50 at 0.01/s, 1 s intervals: 50 s of
talk) covers only a few seconds of each of 10 concurrent calls that each
want 15 s.  Each call holds SERVER_BILLING_PREVENT_OVERDRAFT_ADVANCE_TIME
(4 s) of its cost and extends before that runs out; when the balance buys
no more, billingd grants the exact remaining seconds and signalingd ends
the call with BalanceExhausted at that second.  The fees add up to at most
the balance, the balance ends at exactly start - sum of fees, and no
reservation is left.

Then billingd is SIGKILLed while calls hold reservations and restarted:
signalingd sees its new boot id and the calls re-create their
reservations; every CDR arrives once and the balance moves once.
"""

import time

import tandem_it as it

RATE_PER_S = 10000          # micro-units: 0.6 per minute, 1 s intervals
ADVANCE_S = 4


def _doc(gw_port, balance):
    doc = it.base_doc(gw_port, 0, gw_b=False, balance=balance)
    doc["system_parameters"].update({
        "SERVER_BILLING_PREVENT_OVERDRAFT_ADVANCE_TIME": str(ADVANCE_S),
        "SS_MEDIAPROXYMODE": "0"})
    for t in doc["rate_tables"]:
        t["entries"] = [{"prefix": "1", "area_name": "US",
                         "connect_fee": "0", "first_interval": 1,
                         "first_rate": "0.6", "next_interval": 1,
                         "next_rate": "0.6"}]
    return doc


def _reservations(stack):
    body = it.ping(stack.bd_bus) or {}
    return body.get("reservations")


def test_concurrent_calls_never_spend_more_than_the_balance(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = _doc(gw.port, "0.50")
    stack.provision(doc)
    balance0 = stack.balance("cust1")
    assert balance0 == 500000
    stack.start_all()

    uac = stack.uac("caller", "uac_hold.xml", calls=10, limit=10, rate=20,
                    duration_ms=15000, timeout_s=60)
    uac.finish(90)
    rows = it.wait_for(lambda: (lambda r: r if len(r) >= 10 else None)(
        it.cdr_rows(stack)), 30, "ten CDRs")
    gw.quit()
    assert len(rows) == 10, rows
    fees = [r["fee"] for r in rows]
    print("holds/fees/reasons:",
          [(r["hold_ms"], r["fee"], r["end_reason"]) for r in rows])
    # never more than balance + credit limit (0), one increment per call
    # of slack allowed by SPEC; with fees capped at the reservation, exact
    assert sum(fees) <= balance0 + 10 * RATE_PER_S
    assert sum(fees) <= balance0
    cut = [r for r in rows if r["end_reason"] == "BalanceExhausted"]
    assert cut, "no call ran out of money"
    for r in cut:
        granted_s = r["fee"] // RATE_PER_S
        assert r["fee"] == granted_s * RATE_PER_S
        # cut at the second the money buys (timer and BYE latency aside)
        assert granted_s * 1000 - 100 <= r["hold_ms"] <= \
            granted_s * 1000 + 1000, (r["hold_ms"], granted_s)
    for r in rows:
        if r["end_reason"] != "BalanceExhausted":
            assert r["end_reason"] == "Normal", r
            assert r["fee"] == it.expected_fee(r["hold_ms"],
                                               it.rate_entry(doc)), r
    assert stack.balance("cust1") == balance0 - sum(fees)
    assert stack.balance("cust1") >= 0
    it.wait_for(lambda: _reservations(stack) == 0, 10,
                "billingd to hold no reservation")


def test_billingd_restart_keeps_reservations(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = _doc(gw.port, "100")
    stack.provision(doc)
    balance0 = stack.balance("cust1")
    stack.start_all()

    uac = stack.uac("caller", "uac_hold.xml", calls=4, limit=4, rate=20,
                    duration_ms=12000, timeout_s=60)
    it.wait_for(lambda: _reservations(stack) == 4, 15,
                "four calls holding reservations")
    time.sleep(1)
    stack.daemon("billingd").kill()                 # SIGKILL
    stack.start_daemon("billingd")
    # signalingd's health probe sees the new boot id: the calls re-send
    it.wait_for(lambda: _reservations(stack) == 4, 10,
                "the four reservations re-created on the new billingd")
    sg_log = stack.daemon("signalingd").log()
    assert "billingd restarted" in sg_log
    uac.finish(60)
    rows = it.wait_for(lambda: (lambda r: r if len(r) >= 4 else None)(
        it.cdr_rows(stack)), 30, "four CDRs")
    gw.quit()
    time.sleep(1)
    rows = it.cdr_rows(stack)
    assert len(rows) == 4, rows                     # each CDR once
    assert all(r["end_reason"] == "Normal" for r in rows), rows
    fees = [r["fee"] for r in rows]
    for r in rows:
        assert r["fee"] == it.expected_fee(r["hold_ms"],
                                           it.rate_entry(doc)), r
    assert stack.balance("cust1") == balance0 - sum(fees)   # moved once
    # the ledger's CDR lines (one per store transaction) add up to the fees
    hist = stack.scalar("SELECT -sum(delta) FROM balance_history "
                        "WHERE reason = 'cdr'")
    assert hist == sum(fees), (hist, fees)
    it.wait_for(lambda: _reservations(stack) == 0, 10,
                "no reservation left")


def test_the_agents_balance_runs_out(stack):
    """A two-level chain: the customer is rich, its agent (0.005/s, 0.20:
    40 s of talk) is not.  The agent's money caps every call; its fees add
    up to exactly its balance and the calls are cut at the second it buys.
    """
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = _doc(gw.port, "100")
    doc["rate_tables"].append({"name": "agent-buy", "entries": [
        {"prefix": "1", "area_name": "US", "connect_fee": "0",
         "first_interval": 1, "first_rate": "0.3", "next_interval": 1,
         "next_rate": "0.3"}]})
    doc["accounts"][0]["agent"] = "ag1"
    doc["accounts"].insert(0, {"name": "ag1", "type": "customer",
                               "balance": "0.20",
                               "rate_table": "agent-buy"})
    stack.provision(doc)
    stack.start_all()

    uac = stack.uac("caller", "uac_hold.xml", calls=5, limit=5, rate=20,
                    duration_ms=15000, timeout_s=60)
    uac.finish(90)
    rows = it.wait_for(lambda: (lambda r: r if len(r) >= 5 else None)(
        it.cdr_rows(stack)), 30, "five CDRs")
    gw.quit()
    agent_fees = [r["agent_fees"][0]["fee"] for r in rows]
    print("holds/fees/agent fees/reasons:",
          [(r["hold_ms"], r["fee"], r["agent_fees"][0]["fee"],
            r["end_reason"]) for r in rows])
    assert sum(agent_fees) <= 200000
    cut = [r for r in rows if r["end_reason"] == "BalanceExhausted"]
    assert cut, "the agent's money never ran out"
    for r in cut:
        granted_s = r["agent_fees"][0]["fee"] // 5000
        assert r["fee"] == granted_s * RATE_PER_S
        assert granted_s * 1000 - 100 <= r["hold_ms"] <= \
            granted_s * 1000 + 1000, (r["hold_ms"], granted_s)
    assert stack.balance("ag1") == 200000 - sum(agent_fees)
    assert stack.balance("ag1") >= 0
    assert stack.balance("cust1") == 100000000 - sum(r["fee"] for r in rows)
    it.wait_for(lambda: _reservations(stack) == 0, 10,
                "billingd to hold no reservation")


def test_recovered_call_keeps_extending(stack):
    """signalingd is SIGKILLed during a call and restarted: the recovered
    call goes on extending its reservation and is cut with
    BalanceExhausted at the second the balance buys (14 s), not carried
    on unbilled until the caller hangs up (30 s)."""
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = _doc(gw.port, "0.14")
    stack.provision(doc)
    stack.start_all()

    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=30000,
                    timeout_s=60)
    it.wait_for(lambda: _reservations(stack) == 1, 15, "the reservation")
    time.sleep(2)
    stack.daemon("signalingd").kill()               # SIGKILL
    stack.start_daemon("signalingd")
    assert "recovered answered call" in stack.daemon("signalingd").log()
    uac.finish(60)
    rows = it.wait_for(lambda: it.cdr_rows(stack) or None, 30, "the CDR")
    gw.quit()
    cdr = rows[0]
    print("recovered:", cdr["hold_ms"], cdr["fee"], cdr["end_reason"])
    assert cdr["end_reason"] == "BalanceExhausted", cdr["end_reason"]
    assert cdr["fee"] == 140000, cdr["fee"]
    assert 13900 <= cdr["hold_ms"] <= 15000, cdr["hold_ms"]
    assert stack.balance("cust1") == 0
    it.wait_for(lambda: _reservations(stack) == 0, 10, "no reservation")
