"""Issue 10, first part: the web manager served by billingd, driven in
Debian's chromium (playwright-core, tests/web/manage.mjs).

- the files under /manage/ with the Content Security Policy, nothing else
  reachable through that path;
- 5 wrong passwords lock a user out, and the page says so;
- the dashboard's live concurrency follows sipp calls without a reload;
- a call is hung up from the current calls page (after a confirmation),
  and its CDR says OperatorHangup;
- the account form: each bad input shows its field's error and writes
  nothing; create, edit, delete (after a confirmation);
- every page at 1280x800 and 375x812 in English and Chinese: no serious
  axe-core violation, nothing wider than the phone; the screenshots go to
  docs/screenshots/;
- the registrations page lists the phones and password gateways
  registered now (raw SIP REGISTERs), and the dashboard counts only the
  phones as phones online."""

import json
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

import tandem_it as it
from sipraw import Client, challenge, digest

MANAGE = it.REPO / "tests" / "web" / "manage.mjs"
SHOTS = it.REPO / "docs" / "screenshots"


def _url(stack):
    return f"http://{stack.bd_http}"


def _node(stack, *args, timeout=180, check=True):
    """Run one phase of manage.mjs; its JSON line (with check=False, also
    when the phase failed: "problems" says why)."""
    if not (it.WEB_ROOT / "app.js").exists():
        pytest.fail("the web manager is not built: make web")
    p = subprocess.run(["node", str(MANAGE), args[0], _url(stack),
                        *args[1:]], capture_output=True, text=True,
                       timeout=timeout)
    if check or not p.stdout.strip():
        assert p.returncode == 0, f"{args[0]}: {p.stderr}\n{p.stdout}"
    return json.loads(p.stdout.strip().splitlines()[-1])


