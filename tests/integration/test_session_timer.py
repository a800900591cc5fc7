"""Issue 13 item 2: session timers (RFC 4028), each leg on its own.

SS_SESSION_EXPIRES 6 and SS_MIN_SE 4 (below RFC 4028's floor of 90, which
the switch allows for labs like this one) keep the test short:
- a caller that asks for a 6 s session and then never refreshes is cut
  4 s into the call (6 s less a third): BYE both ways, CDR `SessionExpired`;
- a caller that refreshes by UPDATE keeps its call, each refresh answered
  with the interval; the vendor, which made us the refresher of its leg,
  gets UPDATE refreshes from the switch every 3 s;
- a caller asking for less than SS_MIN_SE gets 422 with Min-SE;
- a vendor answering 422 (Min-SE 8) gets the INVITE again with 8.
"""

import re

import peers
import sipraw
import tandem_it as it

PARAMS = {"SS_SESSION_EXPIRES": "6", "SS_MIN_SE": "4"}
CALLER_SE = "Session-Expires: 6;refresher=uac\n      Supported: timer"


def _refreshes(n, every_ms, se="6;refresher=uac"):
    out = []
    for i in range(n):
        out.append(f"""  <pause milliseconds="{every_ms}"/>
  <send retrans="500">
    <![CDATA[
      UPDATE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {i + 2} UPDATE
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Session-Expires: {se}
      Supported: timer
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
""")
    return "\n".join(out)


def _vendor(stack, hdrs="Allow: INVITE, ACK, BYE, CANCEL, UPDATE, INFO",
            min_se=None):
    """min_se: the vendor answers 422 with it to a Session-Expires of 6."""
    small = "(^|[^0-9])6([^0-9]|$)" if min_se else "^never$"
    return peers.sipp_uas(stack, "gwA", scenario="uas_timer.xml",
                          subst={"@HDRS@": hdrs, "@MIN@": str(min_se or 90),
                                 "@SMALL@": small})


def _caller(stack, hdrs=CALLER_SE, refreshes="", hold_ms=1000, **kw):
    return it.Sipp(stack, "caller", "uac_timer.xml",
                   remote=f"127.0.0.1:{stack.sip_port}",
                   service="15551230001", keys={"caller": "5550100"},
                   subst={"@HDRS@": hdrs, "@REFRESHES@": refreshes,
                          "@HOLD@": int(hold_ms)},
                   calls=1, timeout_s=60, **kw).start()


def _doc(gw):
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"].update(PARAMS)
    return doc


def test_caller_that_stops_refreshing_is_cut(stack):
    gw = _vendor(stack, hdrs="Allow: INVITE, ACK, BYE, CANCEL")
    stack.provision(_doc(gw))
    stack.start_all()
    uac = _caller(stack, hold_ms=12000)
    uac.finish(60)
    gw.quit()

    ok = uac.received_texts("SIP/2.0 200")[0]
    assert sipraw.header(ok, "Session-Expires") == "6;refresher=uac", ok
    assert sipraw.header(ok, "Require") == "timer", ok
    assert uac.received_requests("BYE"), uac.received()
    assert gw.received_requests("BYE"), gw.received()
    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "SessionExpired", cdr
    # 6 s less a third: 4 s after the answer, well before the 12 s hold
    assert 3500 <= cdr["hold_ms"] <= 5500, cdr


def test_refreshes_keep_the_call_both_ways(stack):
    gw = _vendor(stack, hdrs="Session-Expires: 6;refresher=uac\n      "
                 "Require: timer\n      "
                 "Allow: INVITE, ACK, BYE, CANCEL, UPDATE, INFO")
    stack.provision(_doc(gw))
    stack.start_all()
    uac = _caller(stack, refreshes=_refreshes(4, 2000), hold_ms=500)
    rc = uac.finish(60)
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"

    # our INVITE offered the interval and our Min-SE
    inv = gw.received_texts("INVITE ")[0]
    assert sipraw.header(inv, "Session-Expires") == "6", inv
    assert sipraw.header(inv, "Min-SE") == "4", inv
    assert "timer" in (sipraw.header(inv, "Supported") or ""), inv

    # each of the caller's refreshes answered with its interval
    oks = [t for t in uac.received_texts("SIP/2.0 200")
           if re.search(r"^CSeq:\s*\d+ UPDATE", t, re.M)]
    assert len(oks) == 4, oks
    assert {sipraw.header(t, "Session-Expires") for t in oks} == \
        {"6;refresher=uac"}, oks

    # the vendor made us its leg's refresher: UPDATEs every 3 s
    ups = gw.received_texts("UPDATE ")
    assert len(ups) >= 2, [u.splitlines()[0] for u in ups]
    assert {sipraw.header(u, "Session-Expires") for u in ups} == \
        {"6;refresher=uac"}, ups

    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
    assert cdr["hold_ms"] >= 8000, cdr


def test_interval_below_min_se_gets_422(stack):
    gw = _vendor(stack)
    stack.provision(_doc(gw))
    stack.start_all()
    uac = _caller(stack, hdrs="Session-Expires: 3\n      Supported: timer",
                  hold_ms=100)
    uac.finish(30)
    gw.quit()
    got = uac.received_texts("SIP/2.0 422")
    assert got, uac.received()
    assert sipraw.header(got[0], "Min-SE") == "4", got[0]
    assert not gw.received_requests("INVITE"), gw.received()


def test_vendor_422_gets_the_interval_it_asks_for(stack):
    gw = _vendor(stack, min_se=8)
    stack.provision(_doc(gw))
    stack.start_all()
    uac = _caller(stack, hold_ms=1000)
    rc = uac.finish(60)
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    invs = gw.received_texts("INVITE ")
    assert [sipraw.header(i, "Session-Expires") for i in invs] == ["6", "8"], \
        [i.splitlines()[0] for i in invs]
    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
    assert [a["code"] for a in it.attempts(stack, cdr["id"])] == [422, 200]


def test_recovered_call_keeps_its_session_timers(stack):
    """signalingd is SIGKILLed during a call with a session timer on each
    leg and restarted: the recovered call still refreshes the vendor's leg
    (it made us the refresher: UPDATEs every 3 s) and still cuts the
    caller, who never refreshes, once its interval is over (CDR
    SessionExpired), not at the caller's hang-up 20 s in."""
    gw = _vendor(stack, hdrs="Session-Expires: 6;refresher=uac\n      "
                 "Require: timer\n      "
                 "Allow: INVITE, ACK, BYE, CANCEL, UPDATE, INFO")
    stack.provision(_doc(gw))
    stack.start_all()
    uac = _caller(stack, hold_ms=20000)
    journal = stack.spool / "calls.journal"
    it.wait_for(lambda: journal.exists() and
                '"st":' in journal.read_text(), 15,
                "the call journaled with its timers")
    stack.daemon("signalingd").kill()                 # SIGKILL
    sg = stack.start_daemon("signalingd")
    assert "session timers recovered: caller 6 s (it refreshes), vendor " \
        "6 s (we refresh)" in sg.log(), sg.log()[-3000:]
    uac.finish(60)
    gw.quit()

    assert uac.received_requests("BYE"), uac.received()
    ups = gw.received_texts("UPDATE ")
    assert ups, "no refresh of the vendor's leg after the restart"
    assert {sipraw.header(u, "Session-Expires") for u in ups} == \
        {"6;refresher=uac"}, ups
    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "SessionExpired", cdr
    assert cdr["hold_ms"] < 15000, cdr
