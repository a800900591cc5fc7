"""Issue 13 item 3: SS_MEDIAPROXYMODE 0-3 and the gateways' media_proxy
override (SPEC §4), with the RTP path asserted by capture.

Each case places one call (sipp caller playing PCMA, sipp vendor echoing)
and checks where its RTP went: through the media node (a session, the
vendor offered the node's address, packets on the node's ports) or
directly between caller and vendor (no session, the vendor offered the
caller's own address, packets straight between their ports).
"""

import pytest

import peers
import tandem_it as it

OFF = {"media_proxy": "off"}
ON = {"media_proxy": "on"}
XC_A = {"codecs": ["PCMA"], "allow_transcoding": True, "media_proxy": "off"}
XC_B = {"codecs": ["G729"], "allow_transcoding": True}

# name: (mode, mapping gateway media, routing gateway media, vendor codec,
#        relayed?)
CASES = {
    "mode0": ("0", None, ON, "PCMA", False),
    "mode1": ("1", None, None, "PCMA", True),
    "mode1_vendor_off": ("1", None, OFF, "PCMA", False),
    "mode1_caller_off": ("1", OFF, None, "PCMA", False),
    "mode2_same_address": ("2", None, None, "PCMA", False),
    "mode2_vendor_on": ("2", None, ON, "PCMA", True),
    "mode2_transcoding": ("2", XC_A, XC_B, "G729", True),
    "mode3_vendor_off": ("3", None, OFF, "PCMA", True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rtp_path(stack, case):
    mode, mg_media, gw_media, vcodec, relayed = CASES[case]
    gw = peers.sipp_uas(stack, "gwA", sdp=vcodec)
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = mode
    peers.media_doc(doc, mg_media=mg_media, gw_media=gw_media)
    stack.provision(doc)
    stack.start_all()

    mport = stack.port_block(4, align=2)
    cap = it.Capture(stack, "cap", f"udp port {mport} or udp portrange "
                     f"{stack.rtp_min}-{stack.rtp_max + 1}").start()
    uac = peers.sipp_uac(stack, "caller", sdp="PCMA",
                         play_items=[(it.G711A_PCAP, 2500)], hold_ms=200,
                         media_port=mport)
    rc = uac.finish(60)
    cap.finish()
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"

    sess = peers.mp_sessions(stack)
    offer = gw.received_texts("INVITE ")[0]
    fl = peers.flows(cap.pcap)
    text = peers.flows_text(fl)
    print(f"{case}: caller media {mport}, vendor media {gw.media_port}, "
          f"sessions {sess}\n{text}")
    to_vendor = [v for (sp, dp), v in fl.items() if dp == gw.media_port]
    from_caller = [(dp, v) for (sp, dp), v in fl.items() if sp == mport]
    assert from_caller and sum(v["pkts"] for _, v in from_caller) >= 40, \
        text
    if relayed:
        assert len(sess) == 1, sess
        s = sess[0]
        assert f"m=audio {s['b_port']} " in offer, offer
        assert {dp for dp, _ in from_caller} == {s["a_port"]}, text
        assert to_vendor and all(sp == s["b_port"] for (sp, dp) in fl
                                 if dp == gw.media_port), text
    else:
        assert sess == [], sess
        assert f"m=audio {mport} " in offer, offer
        assert {dp for dp, _ in from_caller} == {gw.media_port}, text
        # the vendor's echo comes straight back too
        assert fl.get((gw.media_port, mport), {}).get("pkts", 0) >= 40, \
            text
    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
    assert bool(cdr["media_node"]) == relayed, cdr
