"""Statistics and alarms (issue 8 item 5, done-when 4): after a scripted
mix of answered, busy and failed calls the API's ASR, ACD, PDD, minutes
and money per gateway and account equal what the test computes from the
CDR table; an alarm is raised when a vendor stops answering OPTIONS and
cleared when it answers again; low balance raises its alarm; alarms are
acknowledged through the API."""

import time
import uuid

import tandem_it as it


def _submit(stack, account, setup_ms, attempts, answered_on=None, hold_s=0,
            pdd_ms=0, fee_table=None):
    cid = str(uuid.uuid4())
    end = setup_ms + 3000 + hold_s * 1000
    cdr = {"id": cid, "account": account, "callee": "15551230001",
           "caller": "5550100", "mapping_gateway": "mg1",
           "setup_ms": setup_ms, "end_ms": end,
           "answer_ms": setup_ms + 3000 if answered_on else 0,
           "hold_ms": hold_s * 1000 if answered_on else 0,
           "pdd_ms": pdd_ms,
           "routing_gateway": answered_on or attempts[-1][0],
           "vendor": "vend1",
           "end_code": 200 if answered_on else attempts[-1][1],
           "end_reason": "Normal" if answered_on else "VendorFailure",
           "attempts": [{"gateway": g, "code": c,
                         "start_ms": setup_ms, "end_ms": setup_ms + 1000}
                        for g, c in attempts]}
    rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit", {"cdr": cdr})
    assert rc == 0 and '"cdr.submit.reply"' in out, (out, err)
    return cid


