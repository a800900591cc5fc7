"""Issue 3, done-when 2: transcoding between real peers on loopback.

- sipp playing g711a.pcap (PCMA) calls through Tandem to linphonec, whose
  only codec is G.729 (mediastreamer2's built-in bcg729 codec) and which
  plays a 1 kHz tone;
- baresip, whose only codec is Opus, calls through Tandem to a sipp vendor
  on PCMA that echoes what it gets.

Both gateways allow transcoding (SPEC §5): the caller's leg keeps the
caller's codec, the vendor's leg the vendor's.  A loopback capture of the
node's RTP range (tshark: `-z rtp,streams` and per-packet fields) shows,
per direction, the payload types expected on each leg and no sequence
gaps; the softphone's 1 kHz tone arrives at the other side as 1 kHz (and,
for linphonec, at its level), and linphonec's recording of what it
decoded is real audio.
"""

import math
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

import peers
import tandem_it as it

PT_PCMA, PT_G729 = 8, 18


def _leg_flows(fl, node_port):
    """(into the node at node_port, out of the node from node_port)."""
    into = {k: v for k, v in fl.items() if k[1] == node_port}
    out = {k: v for k, v in fl.items() if k[0] == node_port}
    return into, out


def _one(flows, what, text):
    assert len(flows) == 1, f"{what}: expected one RTP flow, got " \
        f"{len(flows)}\n{text}"
    return next(iter(flows.values()))


