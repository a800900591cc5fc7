"""Issue 7, item 8: billingd answers from memory and sees every change.

billingd keeps accounts, rate tables, calendars and gateways in memory
(docs/billingd.md, "What billingd keeps in memory"), kept current by the
tandem_changes notifications of migration 0004.  With billingd running,
each change made by another process is seen by the very next request,
without SIGHUP or restart:

- a top-up lets a refused account call; a deduction to zero refuses it
  again; a credit limit counts;
- a new account provisioned is found; a rate changed by provisioning is
  what the next quote and CDR charge; a rate table's entries replaced;
- its own CDR debits count at once (a second authorisation sees the first
  CDR's fee gone) and the balance in PostgreSQL agrees after a settle.
"""

import json
import re
import time
import urllib.request
import uuid

import tandem_it as it


def _auth(stack, account="cust1", callee="15551230001"):
    rc, out, err = it.busprobe(stack.bd_bus, "auth.request", {
        "call": str(uuid.uuid4()), "account": account, "caller": "1",
        "callee": callee, "mapping_gateway": "mg1"})
    assert rc == 0, (out, err)
    return json.loads(out)["body"]


def _quote(stack, account, number, secs):
    r = it.tandemctl(stack.conninfo, "--api", f"http://{stack.bd_http}",
                     "rate", account, number, str(secs))
    return it.money(re.search(r"^fee\s+(\S+)$", r.stdout, re.M).group(1))


def _pay(stack, *args):
    it.tandemctl(stack.conninfo, "payment", *args)


def test_changes_are_seen_by_the_next_request(stack):
    doc = it.base_doc(stack.port(), 0, gw_b=False, balance="0")
    stack.provision(doc)
    stack.start_daemon("billingd")

    body = _auth(stack)
    assert not body["allow"] and body["reason"] == "InsufficientBalance"
    _pay(stack, "topup", "cust1", "1")
    body = _auth(stack)
    assert body["allow"], body
    # 1.00 at 0.0050 + 6/6 at 0.0125 then 0.0133 per minute
    assert body["max_duration_s"] == 60  # one slice: the advance time
    _pay(stack, "deduct", "cust1", "1")
    body = _auth(stack)
    assert not body["allow"], body
    _pay(stack, "credit", "cust1", "0.5")
    assert _auth(stack)["allow"]

    # a new account and a changed rate, by provisioning
    doc["accounts"].append({"name": "late", "type": "customer",
                            "balance": "5", "rate_table": "retail"})
    doc["rate_tables"][0]["entries"][0]["first_rate"] = "0.6000"
    doc["rate_tables"][0]["entries"][0]["next_rate"] = "0.6000"
    doc["rate_tables"][0]["entries"].append(
        {"prefix": "44", "area_name": "UK", "connect_fee": "0",
         "first_interval": 1, "first_rate": "0.1200",
         "next_interval": 1, "next_rate": "0.1200"})
    stack.provision(doc)
    assert _auth(stack, "late")["allow"]
    assert _quote(stack, "late", "15551230001", 60) == 5000 + 600000
    assert _quote(stack, "late", "4420", 60) == 120000

    # its own debits count at once: "tight" has 0.20, which buys 18 s
    # (0.005 connect + 3 x 6 s at 0.60/min); after a 6 s CDR (0.065) the
    # rest buys 12 s, seen by the very next authorisation (the stale
    # balance would still give 18)
    doc["accounts"].append({"name": "tight", "type": "customer",
                            "balance": "0.20", "rate_table": "retail"})
    stack.provision(doc)
    now = int(time.time() * 1000)
    cdr = {"id": str(uuid.uuid4()), "account": "tight",
           "callee": "15551230001", "setup_ms": now - 8000,
           "answer_ms": now - 6000, "end_ms": now, "hold_ms": 6000,
           "end_code": 200, "end_reason": "Normal"}
    rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit", {"cdr": cdr})
    assert rc == 0 and json.loads(out)["body"]["fee"] == 65000, out
    assert json.loads(out)["body"]["duplicate"] is False, out
    body = _auth(stack, "tight")
    assert body["allow"] and body["max_duration_s"] == 12, body
    assert not body["extendable"]
    assert stack.balance("tight") == 200000 - 65000

    # a resend (a spool that never saw the reply) is acknowledged with the
    # fee stored the first time, read back by the CDR's id; no money moves
    cdr["hold_ms"] = 12000
    rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit", {"cdr": cdr})
    body = json.loads(out)["body"]
    assert rc == 0 and body["duplicate"] is True, out
    assert body["fee"] == 65000, out
    assert stack.balance("tight") == 200000 - 65000


