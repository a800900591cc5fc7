"""Payments over the API (issue 8 item 2, issue 7 item 5): the same
ledger writer as tandemctl; every movement is a payments row and a
balance_history row, the sum of the ledger stays the balance, bad amounts
and accounts are refused with the field named and nothing written, and an
agent may only transfer to its own sub-accounts."""

import json

import tandem_it as it


def _ledger_ok(stack, account):
    bal, hist = stack.query(
        "SELECT a.balance, (SELECT coalesce(sum(delta), 0) FROM "
        "balance_history h WHERE h.account_id = a.id) AS hist FROM "
        "accounts a WHERE a.name = %s", (account,))[0].values()
    assert bal == hist, (account, bal, hist)
    return bal


def test_payments_through_the_api(stack):
    doc = it.base_doc(stack.port(), 0, gw_b=False, balance="10")
    doc["accounts"] += [
        {"name": "agentA", "type": "customer", "rate_table": "retail",
         "balance": "50", "agent_authorizations": ["pay_sub_accounts"]},
        {"name": "subA", "type": "customer", "agent": "agentA",
         "rate_table": "retail"},
        {"name": "other", "type": "customer", "rate_table": "retail"},
    ]
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http

    status, _, js = it.api(addr, "POST", "/api/v1/payments",
                           {"kind": "topup", "account": "cust1",
                            "amount": "2.5", "memo": "wire 42"})
    assert status == 201, js
    assert js["balance_after"] == "12.500000", js
    assert _ledger_ok(stack, "cust1") == 12500000
    status, _, js = it.api(addr, "POST", "/api/v1/payments",
                           {"kind": "credit", "account": "cust1",
                            "amount": "5"})
    assert status == 201 and js["credit_limit_after"] == "5.000000", js

    # refused, with the field named, nothing written
    bad = [
        ({"kind": "deduct", "account": "cust1", "amount": "18"}, "amount"),
        ({"kind": "topup", "account": "cust1", "amount": 5}, "amount"),
        ({"kind": "topup", "account": "cust1", "amount": "-1"}, "amount"),
        ({"kind": "topup", "account": "cust1", "amount": "0.0000001"},
         "amount"),
        ({"kind": "topup", "account": "cust1",
          "amount": "9999999999999999999"}, "amount"),
        ({"kind": "topup", "account": "nobody", "amount": "1"}, "account"),
        ({"kind": "steal", "account": "cust1", "amount": "1"}, "kind"),
        ({"kind": "topup", "account": "cust1", "amount": "1",
          "colour": "x"}, "colour"),
        ({"kind": "transfer", "account": "agentA", "amount": "1"},
         "sub_account"),
        ({"kind": "transfer", "account": "agentA", "sub_account": "other",
          "amount": "1"}, "sub_account"),
        ({"kind": "transfer", "account": "agentA", "sub_account": "subA",
          "amount": "51"}, "amount"),
    ]
    n = stack.scalar("SELECT count(*) FROM payments")
    for body, field in bad:
        status, _, js = it.api(addr, "POST", "/api/v1/payments", body)
        assert status == 400 and js["error"]["field"] == field, (body, js)
    assert stack.scalar("SELECT count(*) FROM payments") == n
    assert _ledger_ok(stack, "cust1") == 12500000

    # an agent: transfer from itself to its sub-account, nothing else
    it.api(addr, "POST", "/api/v1/users",
           {"username": "ag", "password": "ag-Password-1", "role": "agent",
            "account": "agentA"})
    status, hdrs, js = it.api(addr, "POST", "/api/v1/login",
                              {"username": "ag",
                               "password": "ag-Password-1"}, token="")
    sess = {"Cookie": [c for c in hdrs["set-cookie"]
                       if c.startswith("tandem_session=")][0].split(";")[0],
            "X-CSRF-Token": js["csrf"]}
    status, _, js = it.api(addr, "POST", "/api/v1/payments",
                           {"kind": "transfer", "account": "agentA",
                            "sub_account": "subA", "amount": "7.25"},
                           token="", headers=sess)
    assert status == 201, js
    assert js["sub_balance_after"] == "7.250000"
    assert _ledger_ok(stack, "agentA") == 42750000
    assert _ledger_ok(stack, "subA") == 7250000
    for body in ({"kind": "topup", "account": "agentA", "amount": "1"},
                 {"kind": "transfer", "account": "cust1",
                  "sub_account": "subA", "amount": "1"}):
        status, _, js = it.api(addr, "POST", "/api/v1/payments", body,
                               token="", headers=sess)
        assert status == 403, (body, js)
    status, _, js = it.api(addr, "GET", "/api/v1/payments", token="",
                           headers=sess)
    assert status == 200, js
    assert sorted({p["account"] for p in js["items"]}) == ["agentA", "subA"]
    assert {p["kind"] for p in js["items"]} == {"transfer_out",
                                                "transfer_in"}

    # staff see everything, newest first, with who and why
    status, _, js = it.api(addr, "GET", "/api/v1/payments?account=cust1")
    assert [p["kind"] for p in js["items"]] == ["credit_limit", "topup"]
    assert js["items"][1]["memo"] == "wire 42"
    assert js["items"][1]["by"] == it.ADMIN_USER
    assert js["items"][1]["amount"] == "2.5"
    assert stack.scalar("SELECT count(*) FROM audit_log WHERE action = "
                        "'payment'") == 3


