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
  docs/screenshots/."""

import json
import shutil
import subprocess

import pytest

import tandem_it as it

MANAGE = it.REPO / "tests" / "web" / "manage.mjs"
SHOTS = it.REPO / "docs" / "screenshots"


def _url(stack):
    return f"http://{stack.bd_http}"


def _node(stack, *args, timeout=180):
    """Run one phase of manage.mjs; its JSON line."""
    if not (it.WEB_ROOT / "app.js").exists():
        pytest.fail("the web manager is not built: make web")
    p = subprocess.run(["node", str(MANAGE), args[0], _url(stack),
                        *args[1:]], capture_output=True, text=True,
                       timeout=timeout)
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

    # three calls of 8 s: the dashboard shows them, then 0, no reload
    uac = stack.uac("three", "uac_hold.xml", calls=3, limit=3, rate=10,
                    duration_ms=8000, timeout_s=60)
    res = _node(stack, "live", it.ADMIN_USER, it.ADMIN_PASSWORD, "3")
    assert uac.finish(60) == 0, uac.report()
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
    out = stack.dir / "screens"
    res = _node(stack, "screens", it.ADMIN_USER, it.ADMIN_PASSWORD,
                str(out), timeout=300)
    assert len(res["shots"]) == 24, res["shots"]
    SHOTS.mkdir(exist_ok=True)
    for f in res["shots"]:
        shutil.copy(f, SHOTS)


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
