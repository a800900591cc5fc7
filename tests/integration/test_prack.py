"""Issue 13 item 2: reliable provisional responses (100rel, RFC 3262).

The caller (sipp, uac_prack.xml) supports 100rel; the vendor (sipp,
uas_prack.xml) answers with a reliable 183 with SDP.  The switch offers the
vendor 100rel only because the caller supports it, PRACKs the vendor's 183
(RAck of its RSeq), relays the 183 to the caller reliably (Require: 100rel,
RSeq) and answers the caller's PRACK with 200; a PRACK for an RSeq it never
sent gets 481.  A caller that does not support 100rel gets the 183
unreliably, and the vendor is still PRACKed.
"""

import re

import peers
import sipraw
import tandem_it as it


def test_reliable_183_end_to_end(stack):
    gw = peers.sipp_uas(stack, "gwA", scenario="uas_prack.xml",
                        subst={"@WAIT@": "1500", "@SUPCHECK@": "true"})
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    uac = it.Sipp(stack, "caller", "uac_prack.xml",
                  remote=f"127.0.0.1:{stack.sip_port}",
                  service="15551230001", keys={"caller": "5550100"},
                  calls=1, timeout_s=60).start()
    rc = uac.finish(60)
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc}): " \
        f"{uac.received()}"

    inv = gw.received_texts("INVITE ")[0]
    assert "100rel" in (sipraw.header(inv, "Supported") or ""), inv
    pr = gw.received_texts("PRACK ")
    assert len(pr) == 1, [p.splitlines()[0] for p in pr]
    assert re.match(r"1 \d+ INVITE$", sipraw.header(pr[0], "RAck")), pr[0]

    p183 = uac.received_texts("SIP/2.0 183")
    assert p183, uac.received()
    assert sipraw.header(p183[0], "Require") == "100rel", p183[0]
    assert sipraw.header(p183[0], "RSeq"), p183[0]
    assert "m=audio" in p183[0], p183[0]   # the early media SDP
    codes = uac.received_codes()
    assert 481 in codes and codes[-1] == 200, codes

    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr


def test_caller_without_100rel_gets_it_unreliably(stack):
    """A vendor that sends a reliable 183 although 100rel was not offered
    is PRACKed all the same; the caller, which did not ask for 100rel,
    gets the 183 as an ordinary provisional."""
    gw = peers.sipp_uas(stack, "gwA", scenario="uas_prack.xml",
                        subst={"@WAIT@": "500", "@SUPCHECK@": "false"})
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    uac = peers.sipp_uac(stack, "caller", sdp="PCMA", hold_ms=500)
    rc = uac.finish(60)
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    inv = gw.received_texts("INVITE ")[0]
    assert "100rel" not in (sipraw.header(inv, "Supported") or ""), inv
    assert len(gw.received_texts("PRACK ")) == 1, gw.received()
    p183 = uac.received_texts("SIP/2.0 183")
    assert p183, uac.received()
    for t in p183:
        assert sipraw.header(t, "Require") != "100rel", t
        assert not sipraw.header(t, "RSeq"), t
    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
