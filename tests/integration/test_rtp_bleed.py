"""Issue 9, done-when 5: RTP bleed.

A real call through signalingd and mediaproxyd: the test is the caller's
RTP and RTCP (its SDP names ports held here, on 127.0.0.1, the address its
SIP comes from too), a sipp vendor gateway on 127.0.0.1 echoes RTP.  A third
address, 127.0.0.5 (the whole of 127/8 is local), sends RTP and RTCP to
both legs' ports of the call

- before the caller speaks,
- during a short silence of the caller (what a hold looks like to the
  node: the held side sends nothing), and
- after 3 s of silence (DTX, silence suppression: past the node's 2 s
  re-latch time),

and receives nothing: not the vendor's audio, not the caller's.  The latch
does not move (media.query's `remote` of leg a stays the caller's address,
the caller keeps hearing the vendor's echo after each attack) and every
packet of the attacker is counted in `strangers` of the leg it was sent
to.

Variants: `relay` (plain relay, the mapping gateway without rtp_relatch)
and `engine` (transcoded to G.729 on the media engine, the mapping gateway
with rtp_relatch on: re-latching after silence is allowed, but only to the
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
    # caller SDP, vendor SDP, mg1 media, gwA media, rtp_relatch on mg1
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
    caller_sdp, vendor_sdp, mg_media, gw_media, relatch = VARIANTS[variant]
    gw = peers.sipp_uas(stack, "vendor", sdp=vendor_sdp)
    doc = it.base_doc(gw.port, 0, gw_b=False)
    peers.media_doc(doc, mg_media=mg_media, gw_media=gw_media)
    doc["mapping_gateways"][0]["rtp_relatch"] = relatch
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
        uac = peers.sipp_uac(stack, "caller", sdp=caller_sdp, mport=port,
                             hold_ms=16000)
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

        # 1. before the caller speaks: the attacker is first
        attack()
        heard = [speak()]
        rtcp.sendto(struct.pack("!BBHI", 0x80, 201, 1, SSRC),
                    ("127.0.0.1", legs["a"] + 1))
        q1 = peers.media_query(stack, s["session"])["stats"]
        # 2. the caller falls silent (hold): attacked within the 2 s
        time.sleep(0.5)
        attack()
        heard.append(speak())
        # 3. 3 s of silence (DTX): attacked past the re-latch time
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

    # the third address received nothing at all
    assert stolen == 0, f"{variant}: the attacker received {stolen} packets"
    # the real parties kept hearing each other after every attack
    for i, h in enumerate(heard):
        assert h >= 36, f"{variant}: phase {i + 1}: caller heard {h}/40"
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