def test_statistics_equal_the_cdr_table(stack):
    doc = it.base_doc(stack.port(), stack.port(), extra_accounts=[
        {"name": "cust2", "type": "customer", "rate_table": "retail",
         "balance": "100"}])
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http
    now = int(time.time() * 1000) - 60000
    mix = [  # account, attempts, answered on, hold, pdd
        ("cust1", [("gwA", 200)], "gwA", 47, 800),
        ("cust1", [("gwA", 503), ("gwB", 200)], "gwB", 125, 2300),
        ("cust1", [("gwA", 486)], None, 0, 1200),
        ("cust2", [("gwA", 408), ("gwB", 503)], None, 0, 0),
        ("cust2", [("gwB", 200)], "gwB", 9, 500),
        ("cust2", [("gwA", 200)], "gwA", 3600, 950),
    ]
    for i, (acc, att, ans, hold, pdd) in enumerate(mix):
        _submit(stack, acc, now - i * 1000, att, ans, hold, pdd)

    status, _, gws = it.api(addr, "GET", "/api/v1/stats/gateways")
    assert status == 200, gws
    got = {g["gateway"]: g for g in gws["items"]}
    for gw in ("gwA", "gwB"):
        att = stack.query(
            "SELECT count(*) AS n, count(*) FILTER (WHERE code = 200) AS ok"
            " FROM cdr_attempts WHERE gateway = %s", (gw,))[0]
        cdrs = stack.query(
            "SELECT hold_ms, pdd_ms, vendor_cost FROM cdr WHERE "
            "routing_gateway = %s", (gw,))
        answered = [c for c in cdrs if c["hold_ms"] > 0]
        g = got[gw]
        assert g["attempts"] == att["n"] and g["answered"] == att["ok"], g
        assert g["asr"] == round(100 * att["ok"] / att["n"], 2), g
        assert g["acd_s"] == round(sum(c["hold_ms"] for c in answered)
                                   / 1000 / len(answered), 1), g
        pdds = [c["pdd_ms"] for c in cdrs if c["pdd_ms"] > 0]
        assert g["pdd_ms"] == round(sum(pdds) / len(pdds)), g
        assert it.money(g["cost"]) == sum(c["vendor_cost"] for c in cdrs)
        assert g["minutes"] == round(sum(c["hold_ms"] for c in cdrs)
                                     / 60000, 2), g

    status, _, accs = it.api(addr, "GET", "/api/v1/stats/accounts")
    assert status == 200, accs
    got = {a["account"]: a for a in accs["items"]}
    for acc in ("cust1", "cust2"):
        cdrs = stack.query(
            "SELECT c.hold_ms, c.pdd_ms, c.fee, c.vendor_cost, (SELECT "
            "count(*) FROM cdr_attempts t WHERE t.cdr_id = c.id) AS tries "
            "FROM cdr c WHERE account = %s", (acc,))
        ans = [c for c in cdrs if c["hold_ms"] > 0]
        a = got[acc]
        assert a["calls"] == len(cdrs) and a["answered"] == len(ans), a
        assert a["asr"] == round(100 * len(ans) / len(cdrs), 2)
        assert a["acd_s"] == round(sum(c["hold_ms"] for c in ans) / 1000
                                   / len(ans), 1)
        pdds = [c["pdd_ms"] for c in cdrs if c["pdd_ms"] > 0]
        assert a["pdd_ms"] == round(sum(pdds) / len(pdds))
        assert a["failover_rate"] == round(
            100 * sum(1 for c in cdrs if c["tries"] > 1) / len(cdrs), 2)
        income = sum(c["fee"] for c in cdrs)
        cost = sum(c["vendor_cost"] for c in cdrs)
        assert it.money(a["income"]) == income and income > 0
        assert it.money(a["cost"]) == cost
        assert it.money(a["profit"]) == income - cost

    status, _, today = it.api(addr, "GET", "/api/v1/stats/today")
    assert status == 200, today
    tot = stack.query("SELECT count(*) AS n, sum(fee) AS fee, "
                      "sum(vendor_cost) AS cost FROM cdr")[0]
    assert today["calls"] == tot["n"]
    assert it.money(today["income"]) == tot["fee"]
    assert it.money(today["profit"]) == tot["fee"] - tot["cost"]
    assert [a["account"] for a in today["top_accounts"]] == \
        sorted(("cust1", "cust2"),
               key=lambda a: -sum(c["fee"] for c in stack.query(
                   "SELECT fee FROM cdr WHERE account = %s", (a,))))
    status, _, js = it.api(addr, "GET", "/api/v1/stats/today?tz=Mars/Base")
    assert status == 400, js
    status, _, js = it.api(addr, "GET", "/api/v1/stats/gateways?from=x")
    assert status == 400, js
    # a window without calls is empty, not an error
    status, _, js = it.api(addr, "GET", "/api/v1/stats/accounts?from=0&to=1000")
    assert status == 200 and js["items"] == [], js


def _alarms(addr, **filters):
    q = "&".join(f"{k}={v}" for k, v in filters.items())
    status, _, js = it.api(addr, "GET", f"/api/v1/alarms?{q}")
    assert status == 200, js
    return js["items"]


