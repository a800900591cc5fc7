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


def _sub(obj, keys):
    return {k: obj[k] for k in keys}


def test_config_objects_round_trip_through_the_model(stack):
    doc = it.base_doc(stack.port(), stack.port())
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http

    # what provisioning wrote reads back as the same JSON
    for sec in ("rate_tables", "accounts", "mapping_gateways",
                "routing_gateways"):
        for want in doc[sec]:
            status, hdrs, got = it.api(addr, "GET",
                                       f"/api/v1/{sec}/{want['name']}")
            assert status == 200, (sec, got)
            assert hdrs["etag"].startswith('"'), hdrs
            for k, v in want.items():
                if k in ("balance",) or (sec == "mapping_gateways" and
                                         k == "password"):
                    continue
                if isinstance(v, list) and k in ("prefixes", "ips"):
                    assert sorted(got[k]) == sorted(v), (sec, k, got[k], v)
                elif k == "entries":
                    assert [_sub(e, v[0].keys()) for e in got[k]] == \
                        [dict(e, **{m: it_money_text(e[m]) for m in
                                    ("connect_fee", "first_rate",
                                     "next_rate")}) for e in v], got[k]
                else:
                    assert got[k] == v, (sec, k, got[k], v)

    # create: the same object a provisioning file takes
    gw = {"name": "gwC", "account": "vend1", "address": "127.0.0.1",
          "port": 5099, "prefixes": ["44"], "priority": 3}
    status, hdrs, got = it.api(addr, "POST", "/api/v1/routing_gateways", gw)
    assert status == 201, got
    assert got["port"] == 5099 and got["prefixes"] == ["44"]
    etag = hdrs["etag"]
    status, _, got = it.api(addr, "POST", "/api/v1/routing_gateways", gw)
    assert status == 409 and got["error"]["code"] == "exists", got

    # a page
    status, _, page = it.api(addr, "GET",
                             "/api/v1/routing_gateways?limit=2&offset=1")
    assert status == 200, page
    assert page["total"] == 3 and page["limit"] == 2 and \
        page["offset"] == 1
    assert [g["name"] for g in page["items"]] == ["gwB", "gwC"]
    status, _, page = it.api(addr, "GET",
                             "/api/v1/routing_gateways?offset=50")
    assert status == 200 and page["items"] == [] and page["total"] == 3
    for bad in ("limit=0", "limit=1001", "limit=x", "offset=-1",
                "limit=1e3", "offset=1;DROP"):
        status, _, js = it.api(addr, "GET",
                               f"/api/v1/routing_gateways?{bad}")
        assert status == 400, (bad, js)

    # update with the ETag; a stale one is refused
    status, hdrs, got = it.api(addr, "PATCH", "/api/v1/routing_gateways/gwC",
                               {"port": 5100}, headers={"If-Match": etag})
    assert status == 200 and got["port"] == 5100, got
    assert hdrs["etag"] != etag
    status, _, got = it.api(addr, "PATCH", "/api/v1/routing_gateways/gwC",
                            {"port": 5101}, headers={"If-Match": etag})
    assert status == 412 and got["error"]["code"] == "stale", got
    assert stack.scalar("SELECT port FROM routing_gateways WHERE name = "
                        "'gwC'") == 5100

    # validation: the field is named and nothing is written
    cases = [
        ({"port": 70000}, "port"),
        ({"port": "5060"}, "port"),
        ({"colour": "red"}, "colour"),
        ({"account": "nobody"}, "account"),
        ({"prefixes": ["12a"]}, "prefixes[0]"),
        ({"name": "other"}, "name"),
        ({"delete": True}, "delete"),
        ({"address": "'; DROP TABLE accounts; --"}, "address"),
    ]
    for body, field in cases:
        status, _, js = it.api(addr, "PATCH",
                               "/api/v1/routing_gateways/gwC", body)
        assert status == 400, (body, js)
        assert js["error"]["field"] == field, (body, js)
    status, _, js = it.api(addr, "PATCH", "/api/v1/routing_gateways/gwC",
                           raw=b"{not json")
    assert status == 400 and js["error"]["code"] == "bad_json", js
    status, _, js = it.api(addr, "PATCH", "/api/v1/routing_gateways/gwC",
                           raw=b"[1]")
    assert status == 400, js
    assert stack.scalar("SELECT port FROM routing_gateways WHERE name = "
                        "'gwC'") == 5100
    assert stack.scalar("SELECT count(*) FROM accounts") == \
        len(doc["accounts"])

    # names with SQL metacharacters are only names
    status, _, js = it.api(addr, "GET",
                           "/api/v1/accounts/x%27%20OR%20%271%27%3D%271")
    assert status == 404, js
    status, _, js = it.api(addr, "GET", "/api/v1/accounts/a%2")
    assert status == 400, js

    # delete, then it is gone; a referenced object cannot go
    status, _, _ = it.api(addr, "DELETE", "/api/v1/routing_gateways/gwC")
    assert status == 204
    status, _, _ = it.api(addr, "GET", "/api/v1/routing_gateways/gwC")
    assert status == 404
    status, _, _ = it.api(addr, "DELETE", "/api/v1/routing_gateways/gwC")
    assert status == 404
    status, _, js = it.api(addr, "DELETE", "/api/v1/accounts/vend1")
    assert status == 409, js
    assert stack.scalar("SELECT count(*) FROM accounts WHERE name = "
                        "'vend1'") == 1

    # unknown resources and methods
    status, _, _ = it.api(addr, "GET", "/api/v1/nothing")
    assert status == 404
    status, hdrs, _ = it.api(addr, "PUT", "/api/v1/accounts/cust1", {})
    assert status == 405 and "PATCH" in hdrs["allow"], hdrs

    # the audit log: who did what, with the change lines
    status, _, audit = it.api(addr, "GET",
                              "/api/v1/audit?object=routing_gateways")
    assert status == 200, audit
    acts = [(a["action"], a["object"], a["actor"]) for a in audit["items"]]
    assert acts == [("delete", "routing_gateways/gwC", "admin"),
                    ("update", "routing_gateways/gwC", "admin"),
                    ("create", "routing_gateways/gwC", "admin")], acts
    assert "5099 -> 5100" in audit["items"][1]["detail"]["changes"]

    # system parameters: admin only, checked like a file
    status, _, js = it.api(addr, "PATCH", "/api/v1/system_parameters",
                           {"SS_GATEWAY_SWITCH_LIMIT": "7"})
    assert status == 200, js
    limit = next(p for p in js["items"]
                 if p["name"] == "SS_GATEWAY_SWITCH_LIMIT")
    assert limit["value"] == "7" and limit["default"] == "5"
    status, _, js = it.api(addr, "PATCH", "/api/v1/system_parameters",
                           {"SS_GATEWAY_SWITCH_LIMIT": "1000"})
    assert status == 400 and js["error"]["field"] == \
        "SS_GATEWAY_SWITCH_LIMIT", js