def test_sipp_pcma_to_linphonec_g729(stack):
    if not shutil.which("linphonec"):
        pytest.skip("linphonec is not installed (Debian linphone-cli, an "
                    "optional package of deploy/install-deps.sh)")
    tone = peers.write_tone_wav(stack.dir / "tone1k.wav", 1000, 30)
    lp = peers.Linphonec(stack, "vendor_linphonec", codec="G729", play=tone)
    if lp.start() is None:
        pytest.skip("linphonec on this system has no G729/8000 codec "
                    f"(codec list: {lp._codecs()})")
    doc = it.base_doc(lp.sip_port, 0, gw_b=False)
    peers.media_doc(doc, mg_media={"codecs": ["PCMA"],
                                   "allow_transcoding": True},
                    gw_media={"codecs": ["G729"], "allow_transcoding": True})
    stack.provision(doc)
    stack.start_all()
    cap = peers.media_capture(stack)

    uac = peers.sipp_uac(stack, "caller", sdp="PCMA+te",
                         play_items=[(it.G711A_PCAP, 7500)], hold_ms=1000)
    rc = uac.finish(60)
    cap.finish()
    lp.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    assert 200 in uac.received_codes()

    sess = peers.mp_sessions(stack)
    assert len(sess) == 1, sess
    s = sess[0]
    eng = peers.mp_engine_lines(stack, s["session"])
    print("media engine:", eng)
    assert eng, "mediaproxyd did not put the call on the media engine " \
        f"(session {s})"
    fl = peers.flows(cap.pcap)
    text = peers.flows_text(fl)
    streams, ztext = peers.rtp_streams(cap.pcap)
    print(f"RTP flows at the node (a={s['a_port']}, b={s['b_port']}):\n"
          f"{text}\n{ztext}")

    a_in, a_out = _leg_flows(fl, s["a_port"])
    b_in, b_out = _leg_flows(fl, s["b_port"])
    caller_to_node = _one(a_in, "caller -> node", text)
    node_to_caller = _one(a_out, "node -> caller", text)
    lp_to_node = _one(b_in, "linphonec -> node", text)
    node_to_lp = _one(b_out, "node -> linphonec", text)

    # g711a.pcap: 236 PCMA packets, all of them reach the node
    _check_streams(streams, s, {(True, "a"): {"g711A"},
                                (False, "a"): {"g711A"},
                                (True, "b"): {"g729"},
                                (False, "b"): {"g729"}}, ztext)
    assert caller_to_node["pts"] == {PT_PCMA: 236}, text
    # transcoded to G.729 toward linphonec: 20 ms per packet whatever the
    # packing, about as many packets (the jitter buffer may hold a few)
    assert set(node_to_lp["pts"]) == {PT_G729}, text
    assert node_to_lp["pkts"] >= 200, text
    # linphonec's tone, G.729, for the whole call; transcoded to PCMA
    assert set(lp_to_node["pts"]) == {PT_G729}, text
    assert lp_to_node["pkts"] >= 300, text
    assert set(node_to_caller["pts"]) <= {PT_PCMA, 101}, text
    assert node_to_caller["pts"].get(PT_PCMA, 0) >= 300, text
    for name, f in (("caller->node", caller_to_node),
                    ("node->caller", node_to_caller),
                    ("linphonec->node", lp_to_node),
                    ("node->linphonec", node_to_lp)):
        assert f["lost"] == 0, f"{name}: {f['lost']} lost\n{text}"

    # G.729 frames are 10 bytes; annex B SID frames (2 bytes) are never
    # emitted unless negotiated, and the call did not negotiate them
    sizes = {}
    for r in peers.rtp_packets(cap.pcap, f"udp.srcport == {s['b_port']}"):
        n = len(r[8]) // 2
        sizes[n] = sizes.get(n, 0) + 1
    fmtp = re.findall(r"^(?:INVITE sip\S*|SIP/2\.0 200.*|a=fmtp:18 .*)$",
                      lp.debug_log(), re.M)
    print("G.729 payload sizes node -> linphonec:", sizes,
          "\nG.729 fmtp in the offer/answer (linphonec's log):", fmtp)

    # linphonec's 1 kHz tone, G.729 -> PCMA, reached the caller as 1 kHz
    pk = [b for _, _, b in peers.udp_payloads(
        cap.pcap, f"udp.srcport == {s['a_port']}")]
    freq, share, rms = peers.tone_check(peers.pcma_audio(pk))
    print(f"caller received: {freq} Hz, {share:.2f} of the energy, "
          f"rms {rms:.0f}")
    assert abs(freq - 1000) <= 20, f"tone at {freq} Hz, not 1000 (+-2 %)"
    assert share >= 0.5, f"1 kHz holds only {share:.2f} of the energy"
    # level: the WAV's tone has amplitude 8000 (rms 5657); +-3 dB
    db = 20 * math.log10(max(rms, 1) / (8000 / math.sqrt(2)))
    print(f"level at the caller vs linphonec's WAV: {db:+.1f} dB")
    assert abs(db) <= 3, f"tone level changed by {db:+.1f} dB"

    # what linphonec decoded (its recording) is real audio
    secs, rms = peers.wav_stats(lp.record_wav)
    print(f"linphonec recorded {secs:.1f} s, rms {rms:.0f}")
    assert secs >= 4, f"linphonec recorded {secs:.1f} s"
    assert rms >= 100, f"linphonec recorded silence (rms {rms:.0f})"

    cdr, rtp = peers.cdr_rtp(stack)
    assert cdr["end_code"] == 200
    assert (cdr["codec_a"] or "").upper() == "PCMA", cdr["codec_a"]
    assert (cdr["codec_b"] or "").upper() == "G729", cdr["codec_b"]
    assert rtp["a"]["lost"] == 0 and rtp["b"]["lost"] == 0, rtp
    # last: annex B was not negotiated (SPEC §5, issue 3: SID frames are
    # never emitted unless negotiated)
    assert all(n % 10 == 0 and n > 0 for n in sizes), \
        f"annex B (SID) frames sent toward linphonec: payload sizes " \
        f"{sizes}; offer/answer: {fmtp}"


def _check_streams(streams, s, want, text):
    """tshark -z rtp,streams: each direction of each leg of session s is
    one stream with the payload name in want[(into_node, leg)] and 0 lost."""
    for (into, leg), payloads in want.items():
        port = s[f"{leg}_port"]
        got = [x for x in streams
               if (x["dst_port"] if into else x["src_port"]) == port]
        what = f"{'into' if into else 'out of'} the node on leg {leg}"
        assert got, f"tshark -z rtp,streams: no stream {what}\n{text}"
        for x in got:
            assert x["payload"] in payloads, \
                f"stream {what}: payload {x['payload']}\n{text}"
            assert x["lost"] == 0, f"stream {what}: lost {x['lost']}\n{text}"