def test_vendor_alarm_raised_and_cleared(stack):
    gw_port = stack.port()
    vendor = stack.uas("gwA", "uas_options.xml", port=gw_port)
    doc = it.base_doc(gw_port, 0, gw_b=False, balance="5")
    doc["system_parameters"].update({"SS_GATEWAY_OPTIONS_INTERVAL": "1",
                                     "SS_MEDIAPROXYMODE": "0",
                                     "SERVER_ALARM_LOW_BALANCE": "10"})
    doc["routing_gateways"][0]["options_keepalive"] = True
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    addr = stack.bd_http

    # cust1 holds 5 < 10: low balance at the first check
    low = it.wait_for(lambda: [a for a in _alarms(addr, active="true")
                               if a["kind"] == "low_balance"] or None, 15,
                      "the low balance alarm")
    assert low[0]["subject"] == "cust1" and low[0]["severity"] == "warning"
    time.sleep(4)  # OPTIONS answered: no vendor alarm
    assert not [a for a in _alarms(addr) if a["kind"] ==
                "vendor_unreachable"]

    vendor.kill()
    raised = it.wait_for(lambda: [a for a in _alarms(addr, active="true")
                                  if a["kind"] == "vendor_unreachable"]
                         or None, 20, "the vendor alarm")
    assert raised[0]["subject"] == "gwA" and \
        raised[0]["severity"] == "major", raised
    assert "alarm raised: major vendor_unreachable gwA" in \
        stack.daemon("billingd").log()

    status, _, js = it.api(addr, "PATCH",
                           f"/api/v1/alarms/{raised[0]['id']}",
                           {"acknowledged": True})
    assert status == 200 and js["acked_by"] == it.ADMIN_USER, js
    status, _, js = it.api(addr, "PATCH", "/api/v1/alarms/999999",
                           {"acknowledged": True})
    assert status == 404, js
    status, _, js = it.api(addr, "PATCH",
                           f"/api/v1/alarms/{raised[0]['id']}",
                           {"acknowledged": "yes"})
    assert status == 400, js

    stack.uas("gwA2", "uas_options.xml", port=gw_port)
    it.wait_for(lambda: not [a for a in _alarms(addr, active="true")
                             if a["kind"] == "vendor_unreachable"], 20,
                "the vendor alarm cleared")
    hist = [a for a in _alarms(addr, active="false")
            if a["kind"] == "vendor_unreachable"]
    assert len(hist) == 1 and hist[0]["cleared_at"] and \
        hist[0]["acked_at"], hist
    # one active row per kind and subject, however many checks ran
    assert stack.scalar("SELECT count(*) FROM alarms WHERE kind = "
                        "'low_balance'") == 1


def test_performance_of_every_host(stack):
    """SPEC §7 system performance: each daemon reports its host from /proc
    (billingd itself, signalingd in health.ping, mediaproxyd in its
    heartbeat) and the API lists them."""
    import os
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    stack.start_all()
    stack.wait_media_online()
    time.sleep(1.2)  # a second heartbeat: per-core CPU over an interval
    status, _, js = it.api(stack.bd_http, "GET", "/api/v1/performance")
    assert status == 200, js
    roles = {h["role"]: h for h in js["hosts"]}
    assert set(roles) == {"billingd", "signalingd", "mediaproxyd"}, roles
    for role, h in roles.items():
        host = h["host"]
        assert h["online"] and host, (role, h)
        assert len(host["cpu_pct"]) == os.cpu_count(), (role, host)
        assert all(0 <= c <= 100 for c in host["cpu_pct"])
        mem = host["memory_kb"]
        assert mem["total"] > mem["available"] > 0, mem
        assert any(d["mount"] == "/" and d["total_kb"] > 0
                   for d in host["disks"]), host["disks"]
        assert any(n["iface"] == "lo" for n in host["net"]), host["net"]
    assert roles["mediaproxyd"]["node_id"] == "mp-it"


