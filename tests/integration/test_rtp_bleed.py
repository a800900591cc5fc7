"""Issue 9, done-when 5: RTP bleed.

A real call through signalingd and mediaproxyd: the test is the caller's
RTP and RTCP (its SDP names ports held here, on 127.0.0.1, the address its
SIP comes from too), a sipp vendor gateway on 127.0.0.1 echoes RTP.  The
caller (sipp, uac_media_hold.xml) puts the call on hold with a re-INVITE
(a=sendonly, the vendor answers a=recvonly) and resumes it with another.
A third address, 127.0.0.5 (the whole of 127/8 is local), sends RTP and
RTCP to both legs' ports of the call

- before the caller speaks,
- during the hold, after 2.5 s in which nobody sent anything (past the
  node's 2 s re-latch time), then the caller sends (music on hold), and
- after the resume and 3 s of silence (DTX, silence suppression),

and receives nothing: not the vendor's audio, not the caller's.  The latch
does not move (media.query's `remote` of leg a stays the caller's address,
the caller keeps hearing the vendor's echo after each attack) and every
packet of the attacker is counted in `strangers` of the leg it was sent
to.

Variants: `relay` (plain relay, the mapping gateway without media_handover)
and `engine` (transcoded to G.729 on the media engine, the mapping gateway
with media_handover on: re-latching after silence is allowed, but only to the
caller's own address, so the attacker still gets nothing).
"""

import socket
import struct
import time

import pytest

import peers
import tandem_it as it

SSRC = 0x5EED0001
ATTACKER_IP = "127.0.0.5"

VARIANTS = {
    # caller SDP, vendor SDP, mg1 media, gwA media, media_handover on mg1
    "relay": ("PCMA", "PCMA", None, None, False),
    "engine": ("PCMA", "G729",
               {"codecs": ["PCMA"], "allow_transcoding": True},
               {"codecs": ["G729"], "allow_transcoding": True}, True),
}


def _rtp(seq, ts, pt=8, ssrc=SSRC):
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, ts & 0xFFFFFFFF,
                       ssrc) + b"\xd5" * 160


