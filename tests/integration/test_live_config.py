"""Issue 8, item 3 (live configuration): a committed change applies within
a second, without SIGHUP and without dropping calls.

signalingd LISTENs on tandem_changes (signaling/watch.c); the triggers of
schema 0004 notify every committed change to the tables it loads,
whoever makes it.  While a call is up on gwA:

- gwA is locked by plain SQL: signalingd reloads within one second, the
  next call goes to gwB, and the call already on gwA goes on to its end;
- `tandemctl provision` unlocks it: the next call is gwA's again;
- the retail rate is changed: the next CDR is rated at the new price;
- a new mapping gateway for another source address serves its first call.
"""

import time

import tandem_it as it


def _reloads(stack):
    return stack.daemon("signalingd").log().count("routing tables reloaded")


def _change(stack, apply):
    """apply() a change; wait for signalingd's reload; its delay, s."""
    before = _reloads(stack)
    t0 = time.monotonic()
    apply()
    it.wait_for(lambda: _reloads(stack) > before, 5, "the reload")
    return time.monotonic() - t0


def _call(stack, name, ip="127.0.0.1"):
    n = len(it.cdr_rows(stack))
    uac = stack.uac(name, "uac_hold.xml", calls=1, duration_ms=500,
                    timeout_s=20, ip=ip)
    assert uac.finish(30) == 0, f"{name} failed"
    rows = it.wait_for(lambda: (lambda r: r if len(r) > n else None)(
        it.cdr_rows(stack)), 20, f"the CDR of {name}")
    return [r for r in rows if r["call_id_a"] not in
            {x["call_id_a"] for x in rows[:n]}][0]


def test_changes_apply_within_a_second(stack):
    gw_a = stack.uas("gwA", "uas_answer.xml")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    doc = it.base_doc(gw_a.port, gw_b.port)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.start_all()
    assert "listening for configuration changes" in \
        stack.daemon("signalingd").log()

    assert _call(stack, "first")["routing_gateway"] == "gwA"

    long_call = stack.uac("long", "uac_hold.xml", calls=1,
                          duration_ms=5000, timeout_s=30)
    it.wait_for(lambda: (it.ping(stack.sg_control) or {}).get("calls") == 1,
                10, "the long call up")
    time.sleep(0.5)  # answered, not just routed
    delay = _change(stack, lambda: stack.query(
        "UPDATE routing_gateways SET locked = true WHERE name = 'gwA'"
        " RETURNING id"))
    print(f"lock applied in {delay:.3f} s")
    assert delay < 1.0, delay
    assert _call(stack, "locked")["routing_gateway"] == "gwB"
    assert long_call.finish(30) == 0
    rows = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                                if r["hold_ms"] > 4000] or None,
                       15, "the long call's CDR")
    assert rows[0]["end_reason"] == "Normal", rows
    assert rows[0]["routing_gateway"] == "gwA"

    delay = _change(stack, lambda: stack.provision(doc))  # locked: false
    assert delay < 1.0, delay
    assert _call(stack, "unlocked")["routing_gateway"] == "gwA"

    # a new price: the next CDR pays it
    doc["rate_tables"][0]["entries"][0].update(
        {"connect_fee": "0.5000"})
    _change(stack, lambda: stack.provision(doc))
    cdr = _call(stack, "repriced")
    assert cdr["fee"] == it.expected_fee(cdr["hold_ms"],
                                         it.rate_entry(doc)), cdr["fee"]
    assert cdr["fee"] >= 500000

    # a new mapping gateway: its source is served at once
    doc["mapping_gateways"].append(
        {"name": "mg5", "account": "cust1", "auth_mode": "ip",
         "ips": ["127.0.0.5"]})
    _change(stack, lambda: stack.provision(doc))
    cdr = _call(stack, "newsource", ip="127.0.0.5")
    assert cdr["mapping_gateway"] == "mg5" and cdr["end_code"] == 200
    gw_a.quit()
    gw_b.quit()