def test_baresip_opus_to_sipp_pcma(stack):
    if not shutil.which("baresip") or not Path(
            "/usr/lib/baresip/modules/opus.so").exists():
        pytest.skip("baresip with its opus module is not installed (Debian "
                    "baresip-core, optional in deploy/install-deps.sh)")
    gw = peers.sipp_uas(stack, "vendor", sdp="PCMA")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    peers.media_doc(doc, mg_media={"codecs": ["opus"],
                                   "allow_transcoding": True},
                    gw_media={"codecs": ["PCMA"], "allow_transcoding": True})
    stack.provision(doc)
    stack.start_all()
    cap = peers.media_capture(stack)

    bs = peers.Baresip(stack, "caller_baresip",
                       f"sip:15551230001@127.0.0.1:{stack.sip_port}",
                       codec="opus/48000/1")
    bs.start()
    try:
        def session():
            if not bs.alive():
                raise it.ItError(f"baresip exited:\n{bs.log()[-3000:]}")
            return peers.mp_sessions(stack)
        it.wait_for(session, 20, "mediaproxyd session of baresip's call")
        it.wait_for(lambda: re.search(r"Call established|established",
                                      bs.log()), 20,
                    "baresip's call to be answered")
        time.sleep(8)
    finally:
        bs.hangup()
    time.sleep(1.5)
    cap.finish()
    gw.quit()
    print("baresip log tail:\n", bs.log()[-3000:])

    s = peers.mp_sessions(stack)[0]
    eng = peers.mp_engine_lines(stack, s["session"])
    print("media engine:", eng)
    fl = peers.flows(cap.pcap)
    text = peers.flows_text(fl)
    streams, ztext = peers.rtp_streams(cap.pcap)
    print(f"RTP flows at the node (a={s['a_port']}, b={s['b_port']}):\n"
          f"{text}\n{ztext}")
    assert eng, "mediaproxyd did not put the call on the media engine " \
        f"(session {s})"

    a_in, a_out = _leg_flows(fl, s["a_port"])
    b_in, b_out = _leg_flows(fl, s["b_port"])
    bs_to_node = _one(a_in, "baresip -> node", text)
    node_to_bs = _one(a_out, "node -> baresip", text)
    gw_to_node = _one(b_in, "vendor -> node", text)
    node_to_gw = _one(b_out, "node -> vendor", text)

    opus_pt = set(bs_to_node["pts"])
    assert len(opus_pt) == 1 and min(opus_pt) >= 96, \
        f"baresip sent PTs {opus_pt}, expected one dynamic (Opus)\n{text}"
    # tshark did not see the SDP: Opus shows as its dynamic PT
    opus_names = {f"RTPType-{min(opus_pt)}", "opus"}
    _check_streams(streams, s, {(True, "a"): opus_names,
                                (False, "a"): opus_names,
                                (True, "b"): {"g711A"},
                                (False, "b"): {"g711A"}}, ztext)
    # 8 s of 20 ms packets each way
    assert bs_to_node["pkts"] >= 350, text
    assert set(node_to_gw["pts"]) == {PT_PCMA}, text
    assert node_to_gw["pkts"] >= 350, text
    assert set(gw_to_node["pts"]) == {PT_PCMA}, text
    assert set(node_to_bs["pts"]) == opus_pt, text
    assert node_to_bs["pkts"] >= 350, text
    for name, f in (("baresip->node", bs_to_node),
                    ("node->baresip", node_to_bs),
                    ("vendor->node", gw_to_node),
                    ("node->vendor", node_to_gw)):
        assert f["lost"] == 0, f"{name}: {f['lost']} lost\n{text}"

    # baresip's 1 kHz sine, Opus -> PCMA, reached the vendor as 1 kHz
    pk = [b for _, _, b in peers.udp_payloads(
        cap.pcap, f"udp.srcport == {s['b_port']}")]
    freq, share, rms = peers.tone_check(peers.pcma_audio(pk))
    print(f"vendor received: {freq} Hz, {share:.2f} of the energy, "
          f"rms {rms:.0f}")
    assert abs(freq - 1000) <= 20, f"tone at {freq} Hz, not 1000 (+-2 %)"
    assert share >= 0.5, f"1 kHz holds only {share:.2f} of the energy"
    assert rms >= 300, f"the vendor got near silence (rms {rms:.0f})"

    cdr, rtp = peers.cdr_rtp(stack)
    assert cdr["end_code"] == 200
    assert (cdr["codec_a"] or "").lower() == "opus", cdr["codec_a"]
    assert (cdr["codec_b"] or "").upper() == "PCMA", cdr["codec_b"]



