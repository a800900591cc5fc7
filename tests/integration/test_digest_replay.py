"""The SIP edge against credentials and scanners (issue 9).

Digest that cannot be replayed (item 2): a password mapping
gateway's INVITE and a phone's REGISTER authenticate, and a sniffed
credential is refused when sent again, from another address, or for
another number; a replayed REGISTER cannot move the phone's contact.

The client is raw SIP over UDP from its own loopback addresses
(127.0.0.7, the real one; 127.0.0.8, the attacker), with digest computed
here (sipraw.py), so every header is exactly what the test says.

Scanners (item 3, SPEC §8): a request whose User-Agent, From, To or
Contact holds a signature of SS_SCANNER_SIGNATURES gets silence, for a
known phone exactly as for an unknown number, before any other work; the
list is live."""

import re
import socket

import tandem_it as it
# the names test_sip_edge.py imports from here, too
from sipraw import Client, challenge as _challenge, digest as _auth


def test_invite_and_register_credentials_cannot_be_replayed(stack):
    gw = stack.uas("gwA", "uas_reject.xml", code=486, reason="Busy Here")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    doc["mapping_gateways"].append(
        {"name": "pbx", "account": "cust1", "auth_mode": "password",
         "username": "pbx1", "password": "Pbx-secret-1"})
    doc["phones"] = [{"number": "7001", "account": "cust1",
                      "password": "Phone-secret-1"}]
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    real = Client(stack, "127.0.0.7")
    evil = Client(stack, "127.0.0.8")
    uri = f"sip:15551230001@127.0.0.1:{stack.sip_port}"

    # the real PBX: challenged, then routed (the vendor says busy)
    code, text = real.request("INVITE", uri, "pbx1", "15551230001")
    assert code == 407, text
    nonce = _challenge(text)
    cred = _auth("pbx1", "Pbx-secret-1", "INVITE", uri, nonce)
    code, text = real.request("INVITE", uri, "pbx1", "15551230001",
                              auth=cred)
    assert code == 486, text

    # the same credential again, from the same address: used
    code, text = real.request("INVITE", uri, "pbx1", "15551230001",
                              auth=cred)
    assert code == 407 and "stale=true" in text, text
    # from another address (a fresh nc, as a replayer would try)
    cred2 = _auth("pbx1", "Pbx-secret-1", "INVITE", uri, nonce, nc=2)
    code, text = evil.request("INVITE", uri, "pbx1", "15551230001",
                              auth=cred2)
    assert code == 407, text
    # for another number: the credential's uri is not the Request-URI
    other = f"sip:15559999999@127.0.0.1:{stack.sip_port}"
    cred3 = _auth("pbx1", "Pbx-secret-1", "INVITE", uri, nonce, nc=3)
    code, text = real.request("INVITE", other, "pbx1", "15559999999",
                              auth=cred3)
    assert code == 407 and "stale=true" not in text, text
    # the real client's next use of its nonce still works
    cred4 = _auth("pbx1", "Pbx-secret-1", "INVITE", uri, nonce, nc=4)
    code, text = real.request("INVITE", uri, "pbx1", "15551230001",
                              auth=cred4)
    assert code == 486, text

    # a phone registers; the sniffed REGISTER cannot move its contact
    ruri = f"sip:127.0.0.1:{stack.sip_port}"
    code, text = real.request("REGISTER", ruri, "7001", "7001")
    assert code == 401, text
    rnonce = _challenge(text)
    rcred = _auth("7001", "Phone-secret-1", "REGISTER", ruri, rnonce)
    code, text = real.request("REGISTER", ruri, "7001", "7001", auth=rcred)
    assert code == 200, text
    assert "127.0.0.7" in text
    for n, who in ((1, evil), (2, evil)):
        c = _auth("7001", "Phone-secret-1", "REGISTER", ruri, rnonce, nc=n)
        code, text = who.request("REGISTER", ruri, "7001", "7001", auth=c,
                                 contact="7001-evil")
        assert code == 401, text
    log = stack.daemon("signalingd").log()
    assert "stale or replayed nonce" in log
    # the phone was registered once, by the real client, never moved
    regs = re.findall(r"phone 7001 registered at (\S+)", log)
    assert len(regs) == 1 and "127.0.0.7" in regs[0], regs
    assert "7001-evil" not in log
    gw.quit()


def test_scanners_get_silence(stack):
    doc = it.base_doc(stack.port(), 0, gw_b=False)
    # SS_EDGE_FAIL_LIMIT 0: the scanner hits below would blacklist the
    # source (test_sip_edge.py); here only the signatures speak
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0",
                                     "SS_SIP_REPLY_UNKNOWN_SOURCE": "1",
                                     "SS_EDGE_FAIL_LIMIT": "0"})
    doc["phones"] = [{"number": "7001", "account": "cust1",
                      "password": "Phone-secret-1"}]
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    scanner = Client(stack, "127.0.0.9")
    scanner.sock.settimeout(1.5)
    ruri = f"sip:127.0.0.1:{stack.sip_port}"

    def answer(method, to, extra, frm=None):
        try:
            return scanner.request(method, ruri if method == "REGISTER"
                                   else f"sip:{to}@127.0.0.1", frm or to,
                                   to, extra=extra)[0]
        except socket.timeout:
            return None

    # without a signature: a known phone is challenged, and so is an
    # unknown caller (the switch takes digest: no user is told apart)
    assert answer("REGISTER", "7001", ["User-Agent: Zoiper"]) == 401
    assert answer("INVITE", "15551230001", ["User-Agent: Zoiper"]) == 407
    # with one, anywhere SPEC lists, silence for both
    for extra, frm in ((["User-Agent: friendly-scanner"], None),
                       (["User-Agent: SIPVicious 0.3"], None),
                       (["Server: sipcli/v1.8"], None),
                       ([], "sipvicious")):
        for method, to in (("REGISTER", "7001"), ("REGISTER", "7999"),
                           ("INVITE", "15551230001"),
                           ("OPTIONS", "7001")):
            assert answer(method, to, extra, frm) is None, (method, to,
                                                           extra, frm)
    # the list is live: a new signature takes effect at the reload
    before = stack.daemon("signalingd").log().count("routing tables reloaded")
    stack.query("INSERT INTO system_parameters (name, value) VALUES "
                "('SS_SCANNER_SIGNATURES', 'evilbot') RETURNING name")
    it.wait_for(lambda: stack.daemon("signalingd").log().count(
        "routing tables reloaded") > before, 5, "the reload")
    assert answer("REGISTER", "7001", ["User-Agent: EvilBot/2"]) is None
    assert answer("REGISTER", "7001", ["User-Agent: friendly-scanner"]) \
        == 401
