"""Issue 13 item 2: delayed offer (RFC 3261 13.2.1), an INVITE without SDP.

Media relayed, the switch offers the vendor what the caller's mapping
gateway allows, offers the caller the decided codec (and, with
transcoding, the others) in the 200, and reads the caller's answer in its
ACK; media not relayed, the vendor's offer and the caller's answer pass
through, the vendor's ACK held until the caller's (docs/signalingd.md
"Delayed offer").
"""

import re
import shutil

import pytest

import peers
import tandem_it as it

PT_PCMA, PT_G729 = 8, 18


def _sdp_of(text):
    """(c= address, m=audio port, [payload types]) of a message's SDP."""
    c = re.search(r"^c=IN IP4 (\S+)", text, re.M)
    m = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+)", text, re.M)
    if not m:
        return None
    return (c.group(1) if c else None, int(m.group(1)),
            [int(x) for x in m.group(2).split()])


def _one_session(stack):
    sess = peers.mp_sessions(stack)
    assert len(sess) == 1, sess
    return sess[0]


def _flow(fl, src=None, dst=None):
    got = [v for (sp, dp), v in fl.items()
           if (src is None or sp == src) and (dst is None or dp == dst)]
    return got


def test_delayed_offer_relayed_same_codec(stack):
    """PCMA both sides: the vendor gets an offer from the node, the caller
    is offered PCMA in the 200 and answers in the ACK; RTP both ways."""
    gw = peers.sipp_uas(stack, "gwA", sdp="PCMA+te")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    stack.provision(doc)
    stack.start_all()
    cap = peers.media_capture(stack)

    uac = peers.sipp_late_uac(stack, "caller", sdp="PCMA+te",
                              play_items=[(it.G711A_PCAP, 7500)],
                              hold_ms=500)
    rc = uac.finish(60)
    cap.finish()
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    s = _one_session(stack)

    invite = gw.received_texts("INVITE ")[0]
    vsdp = _sdp_of(invite)
    assert vsdp, f"the vendor's INVITE has no SDP offer:\n{invite}"
    assert vsdp[0] == "127.0.0.1" and vsdp[1] == s["b_port"], (vsdp, s)
    assert PT_PCMA in vsdp[2], vsdp

    ok = uac.received_texts("SIP/2.0 200")[0]
    csdp = _sdp_of(ok)
    assert csdp, f"the caller's 200 has no SDP offer:\n{ok}"
    assert csdp[1] == s["a_port"] and csdp[2][0] == PT_PCMA, (csdp, s)
    assert "telephone-event" in ok, ok

    fl = peers.flows(cap.pcap)
    text = peers.flows_text(fl)
    print(f"node a={s['a_port']} b={s['b_port']}\n{text}")
    into_a = _flow(fl, dst=s["a_port"])
    out_b = _flow(fl, src=s["b_port"])
    back_a = _flow(fl, src=s["a_port"])
    assert len(into_a) == 1 and into_a[0]["pts"].get(PT_PCMA) == 236, text
    assert len(out_b) == 1 and out_b[0]["pts"].get(PT_PCMA, 0) >= 230, text
    # the vendor echoes: the caller's own audio comes back through the
    # node to the address of its ACK's answer
    assert len(back_a) == 1 and back_a[0]["pts"].get(PT_PCMA, 0) >= 200, \
        text

    cdr, rtp = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
    assert (cdr["codec_a"], cdr["codec_b"]) == ("PCMA", "PCMA"), cdr
    assert cdr["hold_ms"] >= 7500, cdr