@pytest.mark.parametrize("mode", ["0", "3"])
def test_cdr_names_codecs_in_one_spelling(stack, mode):
    """Issue 11, item 2: the CDR names a leg's codec in the switch's own
    spelling, whatever case the peers' SDP used (callers and vendors that
    write "pcma/8000" are billed and reported as PCMA), with the media
    relayed (mode 3) or not (mode 0)."""
    low = {"a=rtpmap:8 PCMA/8000": "a=rtpmap:8 pcma/8000"}
    gw = stack.uas("gwA", "uas_answer.xml", subst=low)
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = mode
    stack.provision(doc)
    stack.start_all()
    uac = it.Sipp(stack, "caller", "uac_hold.xml",
                  remote=f"127.0.0.1:{stack.sip_port}",
                  service="15551230001", keys={"caller": "5550100"},
                  subst=low, calls=1, duration_ms=1000,
                  timeout_s=30).start()
    assert uac.finish(40) == 0
    gw.quit()
    assert "a=rtpmap:8 pcma/8000" in gw.messages(), "the vendor's spelling"
    cdr = it.wait_for(lambda: it.cdr_rows(stack) or None, 20, "the CDR")[0]
    assert bool(cdr["media_node"]) == (mode == "3"), cdr["media_node"]
    assert (cdr["codec_a"], cdr["codec_b"]) == ("PCMA", "PCMA"), cdr


def _tone_pcm(freq, seconds, amp=8000, rate=8000):
    return b"".join(struct.pack("<h", int(amp * math.sin(
        2 * math.pi * freq * i / rate))) for i in range(int(rate * seconds)))