def it_money_text(text):
    """A money string as the API writes it: no trailing zeros."""
    if "." not in text:
        return text
    text = text.rstrip("0").rstrip(".")
    return text


def test_roles_see_and_change_only_what_they_may(stack):
    doc = it.base_doc(stack.port(), 0, gw_b=False)
    doc["accounts"] += [
        {"name": "agentA", "type": "customer", "rate_table": "retail"},
        {"name": "subA1", "type": "customer", "agent": "agentA",
         "rate_table": "retail"},
        {"name": "subA2", "type": "customer", "agent": "subA1",
         "rate_table": "retail"},
        {"name": "agentB", "type": "customer", "rate_table": "retail"},
        {"name": "subB1", "type": "customer", "agent": "agentB",
         "rate_table": "retail"},
    ]
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http
    users = {"op": ("operator", None), "agA": ("agent", "agentA"),
             "agB": ("agent", "agentB"), "cu": ("customer", "subA1")}
    tokens = {}
    for name, (role, acc) in users.items():
        body = {"username": name, "password": f"{name}-Password-1",
                "role": role}
        if acc:
            body["account"] = acc
        status, _, js = it.api(addr, "POST", "/api/v1/users", body)
        assert status == 201, js
        assert "password" not in js and "password_hash" not in js
        status, _, js = _login(stack, name, f"{name}-Password-1")
        assert status == 200, js
        sess, csrf = _session(stack, name, f"{name}-Password-1")
        tokens[name] = (sess, csrf)

    def call(who, method, path, body=None):
        sess, csrf = tokens[who]
        return it.api(addr, method, path, body, token="",
                      headers=dict(sess, **{"X-CSRF-Token": csrf}))

    # a role without a needed account is refused; a bad role too
    status, _, js = it.api(addr, "POST", "/api/v1/users",
                           {"username": "x1", "password": "x1-Password-1",
                            "role": "agent"})
    assert status == 400 and js["error"]["field"] == "account", js
    status, _, js = it.api(addr, "POST", "/api/v1/users",
                           {"username": "x1", "password": "short",
                            "role": "admin"})
    assert status == 400 and js["error"]["field"] == "password", js

    # operator: configuration yes, users and system parameters no
    assert call("op", "GET", "/api/v1/users")[0] == 403
    assert call("op", "GET", "/api/v1/system_parameters")[0] == 403
    status, _, js = call("op", "POST", "/api/v1/gateway_groups",
                         {"name": "g1", "capacity": 10})
    assert status == 201, js
    assert call("op", "GET", "/api/v1/status")[0] == 200

    # agents: their subtree on every list and get, nothing else
    def names(who, sec):
        status, _, js = call(who, "GET", f"/api/v1/{sec}")
        assert status == 200, js
        return sorted(o["name"] for o in js["items"])

    assert names("agA", "accounts") == ["agentA", "subA1", "subA2"]
    assert names("agB", "accounts") == ["agentB", "subB1"]
    assert names("cu", "accounts") == ["subA1"]
    assert names("agA", "rate_tables") == ["retail"]
    for who, other in (("agA", "subB1"), ("agB", "subA1"),
                       ("agA", "cust1"), ("cu", "subA2"), ("cu", "agentA")):
        status, _, js = call(who, "GET", f"/api/v1/accounts/{other}")
        assert status == 404, (who, other, js)
    assert call("agA", "GET", "/api/v1/accounts/subA2")[0] == 200
    for who in ("agA", "cu"):
        for path in ("/api/v1/routing_gateways", "/api/v1/gateway_groups",
                     "/api/v1/users", "/api/v1/audit", "/api/v1/status",
                     "/api/v1/work_calendars"):
            assert call(who, "GET", path)[0] == 403, (who, path)
        status, _, js = call(who, "POST", "/api/v1/accounts",
                             {"name": "evil", "type": "customer"})
        assert status == 403, js
        status, _, js = call(who, "PATCH", "/api/v1/accounts/subA1",
                             {"credit_limit": "1000"})
        assert status == 403, js
    assert stack.scalar("SELECT credit_limit FROM accounts WHERE name = "
                        "'subA1'") == 0

    # /me for everyone; own password change needs the current one
    status, _, js = call("cu", "GET", "/api/v1/me")
    assert status == 200 and js["user"]["account"] == "subA1", js
    status, _, js = call("cu", "PATCH", "/api/v1/me",
                         {"password": "New-password-22"})
    assert status == 400 and js["error"]["field"] == "current_password"
    status, _, js = call("cu", "PATCH", "/api/v1/me",
                         {"role": "admin"})
    assert status == 403, js
    status, _, js = call("cu", "PATCH", "/api/v1/me",
                         {"password": "New-password-22",
                          "current_password": "cu-Password-1",
                          "language": "zh-CN"})
    assert status == 200 and js["user"]["language"] == "zh-CN", js
    # the password change ended the old sessions
    assert call("cu", "GET", "/api/v1/me")[0] == 401
    assert _login(stack, "cu", "New-password-22")[0] == 200

    # the last admin cannot be removed or disabled
    status, _, js = it.api(addr, "PATCH", f"/api/v1/users/{it.ADMIN_USER}",
                           {"enabled": False})
    assert status == 409, js
    status, _, js = it.api(addr, "DELETE", f"/api/v1/users/{it.ADMIN_USER}")
    assert status == 409, js
    # a disabled user cannot log in
    status, _, js = it.api(addr, "PATCH", "/api/v1/users/agB",
                           {"enabled": False})
    assert status == 200 and js["enabled"] is False, js
    assert call("agB", "GET", "/api/v1/me")[0] == 401
    assert _login(stack, "agB", "agB-Password-1")[0] == 401