def test_rtp_quality_and_low_asr_alarms(stack):
    """The database alarms: RTP loss toward a gateway above
    SERVER_ALARM_LOSS and an ASR below SERVER_ALARM_LOW_ASR raise their
    alarm at the first check; gwB, fine, has none."""
    doc = it.base_doc(stack.port(), stack.port())
    doc["system_parameters"].update({"SERVER_ALARM_LOSS": "5",
                                     "SERVER_ALARM_LOW_ASR": "40",
                                     "SERVER_ALARM_ASR_MIN_CALLS": "1"})
    stack.provision(doc)
    now = int(time.time() * 1000) - 30000
    # billingd is not up yet: the CDRs go in through its bus once it is
    stack.start_daemon("billingd")
    leg = lambda rx, lost: {"rx_packets": rx, "lost": lost, "jitter_ms": 4,
                            "tx_packets": rx}
    for i in range(4):
        cid = str(uuid.uuid4())
        ok = i == 0  # gwA: 1 of 4 answered, 20 % loss on the answered one
        cdr = {"id": cid, "account": "cust1", "callee": "15551230001",
               "caller": "5550100", "mapping_gateway": "mg1",
               "setup_ms": now - i * 1000, "end_ms": now - i * 1000 + 8000,
               "answer_ms": now - i * 1000 + 2000 if ok else 0,
               "hold_ms": 6000 if ok else 0, "routing_gateway": "gwA",
               "end_code": 200 if ok else 503,
               "end_reason": "Normal" if ok else "VendorFailure",
               "rtp": {"a": leg(300, 0), "b": leg(240, 60)},
               "attempts": [{"gateway": "gwA", "code": 200 if ok else 503,
                             "start_ms": now, "end_ms": now + 1000}]}
        rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit", {"cdr": cdr})
        assert rc == 0, (out, err)
    for i in range(3):
        cdr = {"id": str(uuid.uuid4()), "account": "cust1",
               "callee": "15551230001", "caller": "5550100",
               "mapping_gateway": "mg1", "setup_ms": now - i * 1000,
               "end_ms": now - i * 1000 + 8000,
               "answer_ms": now - i * 1000 + 2000, "hold_ms": 6000,
               "routing_gateway": "gwB", "end_code": 200,
               "end_reason": "Normal",
               "rtp": {"a": leg(300, 0), "b": leg(300, 1)},
               "attempts": [{"gateway": "gwB", "code": 200,
                             "start_ms": now, "end_ms": now + 1000}]}
        rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit", {"cdr": cdr})
        assert rc == 0, (out, err)

    def raised():
        act = {(a["kind"], a["subject"]) for a in
               _alarms(stack.bd_http, active="true")}
        want = {("low_asr", "gwA"), ("rtp_quality", "gwA")}
        return act if want <= act else None

    act = it.wait_for(raised, 25, "the low ASR and RTP quality alarms")
    assert ("low_asr", "gwB") not in act and \
        ("rtp_quality", "gwB") not in act, act
    msg = [a["message"] for a in _alarms(stack.bd_http, active="true")
           if a["kind"] == "rtp_quality"][0]
    assert "20.00 % lost" in msg, msg


def test_capacity_and_long_call_alarms(stack):
    """A routing gateway at its line limit raises `capacity`, a call past
    SERVER_ALARM_LONG_CALL raises `long_call`; both clear when the call
    ends."""
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0",
                                     "SERVER_ALARM_LONG_CALL": "2"})
    doc["routing_gateways"][0]["line_limit"] = 1
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    addr = stack.bd_http
    uac = stack.uac("long", "uac_hold.xml", calls=1, duration_ms=9000,
                    timeout_s=40)

    def both():
        act = {a["kind"]: a for a in _alarms(addr, active="true")}
        return act if {"capacity", "long_call"} <= set(act) else None

    act = it.wait_for(both, 15, "the capacity and long call alarms")
    assert act["capacity"]["subject"] == "gwA", act
    assert "cust1" in act["long_call"]["message"], act
    assert uac.finish(40) == 0
    it.wait_for(lambda: not {a["kind"] for a in _alarms(addr, active="true")}
                & {"capacity", "long_call"}, 10, "both cleared")
    gw.quit()


