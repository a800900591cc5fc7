"""Every route of the OpenAPI document for every role (issue 8, done-when
1): each role gets what SPEC §7 allows it and 403 for the rest.  The
expected table is written here, from SPEC §7, independently of billingd's
route table; the document's own list of routes drives the loop, so a new
route without an entry here fails the test.  Every answer is also checked
against the document (tandem_it.api)."""

import re

import tandem_it as it

ANY = {"admin", "operator", "agent", "customer"}
STAFF = {"admin", "operator"}
SCOPED_SECTIONS = {"accounts", "mapping_gateways", "phones", "rate_tables"}
SECTIONS = {"rate_tables", "work_calendars", "package_period_rates",
            "gateway_groups", "accounts", "mapping_gateways",
            "routing_gateways", "phones"}

# (method, path template) -> roles that may use it
ALLOWED = {
    ("post", "/api/v1/login"): ANY,
    ("post", "/api/v1/logout"): ANY,
    ("get", "/api/v1/me"): ANY,
    ("patch", "/api/v1/me"): ANY,
    ("get", "/api/v1/users"): {"admin"},
    ("post", "/api/v1/users"): {"admin"},
    ("get", "/api/v1/users/{name}"): {"admin"},
    ("patch", "/api/v1/users/{name}"): {"admin"},
    ("delete", "/api/v1/users/{name}"): {"admin"},
    ("get", "/api/v1/tokens"): ANY,
    ("post", "/api/v1/tokens"): ANY,
    ("delete", "/api/v1/tokens/{name}"): ANY,
    ("get", "/api/v1/system_parameters"): {"admin"},
    ("patch", "/api/v1/system_parameters"): {"admin"},
    ("get", "/api/v1/audit"): STAFF,
    ("get", "/api/v1/status"): STAFF,
    ("get", "/api/v1/rate"): STAFF,
    ("get", "/api/v1/reservations"): STAFF,
    ("get", "/api/v1/performance"): STAFF,
    ("get", "/api/v1/openapi.json"): ANY,
    ("get", "/api/v1/calls"): STAFF,
    ("delete", "/api/v1/calls/{name}"): STAFF,
    ("get", "/api/v1/route"): STAFF,
    ("get", "/api/v1/cdrs"): ANY,
    ("get", "/api/v1/cdrs.csv"): ANY,
    ("get", "/api/v1/payments"): ANY,
    ("post", "/api/v1/payments"): {"admin", "operator", "agent"},
    ("get", "/api/v1/alarms"): STAFF,
    ("get", "/api/v1/dashboard"): STAFF,
    # agents: their subtree's cards, with manage_phone_cards (test_api_money)
    ("get", "/api/v1/phone_card_batches"): STAFF | {"agent"},
    ("post", "/api/v1/phone_card_batches"): STAFF | {"agent"},
    ("get", "/api/v1/phone_cards"): STAFF | {"agent"},
    ("patch", "/api/v1/phone_cards/{name}"): STAFF | {"agent"},
    ("patch", "/api/v1/alarms/{name}"): STAFF,
    ("get", "/api/v1/registrations"): STAFF,
}
STATS = {"gateways": STAFF, "accounts": ANY, "today": STAFF,
         "timeline": STAFF}
for sec in SECTIONS:
    read = ANY if sec in SCOPED_SECTIONS else STAFF
    ALLOWED[("get", f"/api/v1/{sec}")] = read
    ALLOWED[("get", f"/api/v1/{sec}/{{name}}")] = read
    # agents write accounts, mapping gateways and phones of their subtree
    # (within their authorizations: test_api.py); an agent without them
    # passes the role check and is refused by its authorizations
    write = STAFF | ({"agent"} if sec in ("accounts", "mapping_gateways",
                                          "phones") else set())
    ALLOWED[("post", f"/api/v1/{sec}")] = write
    ALLOWED[("patch", f"/api/v1/{sec}/{{name}}")] = write
    ALLOWED[("delete", f"/api/v1/{sec}/{{name}}")] = write


def test_every_route_for_every_role(stack):
    doc = it.base_doc(stack.port(), 0, gw_b=False)
    doc["accounts"].append({"name": "ag", "type": "customer",
                            "rate_table": "retail"})
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http
    tokens = {"admin": it.API_TOKEN}
    for role, acc in (("operator", None), ("agent", "ag"),
                      ("customer", "cust1")):
        args = ["user", "add", f"u_{role}", role] + ([acc] if acc else [])
        stack.ctl(*args, input=f"{role}-Password-1\n")
        tokens[role] = stack.ctl("user", "token", f"u_{role}",
                                 "t").stdout.strip()

    spec = it.openapi_doc()
    checked = 0
    for tmpl, item in spec["paths"].items():
        if tmpl == "/healthz":
            continue
        for method in ("get", "post", "patch", "delete"):
            if method not in item:
                continue
            if tmpl == "/api/v1/stats/{name}":
                cases = [(f"/api/v1/stats/{k}", v) for k, v in STATS.items()]
            else:
                key = (method, tmpl)
                assert key in ALLOWED, f"{method} {tmpl}: no expectation"
                path = tmpl.replace("{name}", "zz-none")
                if tmpl == "/api/v1/calls/{name}":
                    path = "/api/v1/calls/00000000-0000-0000-0000-0000000000ff"
                cases = [(path, ALLOWED[key])]
            for path, allowed in cases:
                for role, tok in tokens.items():
                    body = {} if method in ("post", "patch") else None
                    status, _, js = it.api(addr, method.upper(), path,
                                           body, token=tok)
                    if role in allowed and role == "agent" and \
                            method != "get" and "/api/v1/" in path and \
                            any(f"/api/v1/{s}" in path for s in SECTIONS):
                        # through the role check, refused by its
                        # authorizations or its subtree
                        assert status in (400, 403, 404), \
                            (role, method, path, status, js)
                        if status == 403:
                            assert "authorization" in \
                                js["error"]["message"] or "yours" in \
                                js["error"]["message"], js
                    elif role in allowed:
                        assert status not in (401, 403), \
                            (role, method, path, status, js)
                    else:
                        assert status == 403, \
                            (role, method, path, status, js)
                        assert js["error"]["code"] == "forbidden"
                    checked += 1
    # the table has no route the document lacks
    documented = {(m, t) for t, i in spec["paths"].items() for m in i
                  if m in ("get", "post", "patch", "delete")}
    assert set(ALLOWED) - documented == set(), set(ALLOWED) - documented
    assert checked > 250, checked
    assert stack.daemon("billingd").alive()