def test_openapi_document_is_the_served_one(stack):
    """docs/openapi.json is what billingd serves and what tandemctl
    prints; every response of these tests is checked against it."""
    stack.start_daemon("billingd")
    status, _, served = it.api(stack.bd_http, "GET", "/api/v1/openapi.json")
    assert status == 200
    assert served == it.openapi_doc()
    printed = json.loads(stack.ctl("openapi").stdout)
    assert printed == served
    assert served["openapi"].startswith("3.1")
    # every configuration section has its paths
    for sec in ("accounts", "routing_gateways", "phones", "rate_tables"):
        assert f"/api/v1/{sec}" in served["paths"]
        assert f"/api/v1/{sec}/{{name}}" in served["paths"]
    status, _, _ = it.api(stack.bd_http, "GET", "/api/v1/openapi.json",
                          token="")
    assert status == 401


def test_agents_write_within_their_authorizations(stack):
    """An agent changes only its subtree, only with the authorizations it
    holds, never its own account, never money from nothing, and grants
    only what it has (SPEC §7, digest 1 T17)."""
    doc = it.base_doc(stack.port(), 0, gw_b=False)
    doc["accounts"] += [
        {"name": "agentA", "type": "customer", "rate_table": "retail",
         "agent_authorizations": ["manage_accounts", "add_delete_gateways",
                                  "modify_gateway_info"]},
        {"name": "subA1", "type": "customer", "agent": "agentA",
         "rate_table": "retail"},
        {"name": "agentB", "type": "customer", "rate_table": "retail"},
        {"name": "subB1", "type": "customer", "agent": "agentB",
         "rate_table": "retail"},
    ]
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http
    for user, acc in (("agA", "agentA"), ("agB", "agentB")):
        stack.ctl("user", "add", user, "agent", acc,
                  input=f"{user}-Password-1\n")
    tok = {u: stack.ctl("user", "token", u, "t").stdout.strip()
           for u in ("agA", "agB")}

    def call(who, method, path, body=None):
        status, _, js = it.api(addr, method, path, body, token=tok[who])
        return status, js

    new = {"name": "subA3", "type": "customer", "agent": "agentA",
           "rate_table": "retail"}
    assert call("agA", "POST", "/api/v1/accounts", new)[0] == 201
    assert stack.scalar("SELECT a.name FROM accounts s JOIN accounts a ON "
                        "a.id = s.agent_id WHERE s.name = 'subA3'") == \
        "agentA"
    refused = [
        ("POST", "/api/v1/accounts", {"name": "x1", "type": "customer"}),
        ("POST", "/api/v1/accounts", dict(new, name="x2", agent="agentB")),
        ("POST", "/api/v1/accounts", dict(new, name="x3",
                                          balance="1000")),
        ("PATCH", "/api/v1/accounts/subB1", {"credit_limit": "5"}),
        ("PATCH", "/api/v1/accounts/agentA", {"credit_limit": "5"}),
        ("PATCH", "/api/v1/accounts/nobody", {"credit_limit": "5"}),
        ("PATCH", "/api/v1/accounts/subA1",
         {"agent_authorizations": ["pay_sub_accounts"]}),
        ("PATCH", "/api/v1/accounts/subA1", {"agent": "agentB"}),
        ("DELETE", "/api/v1/accounts/cust1", None),
        ("POST", "/api/v1/phones", {"number": "5551000", "account": "subA1",
                                    "password": "Phone-pass-1"}),
        ("POST", "/api/v1/mapping_gateways",
         {"name": "mgX", "account": "cust1", "ips": ["127.0.0.9"]}),
        ("DELETE", "/api/v1/mapping_gateways/mg1", None),
        ("POST", "/api/v1/routing_gateways",
         {"name": "gwX", "account": "vend1", "address": "127.0.0.1"}),
    ]
    for method, path, body in refused:
        status, js = call("agA", method, path, body)
        assert status == 403, (method, path, body, js)
    assert stack.scalar("SELECT count(*) FROM accounts WHERE name LIKE "
                        "'x_'") == 0
    assert stack.scalar("SELECT credit_limit FROM accounts WHERE name = "
                        "'subB1'") == 0

    status, js = call("agA", "PATCH", "/api/v1/accounts/subA1",
                      {"credit_limit": "7",
                       "agent_authorizations": ["manage_accounts"]})
    assert status == 200 and js["credit_limit"] == "7", js
    status, js = call("agA", "POST", "/api/v1/mapping_gateways",
                      {"name": "mgA", "account": "subA1",
                       "ips": ["127.0.0.7"]})
    assert status == 201, js
    status, js = call("agA", "PATCH", "/api/v1/mapping_gateways/mgA",
                      {"ips": ["127.0.0.8"]})
    assert status == 200 and js["ips"] == ["127.0.0.8"], js
    status, js = call("agA", "PATCH", "/api/v1/mapping_gateways/mgA",
                      {"max_concurrent_calls": 5})
    assert status == 403 and "modify_gateway_capacity" in \
        js["error"]["message"], js
    assert call("agA", "DELETE", "/api/v1/mapping_gateways/mgA")[0] == 204
    # an agent without authorizations changes nothing
    status, js = call("agB", "PATCH", "/api/v1/accounts/subB1",
                      {"credit_limit": "1"})
    assert status == 403 and "manage_accounts" in js["error"]["message"]
    acts = stack.query("SELECT actor, action, object FROM audit_log WHERE "
                       "actor = 'agA' ORDER BY id")
    assert [(a["action"], a["object"]) for a in acts] == [
        ("create", "accounts/subA3"), ("update", "accounts/subA1"),
        ("create", "mapping_gateways/mgA"),
        ("update", "mapping_gateways/mgA"),
        ("delete", "mapping_gateways/mgA")], acts


