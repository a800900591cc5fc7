"""Issue 13 item 2: hold and resume by re-INVITE and by UPDATE (RFC 3311),
with media relayed.

The caller (sipp, uac_hold_resume.xml) holds the call (a=sendonly) and
resumes it (a=sendrecv) with the method under test; the vendor (sipp)
answers a=recvonly, then a=sendrecv.  Asserted on both legs: the vendor
gets the same method with the caller's direction at the node's address,
the caller gets the vendor's direction at the node's address, and the
media node re-plans each leg with that direction ("hold" in its log while
a leg is not sendrecv).
"""

import re

import pytest

import peers
import tandem_it as it


def _caller_ack(cseq):
    return f"""  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>"""


def _direction(text):
    m = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", text,
                  re.M)
    return m.group(1) if m else None


def _media(text):
    c = re.search(r"^c=IN IP4 (\S+)", text, re.M)
    m = re.search(r"^m=audio (\d+)", text, re.M)
    return (c.group(1) if c else None, int(m.group(1)) if m else None)


@pytest.mark.parametrize("method", ["INVITE", "UPDATE"])
def test_hold_and_resume_cross_both_legs(stack, method):
    gw = peers.sipp_uas(stack, "gwA", sdp="PCMA",
                        subst={"@PLAYS@": peers.vendor_hold_resume(method, "PCMA")})
    doc = it.base_doc(gw.port, 0, gw_b=False)
    stack.provision(doc)
    stack.start_all()

    invite = method == "INVITE"
    uac = it.Sipp(stack, "caller", "uac_hold_resume.xml",
                  remote=f"127.0.0.1:{stack.sip_port}",
                  service="15551230001", keys={"caller": "5550100"},
                  subst={"@SDP@": peers.sdp_lines("PCMA"),
                         "@METHOD@": method, "@TALK@": 1000,
                         "@HOLD@": 1500, "@TAIL@": 1000,
                         "@ACK2@": _caller_ack(2) if invite else "",
                         "@ACK3@": _caller_ack(3) if invite else ""},
                  calls=1, timeout_s=60, extra=["-aa"]).start()
    rc = uac.finish(60)
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"

    sess = peers.mp_sessions(stack)
    assert len(sess) == 1, sess
    s = sess[0]

    # the vendor: the same method, the caller's direction, at the node
    got = gw.received_texts(f"{method} ")
    if invite:
        got = got[1:]              # the call's own INVITE first
    assert len(got) == 2, [g.splitlines()[0] for g in got]
    assert [_direction(g) for g in got] == ["sendonly", "sendrecv"], got
    assert {_media(g) for g in got} == {("127.0.0.1", s["b_port"])}, got

    # the caller: the vendor's direction, at the node
    oks = [t for t in uac.received_texts("SIP/2.0 200")
           if re.search(rf"^CSeq:\s*[23] {method}", t, re.M)]
    assert len(oks) == 2, oks
    assert [_direction(t) for t in oks] == ["recvonly", "sendrecv"], oks
    assert {_media(t) for t in oks} == {("127.0.0.1", s["a_port"])}, oks

    # the node: each leg re-planned with its sender's direction
    lines = [l.split("re-planned:", 1)[1].strip()
             for l in stack.daemon("mediaproxyd").log().splitlines()
             if f"[{s['session']}] re-planned:" in l]
    print("\n".join(lines))
    hold_a = [l for l in lines if l.startswith("a ")]
    hold_b = [l for l in lines if l.startswith("b ")]
    assert any(l.endswith(" hold") for l in hold_a), lines
    assert any(l.endswith(" hold") for l in hold_b), lines
    assert not hold_a[-1].endswith(" hold"), lines   # resumed
    assert not hold_b[-1].endswith(" hold"), lines

    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
    assert (cdr["codec_a"], cdr["codec_b"]) == ("PCMA", "PCMA"), cdr


def test_bad_in_dialog_sdp_leaves_the_call_whole(stack):
    """An ACK carrying an SDP offer nobody asked for is ignored; a
    re-INVITE offering only a codec the call's decision cannot serve gets
    488 and goes no further; the call goes on and ends normally."""
    gw = peers.sipp_uas(stack, "gwA", sdp="PCMA")
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    uac = it.Sipp(stack, "caller", "uac_bad_reinvite.xml",
                  remote=f"127.0.0.1:{stack.sip_port}",
                  service="15551230001", keys={"caller": "5550100"},
                  calls=1, timeout_s=60).start()
    rc = uac.finish(60)
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc}): " \
        f"{uac.received()}"
    assert 488 in uac.received_codes(), uac.received()
    assert len(gw.received_requests("INVITE")) == 1, gw.received()
    s = peers.mp_sessions(stack)[0]
    replans = [l for l in stack.daemon("mediaproxyd").log().splitlines()
               if f"[{s['session']}] re-planned:" in l]
    assert not any("192.0.2.99" in l for l in replans), replans
    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
    assert (cdr["codec_a"], cdr["codec_b"]) == ("PCMA", "PCMA"), cdr