def test_delayed_offer_pcma_caller_to_linphonec_g729(stack):
    """The caller's gateway allows PCMA, the vendor's G.729 (linphonec,
    playing a 1 kHz tone): transcoded, the tone reaches the caller."""
    if not shutil.which("linphonec"):
        pytest.skip("linphonec is not installed (Debian linphone-cli, an "
                    "optional package of deploy/install-deps.sh)")
    tone = peers.write_tone_wav(stack.dir / "tone1k.wav", 1000, 30)
    lp = peers.Linphonec(stack, "vendor_linphonec", codec="G729", play=tone)
    if lp.start() is None:
        pytest.skip("linphonec on this system has no G729/8000 codec")
    doc = it.base_doc(lp.sip_port, 0, gw_b=False)
    peers.media_doc(doc, mg_media={"codecs": ["PCMA"],
                                   "allow_transcoding": True},
                    gw_media={"codecs": ["G729"], "allow_transcoding": True})
    stack.provision(doc)
    stack.start_all()
    cap = peers.media_capture(stack)

    uac = peers.sipp_late_uac(stack, "caller", sdp="PCMA+te",
                              play_items=[(it.G711A_PCAP, 7500)],
                              hold_ms=1000)
    rc = uac.finish(60)
    cap.finish()
    lp.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    s = _one_session(stack)
    assert peers.mp_engine_lines(stack, s["session"]), \
        "the call was not put on the media engine"

    csdp = _sdp_of(uac.received_texts("SIP/2.0 200")[0])
    assert csdp and csdp[1] == s["a_port"] and csdp[2][0] == PT_PCMA, csdp
    assert PT_G729 not in csdp[2], csdp   # the caller's gateway: PCMA only

    fl = peers.flows(cap.pcap)
    text = peers.flows_text(fl)
    print(f"node a={s['a_port']} b={s['b_port']}\n{text}")
    caller_in = _flow(fl, dst=s["a_port"])
    lp_out = _flow(fl, src=s["b_port"])
    lp_in = _flow(fl, dst=s["b_port"])
    caller_out = _flow(fl, src=s["a_port"])
    assert len(caller_in) == 1 and \
        caller_in[0]["pts"] == {PT_PCMA: 236}, text
    assert len(lp_out) == 1 and set(lp_out[0]["pts"]) == {PT_G729}, text
    assert lp_out[0]["pkts"] >= 200, text
    assert len(lp_in) == 1 and set(lp_in[0]["pts"]) == {PT_G729}, text
    assert len(caller_out) == 1 and \
        caller_out[0]["pts"].get(PT_PCMA, 0) >= 300, text
    for f in caller_in + lp_out + lp_in + caller_out:
        assert f["lost"] == 0, text

    pk = [b for _, _, b in peers.udp_payloads(
        cap.pcap, f"udp.srcport == {s['a_port']}")]
    freq, share, rms = peers.tone_check(peers.pcma_audio(pk))
    print(f"caller received: {freq} Hz, {share:.2f} of the energy")
    assert abs(freq - 1000) <= 20, f"tone at {freq} Hz, not 1000"
    assert share >= 0.5, share

    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
    assert (cdr["codec_a"], cdr["codec_b"]) == ("PCMA", "G729"), cdr


def test_delayed_offer_media_not_relayed(stack):
    """Mode 0: the vendor's INVITE has no SDP either; its offer reaches the
    caller untouched and the caller's answer reaches it in the ACK."""
    gw = peers.sipp_uas(stack, "gwA", sdp="PCMA")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.start_all()

    uac = peers.sipp_late_uac(stack, "caller", sdp="PCMA", hold_ms=1500)
    rc = uac.finish(60)
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"

    invite = gw.received_texts("INVITE ")[0]
    assert _sdp_of(invite) is None, f"an offer was added:\n{invite}"
    vendor_port = gw.media_port
    csdp = _sdp_of(uac.received_texts("SIP/2.0 200")[0])
    assert csdp and csdp[1] == vendor_port, (csdp, vendor_port)
    acks = gw.received_texts("ACK ")
    assert len(acks) == 1, acks
    asdp = _sdp_of(acks[0])
    assert asdp and asdp[1] == uac.media_port, \
        f"the caller's answer did not reach the vendor:\n{acks[0]}"

    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal" and cdr["hold_ms"] >= 1500, cdr


@pytest.mark.parametrize("case", ["no_answer", "codec_not_offered"])
def test_unusable_answer_in_the_ack_ends_the_call(stack, case):
    """An ACK without SDP, or answering a codec the caller was not offered
    (PCMA offered, no transcoding): both legs get a BYE, the CDR says
    BadSdp, and nothing is billed past the answer."""
    gw = peers.sipp_uas(stack, "gwA", sdp="PCMA")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    stack.provision(doc)
    stack.start_all()

    uac = peers.sipp_late_uac(stack, "caller", sdp="G729",
                              answer=case != "no_answer", hold_ms=3000)
    uac.finish(60)
    gw.quit()
    assert uac.received_requests("BYE"), \
        f"the caller got no BYE: {uac.received()}"
    assert gw.received_requests("BYE"), \
        f"the vendor got no BYE: {gw.received()}"
    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "BadSdp", cdr
    assert cdr["hold_ms"] < 2000, cdr