def test_phone_cards_through_the_api(stack):
    """Batches and cards over the API (model/card.c, as tandemctl card):
    the PINs are shown once, in the answer that made them, and nowhere
    else; cards are locked, unlocked and given an expiry."""
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    stack.start_daemon("billingd")
    addr = stack.bd_http
    status, _, js = it.api(addr, "POST", "/api/v1/phone_card_batches",
                           {"name": "b1", "count": 3, "value": "5",
                            "rate_table": "retail", "number_prefix": "77",
                            "number_digits": 10, "pin_digits": 6})
    assert status == 201, js
    cards = js["cards"]
    assert len(cards) == 3
    assert all(c["number"].startswith("77") and len(c["number"]) == 10 and
               len(c["pin"]) == 6 for c in cards), cards
    for c in cards:
        assert stack.balance(f"card-{c['number']}") == 5000000

    status, _, js = it.api(addr, "GET", "/api/v1/phone_cards?batch=b1")
    assert status == 200 and js["total"] == 3, js
    assert sorted(c["number"] for c in js["items"]) == \
        sorted(c["number"] for c in cards)
    assert all("pin" not in c and c["balance"] == "5" for c in js["items"])
    status, _, js = it.api(addr, "GET", "/api/v1/phone_card_batches")
    assert js["items"][0]["name"] == "b1" and js["items"][0]["cards"] == 3

    n = cards[0]["number"]
    status, _, js = it.api(addr, "PATCH", f"/api/v1/phone_cards/{n}",
                           {"locked": True})
    assert status == 200, js
    assert stack.scalar("SELECT locked FROM phone_cards WHERE number = %s",
                        (n,)) is True
    status, _, js = it.api(addr, "PATCH", f"/api/v1/phone_cards/{n}",
                           {"expires": "2030-01-31"})
    assert status == 200, js
    for body in ({"locked": "yes"}, {"expires": "31/01/2030"},
                 {"locked": True, "expires": None}, {}):
        status, _, js = it.api(addr, "PATCH", f"/api/v1/phone_cards/{n}",
                               body)
        assert status == 400, (body, js)
    status, _, js = it.api(addr, "PATCH", "/api/v1/phone_cards/999999",
                           {"locked": True})
    assert status == 404, js

    bad = [({"name": "b1", "count": 1, "value": "1",
             "rate_table": "retail"}, "name"),
           ({"name": "b2", "count": 0, "value": "1",
             "rate_table": "retail"}, "count"),
           ({"name": "b2", "count": "3", "value": "1",
             "rate_table": "retail"}, "count"),
           ({"name": "b2", "count": 1, "value": "-1",
             "rate_table": "retail"}, "value"),
           ({"name": "b2", "count": 1, "value": "1",
             "rate_table": "nope"}, "rate_table"),
           ({"name": "b2", "count": 1, "value": "1", "rate_table": "retail",
             "expires": "2001-01-01"}, "expires"),
           ({"name": "b2", "count": 1, "value": "1", "rate_table": "retail",
             "pin_digits": 3}, "pin_digits")]
    for body, field in bad:
        status, _, js = it.api(addr, "POST", "/api/v1/phone_card_batches",
                               body)
        assert status == 400 and js["error"]["field"] == field, (body, js)
    assert stack.scalar("SELECT count(*) FROM phone_card_batches") == 1

    # the PINs went nowhere but the first answer
    log = stack.daemon("billingd").log()
    audit = json.dumps([r["detail"] for r in stack.query(
        "SELECT detail FROM audit_log")])
    for c in cards:
        assert c["pin"] not in log and c["pin"] not in audit


