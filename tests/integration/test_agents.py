"""Issue 7, done-when 4 (first half): resellers billed per level (SPEC §6).

cust1's agent is ag1, whose agent is ag2: a three-level chain.  Each level
pays its own rate for the same call (cust1 0.01/s on "retail", ag1
0.006/s on "ag1-buy", ag2 0.004/s on "ag2-buy"), each balance is debited in
the CDR's own transaction, and the CDR stores the chain and the per-level
fees.  Asserted to the micro-unit, with every account's ledger summing to
its balance.
"""

import tandem_it as it

PER_S = {"retail": 10000, "ag1-buy": 6000, "ag2-buy": 4000}


def _entry(per_s):
    rate = f"{per_s * 60 / 1e6:.4f}"
    return {"prefix": "1", "area_name": "US", "connect_fee": "0",
            "first_interval": 1, "first_rate": rate, "next_interval": 1,
            "next_rate": rate}


def test_three_level_chain_each_level_billed_at_its_rate(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False, balance="10")
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    doc["rate_tables"] = [t for t in doc["rate_tables"]
                          if t["name"] == "wholesale"]
    for name, per_s in PER_S.items():
        doc["rate_tables"].append({"name": name,
                                   "entries": [_entry(per_s)]})
    cust = doc["accounts"][0]
    cust["agent"] = "ag1"
    doc["accounts"] = [
        {"name": "ag2", "type": "customer", "balance": "30",
         "rate_table": "ag2-buy"},
        {"name": "ag1", "type": "customer", "balance": "20",
         "rate_table": "ag1-buy", "agent": "ag2"},
    ] + doc["accounts"]
    stack.provision(doc)
    ids = {r["name"]: r["id"] for r in
           stack.query("SELECT name, id FROM accounts")}
    stack.start_all()

    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=2500,
                    timeout_s=30)
    assert uac.finish(40) == 0
    rows = it.wait_for(lambda: it.cdr_rows(stack), 20, "the CDR")
    gw.quit()
    cdr = rows[0]
    s = it.billable_seconds(cdr["hold_ms"])
    assert s >= 2
    assert cdr["fee"] == s * PER_S["retail"]
    assert list(cdr["agent_chain"]) == [ids["ag1"], ids["ag2"]]
    fees = cdr["agent_fees"]
    assert [(f["lvl"], f["account"], f["fee"]) for f in fees] == [
        (1, "ag1", s * PER_S["ag1-buy"]), (2, "ag2", s * PER_S["ag2-buy"])]
    assert stack.balance("cust1") == 10000000 - s * PER_S["retail"]
    assert stack.balance("ag1") == 20000000 - s * PER_S["ag1-buy"]
    assert stack.balance("ag2") == 30000000 - s * PER_S["ag2-buy"]
    # profit per level: what it charged its customer minus what it paid
    assert cdr["fee"] - fees[0]["fee"] == s * 4000          # ag1's
    assert fees[0]["fee"] - fees[1]["fee"] == s * 2000      # ag2's
    for r in stack.query(
            "SELECT a.name, a.balance, coalesce(sum(h.delta), 0) AS ledger"
            " FROM accounts a LEFT JOIN balance_history h"
            " ON h.account_id = a.id GROUP BY a.name, a.balance"):
        assert r["balance"] == r["ledger"], r