def _udp(ip, port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    s.setblocking(False)
    return s


def _drain(sk):
    n = 0
    try:
        while sk.recv(65536):
            n += 1
    except (BlockingIOError, OSError):
        pass
    return n


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_third_address_gets_nothing(stack, variant):
    caller_sdp, vendor_sdp, mg_media, gw_media, handover = VARIANTS[variant]
    gw = peers.sipp_uas(stack, "vendor", sdp=vendor_sdp,
                        subst={"@PLAYS@": peers.vendor_hold_resume("INVITE", vendor_sdp)})
    doc = it.base_doc(gw.port, 0, gw_b=False)
    peers.media_doc(doc, mg_media=mg_media, gw_media=gw_media)
    doc["mapping_gateways"][0]["media_handover"] = handover
    stack.provision(doc)
    stack.start_all()
    mp = stack.daemon("mediaproxyd")

    port = stack.port_block(2, align=2)
    rtp = _udp("127.0.0.1", port)
    rtcp = _udp("127.0.0.1", port + 1)
    evil = _udp(ATTACKER_IP)
    evil_rtcp = _udp(ATTACKER_IP)
    sent = {"a": 0, "b": 0}
    try:
        uac = it.Sipp(stack, "caller", "uac_media_hold.xml",
                      remote=f"127.0.0.1:{stack.sip_port}",
                      service="15551230001", keys={"caller": "5550100"},
                      subst={"@SDP@": peers.sdp_lines(caller_sdp),
                             "@MPORT@": port, "@TALK@": 3000,
                             "@HOLD@": 7000, "@TAIL@": 7000},
                      calls=1, timeout_s=90, extra=["-aa"]).start()
        s = it.wait_for(lambda: peers.mp_sessions(stack), 15,
                        "the call's media session")[0]
        it.wait_for(lambda: "re-planned: b" in mp.log()
                    or "answered by" in stack.daemon("signalingd").log(),
                    15, "the vendor's answer")
        legs = {"a": s["a_port"], "b": s["b_port"]}
        seq, ts = 1, 0

        def attack(n=25):
            """n RTP and n RTCP packets to each leg, from 127.0.0.5."""
            for i in range(n):
                for leg, p in legs.items():
                    evil.sendto(_rtp(5000 + i, 160 * i, ssrc=0xBADBAD),
                                ("127.0.0.1", p))
                    evil_rtcp.sendto(struct.pack("!BBHI", 0x80, 201, 1,
                                                 0xBADBAD),
                                     ("127.0.0.1", p + 1))
                    sent[leg] += 2
                time.sleep(0.004)

        def speak(n=40):
            """n packets of the caller every 20 ms; the echoes it got."""
            nonlocal seq, ts
            got = 0
            for _ in range(n):
                rtp.sendto(_rtp(seq, ts), ("127.0.0.1", legs["a"]))
                seq += 1
                ts += 160
                time.sleep(0.02)
                got += _drain(rtp)
            time.sleep(0.3)
            return got + _drain(rtp)

        def replans():
            return [l for l in mp.log().splitlines()
                    if f"[{s['session']}] re-planned:" in l]

        # 1. before the caller speaks: the attacker is first
        attack()
        heard = [speak()]
        rtcp.sendto(struct.pack("!BBHI", 0x80, 201, 1, SSRC),
                    ("127.0.0.1", legs["a"] + 1))
        q1 = peers.media_query(stack, s["session"])["stats"]
        # 2. hold: 2.5 s of nothing from anyone, attacked, then the caller
        # sends (music on hold)
        it.wait_for(lambda: [l for l in replans() if " hold" in l], 15,
                    "the hold re-INVITE at the node")
        n_hold = len(replans())
        time.sleep(2.5)
        attack()
        heard.append(speak())
        # 3. resumed, then 3 s of silence (DTX), attacked
        it.wait_for(lambda: [l for l in replans()[n_hold:]
                             if "re-planned: a " in l and " hold" not in l],
                    15, "the resume re-INVITE at the node")
        time.sleep(3.0)
        attack()
        heard.append(speak())
        q3 = peers.media_query(stack, s["session"])["stats"]
        stolen = _drain(evil) + _drain(evil_rtcp)
        rc = uac.finish(40)
    finally:
        for sk in (rtp, rtcp, evil, evil_rtcp):
            sk.close()
    gw.quit()

    print(f"{variant}: caller heard {heard}; attacker sent {sent}, "
          f"received {stolen}")
    print("after phase 1:", q1, "\nafter phase 3:", q3)
    assert mp.alive(), f"mediaproxyd died:\n{mp.log()[-4000:]}"
    assert rc == 0, f"the call failed (caller sipp exit {rc})"
    if variant == "engine":
        assert peers.mp_on_engine(stack, s["session"]), \
            "the transcoded call is not on the media engine"

    # signalingd told the node who each leg is: the caller's signalling
    # address and mg1's media_handover on leg a, gwA's address on leg b
    plans = [l for l in mp.log().splitlines()
             if f"[{s['session']}] leg " in l]
    onoff = "on" if handover else "off"
    assert [l for l in plans if "leg a:" in l and
            f"sig 127.0.0.1 handover {onoff}" in l], plans
    assert [l for l in plans if "leg b:" in l and "remote 127.0.0.1:" in l
            and "sig 127.0.0.1 handover off" in l], plans

    # the third address received nothing at all
    assert stolen == 0, f"{variant}: the attacker received {stolen} packets"
    # the real parties kept hearing each other after every attack
    for i, h in enumerate(heard):
        assert h >= 36, f"{variant}: phase {i + 1}: caller heard {h}/40"
    # ... and the vendor kept hearing the caller (its echo came back to
    # leg b: on the engine, what the caller hears is generated every 20 ms
    # anyway, so this is the proof the vendor's path stayed up)
    assert q3["b"]["rx_packets"] - q1["b"]["rx_packets"] >= 72, (q1, q3)
    # the latch never moved to the attacker
    mine = f"127.0.0.1:{port}"
    assert q1["a"]["remote"] == mine, q1["a"]
    assert q3["a"]["remote"] == mine, q3["a"]
    assert ATTACKER_IP not in q3["b"]["remote"], q3["b"]
    # every packet of the attacker was counted as a stranger's
    assert q3["a"]["strangers"] == sent["a"], (q3["a"], sent)
    assert q3["b"]["strangers"] == sent["b"], (q3["b"], sent)
    assert "re-latched" not in mp.log(), \
        [l for l in mp.log().splitlines() if "re-latched" in l]
