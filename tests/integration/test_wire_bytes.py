"""Issue 7, done-when 9: every call has exactly one correct CDR, whatever
its bytes.

Calls whose Call-ID or From user is not UTF-8 (a raw 0xFF byte), whose
Call-ID is longer than signalingd keeps and has a two-byte character
(U+00E9) across the cut, and a call to a 100-digit number, in media modes
0 (signalling only) and 3 (media always relayed).  The first three are
answered and have exactly one CDR, with the wire bytes escaped as "\\xFF"
and the fee of the rate entry for the hold time; the 100-digit call is
refused 484 (never cut to a shorter number and routed), its CDR has no
fee, and the vendor never sees it.
"""

import os
import re

import pytest

import tandem_it as it

HOLD_MS = 1500
LONG_CALLEE = "1" + "5" * 99


def _scenario(callid, from_user, callee):
    """uac_hold.xml with a fixed From user and callee, as bytes."""
    text = (it.SIPP_DIR / "uac_hold.xml").read_bytes()
    text = text.replace(b'"[caller]" <sip:[caller]@', b"<sip:" + from_user +
                        b"@")
    text = text.replace(b"sip:[service]@", b"sip:" + callee + b"@")
    return text


def _call(stack, name, callid, from_user=b"5550100",
          callee=b"15551230001"):
    # sipp's own Call-ID format, %u = 1: raw bytes through argv
    uac = it.Sipp(stack, name, "uac_hold.xml",
                  remote=f"127.0.0.1:{stack.sip_port}", calls=1,
                  duration_ms=HOLD_MS, timeout_s=30,
                  keys={"caller": "5550100"},
                  extra=("-cid_str", os.fsdecode(callid)))
    uac.scenario.write_bytes(_scenario(callid, from_user, callee))
    uac.start()
    return uac


CASES = {
    "callid_ff": dict(callid=b"bad\xffcallid-%u@127.0.0.1",
                      want_callid="bad\\xFFcallid-1@127.0.0.1"),
    "from_ff": dict(callid=b"from-ff-%u@127.0.0.1", from_user=b"555\xff0100",
                    want_caller="555\\xFF0100"),
    # 254 ASCII bytes, then U+00E9 (c3 a9) across signalingd's 255-byte cut
    "callid_cut": dict(callid=b"c" * 254 + b"\xc3\xa9" + b"tail-%u@127.0.0.1",
                       want_callid="c" * 254),
}


@pytest.mark.parametrize("mode", ["0", "3"])
def test_wire_bytes_one_cdr_each(stack, mode):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = mode
    stack.provision(doc)
    balance0 = stack.balance("cust1")
    stack.start_all()

    calls = {}
    for name, case in CASES.items():
        kw = {k: v for k, v in case.items() if not k.startswith("want")}
        calls[name] = _call(stack, name, **kw)
    long_call = _call(stack, "long", b"long-callee-%u@127.0.0.1",
                      callee=LONG_CALLEE.encode())
    for name, uac in list(calls.items()) + [("long", long_call)]:
        rc = uac.finish(60)
        if name != "long":
            assert rc == 0, f"{name}: the call failed (sipp exit {rc})"
    assert 484 in long_call.received_codes(), long_call.received_codes()
    assert 200 not in long_call.received_codes()

    rows = it.wait_for(lambda: (lambda r: r if len(r) >= 4 else None)(
        it.cdr_rows(stack)), 30, "four CDRs")
    gw.quit()
    assert len(rows) == 4, [(r["call_id_a"], r["end_code"]) for r in rows]
    entry = it.rate_entry(doc)
    total = 0
    for name, case in CASES.items():
        want = case.get("want_callid")
        mine = [r for r in rows
                if want and r["call_id_a"] == want or
                not want and r["caller_in"] == case.get("want_caller")]
        assert len(mine) == 1, (name, [(r["call_id_a"], r["caller_in"])
                                       for r in rows])
        cdr = mine[0]
        assert cdr["end_code"] == 200 and cdr["hold_ms"] > 0, cdr
        fee = it.expected_fee(cdr["hold_ms"], entry)
        assert cdr["fee"] == fee > 0, (name, cdr["hold_ms"], cdr["fee"],
                                       fee)
        total += fee
    long_cdr = [r for r in rows if r["end_code"] == 484]
    assert len(long_cdr) == 1, rows
    assert long_cdr[0]["end_reason"] == "NumberTooLong"
    assert long_cdr[0]["fee"] == 0 and long_cdr[0]["hold_ms"] == 0
    invites = gw.received_requests("INVITE")
    assert len(invites) == 3, invites
    assert not any(re.search(r"5{60}", l) for l in invites), invites
    assert stack.balance("cust1") == balance0 - total
