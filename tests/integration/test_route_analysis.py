"""Issue 8, item 4 and done-when 3: the routing analysis is the routing.

route.analyze comes from the function real calls route with
(sg_failover_plan, plus sg_failover_busy for what a call would skip
without an INVITE).  For each state of a small matrix the test asks the
analysis, then places a real call and compares the call's attempts (from
its CDR) with the analysis' candidates minus the ones it marks skipped:

1. baseline: gwA (503), gwB (503), gwE (answers) in priority order; gwC
   (locked) and gwD (mapping filter forbids mg1) excluded with reasons;
2. gwB locked live (SQL): excluded as locked, the call goes gwA, gwE;
3. gwE in a group of 2 lines with 1 reserved, one call held on it: the
   next call may not take the reserved line (skip reserved_lines), so it
   tries gwA only;
3b. gwE out of the group with line_limit 1 and a call held on it: the
   next call skips it (skip line_limit);
3c. SS_GATEWAY_SWITCH_LIMIT 1: the call tries the first candidate only;
4. prefix fallback off and gwF on the longer prefix 155: only gwF is a
   candidate, the others are excluded as shorter_prefix.
"""

import json
import time

import tandem_it as it

CALLEE = "15551230001"


def _gw(name, port, priority, prefixes=("1",), **kw):
    g = {"name": name, "account": "vend1", "address": "127.0.0.1",
         "port": port, "transport": "udp", "prefixes": list(prefixes),
         "priority": priority, "line_limit": 0, "gateway_prefix": "",
         "switch_until_connect": True, "stop_codes": [486, 487, 603],
         "protect_route": False, "locked": False}
    g.update(kw)
    return g


def _analyze(stack):
    rc, out, err = it.busprobe(stack.sg_control, "route.analyze",
                               {"callee": CALLEE,
                                "mapping_gateway": "mg1"})
    assert rc == 0, (out, err)
    return json.loads(out)["body"]


def _expected(a):
    return [c["gateway"] for c in a["candidates"] if not c["skip"]]


def _call(stack, name, scenario="uac_expect_code.xml", code=None, **kw):
    n = len(it.cdr_rows(stack))
    uac = stack.uac(name, scenario, callee=CALLEE, code=code, calls=1,
                    timeout_s=30, **kw)
    return uac, n


def _attempts_of_new_cdr(stack, n):
    rows = it.wait_for(lambda: (lambda r: r if len(r) > n else None)(
        it.cdr_rows(stack)), 20, "the CDR")
    return [a["gateway"] for a in it.attempts(stack, rows[-1]["id"])]


def _reload(stack, sql):
    before = stack.daemon("signalingd").log().count(
        "routing tables reloaded")
    stack.query(sql + " RETURNING 1")
    it.wait_for(lambda: stack.daemon("signalingd").log().count(
        "routing tables reloaded") > before, 5, "the reload")


