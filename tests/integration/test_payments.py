"""Issue 7, done-when 4 (sub-account top-up) and 8 (bad payments), item 5.

`tandemctl payment` moves money through one ledger: a payments row (kind,
who, why, what it left) and a balance_history row for every balance change,
in one transaction.  An agent with pay_sub_accounts moves money from its
own balance to a sub-account: exactly that amount, refused beyond its
balance.  Bad input (wrong types, negative, zero, overflowing amounts,
unknown accounts, a stranger's account) is refused naming the field, with
nothing written.  After top-ups, transfers and a rated call, every
account's ledger sums to its balance.
"""

import json
import urllib.request

import tandem_it as it


def _doc(gw_port):
    return it.base_doc(gw_port, 0, gw_b=False, balance="10", extra_accounts=[
        {"name": "agent1", "type": "customer", "balance": "50",
         "agent_authorizations": ["pay_sub_accounts"]},
        {"name": "sub1", "type": "customer", "balance": "0",
         "agent": "agent1"},
        {"name": "agent2", "type": "customer", "balance": "50"},
    ])


def _pay(stack, *args, ok=True):
    r = it.tandemctl(stack.conninfo, "payment", *args, check=False)
    print("$ tandemctl payment", *args, "->", r.returncode, r.stdout,
          r.stderr)
    assert (r.returncode == 0) == ok, (args, r.stdout, r.stderr)
    return r


def _ledger_matches(stack):
    rows = stack.query(
        "SELECT a.name, a.balance, coalesce(sum(h.delta), 0) AS ledger"
        " FROM accounts a LEFT JOIN balance_history h ON h.account_id = a.id"
        " GROUP BY a.name, a.balance")
    for r in rows:
        assert r["balance"] == r["ledger"], r
    return {r["name"]: r["balance"] for r in rows}


def test_payments_ledger_and_sub_account_transfer(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    stack.provision(_doc(gw.port))

    _pay(stack, "topup", "cust1", "25.5", "--memo", "wire 42", "--by", "noc")
    _pay(stack, "deduct", "cust1", "0.5")
    _pay(stack, "refund", "cust1", "0.000001")
    _pay(stack, "credit", "cust1", "5")
    assert stack.balance("cust1") == 35000001
    assert stack.scalar("SELECT credit_limit FROM accounts"
                        " WHERE name = 'cust1'") == 5000000
    pays = stack.query("SELECT kind, amount, created_by, memo,"
                       " balance_after FROM payments p JOIN accounts a"
                       " ON a.id = p.account_id WHERE a.name = 'cust1'"
                       " ORDER BY p.id")
    assert [(p["kind"], p["amount"]) for p in pays] == [
        ("topup", 25500000), ("deduction", 500000), ("refund", 1),
        ("credit_limit", 5000000)]
    assert pays[0]["created_by"] == "noc" and pays[0]["memo"] == "wire 42"
    listing = _pay(stack, "list", "cust1").stdout
    assert "topup|25.5000" in listing and "noc" in listing

    # the agent pays its sub-account: exactly that much moves
    _pay(stack, "transfer", "agent1", "sub1", "12.3456")
    assert stack.balance("agent1") == 50000000 - 12345600
    assert stack.balance("sub1") == 12345600
    # ... and never more than its own balance
    r = _pay(stack, "transfer", "agent1", "sub1", "37.6545", ok=False)
    assert "amount: more than the agent's balance" in r.stderr
    _pay(stack, "transfer", "agent1", "sub1", "37.6544")
    assert stack.balance("agent1") == 0
    assert stack.balance("sub1") == 50000000
    # not its sub-account / no authorization
    r = _pay(stack, "transfer", "agent1", "cust1", "1", ok=False)
    assert "sub_account:" in r.stderr
    r = _pay(stack, "transfer", "agent2", "sub1", "1", ok=False)
    assert "sub_account:" in r.stderr

    # a rated call's debit is in the same ledger
    stack.start_all()
    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=1500,
                    timeout_s=30)
    assert uac.finish(40) == 0
    it.wait_for(lambda: it.cdr_rows(stack), 20, "the CDR")
    gw.quit()
    bal = _ledger_matches(stack)
    assert bal["cust1"] < 35000001


def test_bad_payments_are_refused_with_the_field_named(stack):
    stack.provision(_doc(5060))
    before = stack.query("SELECT name, balance, credit_limit FROM accounts"
                         " ORDER BY name")
    npay = stack.scalar("SELECT count(*) FROM payments")
    for args, field in [
            (("topup", "cust1", "ten"), "amount:"),
            (("topup", "cust1", "--", "-5"), "amount:"),
            (("topup", "cust1", "0"), "amount:"),
            (("topup", "cust1", "1.0000001"), "amount:"),
            (("topup", "cust1", "99999999999999999999"), "amount:"),
            (("topup", "cust1", "9000000000000"), "amount:"),
            (("deduct", "cust1", "10.000001"), "amount:"),
            (("topup", "nobody", "1"), "account:"),
            (("transfer", "agent1", "nobody", "1"), "sub_account:"),
            (("credit", "cust1", "--", "-1"), "amount:"),
    ]:
        r = _pay(stack, *args, ok=False)
        assert r.returncode == 1 and field in r.stderr, (args, r.stderr)
    r = it.tandemctl(stack.conninfo, "payment", "gift", "cust1", "1",
                     check=False)
    assert r.returncode == 2 and "unknown kind" in r.stderr
    assert stack.query("SELECT name, balance, credit_limit FROM accounts"
                       " ORDER BY name") == before
    assert stack.scalar("SELECT count(*) FROM payments") == npay
    _ledger_matches(stack)


def test_deduction_leaves_what_live_calls_hold(stack):
    """An operator's deduction (or an agent's transfer) never takes the
    money a call in progress was granted: tandemctl asks billingd what
    the account's live calls hold (GET /api/v1/reservations)."""
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False, balance="1")
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0"})
    stack.provision(doc)
    stack.start_all()
    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=8000,
                    timeout_s=30)
    api = f"http://{stack.bd_http}"
    def held_now():
        status, _, js = it.api(stack.bd_http, "GET",
                               "/api/v1/reservations?account=cust1")
        assert status == 200, js
        return it.money(js["held"])

    held = it.wait_for(lambda: held_now() or None, 15,
                       "the call's reservation")
    # 60 s at 0.0050 + 6/6 0.0125, then 0.0133 per minute
    assert held == 18200, held
    r = it.tandemctl(stack.conninfo, "--api", api, "payment", "deduct",
                     "cust1", "0.99", check=False)
    assert r.returncode == 1 and "after what its calls hold" in r.stderr, \
        r.stderr
    assert stack.balance("cust1") == 1000000
    it.tandemctl(stack.conninfo, "--api", api, "payment", "deduct",
                 "cust1", "0.98")
    assert stack.balance("cust1") == 20000
    uac.finish(30)
    gw.quit()