def test_agent_scope_on_every_list(stack):
    """An agent never sees another agent's subtree, and a customer only
    itself, on every list and get that carries accounts' data: accounts,
    mapping gateways, phones, rate tables, CDRs (list and CSV), payments,
    account statistics."""
    import time
    import uuid
    doc = it.base_doc(stack.port(), 0, gw_b=False)
    doc["rate_tables"].append({"name": "tb", "entries": [
        dict(doc["rate_tables"][0]["entries"][0])]})
    doc["accounts"] += [
        {"name": "agA", "type": "customer", "rate_table": "retail"},
        {"name": "subA", "type": "customer", "agent": "agA",
         "rate_table": "retail", "balance": "10"},
        {"name": "agB", "type": "customer", "rate_table": "tb",
         "agent_authorizations": ["pay_sub_accounts"], "balance": "10"},
        {"name": "subB", "type": "customer", "agent": "agB",
         "rate_table": "tb", "balance": "10"},
    ]
    doc["mapping_gateways"] += [
        {"name": "mgA", "account": "subA", "ips": ["127.0.0.21"]},
        {"name": "mgB", "account": "subB", "ips": ["127.0.0.22"]}]
    doc["phones"] = [{"number": "7001", "account": "subA",
                      "password": "Phone-pass-A1"},
                     {"number": "7002", "account": "subB",
                      "password": "Phone-pass-B1"}]
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http
    now = int(time.time() * 1000) - 60000
    for acc in ("subA", "subB", "cust1"):
        cdr = {"id": str(uuid.uuid4()), "account": acc,
               "callee": "15551230001", "caller": "5550100",
               "mapping_gateway": "x", "setup_ms": now,
               "answer_ms": now + 1000, "end_ms": now + 9000,
               "hold_ms": 8000, "end_code": 200, "end_reason": "Normal"}
        rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit", {"cdr": cdr})
        assert rc == 0, (out, err)
    it.api(addr, "POST", "/api/v1/payments",
           {"kind": "transfer", "account": "agB", "sub_account": "subB",
            "amount": "1"})
    it.api(addr, "POST", "/api/v1/payments",
           {"kind": "topup", "account": "subA", "amount": "1"})
    tok = {}
    for user, role, acc in (("ua", "agent", "agA"), ("ub", "agent", "agB"),
                            ("cb", "customer", "subB")):
        stack.ctl("user", "add", user, role, acc,
                  input=f"{user}-Password-1\n")
        tok[user] = stack.ctl("user", "token", user, "t").stdout.strip()

    def names(user, path, key):
        status, _, js = it.api(addr, "GET", path, token=tok[user])
        assert status == 200, (user, path, js)
        return sorted({o[key] for o in js["items"]})

    mine = {"ua": {"agA", "subA"}, "ub": {"agB", "subB"}, "cb": {"subB"}}
    for user, accs in mine.items():
        assert set(names(user, "/api/v1/accounts", "name")) == accs
        assert set(names(user, "/api/v1/mapping_gateways", "account")) \
            <= accs
        assert set(names(user, "/api/v1/phones", "account")) <= accs
        assert set(names(user, "/api/v1/cdrs", "account")) <= accs
        assert names(user, "/api/v1/cdrs", "account"), user
        assert set(names(user, "/api/v1/payments", "account")) <= accs
        assert set(names(user, "/api/v1/stats/accounts", "account")) <= accs
        status, _, csv_text = it.api(addr, "GET", "/api/v1/cdrs.csv",
                                     token=tok[user])
        for line in csv_text.splitlines()[1:]:
            assert any(f",{a}," in line for a in accs), (user, line)
    assert names("ua", "/api/v1/rate_tables", "name") == ["retail"]
    assert names("ub", "/api/v1/rate_tables", "name") == ["tb"]
    assert names("ua", "/api/v1/mapping_gateways", "name") == ["mgA"]
    assert names("ub", "/api/v1/phones", "number") == ["7002"]
    # and every get of the other side is as if it did not exist
    for user, path in (("ua", "/api/v1/accounts/subB"),
                       ("ua", "/api/v1/mapping_gateways/mgB"),
                       ("ua", "/api/v1/phones/7002"),
                       ("ua", "/api/v1/rate_tables/tb"),
                       ("ub", "/api/v1/accounts/agA"),
                       ("cb", "/api/v1/accounts/agB"),
                       ("cb", "/api/v1/mapping_gateways/mg1")):
        status, _, js = it.api(addr, "GET", path, token=tok[user])
        assert status == 404, (user, path, js)
    status, _, js = it.api(addr, "GET", "/api/v1/payments?account=subA",
                           token=tok["ub"])
    assert status == 200 and js["items"] == [], js


