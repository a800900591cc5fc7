"""Issue 3, done-when 3, at the node level: bad RTP/RTCP during a real call.

A sipp caller whose SDP names a media port held by this test (so the test
is the caller's RTP and RTCP source, latched by the node like a phone), a
sipp vendor gateway echoing RTP, a real call through signalingd and
mediaproxyd.  While good PCMA flows every 20 ms, the test sends from the
same (latched) addresses: truncated, oversized, garbage and wrong-version
RTP, CSRC/extension/padding past the end, wrong payload type, wrong SSRC,
malformed telephone-events, and truncated / wrong-type / over-long /
garbage RTCP.

- `relay`: both legs PCMA without telephone-event, a plain relay: what
  the relay checks (SPEC §4, docs/mediaproxyd.md "Checks": header
  validity, size, RTCP form) is dropped; payload types and SSRCs are not
  looked at by design.  Should the plans put the session on the media
  engine anyway, the engine's checks apply too, as below.
- `engine`: the vendor on G.729, both gateways allowing transcoding: the
  session runs on the media engine, which also drops wrong-PT, wrong-SSRC
  and malformed events (docs/media-engine.md "Bad input").

Either way mediaproxyd keeps running, the session keeps relaying (the
vendor gets packets after the burst), the call ends normally, and
media.query's `dropped` of the caller's leg (and the CDR's) counts every
bad packet.
"""

import random
import socket
import struct
import time

import pytest

import peers
import tandem_it as it

SSRC = 0x1234ABCD
OTHER_SSRC = 0x0BADF00D


