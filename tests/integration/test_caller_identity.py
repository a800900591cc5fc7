"""Issue 13, item 1: the caller identity a vendor receives (SPEC §3.8,
digest 2 P-1..P-12, P-16, P-18).

One caller (sipp, uac_identity.xml) sends an INVITE with display name
"222", From user 01712345678, P-Asserted-Identity <sip:111@x>,
P-Preferred-Identity "Bob" <sip:444@z>, Remote-Party-ID <sip:333@y>,
Privacy: id, X-Custom: abc and X-Other: 1.  Four routing gateways, each a
sipp answering for its own prefix, have four identity settings; the INVITE
each receives is read from sipp's trace and its identity headers are
asserted exactly.  The same calls from a second mapping gateway without
support_privacy show that Privacy is passed through only with it.
"""

import re
import time

import tandem_it as it

IDENTITY = ("p-asserted-identity", "p-preferred-identity", "privacy",
            "x-custom", "x-other", "remote-party-id")

GATEWAYS = {
    # P-1, P-5 and no extra headers: every default
    "gwNone": ("2", {}, []),
    # P-2, P-6 (with support_privacy), P-8 pass, P-9 all
    "gwPass": ("3", {"pai": "pass_through", "privacy": "pass_through",
                     "ppi": "pass_through", "extra_headers": "all"}, []),
    # P-3/P-4/P-18: the caller number after both dial plans; P-7, P-10
    "gwCaller": ("4", {"pai": "caller", "privacy": "id", "ppi": "caller",
                       "extra_headers": "list", "headers": ["X-Custom"]},
                 [{"prefix": "880", "prepend": "+"}]),
    # P-12: the number asserted comes from Remote-Party-ID
    "gwRpid": ("5", {"pai": "caller", "peer_number_source": "rpid"}, []),
}


def _invites(sipp):
    """The text of every INVITE a sipp received (its -trace_msg file)."""
    out = []
    for block in re.split(r"^-{10,}.*$", sipp.messages(), flags=re.M):
        m = re.match(r"\s*(?:UDP|TCP) message received \[\d+\] bytes :"
                     r"\s*\n(.*)", block, re.S)
        if m and m.group(1).lstrip().startswith("INVITE "):
            out.append(m.group(1).lstrip())
    return out


def _identity_headers(invite):
    """(name, value) of the identity and extra headers, sorted by name
    (sofia writes the headers it knows before the others)."""
    out = []
    for line in invite.splitlines()[1:]:
        if not line.strip():
            break
        name, _, value = line.partition(":")
        if name.strip().lower() in IDENTITY:
            out.append((name.strip(), value.strip()))
    return sorted(out)


def _from_user(invite):
    m = re.search(r"^From:.*?<sip:([^@>]+)@", invite, re.M | re.I)
    return m.group(1) if m else None


def test_each_gateway_gets_the_identity_it_is_set_for(stack):
    gws = {n: stack.uas(n, "uas_answer.xml") for n in GATEWAYS}
    doc = it.base_doc(gws["gwNone"].port, 0, gw_b=False)
    doc["routing_gateways"] = []
    for t in doc["rate_tables"]:
        for p in ("2", "3", "4", "5"):
            t["entries"].append(dict(t["entries"][0], prefix=p))
    base = it.base_doc(0, 0, gw_b=False)["routing_gateways"][0]
    for name, (prefix, identity, caller_dp) in GATEWAYS.items():
        doc["routing_gateways"].append(dict(
            base, name=name, port=gws[name].port, prefixes=[prefix],
            identity=identity, caller_dial_plan=caller_dp))
    mg = doc["mapping_gateways"][0]
    # the caller's 0171... becomes 880171... on ingress (P-18)
    mg["caller_dial_plan"] = [{"prefix": "0", "strip": 1,
                               "prepend": "880"}]
    mg["support_privacy"] = True
    doc["mapping_gateways"].append(dict(
        mg, name="mgNoPrivacy", ips=["127.0.0.2"], support_privacy=False))
    stack.provision(doc)
    stack.start_all()

    for ip in ("127.0.0.1", "127.0.0.2"):
        for name, (prefix, _, _) in GATEWAYS.items():
            uac = it.Sipp(stack, f"caller_{name}_{ip}", "uac_identity.xml",
                          remote=f"127.0.0.1:{stack.sip_port}", ip=ip,
                          service=f"{prefix}5551230001",
                          keys={"caller": "01712345678"}, calls=1,
                          duration_ms=200, timeout_s=20).start()
            assert uac.finish(30) == 0, f"call to {name} from {ip} failed"

    got = {}
    for name, s in gws.items():
        s.quit()
        invites = _invites(s)
        assert len(invites) == 2, (name, len(invites))
        got[name] = [(_from_user(i), _identity_headers(i)) for i in invites]
        print(name, got[name])

    host = re.search(r"<sip:[^@]+@([^>;]+)>",
                     dict(got["gwCaller"][0][1])["P-Asserted-Identity"]
                     ).group(1)
    assert got["gwNone"] == [("8801712345678", [])] * 2
    passed = sorted([("P-Asserted-Identity", "<sip:111@x>"),
                     ("P-Preferred-Identity", '"Bob" <sip:444@z>'),
                     ("Privacy", "id"), ("X-Custom", "abc"),
                     ("X-Other", "1")])
    assert got["gwPass"][0] == ("8801712345678", passed)
    # P-6: no support_privacy on the mapping gateway, no Privacy
    assert got["gwPass"][1] == ("8801712345678",
                                [h for h in passed if h[0] != "Privacy"])
    asserted = f"<sip:+8801712345678@{host}>"
    assert got["gwCaller"] == [("+8801712345678", sorted([
        ("P-Asserted-Identity", asserted),
        ("P-Preferred-Identity", asserted),
        ("Privacy", "id"), ("X-Custom", "abc")]))] * 2
    # P-12: 333 from the RPID, through the ingress dial plan untouched
    assert got["gwRpid"] == [("8801712345678", [
        ("P-Asserted-Identity", f"<sip:333@{host}>")])] * 2


