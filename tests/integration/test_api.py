"""The HTTP API (docs/api.md): who may call it and the configuration
objects through the one model.

- every /api/v1 route needs a session or an API token; /healthz is open;
- login sets an HttpOnly SameSite=Strict cookie and returns the CSRF
  token; a write with the cookie and without the token is refused;
  logout ends the session; 5 wrong passwords in 10 minutes lock the user;
- configuration objects: create, read (the provisioning JSON), page,
  update with ETag/If-Match, delete; validation errors name the field and
  write nothing; every write is in the audit log;
- roles: operator, agent (its subtree), customer (itself).
"""
import json

import pytest

import tandem_it as it


def _login(stack, user, password):
    status, hdrs, js = it.api(stack.bd_http, "POST", "/api/v1/login",
                              {"username": user, "password": password},
                              token="")
    return status, hdrs, js


def _cookie(hdrs):
    for c in hdrs.get("set-cookie", []):
        if c.startswith("tandem_session="):
            return c
    return None


def _session(stack, user, password):
    status, hdrs, js = _login(stack, user, password)
    assert status == 200, js
    cookie = _cookie(hdrs)
    assert cookie, hdrs
    value = cookie.split(";", 1)[0]
    return {"Cookie": value}, js["csrf"]


def test_authentication_sessions_and_csrf(stack):
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    stack.start_daemon("billingd")
    addr = stack.bd_http

    # open: only the bare health check
    status, _, js = it.api(addr, "GET", "/healthz", token="")
    assert (status, js) == (200, {"status": "ok"})
    for path in ("/api/v1/status", "/api/v1/accounts", "/api/v1/users",
                 "/api/v1/me", "/api/v1/audit"):
        status, hdrs, js = it.api(addr, "GET", path, token="")
        assert status == 401, (path, js)
        assert js["error"]["code"] == "unauthenticated"
        assert "www-authenticate" in hdrs
    status, _, _ = it.api(addr, "GET", "/api/v1/me",
                          token="tdm_" + "0" * 64)
    assert status == 401

    # wrong password: 401, nothing set
    status, hdrs, js = _login(stack, it.ADMIN_USER, "wrong-Password-9")
    assert status == 401 and not _cookie(hdrs), js

    # login: cookie flags and a CSRF token
    status, hdrs, js = _login(stack, it.ADMIN_USER, it.ADMIN_PASSWORD)
    assert status == 200, js
    cookie = _cookie(hdrs)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    assert js["user"]["username"] == it.ADMIN_USER
    assert js["user"]["role"] == "admin"
    csrf = js["csrf"]
    sess = {"Cookie": cookie.split(";", 1)[0]}
    status, _, js = it.api(addr, "GET", "/api/v1/me", token="",
                           headers=sess)
    assert status == 200 and js["csrf"] == csrf, js

    table = {"name": "t_csrf", "entries": []}
    status, _, js = it.api(addr, "POST", "/api/v1/rate_tables", table,
                           token="", headers=sess)
    assert status == 403 and js["error"]["code"] == "csrf", js
    assert stack.scalar("SELECT count(*) FROM rate_tables WHERE name = "
                        "'t_csrf'") == 0
    status, _, js = it.api(addr, "POST", "/api/v1/rate_tables", table,
                           token="", headers=dict(sess,
                                                  **{"X-CSRF-Token": "x"}))
    assert status == 403, js
    status, _, js = it.api(addr, "POST", "/api/v1/rate_tables", table,
                           token="",
                           headers=dict(sess, **{"X-CSRF-Token": csrf}))
    assert status == 201, js

    # logout ends the session
    status, _, _ = it.api(addr, "POST", "/api/v1/logout", token="",
                          headers=dict(sess, **{"X-CSRF-Token": csrf}))
    assert status == 204
    status, _, _ = it.api(addr, "GET", "/api/v1/me", token="",
                          headers=sess)
    assert status == 401

    # the login audit: attempts and the audit log
    rows = stack.query("SELECT ok FROM login_attempts WHERE username = %s "
                       "ORDER BY id", (it.ADMIN_USER,))
    assert [r["ok"] for r in rows] == [False, True]
    acts = [r["action"] for r in stack.query(
        "SELECT action FROM audit_log WHERE actor = %s ORDER BY id",
        (it.ADMIN_USER,))]
    assert acts == ["login", "create", "logout"], acts
    # secrets never reach a log or a table in clear
    log = stack.daemon("billingd").log()
    assert it.ADMIN_PASSWORD not in log and csrf not in log
    assert it.API_TOKEN not in log
    assert stack.scalar("SELECT count(*) FROM web_sessions WHERE "
                        "token_hash LIKE 'tdm_%%'") == 0


def test_lockout_after_five_failures(stack):
    stack.start_daemon("billingd")
    for _ in range(5):
        status, _, _ = _login(stack, it.ADMIN_USER, "Wrong-password-1")
        assert status == 401
    status, hdrs, js = _login(stack, it.ADMIN_USER, it.ADMIN_PASSWORD)
    assert status == 429 and js["error"]["code"] == "locked", js
    assert hdrs.get("retry-after") == "600"
    # another user is not locked by them
    it.api(stack.bd_http, "POST", "/api/v1/users",
           {"username": "ops1", "password": "Ops-password-1",
            "role": "operator"})
    status, _, js = _login(stack, "ops1", "Ops-password-1")
    assert status == 200, js
    # unknown users are refused the same way as wrong passwords
    status, _, js = _login(stack, "nobody", "Ops-password-1")
    assert status == 401 and js["error"]["message"] == \
        "wrong username or password"