def test_sql_metacharacters_in_every_filter(stack):
    """Every query parameter of every list takes SQL metacharacters as
    data: a clear 400 or an empty answer, nothing written, billingd up."""
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    stack.start_daemon("billingd")
    addr = stack.bd_http
    evil = ["x'%20OR%20'1'='1", "1;DROP%20TABLE%20accounts;--",
            "%25%5F%5C", "%27)%20UNION%20SELECT%201--", "%00"]
    queries = {
        "/api/v1/cdrs": ["from", "to", "result", "number", "account",
                         "gateway", "limit", "offset"],
        "/api/v1/cdrs.csv": ["from", "to", "result", "number", "account",
                             "gateway"],
        "/api/v1/audit": ["actor", "object", "limit", "offset"],
        "/api/v1/payments": ["account", "limit", "offset"],
        "/api/v1/alarms": ["active", "limit", "offset"],
        "/api/v1/phone_cards": ["batch", "limit", "offset"],
        "/api/v1/phone_card_batches": ["limit", "offset"],
        "/api/v1/users": ["limit", "offset"],
        "/api/v1/accounts": ["limit", "offset"],
        "/api/v1/stats/accounts": ["from", "to"],
        "/api/v1/stats/gateways": ["from", "to"],
        "/api/v1/stats/today": ["tz"],
        "/api/v1/stats/timeline": ["minutes"],
        "/api/v1/rate": ["account", "number", "duration", "at"],
        "/api/v1/reservations": ["account"],
    }
    before = stack.query("SELECT (SELECT count(*) FROM accounts) AS a, "
                         "(SELECT count(*) FROM audit_log) AS l")[0]
    for path, params in queries.items():
        for p in params:
            for v in evil:
                status, _, js = it.api(addr, "GET", f"{path}?{p}={v}")
                assert status in (200, 400, 404), (path, p, v, status, js)
                if status == 200 and isinstance(js, dict) and \
                        "items" in js and p not in ("limit", "offset"):
                    assert js["items"] == [], (path, p, v, js)
    after = stack.query("SELECT (SELECT count(*) FROM accounts) AS a, "
                        "(SELECT count(*) FROM audit_log) AS l")[0]
    assert after["a"] == before["a"]
    # the CSV exports are audited, nothing else was written
    assert after["l"] - before["l"] == stack.scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'export'")
    assert stack.daemon("billingd").alive()
