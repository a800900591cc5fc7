"""Live control through the API (issue 8, done-when 2): while calls run,
PATCH locks the gateway carrying them and the next call goes to the other
one at once (billingd commits, then sends gateway.lock); unlocking brings
it back; a new rate prices the next CDR; a new mapping gateway serves its
source address within a second.  Current calls are listed with their
codecs, one is hung up, and the routing analysis shows the lock."""

import time

import tandem_it as it


def _reloads(stack):
    return stack.daemon("signalingd").log().count("routing tables reloaded")


def _call(stack, name, ip="127.0.0.1"):
    n = len(it.cdr_rows(stack))
    uac = stack.uac(name, "uac_hold.xml", calls=1, duration_ms=500,
                    timeout_s=20, ip=ip)
    assert uac.finish(30) == 0, f"{name} failed"
    rows = it.wait_for(lambda: (lambda r: r if len(r) > n else None)(
        it.cdr_rows(stack)), 20, f"the CDR of {name}")
    return [r for r in rows if r["call_id_a"] not in
            {x["call_id_a"] for x in rows[:n]}][0]


def test_live_control_through_the_api(stack):
    gw_a = stack.uas("gwA", "uas_answer.xml")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    doc = it.base_doc(gw_a.port, gw_b.port)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.start_all()
    addr = stack.bd_http
    assert _call(stack, "first")["routing_gateway"] == "gwA"

    # a long call on gwA, seen in the current calls
    long_call = stack.uac("long", "uac_hold.xml", calls=1,
                          duration_ms=6000, timeout_s=30)

    def live():
        status, _, js = it.api(addr, "GET", "/api/v1/calls")
        assert status == 200, js
        up = [c for c in js["items"] if c["state"] == "confirmed"]
        return up or None

    calls = it.wait_for(live, 10, "the long call in /api/v1/calls")
    assert calls[0]["routing_gateway"] == "gwA"
    assert calls[0]["account"] == "cust1" and calls[0]["callee"]
    status, _, js = it.api(addr, "GET", "/api/v1/calls?account=nobody")
    assert status == 200 and js["items"] == []

    # lock gwA: in effect when the answer arrives
    t0 = time.monotonic()
    status, _, js = it.api(addr, "PATCH", "/api/v1/routing_gateways/gwA",
                           {"locked": True})
    assert status == 200 and js["locked"] is True, js
    assert "routing gateway gwA locked over the bus" in \
        stack.daemon("signalingd").log()
    status, _, route = it.api(addr, "GET", "/api/v1/route?callee=15551230001"
                              "&mapping_gateway=mg1")
    assert status == 200, route
    assert [c["gateway"] for c in route["candidates"]] == ["gwB"], route
    assert {"gateway": "gwA", "prefix": "1", "reason": "locked"} in \
        route["excluded"], route
    assert _call(stack, "locked")["routing_gateway"] == "gwB"
    print(f"lock to a call on gwB: {time.monotonic() - t0:.3f} s")
    # the call already on gwA goes on until it is hung up
    status, _, _ = it.api(addr, "DELETE", f"/api/v1/calls/{calls[0]['id']}")
    assert status == 204
    long_call.finish(30)
    cdr = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                               if r["id"] == calls[0]["id"]] or None, 20,
                      "the hung-up call's CDR")[0]
    assert cdr["end_reason"] == "OperatorHangup", cdr["end_reason"]
    assert cdr["routing_gateway"] == "gwA"
    status, _, js = it.api(addr, "DELETE",
                           "/api/v1/calls/00000000-0000-0000-0000-000000000000")
    assert status == 404, js

    status, _, js = it.api(addr, "PATCH", "/api/v1/routing_gateways/gwA",
                           {"locked": False})
    assert status == 200 and js["locked"] is False
    assert _call(stack, "unlocked")["routing_gateway"] == "gwA"

    # a new price through the API: the next CDR pays it
    entry = dict(doc["rate_tables"][0]["entries"][0], connect_fee="0.5")
    before = _reloads(stack)
    status, _, js = it.api(addr, "PATCH", "/api/v1/rate_tables/retail",
                           {"entries": [entry]})
    assert status == 200 and js["entries"][0]["connect_fee"] == "0.5", js
    it.wait_for(lambda: _reloads(stack) > before, 2, "the reload")
    cdr = _call(stack, "repriced")
    assert cdr["fee"] == it.expected_fee(cdr["hold_ms"], entry), cdr["fee"]

    # a new mapping gateway: its source is served within a second
    before = _reloads(stack)
    t0 = time.monotonic()
    status, _, js = it.api(addr, "POST", "/api/v1/mapping_gateways",
                           {"name": "mg5", "account": "cust1",
                            "auth_mode": "ip", "ips": ["127.0.0.5"]})
    assert status == 201, js
    it.wait_for(lambda: _reloads(stack) > before, 2, "the reload")
    assert time.monotonic() - t0 < 1.0
    cdr = _call(stack, "newsource", ip="127.0.0.5")
    assert cdr["mapping_gateway"] == "mg5" and cdr["end_code"] == 200

    # the routing analysis needs a number
    status, _, js = it.api(addr, "GET", "/api/v1/route?callee=12%27x")
    assert status == 400, js
    gw_a.quit()
    gw_b.quit()