def _g723(stack, mode, data):
    """Frames of PCM (mode "enc") or PCM of frames ("dec") by the media
    engine's own G.723.1 codec (tests/tools/g723tool.c)."""
    r = subprocess.run([str(it.BUILD / "tests" / "g723tool"), mode],
                       input=data, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def test_g723_vendor_through_pcma_caller(stack):
    """Issue 13 item 7, done-when 6: a vendor whose only codec is G.723.1
    (a sipp playing a 1 kHz tone encoded by the project's own encoder, 30 ms
    packets on PT 4) answers a PCMA caller playing 700 Hz.  The call
    connects on the media engine; the vendor's leg carries only PT 4 in
    whole 6.3 kbit/s frames (24 bytes, 240 ticks a packet) both ways, the
    caller's only PT 8; the caller hears 1 kHz and the vendor, decoded with
    the same codec, 700 Hz; the CDR says PCMA and G723."""
    secs = 6
    pcm = _g723(stack, "enc", _tone_pcm(1000, secs))
    assert len(pcm) == 24 * (8000 * secs // 240)
    g723_pcap = peers.write_rtp_pcap(
        stack.dir / "g723_1k.pcap",
        [(i * 0.030, peers.rtp_header(4, 100 + i, 240 * i, 0x6723AAAA) +
          pcm[24 * i:24 * i + 24]) for i in range(len(pcm) // 24)])
    alaw = bytes(peers.lin_to_alaw(x) for x in struct.unpack(
        f"<{8000 * secs}h", _tone_pcm(700, secs)))
    pcma_pcap = peers.write_rtp_pcap(
        stack.dir / "pcma_700.pcap",
        [(i * 0.020, peers.rtp_header(8, 500 + i, 160 * i, 0x0700BBBB) +
          alaw[160 * i:160 * i + 160]) for i in range(len(alaw) // 160)])

    gw = peers.sipp_uas(stack, "vendor", sdp="G723", rtp_echo=False,
                        subst={"@PLAYS@": peers.plays([(g723_pcap, 0)])})
    doc = it.base_doc(gw.port, 0, gw_b=False)
    peers.media_doc(doc, mg_media={"codecs": ["PCMA"],
                                   "allow_transcoding": True},
                    gw_media={"codecs": ["G723"], "allow_transcoding": True})
    stack.provision(doc)
    stack.start_all()
    cap = peers.media_capture(stack)
    uac = peers.sipp_uac(stack, "caller", sdp="PCMA",
                         play_items=[(pcma_pcap, 0)],
                         hold_ms=(secs + 1) * 1000)
    assert uac.finish(60) == 0, uac.messages()[-3000:]
    time.sleep(0.5)
    cap.finish()
    gw.quit()

    s = peers.mp_sessions(stack)[0]
    assert peers.mp_engine_lines(stack, s["session"]), \
        f"the call was not put on the media engine ({s})"
    fl = peers.flows(cap.pcap)
    text = peers.flows_text(fl)
    print(f"RTP flows at the node (a={s['a_port']}, b={s['b_port']}):\n"
          f"{text}")
    a_in, a_out = _leg_flows(fl, s["a_port"])
    b_in, b_out = _leg_flows(fl, s["b_port"])
    node_to_caller = _one(a_out, "node -> caller", text)
    node_to_gw = _one(b_out, "node -> vendor", text)
    gw_to_node = _one(b_in, "vendor -> node", text)
    assert set(gw_to_node["pts"]) == {4}, text
    assert set(node_to_gw["pts"]) == {4}, text
    assert set(node_to_caller["pts"]) == {PT_PCMA}, text
    assert node_to_gw["lost"] == 0 and node_to_caller["lost"] == 0, text

    # what the node sent the vendor: whole 6.3 kbit/s frames, 30 ms each
    sent = [peers.parse_rtp(b) for _, _, b in peers.udp_payloads(
        cap.pcap, f"udp.srcport == {s['b_port']}")]
    sent = [r for r in sent if r and r[0] == 4]
    assert len(sent) >= (secs - 1) * 1000 // 30, len(sent)
    assert {len(r[5]) for r in sent} == {24}, {len(r[5]) for r in sent}
    steps = {(b[3] - a[3]) & 0xFFFFFFFF for a, b in zip(sent, sent[1:])}
    assert steps == {240}, steps
    heard = struct.unpack(f"<{len(sent) * 240}h",
                          _g723(stack, "dec", b"".join(r[5] for r in sent)))
    freq, share, rms = peers.tone_check(list(heard))
    print(f"vendor received: {freq} Hz, {share:.2f} of the energy, "
          f"rms {rms:.0f}")
    assert abs(freq - 700) <= 10 and share >= 0.5 and rms >= 300, \
        (freq, share, rms)

    # what the caller heard: the vendor's G.723.1 tone as PCMA
    pk = [b for _, _, b in peers.udp_payloads(
        cap.pcap, f"udp.srcport == {s['a_port']}")]
    freq, share, rms = peers.tone_check(peers.pcma_audio(pk))
    print(f"caller received: {freq} Hz, {share:.2f} of the energy, "
          f"rms {rms:.0f}")
    assert abs(freq - 1000) <= 10 and share >= 0.5 and rms >= 300, \
        (freq, share, rms)

    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_code"] == 200
    assert (cdr["codec_a"], cdr["codec_b"]) == ("PCMA", "G723"), cdr