def _get(stack, path, method="GET"):
    import http.client
    c = http.client.HTTPConnection(stack.bd_http, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def test_files_served_with_csp(stack):
    stack.start_daemon("billingd")
    status, hdrs, _ = _get(stack, "/manage")
    assert status == 301 and hdrs["location"] == "/manage/"
    status, hdrs, body = _get(stack, "/manage/")
    assert status == 200 and b'<div id="app">' in body
    assert hdrs["content-type"].startswith("text/html")
    csp = hdrs["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    assert "frame-ancestors 'none'" in csp
    assert hdrs["x-content-type-options"] == "nosniff"
    status, hdrs, body = _get(stack, "/manage/app.js")
    assert status == 200 and hdrs["content-type"].startswith(
        "text/javascript") and len(body) > 1000
    status, hdrs, body = _get(stack, "/manage/app.js", "HEAD")
    assert status == 200 and body == b""
    for bad in ("/manage/../billingd.conf", "/manage/%2e%2e/x",
                "/manage/.hidden", "/manage/nope.js", "/manage//etc/passwd"):
        status, hdrs, _ = _get(stack, bad)
        assert status == 404, bad
        assert "content-security-policy" in hdrs
    status, _, _ = _get(stack, "/manage/", "POST")
    assert status == 405
    # no secret in the page: it is the same for everyone, before sign-in
    _, _, page = _get(stack, "/manage/")
    assert it.ADMIN_PASSWORD.encode() not in page


def test_wrong_password_five_times_locks_out(stack):
    stack.start_daemon("billingd")
    it.api(stack.bd_http, "POST", "/api/v1/users",
           {"username": "ops1", "password": "Ops-password-1",
            "role": "operator"})
    res = _node(stack, "lockout", "ops1", "Ops-password-1")
    print(res["messages"])
    assert all("wrong" in m.lower() for m in res["messages"][:5])
    assert "locked" in res["messages"][5].lower()


def _switch_up(stack):
    """cust1 -> gwA (a sipp UAS that answers), media not relayed."""
    gw = stack.uas("gwA", "uas_answer.xml", rtp_echo=False)
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0"})
    stack.provision(doc)
    stack.start_all()
    return gw


def test_live_dashboard_and_hangup(stack):
    _switch_up(stack)

    # three calls of 8 s, started once the page watches the dashboard
    # (chromium may take longer to start than a call lasts): it shows
    # them, then 0, no reload
    page = subprocess.Popen(["node", str(MANAGE), "live", _url(stack),
                             it.ADMIN_USER, it.ADMIN_PASSWORD, "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = page.stdout.readline()
        assert line.strip() == "WATCHING", line + page.stderr.read()
        uac = stack.uac("three", "uac_hold.xml", calls=3, limit=3, rate=10,
                        duration_ms=8000, timeout_s=60)
        out, err = page.communicate(timeout=120)
    finally:
        page.kill()
    assert uac.finish(60) == 0, uac.report()
    assert page.returncode == 0, f"live: {err}\n{out}"
    res = json.loads(out.strip().splitlines()[-1])
    print("dashboard:", res)
    assert res["max"] >= 3 and res["last"] == 0 and res["reloads"] == 0

    # a long call, hung up from the page
    long = stack.uac("long", "uac_hold.xml", calls=1, limit=1,
                     duration_ms=60000, timeout_s=90)
    res = _node(stack, "hangup", it.ADMIN_USER, it.ADMIN_PASSWORD)
    long.finish(30)
    assert "15551230001" in res["confirm"], res
    it.wait_for(lambda: stack.query(
        "SELECT end_reason FROM cdr WHERE id = %s", (res["hung_up"],)),
        20, "the hung-up call's CDR")
    row = stack.query("SELECT end_reason FROM cdr WHERE id = %s",
                      (res["hung_up"],))[0]
    assert row["end_reason"] == "OperatorHangup", row


def test_pages_in_both_languages_and_sizes(stack):
    _switch_up(stack)
    # a few calls, so that CDRs, statistics and revenue show something
    uac = stack.uac("some", "uac_hold.xml", calls=4, limit=4, rate=10,
                    duration_ms=2000, timeout_s=30)
    assert uac.finish(30) == 0, uac.report()
    it.wait_for(lambda: stack.scalar("SELECT count(*) FROM cdr") >= 4, 20,
                "the CDRs")
    out = stack.dir / "screens"
    res = _node(stack, "screens", it.ADMIN_USER, it.ADMIN_PASSWORD,
                str(out), timeout=600, check=False)
    # kept even when a page is wrong, so that it can be looked at
    SHOTS.mkdir(exist_ok=True)
    for f in res["shots"]:
        shutil.copy(f, SHOTS)
    assert not res["problems"], res["problems"]
    assert len(res["shots"]) == 4 * (1 + 24), res["shots"]


def test_account_form_errors_and_writes(stack):
    """The account form: an empty name, a bad amount, a value out of range
    and a duplicate name each show the field's error and write nothing; a
    good account is created, edited (only the changed field) and another
    one deleted after a confirmation."""
    stack.start_daemon("billingd")
    before = stack.scalar("SELECT count(*) FROM accounts")
    res = _node(stack, "config", it.ADMIN_USER, it.ADMIN_PASSWORD)
    print(res)
    errs = res["errors"]
    assert errs["empty_name"] and errs["bad_money"] and \
        errs["out_of_range"] and errs["duplicate"], errs
    assert "balance" in errs["bad_money"] or "decimal" in errs["bad_money"]
    assert "webcust" in res["confirm"] or "webtmp" in res["confirm"]
    # one account more: the bad attempts wrote nothing, webtmp is gone
    assert stack.scalar("SELECT count(*) FROM accounts") == before + 1
    _, _, acc = it.api(stack.bd_http, "GET", "/api/v1/accounts/webcust")
    assert acc["credit_limit"] in ("2", "2.0000", "2.000000"), acc
    assert acc["max_concurrent_calls"] == 3, acc
    assert float(acc["balance"]) == 5, acc


def _balance(stack, account):
    _, _, acc = it.api(stack.bd_http, "GET", f"/api/v1/accounts/{account}")
    return Decimal(acc["balance"])


def _newest_cdr(stack, account):
    rows = stack.query(
        "SELECT id, routing_gateway, end_reason, callee FROM cdr "
        "WHERE account = %s ORDER BY setup_time DESC LIMIT 1", (account,))
    return rows[0] if rows else None


def test_operator_scenario(stack):
    """Done-when 1: an operator builds a switch in the browser (a rate
    table by CSV import, a vendor, a customer, a mapping gateway, two
    routing gateways); a sipp call shows in current calls and is hung up
    there; its CDR is found by number; a top-up changes the balance;
    locking the gateway sends the next call to the other one.  Then an
    agent and a customer see only their part."""
    gw_a = stack.uas("gwA", "uas_answer.xml", rtp_echo=False)
    gw_b = stack.uas("gwB", "uas_answer.xml", rtp_echo=False)
    stack.provision({"system_parameters": {
        "SS_MEDIAPROXYMODE": "0", "SS_FAILOVER_NO_PROVISIONAL_MS": "3000"}})
    stack.start_all()
    res = _node(stack, "build", it.ADMIN_USER, it.ADMIN_PASSWORD,
                f"{gw_a.port},{gw_b.port}")
    print("built:", res["made"], res["errors"])
    assert "65535" in res["errors"]["routing_gateways.port"], res
    assert "exists" in res["errors"]["rate_tables.name"], res
    assert stack.scalar("SELECT count(*) FROM routing_gateways "
                        "WHERE name = 'webbad'") == 0
    _, _, rt = it.api(stack.bd_http, "GET", "/api/v1/rate_tables/websell")
    assert [e["prefix"] for e in rt["entries"]] == ["1", "1555"], rt
    assert rt["entries"][1]["area_name"] == "US, test", rt

    def route():
        _, _, r = it.api(stack.bd_http, "GET",
                         "/api/v1/route?callee=15551230001"
                         "&mapping_gateway=webmg")
        return r
    it.wait_for(lambda: [c["gateway"] for c in route()["candidates"]] ==
                ["webgwA", "webgwB"], 20, "signalingd to load the forms")

    # a call in current calls, hung up from the page
    long = stack.uac("long", "uac_hold.xml", calls=1, limit=1,
                     duration_ms=60000, timeout_s=90)
    res = _node(stack, "hangup", it.ADMIN_USER, it.ADMIN_PASSWORD)
    long.finish(30)
    it.wait_for(lambda: _newest_cdr(stack, "webcust"), 20, "the CDR")
    cdr = _newest_cdr(stack, "webcust")
    assert cdr["id"] == res["hung_up"], (cdr, res)
    assert cdr["end_reason"] == "OperatorHangup", cdr
    assert cdr["routing_gateway"] == "webgwA", cdr

    # its CDR found by number
    res = _node(stack, "cdr", it.ADMIN_USER, it.ADMIN_PASSWORD,
                f"15551230001,{cdr['id']}")
    print("cdr rows:", res["rows"])
    assert any("webcust" in r and "15551230001" in r for r in res["rows"])
    assert "number=15551230001" in res["export"], res["export"]

    # a top-up of 25: the page's balance and the ledger's move by 25
    before = _balance(stack, "webcust")
    res = _node(stack, "topup", it.ADMIN_USER, it.ADMIN_PASSWORD,
                "webcust,25")
    print("top-up:", res)
    assert _balance(stack, "webcust") == before + 25
    assert "decimal" in res["bad_amount"].lower(), res
    assert "webcust" in res["confirm"], res

    # lock webgwA in its form: the next call goes to webgwB
    res = _node(stack, "lock", it.ADMIN_USER, it.ADMIN_PASSWORD, "webgwA")
    assert res["locked"] == "✓", res
    it.wait_for(lambda: [c["gateway"] for c in route()["candidates"]] ==
                ["webgwB"], 20, "signalingd to see the lock")
    uac = stack.uac("after-lock", "uac_hold.xml", calls=1, limit=1,
                    duration_ms=1000, timeout_s=30)
    assert uac.finish(30) == 0, uac.report()
    it.wait_for(lambda: _newest_cdr(stack, "webcust")["id"] != cdr["id"],
                20, "the second CDR")
    assert _newest_cdr(stack, "webcust")["routing_gateway"] == "webgwB"

    # an agent: its subtree and the menus of its authorizations
    for acc in ({"name": "webagent", "type": "customer",
                 "rate_table": "websell",
                 "agent_authorizations": ["manage_accounts"]},
                {"name": "websub", "type": "customer", "agent": "webagent",
                 "rate_table": "websell"}):
        status, _, body = it.api(stack.bd_http, "POST", "/api/v1/accounts",
                                 acc)
        assert status == 201, body
    for user, role, acc in (("webagent1", "agent", "webagent"),
                            ("webcust1", "customer", "webcust")):
        status, _, body = it.api(stack.bd_http, "POST", "/api/v1/users",
                                 {"username": user, "role": role,
                                  "account": acc,
                                  "password": f"{user}-Password-1"})
        assert status == 201, body
    out = stack.dir / "roles"
    agent = _node(stack, "roles", "webagent1", "webagent1-Password-1",
                  str(out))
    print("agent:", agent)
    assert set(agent["menu"]) == {"my_account", "cdrs", "stats", "payments",
                                  "accounts"}, agent["menu"]
    assert set(agent["accounts"]) == {"webagent", "websub"}, agent
    assert agent["can_create"] and agent["refused"] == 403, agent
    assert agent["tree"] == [["webagent", ""], ["websub", "webagent"]], agent

    cust = _node(stack, "roles", "webcust1", "webcust1-Password-1",
                 str(out))
    print("customer:", cust)
    assert cust["menu"] == ["my_account", "cdrs", "payments"], cust["menu"]
    assert cust["cdr_accounts"] and set(cust["cdr_accounts"]) == \
        {"webcust"}, cust
    assert cust["refused"] == 403, cust
    SHOTS.mkdir(exist_ok=True)
    for f in agent["shots"] + cust["shots"]:
        shutil.copy(f, SHOTS)


def test_money_display_follows_parameters(stack):
    """Every role learns how to show money from /me: SERVER_CURRENCY and
    SERVER_BILLING_FEE_PRECISION, checked like any parameter."""
    stack.start_daemon("billingd")
    _, _, me = it.api(stack.bd_http, "GET", "/api/v1/me")
    assert me["display"] == {"currency": "USD", "fee_precision": 4}, me
    status, _, body = it.api(stack.bd_http, "PATCH",
                             "/api/v1/system_parameters",
                             {"SERVER_CURRENCY": "CNY",
                              "SERVER_BILLING_FEE_PRECISION": "2"})
    assert status == 200, body
    _, _, me = it.api(stack.bd_http, "GET", "/api/v1/me")
    assert me["display"] == {"currency": "CNY", "fee_precision": 2}, me
    status, _, body = it.api(stack.bd_http, "PATCH",
                             "/api/v1/system_parameters",
                             {"SERVER_CURRENCY": "RENMINBI-YUAN"})
    assert status == 400 and "SERVER_CURRENCY" in json.dumps(body), body


def _register(stack, client, user, pw):
    """A REGISTER with digest from client; the final code."""
    ruri = f"sip:127.0.0.1:{stack.sip_port}"
    code, text = client.request("REGISTER", ruri, user, user)
    if code == 401:
        cred = digest(user, pw, "REGISTER", ruri, challenge(text))
        code = client.request("REGISTER", ruri, user, user, auth=cred)[0]
    return code


def test_registrations_page(stack):
    """Issue 13, item 4: phone 7001 and the password gateway pbx (user
    pbx1) register, phone 7002 does not.  The dashboard says 1 of 2 phones
    online and 1 mapping gateway registered; its link opens the
    registrations page, whose rows show each one's number, kind, account,
    contact and source; the filter and the kind work on the server."""
    doc = it.base_doc(stack.port(), 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    doc["phones"] = [{"number": n, "account": "cust1",
                      "password": "Phone-secret-1"} for n in ("7001", "7002")]
    doc["mapping_gateways"].append(
        {"name": "pbx", "account": "cust1", "auth_mode": "password",
         "username": "pbx1", "password": "Pbx-secret-1"})
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    phone = Client(stack, "127.0.0.61")
    pbx = Client(stack, "127.0.0.62")
    assert _register(stack, phone, "7001", "Phone-secret-1") == 200
    assert _register(stack, pbx, "pbx1", "Pbx-secret-1") == 200
    it.wait_for(lambda: stack.scalar(
        "SELECT count(*) FROM registrations") == 2, 10,
        "the two registration rows")

    # the API: phones online are phones only; kind= and q= filter
    _, _, dash = it.api(stack.bd_http, "GET", "/api/v1/dashboard")
    assert dash["phones"] == {"total": 2, "online": 1}, dash
    assert dash["mapping_gateways"]["registered"] == 1, dash
    _, _, js = it.api(stack.bd_http, "GET",
                      "/api/v1/registrations?kind=phone")
    assert [g["user"] for g in js["items"]] == ["7001"], js
    assert js["items"][0]["account"] == "cust1" and \
        js["items"][0]["gateway"] is None, js
    _, _, js = it.api(stack.bd_http, "GET", "/api/v1/registrations?q=PBX")
    assert [(g["user"], g["kind"], g["gateway"], g["account"])
            for g in js["items"]] == [("pbx1", "mapping_gateway", "pbx",
                                       "cust1")], js
    status, _, _ = it.api(stack.bd_http, "GET",
                          "/api/v1/registrations?kind=trunk")
    assert status == 400

    out = stack.dir / "regs"
    res = _node(stack, "regs", it.ADMIN_USER, it.ADMIN_PASSWORD, str(out),
                check=False)
    SHOTS.mkdir(exist_ok=True)
    for f in res.get("shots", []):
        shutil.copy(f, SHOTS)
    print("registrations page:", {k: v for k, v in res.items()
                                  if k != "shots"})
    assert not res["problems"], res["problems"]
    assert res["dash_phones"] == "1 / 2", res
    assert "1 registered" in res["dash_mg"], res
    assert "registrations" in res["menu"], res["menu"]
    got = {r["reg"]: r for r in res["rows"]}
    assert sorted(got) == ["7001", "pbx1"], res["rows"]
    p, g = got["7001"], got["pbx1"]
    assert p["user"] == "7001" and p["kind"] == "Phone" and \
        p["kind_attr"] == "phone" and p["account"] == "cust1", p
    assert p["contact"] == f"sip:7001@127.0.0.61:{phone.port}", p
    assert p["source"].startswith("127.0.0.61"), p
    assert g["user"] == "pbx1" and g["kind"] == "Mapping gateway pbx" and \
        g["kind_attr"] == "mapping_gateway" and \
        g["gateway_link"] == "#/mapping_gateways/pbx", g
    assert g["contact"] == f"sip:pbx1@127.0.0.62:{pbx.port}", g
    assert g["source"].startswith("127.0.0.62"), g
    node = stack.scalar("SELECT node FROM registrations WHERE number = "
                        "'7001'")
    assert p["node"] == node and p["expires"], p
    # Expires: 300 asked for, so between 4 and 5 minutes left
    assert re.fullmatch(r"[45]:\d\d", p["left"]) or p["left"] == "5:00", p
    assert res["filtered"] == ["pbx1"], res
    assert res["phones_only"] == ["7001"], res
    assert res["nothing"], res