def test_dashboard_and_timeline(stack):
    """The dashboard's live figures (SPEC §7: concurrency, calls per
    second, online gateways and phones, today's money) and the per-minute
    timeline its chart draws."""
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, stack.port())
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    doc["routing_gateways"][1]["locked"] = True
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    addr = stack.bd_http
    uac = stack.uac("burst", "uac_hold.xml", calls=8, rate=4, limit=8,
                    duration_ms=3000, timeout_s=40)
    seen = {"cps": 0, "calls": 0}

    def busy():
        status, _, d = it.api(addr, "GET", "/api/v1/dashboard")
        assert status == 200, d
        seen["cps"] = max(seen["cps"], d["signalingd"]["cps"])
        seen["calls"] = max(seen["calls"], d["signalingd"]["calls"])
        return d if seen["cps"] > 0 and seen["calls"] > 0 else None

    d = it.wait_for(busy, 15, "calls per second and calls up")
    assert d["signalingd"]["up"] is True
    assert d["routing_gateways"] == {"total": 2, "locked": 1, "offline": 0}
    assert d["mapping_gateways"] == {"total": 1, "locked": 0,
                                     "registered": 0}
    assert d["phones"] == {"total": 0, "online": 0}, d["phones"]
    assert uac.finish(40) == 0
    it.wait_for(lambda: len(it.cdr_rows(stack)) == 8 or None, 20,
                "the 8 CDRs")
    status, _, d = it.api(addr, "GET", "/api/v1/dashboard")
    assert d["today"]["calls"] == 8 and d["today"]["answered"] == 8, d
    assert it.money(d["today"]["income"]) == sum(
        r["fee"] for r in it.cdr_rows(stack))
    assert d["signalingd"]["calls_started"] >= 8

    status, _, t = it.api(addr, "GET", "/api/v1/stats/timeline?minutes=5")
    assert status == 200 and len(t["points"]) == 5, t
    assert sum(p["attempts"] for p in t["points"]) == 8, t
    assert sum(p["answered"] for p in t["points"]) == 8, t
    status, _, t = it.api(addr, "GET", "/api/v1/stats/timeline?minutes=0")
    assert status == 400
    gw.quit()


def test_switch_wide_asr_feeds_route_sorting(stack):
    """billingd feeds signalingd the switch-wide ASR per gateway (from
    every CDR's attempts, stats.asr): attempts this signalingd never made
    move a gateway below the threshold to the end of the candidates."""
    doc = it.base_doc(stack.port(), stack.port())
    doc["system_parameters"].update(
        {"SS_GATEWAYASRROUTESORTCONFIG": "1,30,3,3600",
         "SS_MEDIAPROXYMODE": "0"})
    stack.provision(doc)
    stack.start_daemon("billingd")
    now = int(time.time() * 1000) - 60000
    for i in range(5):  # another signalingd's calls: gwA fails them all
        _submit(stack, "cust1", now - i * 1000, [("gwA", 503), ("gwB", 200)],
                "gwB", 10, 500)
    stack.start_daemon("signalingd")

    def sorted_by_asr():
        status, _, a = it.api(stack.bd_http, "GET",
                              "/api/v1/route?callee=15551230001"
                              "&mapping_gateway=mg1")
        assert status == 200, a
        order = [c["gateway"] for c in a["candidates"]]
        gw_a = next(c for c in a["candidates"] if c["gateway"] == "gwA")
        return (a, gw_a) if order == ["gwB", "gwA"] else None

    a, gw_a = it.wait_for(sorted_by_asr, 20, "gwA sorted after gwB")
    assert gw_a["attempts"] == 5 and gw_a["answered"] == 0, gw_a
    assert gw_a["asr_below_threshold"] is True


def test_host_alarms_for_every_host(stack):
    """CPU, memory and disk alarms cover every host: billingd's own and
    the ones signalingd and the media nodes report; a threshold change
    (live) clears them."""
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    stack.query("INSERT INTO system_parameters (name, value) VALUES "
                "('SERVER_ALARM_DISK', '1') RETURNING name")
    stack.start_all()
    stack.wait_media_online()
    addr = stack.bd_http
    want = {"billingd-host:/", "signalingd:/", "mp-it:/"}

    def disks():
        got = {a["subject"] for a in _alarms(addr, active="true")
               if a["kind"] == "disk"}
        return got if want <= got else None

    it.wait_for(disks, 25, "disk alarms of the three hosts")
    status, _, js = it.api(addr, "PATCH", "/api/v1/system_parameters",
                           {"SERVER_ALARM_DISK": "0"})
    assert status == 200, js
    it.wait_for(lambda: not [a for a in _alarms(addr, active="true")
                             if a["kind"] == "disk"], 25,
                "the disk alarms cleared")