def test_agents_phone_cards(stack):
    """An agent with manage_phone_cards makes batches of its own, sees only
    its subtree's cards and changes only those; without the authorization
    it makes none."""
    doc = it.base_doc(stack.port(), 0, gw_b=False)
    doc["accounts"] += [
        {"name": "agC", "type": "customer", "rate_table": "retail",
         "agent_authorizations": ["manage_phone_cards"]},
        {"name": "agD", "type": "customer", "rate_table": "retail"}]
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http
    tok = {}
    for user, acc in (("uc", "agC"), ("ud", "agD")):
        stack.ctl("user", "add", user, "agent", acc,
                  input=f"{user}-Password-1\n")
        tok[user] = stack.ctl("user", "token", user, "t").stdout.strip()
    batch = {"count": 2, "value": "1", "rate_table": "retail"}
    status, _, staff = it.api(addr, "POST", "/api/v1/phone_card_batches",
                              dict(batch, name="staff1"))
    assert status == 201, staff
    status, _, js = it.api(addr, "POST", "/api/v1/phone_card_batches",
                           dict(batch, name="agc1"), token=tok["uc"])
    assert status == 201, js
    assert stack.scalar("SELECT a.name FROM phone_card_batches b JOIN "
                        "accounts a ON a.id = b.agent_id WHERE b.name = "
                        "'agc1'") == "agC"
    mine = js["cards"]
    status, _, js = it.api(addr, "GET", "/api/v1/phone_card_batches",
                           token=tok["uc"])
    assert [b["name"] for b in js["items"]] == ["agc1"], js
    status, _, js = it.api(addr, "GET", "/api/v1/phone_cards",
                           token=tok["uc"])
    assert sorted(c["number"] for c in js["items"]) == \
        sorted(c["number"] for c in mine)
    status, _, js = it.api(addr, "PATCH",
                           f"/api/v1/phone_cards/{mine[0]['number']}",
                           {"locked": True}, token=tok["uc"])
    assert status == 200, js
    status, _, js = it.api(addr, "PATCH",
                           f"/api/v1/phone_cards/{staff['cards'][0]['number']}",
                           {"locked": True}, token=tok["uc"])
    assert status == 403, js
    status, _, js = it.api(addr, "POST", "/api/v1/phone_card_batches",
                           dict(batch, name="agc2", agent="agD"),
                           token=tok["uc"])
    assert status == 403, js
    status, _, js = it.api(addr, "POST", "/api/v1/phone_card_batches",
                           dict(batch, name="agd1"), token=tok["ud"])
    assert status == 403, js
    assert stack.scalar("SELECT count(*) FROM phone_card_batches") == 2