POOL = ["15550001", "15550002", "15550003"]


def _pool_stack(stack, rr, pools):
    """Routing gateways by prefix with caller pools; returns their sipps."""
    gws = {n: stack.uas(n, "uas_answer.xml") for n in pools}
    doc = it.base_doc(0, 0, gw_b=False)
    base = doc["routing_gateways"][0]
    doc["routing_gateways"] = []
    for t in doc["rate_tables"]:
        for prefix, _, _ in pools.values():
            t["entries"].append(dict(t["entries"][0], prefix=prefix))
    for name, (prefix, numbers, mux) in pools.items():
        doc["routing_gateways"].append(dict(
            base, name=name, port=gws[name].port, prefixes=[prefix],
            identity={"pai": "caller"},
            caller_pool={"enabled": True, "numbers": numbers,
                         "multiplexes": mux}))
    doc["system_parameters"]["FORWARD_SIGNAL_REWRITE_SEQUENCE"] = str(rr)
    stack.provision(doc)
    stack.start_all()
    return gws


def _callers(sipp):
    """(From user, PAI user) of every INVITE the gateway received."""
    out = []
    for inv in _invites(sipp):
        pai = dict(_identity_headers(inv)).get("P-Asserted-Identity", "")
        m = re.match(r"<sip:([^@]+)@", pai)
        out.append((_from_user(inv), m.group(1) if m else None))
    return out


def test_caller_pool_in_turn(stack):
    """P-14: FORWARD_SIGNAL_REWRITE_SEQUENCE=1 takes the pool's numbers in
    turn, in both From and PAI."""
    gws = _pool_stack(stack, 1, {"gwPool": ("6", POOL, 1)})
    for i in range(4):
        uac = stack.uac(f"seq{i}", "uac_hold.xml", callee="65551230001",
                        duration_ms=100, calls=1, timeout_s=20)
        assert uac.finish(30) == 0
    gws["gwPool"].quit()
    got = _callers(gws["gwPool"])
    print("in turn:", got)
    assert got == [(n, n) for n in POOL + POOL[:1]]


def test_caller_pool_numbers_are_shared_out(stack):
    """P-13: three calls at once get three different numbers (random
    order); P-15: a number with multiplexes 2 serves two calls at once;
    a fourth (third) call finds every number in use: the gateway is
    skipped like one at its line limit, 503 AllGatewayBusy."""
    gws = _pool_stack(stack, 0, {"gwPool": ("6", POOL, 1),
                                 "gwMux": ("7", POOL[:1], 2)})
    held = [stack.uac("held6", "uac_hold.xml", callee="65551230001",
                      calls=3, limit=3, rate=20, duration_ms=4000,
                      timeout_s=30),
            stack.uac("held7", "uac_hold.xml", callee="75551230001",
                      calls=2, limit=2, rate=20, duration_ms=4000,
                      timeout_s=30)]
    sg = stack.daemon("signalingd")
    it.wait_for(lambda: sg.log().count("via gwPool (") == 3
                and sg.log().count("via gwMux (") == 2, 15, "five calls up")
    time.sleep(0.5)                          # their 200s
    for prefix in ("6", "7"):
        late = stack.uac(f"late{prefix}", "uac_expect_code.xml",
                         callee=f"{prefix}5551230001", code=503, calls=1,
                         timeout_s=20)
        assert late.finish(30) == 0, f"prefix {prefix}: not refused 503"
    for h in held:
        assert h.finish(40) == 0
    for g in gws.values():
        g.quit()
    pool, mux = _callers(gws["gwPool"]), _callers(gws["gwMux"])
    print("at once:", pool, mux)
    assert sorted(pool) == [(n, n) for n in POOL]
    assert mux == [(POOL[0], POOL[0])] * 2
    busy = [r["end_reason"] for r in it.cdr_rows(stack)
            if r["end_code"] == 503]
    assert busy == ["AllGatewayBusy"] * 2, busy


def test_malformed_identity_headers_are_not_forwarded(stack):
    """Issue 13, done-when 5 (part): a caller's malformed PAI, PPI and
    Privacy do not stop the call and are never passed on, even to a
    gateway that passes identity through."""
    gw = stack.uas("gwPass", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["routing_gateways"][0]["identity"] = GATEWAYS["gwPass"][1]
    doc["mapping_gateways"][0]["support_privacy"] = True
    stack.provision(doc)
    stack.start_all()
    bad = {"P-Asserted-Identity: <sip:111@x>": "P-Asserted-Identity: <<:>",
           'P-Preferred-Identity: "Bob" <sip:444@z>':
           'P-Preferred-Identity: "unterminated <sip:444@z',
           "Privacy: id": "Privacy: ;;=,"}
    uac = it.Sipp(stack, "caller", "uac_identity.xml",
                  remote=f"127.0.0.1:{stack.sip_port}",
                  service="15551230001", keys={"caller": "5550100"},
                  subst=bad, calls=1, duration_ms=200, timeout_s=20).start()
    assert uac.finish(30) == 0, "the call with malformed headers failed"
    gw.quit()
    invites = _invites(gw)
    assert len(invites) == 1
    got = _identity_headers(invites[0])
    print("forwarded:", got)
    assert got == [("X-Custom", "abc"), ("X-Other", "1")], got
    cdr = it.wait_for(lambda: it.cdr_rows(stack) or None, 20, "the CDR")
    assert cdr[0]["end_reason"] == "Normal", cdr