def test_implausible_cdr_is_quarantined_not_billed(stack):
    """A well-formed CDR with a ten-year hold (the attack of issue 7) is
    kept in cdr_quarantine and acknowledged, so a spool lets it go; it is
    not rated, debited or stored as a CDR, and a resend changes nothing."""
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False, balance="100"))
    stack.start_daemon("billingd")
    now = int(time.time() * 1000)
    cid = str(uuid.uuid4())
    cdr = {"id": cid, "account": "cust1", "callee": "15551230001",
           "setup_ms": now - 2000, "answer_ms": now - 1000, "end_ms": now,
           "hold_ms": 10 * 365 * 86400 * 1000, "end_code": 200,
           "end_reason": "Normal"}
    for _ in range(2):
        rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit", {"cdr": cdr})
        assert rc == 0, (out, err)
        body = json.loads(out)["body"]
        assert body["quarantined"] is True and body["fee"] == 0, body
    rows = stack.query("SELECT reason, cdr FROM cdr_quarantine")
    assert len(rows) == 1 and "hold_ms" in rows[0]["reason"], rows
    assert rows[0]["cdr"]["hold_ms"] == cdr["hold_ms"]
    assert it.cdr_rows(stack) == []
    assert stack.balance("cust1") == 100000000
    assert "CDR quarantined" in stack.daemon("billingd").log()


def _batch(stack, cdrs):
    """cdr.submit for each of cdrs in one bus batch; the item bodies."""
    msg = {"v": 1, "type": "batch", "id": str(uuid.uuid4()),
           "ts": int(time.time() * 1000),
           "body": {"items": [{"type": "cdr.submit", "body": {"cdr": c}}
                              for c in cdrs]}}
    rc, out, err = it.busprobe(stack.bd_bus, raw=json.dumps(msg))
    assert rc == 0, (out, err)
    items = json.loads(out)["body"]["items"]
    assert [i["type"] for i in items] == ["cdr.submit.reply"] * len(cdrs), out
    return [i["body"] for i in items]


def test_copy_batch_with_resends_stores_each_cdr_once(stack):
    """CDRs are stored by COPY (docs/billingd.md, store step 5); a batch
    that holds resends is refused by the COPY as a whole and stored again
    by INSERT, which tells them apart: the new CDRs are stored and debited
    once, the resends answered as duplicates with their first fee, and the
    balance, the ledger and the cdr table agree to the micro-unit."""
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False, balance="100"))
    mport = stack.port()
    stack.conf_extra["billingd"]["metrics_listen"] = f"127.0.0.1:{mport}"
    stack.start_daemon("billingd")
    fee6 = _quote(stack, "cust1", "15551230001", 6)
    assert fee6 > 0
    now = int(time.time() * 1000)

    def cdr():
        return {"id": str(uuid.uuid4()), "account": "cust1",
                "callee": "15551230001", "setup_ms": now - 8000,
                "answer_ms": now - 6000, "end_ms": now, "hold_ms": 6000,
                "end_code": 200, "end_reason": "Normal",
                "attempts": [{"gateway": "gwA", "code": 200,
                              "start_ms": now - 8000, "end_ms": now - 6000}]}

    first = [cdr() for _ in range(4)]
    for body in _batch(stack, first):
        assert body["fee"] == fee6 and body["duplicate"] is False, body
    assert stack.balance("cust1") == 100000000 - 4 * fee6

    # two resends among four new CDRs, the resends with a changed hold
    # (what a spool would never do, so a re-rating would show)
    again = [dict(first[1], hold_ms=60000), dict(first[3], hold_ms=60000)]
    fresh = [cdr() for _ in range(4)]
    mixed = [fresh[0], again[0], fresh[1], fresh[2], again[1], fresh[3]]
    bodies = _batch(stack, mixed)
    for c, body in zip(mixed, bodies):
        assert body["id"] == c["id"] and body["fee"] == fee6, body
        assert body["duplicate"] is (c in again), (c["id"], body)

    assert stack.balance("cust1") == 100000000 - 8 * fee6

    # a resend racing itself in one message: the twin waits until the
    # first is stored, then is answered as its duplicate
    twin = cdr()
    bodies = _batch(stack, [twin, fresh[0], dict(twin)])
    assert [b["duplicate"] for b in bodies] == [False, True, True], bodies
    assert all(b["fee"] == fee6 for b in bodies), bodies
    assert stack.balance("cust1") == 100000000 - 9 * fee6

    rows = stack.query("SELECT id::text AS id, fee, hold_ms, attempts"
                       " FROM cdr ORDER BY setup_time")
    assert sorted(r["id"] for r in rows) == \
        sorted(c["id"] for c in first + fresh + [twin])
    assert all(r["fee"] == fee6 and r["hold_ms"] == 6000 for r in rows)
    assert all(r["attempts"][0]["gateway"] == "gwA" for r in rows)
    led = stack.scalar("SELECT sum(delta) FROM balance_history"
                       " WHERE reason = 'cdr'")
    assert led == -9 * fee6

    def counter(text, name):
        m = re.search(rf"^{name} (\d+)$", text, re.M)
        return int(m.group(1)) if m else None

    # the figures are published once a second (BD_METRICS_TICK_MS)
    text = it.wait_for(
        lambda: (lambda t: t if counter(t, "tandem_billing_cdrs_stored_total")
                 == 9 else None)(_metrics(mport)),
        10, "9 CDRs stored in billingd's metrics")
    assert counter(text, "tandem_billing_cdr_copy_refused_total") >= 2, text
    assert counter(text, "tandem_billing_cdrs_duplicate_total") == 4, text


def _metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=10) as r:
        assert r.status == 200
        return r.read().decode()