def test_tandemctl_speaks_to_the_api(stack):
    """tandemctl calls / route / lock / unlock / hangup / cdr export go
    through the API with the token; clear exit codes."""
    gw_a = stack.uas("gwA", "uas_answer.xml")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    doc = it.base_doc(gw_a.port, gw_b.port)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.start_all()
    api = ("--api", f"http://{stack.bd_http}")

    r = stack.ctl(*api, "lock", "gwA")
    assert "routing gateway gwA locked" in r.stdout
    r = stack.ctl(*api, "route", "15551230001", "mg1")
    lines = r.stdout.splitlines()
    assert any(l.split()[1:2] == ["gwB"] for l in lines
               if l[:1].isdigit()), r.stdout
    assert any(l.startswith("excluded gwA") and l.endswith("locked")
               for l in lines), r.stdout
    r = stack.ctl(*api, "unlock", "gwA")
    assert "unlocked" in r.stdout

    long_call = stack.uac("long", "uac_hold.xml", calls=1,
                          duration_ms=8000, timeout_s=30)

    def up():
        r = stack.ctl(*api, "calls")
        rows = [l.split() for l in r.stdout.splitlines()[1:]]
        return [x for x in rows if x[1] == "confirmed"] or None

    rows = it.wait_for(up, 10, "the call in tandemctl calls")
    assert rows[0][5] == "gwA", rows
    r = stack.ctl(*api, "calls", "nobody")
    assert len(r.stdout.splitlines()) == 1
    r = stack.ctl(*api, "hangup", rows[0][0])
    assert f"hung up {rows[0][0]}" in r.stdout
    long_call.finish(30)
    it.wait_for(lambda: it.cdr_rows(stack) or None, 20, "the CDR")

    r = stack.ctl(*api, "users")
    urows = [l.split() for l in r.stdout.splitlines()]
    assert urows[0][:2] == ["USER", "ROLE"] and urows[1][:2] == \
        [it.ADMIN_USER, "admin"], r.stdout

    r = stack.ctl(*api, "cdr", "export", "result=answered")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("id,setup_time,"), lines[:1]
    assert len(lines) == 2 and rows[0][0] in lines[1], lines

    # exit codes: not found 4, refused 1, usage 2, no token 1
    r = stack.ctl(*api, "hangup", "00000000-0000-0000-0000-000000000000",
                  check=False)
    assert r.returncode == 4, r.stderr
    r = stack.ctl(*api, "lock", "nogw", check=False)
    assert r.returncode == 4 and "no routing gateway" in r.stderr, r.stderr
    r = stack.ctl(*api, "cdr", "export", "result=x", check=False)
    assert r.returncode == 1 and "result" in r.stderr, r.stderr
    r = stack.ctl(*api, "cdr", "export", "colour=red", check=False)
    assert r.returncode == 2
    r = stack.ctl(*api, "calls", check=False,
                  env={"TANDEM_API_TOKEN": "tdm_" + "1" * 64})
    assert r.returncode == 1 and "HTTP 401" in r.stderr, r.stderr
    gw_a.quit()
    gw_b.quit()


def test_current_calls_with_rtp(stack):
    """GET /api/v1/calls?rtp=1: each leg's codec, DTMF method and the
    media node's RTP counters, loss and jitter, live."""
    gw_a = stack.uas("gwA", "uas_answer.xml")
    stack.provision(it.base_doc(gw_a.port, 0, gw_b=False))
    stack.start_all()
    stack.wait_media_online()
    uac = stack.uac("caller", "uac_pcap.xml", calls=1, duration_ms=6000,
                    timeout_s=40)

    def flowing():
        status, _, js = it.api(stack.bd_http, "GET", "/api/v1/calls?rtp=1")
        assert status == 200, js
        up = [c for c in js["items"] if c.get("rtp") and
              c["rtp"]["a"]["rx_packets"] > 20]
        return up or None

    call = it.wait_for(flowing, 15, "RTP counters of the live call")[0]
    assert call["codec_a"] == "PCMA" and call["codec_b"] == "PCMA", call
    assert call["dtmf_a"] in ("rfc2833", "info", "inband"), call
    assert call["dtmf_b"] in ("rfc2833", "info", "inband"), call
    for leg in ("a", "b"):
        assert call["rtp"][leg]["lost"] >= 0
        assert call["rtp"][leg]["jitter_ms"] >= 0
    assert call["rtp"]["b"]["tx_packets"] > 0
    status, _, js = it.api(stack.bd_http, "GET", "/api/v1/calls")
    assert all("rtp" not in c for c in js["items"]), js
    assert uac.finish(40) == 0
    gw_a.quit()