def _rtp(pt, seq, ts, payload, ssrc=SSRC, first=0x80, marker=False):
    return struct.pack("!BBHII", first, (0x80 if marker else 0) | pt,
                       seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def bad_packets(seq, ts, te_pt=101):
    """[(name, to_rtcp, bytes, engine_only)]; seq/ts continue the good
    stream so the header-valid ones would otherwise be plausible."""
    rnd = random.Random(3)
    garbage = bytes([0x00]) + bytes(rnd.randrange(256) for _ in range(171))
    rtcp_garbage = bytes([0x3F]) + bytes(rnd.randrange(256)
                                         for _ in range(63))
    pl = b"\xd5" * 160
    return [
        ("rtp_truncated_4", False, b"\x80\x08\x00\x01", False),
        ("rtp_truncated_11", False, _rtp(8, seq, ts, b"")[:11], False),
        ("rtp_oversized_5000", False, _rtp(8, seq, ts, b"\xd5" * 5000),
         False),
        ("rtp_garbage_v0", False, garbage, False),
        ("rtp_version_1", False, _rtp(8, seq, ts, pl, first=0x40), False),
        ("rtp_csrc_past_end", False, _rtp(8, seq, ts, b"\x00" * 8,
                                          first=0x8F), False),
        ("rtp_ext_past_end", False, _rtp(8, seq, ts, b"\xbe\xde\x00\xff",
                                         first=0x90), False),
        ("rtp_padding_past_end", False, _rtp(8, seq, ts, b"\xd5" * 10
                                             + b"\xff", first=0xA0), False),
        ("rtp_wrong_pt_0", False, _rtp(0, seq, ts, b"\xff" * 160), True),
        ("rtp_wrong_pt_96", False, _rtp(96, seq, ts, b"\x00" * 40), True),
        ("rtp_wrong_ssrc", False, _rtp(8, seq, ts, pl, ssrc=OTHER_SSRC),
         True),
        ("event_short_3", False, _rtp(te_pt, seq, ts, b"\x01\x0a\x00"),
         True),
        ("event_code_200", False, _rtp(te_pt, seq, ts,
                                       struct.pack("!BBH", 200, 10, 160)),
         True),
        ("event_len_6", False, _rtp(te_pt, seq, ts, b"\x01\x0a\x00\xa0\x00"
                                    b"\x00"), True),
        ("rtcp_truncated_4", True, b"\x80\xc9\x00\x01", False),
        ("rtcp_pt_150", True, struct.pack("!BBHI", 0x80, 150, 1, SSRC),
         False),
        ("rtcp_len_past_end", True, struct.pack("!BBHI", 0x80, 201, 100,
                                                SSRC), False),
        ("rtcp_garbage_v0", True, rtcp_garbage, False),
    ]


VARIANTS = {
    # caller SDP, vendor SDP, mg1 media, gwA media, engine expected
    "relay": ("PCMA", "PCMA", None, None, False),
    "engine": ("PCMA+te", "G729+te",
               {"codecs": ["PCMA"], "allow_transcoding": True},
               {"codecs": ["G729"], "allow_transcoding": True}, True),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_bad_rtp_rtcp_during_call(stack, variant):
    caller_sdp, vendor_sdp, mg_media, gw_media, engine = VARIANTS[variant]
    gw = peers.sipp_uas(stack, "vendor", sdp=vendor_sdp)
    doc = it.base_doc(gw.port, 0, gw_b=False)
    peers.media_doc(doc, mg_media=mg_media, gw_media=gw_media)
    stack.provision(doc)
    stack.start_all()
    mp = stack.daemon("mediaproxyd")

    port = stack.port_block(2, align=2)
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", port))
    rtcp.bind(("127.0.0.1", port + 1))
    rtp.setblocking(False)
    rtcp.setblocking(False)
    try:
        uac = peers.sipp_uac(stack, "caller", sdp=caller_sdp, mport=port,
                             hold_ms=9000)
        s = it.wait_for(lambda: peers.mp_sessions(stack), 15,
                        "the call's media session")[0]
        it.wait_for(lambda: "re-planned: b" in mp.log()
                    or "answered by" in stack.daemon("signalingd").log(),
                    15, "the vendor's answer")
        node = ("127.0.0.1", s["a_port"])
        node_rtcp = ("127.0.0.1", s["a_port"] + 1)
        seq, ts = 100, 16000

        def drain():
            for sk in (rtp, rtcp):
                try:
                    while sk.recv(65536):
                        pass
                except (BlockingIOError, OSError):
                    pass

        def good(n):
            nonlocal seq, ts
            for _ in range(n):
                rtp.sendto(_rtp(8, seq, ts, b"\xd5" * 160,
                                marker=(seq == 100)), node)
                seq += 1
                ts += 160
                drain()
                time.sleep(0.02)

        good(50)
        # a valid RR first: the RTCP socket latches on it
        rtcp.sendto(struct.pack("!BBHI", 0x80, 201, 1, SSRC), node_rtcp)
        good(10)
        q0 = peers.media_query(stack, s["session"])["stats"]
        on_engine = peers.mp_on_engine(stack, s["session"])
        bad = bad_packets(seq, ts)
        for name, to_rtcp, data, _ in bad:
            (rtcp if to_rtcp else rtp).sendto(
                data, node_rtcp if to_rtcp else node)
            good(1)
        good(25)
        assert mp.alive(), f"mediaproxyd died:\n{mp.log()[-4000:]}"
        q1 = peers.media_query(stack, s["session"])["stats"]
        good(50)
        q2 = peers.media_query(stack, s["session"])["stats"]
        rc = uac.finish(40)
    finally:
        rtp.close()
        rtcp.close()
    gw.quit()

    eng = peers.mp_engine_lines(stack, s["session"])
    print("media engine:", eng, "\non the engine during the burst:",
          on_engine)
    print("before:", q0["a"], "\nafter burst:", q1["a"], "\nlater:", q2["a"])
    print("vendor leg after burst:", q1["b"], "\nlater:", q2["b"])
    assert rc == 0, f"the call failed (caller sipp exit {rc})"
    if engine:
        assert on_engine, "the transcoded call is not on the media engine"

    expected = [n for n, _, _, eng_only in bad if on_engine or not eng_only]
    got = q1["a"]["dropped"] - q0["a"]["dropped"]
    print(f"{variant}: {len(expected)} bad packets expected dropped: "
          f"{expected}; dropped counter +{got}")
    assert got == len(expected), \
        f"{variant}: dropped went up by {got}, expected {len(expected)} " \
        f"({expected})"
    # the session kept relaying after the burst, both ways
    assert q2["b"]["tx_packets"] - q1["b"]["tx_packets"] >= 40, (q1, q2)
    assert q2["a"]["rx_packets"] - q1["a"]["rx_packets"] >= 40, (q1, q2)
    assert q2["a"]["tx_packets"] > q1["a"]["tx_packets"], (q1, q2)

    cdr, crtp = peers.cdr_rtp(stack)
    assert cdr["end_code"] == 200 and cdr["end_reason"] == "Normal", cdr
    assert crtp["a"]["dropped"] >= len(expected), crtp