def test_analysis_equals_what_calls_do(stack):
    gws = {n: stack.uas(n, "uas_reject.xml", code=503,
                        reason="Service Unavailable")
           for n in ("gwA", "gwB", "gwC", "gwD", "gwF")}
    gws["gwE"] = stack.uas("gwE", "uas_answer.xml")
    doc = it.base_doc(0, 0, gw_b=False)
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0",
                                     "SS_ROUTE_PREFIX_FALLBACK": "1",
                                     "SS_GATEWAY_SWITCH_LIMIT": "10"})
    doc["gateway_groups"] = [{"name": "g1", "capacity": 2,
                              "reserved_lines": 1}]
    doc["routing_gateways"] = [
        _gw("gwA", gws["gwA"].port, 1),
        _gw("gwB", gws["gwB"].port, 2),
        _gw("gwC", gws["gwC"].port, 1, ("155",), locked=True),
        _gw("gwD", gws["gwD"].port, 3, mapping_filter_mode="forbid",
            mapping_filter=["mg1"]),
        _gw("gwE", gws["gwE"].port, 4, gateway_group="g1"),
        _gw("gwF", gws["gwF"].port, 1, ("155",), locked=True),
    ]
    stack.provision(doc)
    stack.start_all()

    # 1. baseline
    a = _analyze(stack)
    assert _expected(a) == ["gwA", "gwB", "gwE"], a
    assert {(x["gateway"], x["reason"]) for x in a["excluded"]} == {
        ("gwC", "locked"), ("gwF", "locked"), ("gwD", "mapping_filter")}
    uac, n = _call(stack, "base", "uac_hold.xml", duration_ms=300)
    assert uac.finish(30) == 0
    assert _attempts_of_new_cdr(stack, n) == _expected(a)

    # 2. gwB locked by SQL, live
    _reload(stack, "UPDATE routing_gateways SET locked = true"
                   " WHERE name = 'gwB'")
    a = _analyze(stack)
    assert ("gwB", "locked") in {(x["gateway"], x["reason"])
                                 for x in a["excluded"]}
    uac, n = _call(stack, "nob", "uac_hold.xml", duration_ms=300)
    assert uac.finish(30) == 0
    assert _attempts_of_new_cdr(stack, n) == _expected(a) == ["gwA", "gwE"]

    # 3. one call held on gwE: the group's last free line is reserved
    held = stack.uac("held", "uac_hold.xml", callee=CALLEE, calls=1,
                     duration_ms=8000, timeout_s=30)
    it.wait_for(lambda: (it.ping(stack.sg_control) or {}).get("calls") == 1,
                10, "the held call")
    time.sleep(0.5)
    a = _analyze(stack)
    e = next(c for c in a["candidates"] if c["gateway"] == "gwE")
    assert e["skip"] == "reserved_lines", a
    uac, n = _call(stack, "reserved", code=503)
    assert uac.finish(30) == 0
    assert _attempts_of_new_cdr(stack, n) == _expected(a) == ["gwA"]
    assert held.finish(30) == 0

    # 3b. gwE out of the group with a line limit of 1, one call held on
    # it: the line limit skips it
    _reload(stack, "UPDATE routing_gateways SET gateway_group_id = NULL,"
                   " line_limit = 1 WHERE name = 'gwE'")
    held = stack.uac("held2", "uac_hold.xml", callee=CALLEE, calls=1,
                     duration_ms=8000, timeout_s=30)
    it.wait_for(lambda: (it.ping(stack.sg_control) or {}).get("calls") == 1,
                10, "the held call")
    time.sleep(0.5)
    a = _analyze(stack)
    e = next(c for c in a["candidates"] if c["gateway"] == "gwE")
    assert e["skip"] == "line_limit" and e["line_use"] == 1, a
    uac, n = _call(stack, "linelimit", code=503)
    assert uac.finish(30) == 0
    assert _attempts_of_new_cdr(stack, n) == _expected(a) == ["gwA"]
    assert held.finish(30) == 0

    # 3c. the switch limit: one gateway per call
    _reload(stack, "UPDATE system_parameters SET value = '1'"
                   " WHERE name = 'SS_GATEWAY_SWITCH_LIMIT'")
    a = _analyze(stack)
    assert a["switch_limit"] == 1, a
    uac, n = _call(stack, "switchlimit", code=503)
    assert uac.finish(30) == 0
    assert _attempts_of_new_cdr(stack, n) == _expected(a)[:1] == ["gwA"]
    _reload(stack, "UPDATE system_parameters SET value = '10'"
                   " WHERE name = 'SS_GATEWAY_SWITCH_LIMIT'")

    # 4. prefix fallback off, gwF on the longer prefix
    stack.query("UPDATE routing_gateways SET locked = false"
                " WHERE name = 'gwF' RETURNING 1")
    _reload(stack, "UPDATE system_parameters SET value = '0'"
                   " WHERE name = 'SS_ROUTE_PREFIX_FALLBACK'")
    a = _analyze(stack)
    assert _expected(a) == ["gwF"], a
    assert {x["gateway"] for x in a["excluded"]
            if x["reason"] == "shorter_prefix"} == {"gwA", "gwE"}, a
    uac, n = _call(stack, "longest", code=503)
    assert uac.finish(30) == 0
    assert _attempts_of_new_cdr(stack, n) == _expected(a)
    for g in gws.values():
        g.quit()
