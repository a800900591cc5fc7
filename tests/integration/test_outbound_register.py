"""Issue 13, item 4 (done-when 3): signalingd registers with the routing
gateways that have a register_username.

Two vendor registrars (sipp, uas_registrar.xml) challenge every REGISTER
with Digest (MD5, qop auth) and grant 4 s: gwA is given the credentials
its registrar verifies, and is seen to answer the challenge and refresh
its registration before each 4 s run out, on one Call-ID with a rising
CSeq; gwB's password is wrong, its registrar answers 403, and billingd
raises a vendor_registration alarm for gwB (and none for gwA).  The
password is in no log."""

import re
import time

import pytest

import tandem_it as it
from test_api_stats import _alarms

GRANTED_S = 4


def _registers(sipp):
    """(seconds, text) of each REGISTER the registrar received."""
    out = []
    parts = re.split(r"^-{10,} (\S+ \S+)$", sipp.messages(), flags=re.M)
    for stamp, body in zip(parts[1::2], parts[2::2]):
        m = re.match(r"\s*(?:UDP|TCP) message received \[\d+\] bytes :\s*"
                     r"\n(REGISTER .*)", body, re.S)
        if m:
            h, mi, s = stamp.split()[-1].split(":")
            out.append((int(h) * 3600 + int(mi) * 60 + float(s),
                        m.group(1)))
    return out


def test_outbound_registration_refreshed_and_failure_alarmed(stack):
    good = stack.uas("gwA", "uas_registrar.xml",
                     subst={"@USER@": "tandem1", "@PASS@": "Reg-secret-1",
                            "@EXPIRES@": str(GRANTED_S)})
    bad = stack.uas("gwB", "uas_registrar.xml",
                    subst={"@USER@": "tandem2", "@PASS@": "Right-secret-2",
                           "@EXPIRES@": str(GRANTED_S)})
    doc = it.base_doc(good.port, bad.port)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    doc["routing_gateways"][0].update(register_username="tandem1",
                                      register_password="Reg-secret-1")
    doc["routing_gateways"][1].update(register_username="tandem2",
                                      register_password="Wrong-secret-2")
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    addr = stack.bd_http

    raised = it.wait_for(lambda: [a for a in _alarms(addr, active="true")
                                  if a["kind"] == "vendor_registration"]
                         or None, 30, "the registration alarm")
    assert [a["subject"] for a in raised] == ["gwB"], raised
    assert raised[0]["severity"] == "major", raised
    assert "403" in raised[0]["message"], raised
    time.sleep(3 * GRANTED_S)
    # gwA stayed registered all along: never alarmed
    assert not [a for a in _alarms(addr) if a["kind"] ==
                "vendor_registration" and a["subject"] == "gwA"]
    good.quit()
    bad.quit()

    regs = _registers(good)
    authed = [(t, x) for t, x in regs if "\nAuthorization: Digest" in x]
    print("gwA REGISTERs:", [(round(t, 2), "auth" if "Authorization" in x
                              else "none") for t, x in regs])
    assert len(authed) >= 4, regs
    # each challenged once, answered at once; refreshed before expiry
    assert len(regs) == 2 * len(authed) or len(regs) == 2 * len(authed) + 1
    gaps = [b[0] - a[0] for a, b in zip(authed, authed[1:])]
    assert all(1.5 <= g < GRANTED_S for g in gaps), gaps
    first = authed[0][1]
    assert re.search(r"^REGISTER sip:127\.0\.0\.1:%d" % good.port, first)
    assert re.search(r"^To: <sip:tandem1@127\.0\.0\.1>", first, re.M), first
    assert re.search(r"^From: <sip:tandem1@127\.0\.0\.1>;tag=", first,
                     re.M), first
    assert re.search(r"^Contact: <sip:tandem1@", first, re.M), first
    assert re.search(r"^Expires: 3600", first, re.M), first
    auth = re.search(r"^Authorization: (.*)$", first, re.M).group(1)
    for want in ('username="tandem1"', 'realm="vendor.example"',
                 "qop=auth", "nc=00000001", "algorithm=MD5"):
        assert want in auth, auth
    callids = {re.search(r"^Call-ID: (\S+)", x, re.M).group(1)
               for _, x in regs}
    assert len(callids) == 1, callids
    cseqs = [int(re.search(r"^CSeq: (\d+) REGISTER", x, re.M).group(1))
             for _, x in regs]
    assert cseqs == sorted(set(cseqs)), cseqs

    # gwB: refused, and its registrar saw the wrong password only
    assert [x for _, x in _registers(bad) if "Authorization" in x]
    log = stack.daemon("signalingd").log()
    assert "registration with gateway gwB failed: 403" in log, log[-2000:]
    for secret in ("Reg-secret-1", "Wrong-secret-2"):
        assert secret not in log
        assert secret not in stack.daemon("billingd").log()


CHALLENGE = ('WWW-Authenticate: Digest realm="vendor.example", '
             'nonce="[pid]n[call_number]x[clock_tick]", qop="auth", '
             'algorithm=MD5')


@pytest.mark.parametrize("challenge", [
    'WWW-Authenticate: Digest realm="vendor.example", qop="auth"',
    'WWW-Authenticate: Basic realm="vendor.example"',
    'WWW-Authenticate: Digest realm="v", nonce="n", algorithm=SHA-999',
    'WWW-Authenticate: Digest nonce="unterminated, realm=',
], ids=["no_nonce", "basic", "unknown_algorithm", "unterminated"])
def test_unusable_challenge_fails_cleanly(stack, challenge):
    """Bad input from a vendor's registrar: a 401 whose challenge cannot be
    answered (no nonce, another scheme, an unknown algorithm, a broken
    quoted string) fails the registration with a clear reason and the
    alarm, without a REGISTER loop; signalingd keeps serving calls."""
    reg = stack.uas("gwA", "uas_registrar.xml",
                    subst={"@USER@": "tandem1", "@PASS@": "Reg-secret-1",
                           "@EXPIRES@": "60", CHALLENGE: challenge})
    gw = stack.uas("gwB", "uas_answer.xml")
    doc = it.base_doc(reg.port, gw.port)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    doc["routing_gateways"][0].update(register_username="tandem1",
                                      register_password="Reg-secret-1",
                                      prefixes=["9"])
    stack.provision(doc)
    stack.start_daemon("billingd")
    sg = stack.start_daemon("signalingd")
    raised = it.wait_for(lambda: [a for a in _alarms(stack.bd_http,
                                                     active="true")
                                  if a["kind"] == "vendor_registration"]
                         or None, 30, "the registration alarm")
    assert [a["subject"] for a in raised] == ["gwA"], raised
    assert "challenge unusable" in raised[0]["message"], raised
    assert "registration with gateway gwA failed: 401 challenge " \
        "unusable" in sg.log()
    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=500,
                    timeout_s=30)
    assert uac.finish(40) == 0
    reg.quit()
    gw.quit()
    # one unanswered REGISTER (retried in 60 s), not a loop
    assert len(_registers(reg)) == 1, [x.split("\n", 1)[0]
                                      for _, x in _registers(reg)]
    assert sg.alive()
