"""Issue 3, done-when 2: DTMF conversion between real peers (SPEC §5).

A sipp caller (PCMA + telephone-event 101) and a sipp vendor gateway (PCMA,
no telephone-event in its answer) through Tandem:

- RFC 2833 -> SIP INFO: the caller plays sipp's
  dtmf_2833_{1..9,star,pound}.pcap with play_pcap_audio (in that order
  their sequence numbers and timestamps grow, as one phone's would); gwA
  has `dtmf_send: info`.  The vendor receives one INFO
  `application/dtmf-relay` per digit, in order, exactly once, and no
  telephone-event packets.
- RFC 2833 -> inband: the caller plays a pcap of PCMA silence with the 16
  digits 0-9 * # A-D as RFC 2833 events in it (one SSRC, audio flowing all
  along, as a phone sends them); gwA has `dtmf_send: inband`.  The PCMA
  the vendor receives, decoded and run through a Goertzel detector, holds
  every digit exactly once; no events and no INFO reach the vendor.
- SIP INFO -> RFC 2833: the vendor sends 12 INFOs (0-9 * #,
  `application/dtmf-relay`); gwA has `dtmf_receive: info`.  The caller
  receives each digit exactly once as an RFC 4733 event on PT 101 (its own
  timestamp, marker on the first packet, three end packets), whether audio
  flows toward it or not.
- inband -> RFC 2833: the vendor plays PCMA with the 16 DTMF tones in it;
  gwA has `dtmf_receive: inband`.  The caller receives each digit exactly
  once as an RFC 4733 event, and the tones stay in its audio too.
- RFC 2833 toward an Opus vendor: offered telephone-event/8000 and /48000
  (RFC 4733 2.3.1), it answers Opus with /48000; the caller's events reach
  it on that PT, at the 48 kHz clock.
"""

import peers
import tandem_it as it

DIGITS_2833 = list("123456789*#")    # the stock pcaps, in stream order
DIGITS_ALL = list("0123456789*#ABCD")
DIGITS_INFO = list("0123456789*#")
TE_PT = 101


def _setup(stack, gw, gw_media, mg_media=None):
    doc = it.base_doc(gw.port, 0, gw_b=False)
    peers.media_doc(doc, mg_media=mg_media, gw_media=gw_media)
    stack.provision(doc)
    stack.start_all()
    return peers.media_capture(stack)


def _session(stack):
    sess = peers.mp_sessions(stack)
    assert len(sess) == 1, sess
    s = sess[0]
    print("session:", s)
    print("media engine:", peers.mp_engine_lines(stack, s["session"]))
    print("mediaproxyd dtmf lines:\n" + "\n".join(
        peers.log_lines(stack.daemon("mediaproxyd"), r"dtmf")))
    print("signalingd INFO/dtmf lines:\n" + "\n".join(
        peers.log_lines(stack.daemon("signalingd"), r"(?i)dtmf|INFO")))
    return s


def _caller_view(uac):
    """What the caller was told and got by SIP: its 200's SDP, INFOs."""
    sdp = peers.answered_sdp(uac)
    infos = peers.info_digits(uac)
    print("SDP answer to the caller:", sdp)
    print("INFO received by the caller:", infos)
    return sdp, infos


def _to(cap, port, frm=None):
    flt = f"udp.dstport == {port}"
    if frm is not None:
        flt += f" && udp.srcport == {frm}"
    return [b for _, _, b in peers.udp_payloads(cap.pcap, flt)]


def test_rfc2833_to_sip_info(stack):
    gw = peers.sipp_uas(stack, "vendor", sdp="PCMA")
    cap = _setup(stack, gw, gw_media={"dtmf_send": "info"})
    items = [(peers.DTMF_PCAP[d], 600) for d in DIGITS_2833]
    uac = peers.sipp_uac(stack, "caller", sdp="PCMA+te", play_items=items,
                         hold_ms=1500)
    rc = uac.finish(60)
    cap.finish()
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    s = _session(stack)
    sdp, _ = _caller_view(uac)

    # the caller's events reached the node
    sent = peers.events_in(_to(cap, s["a_port"]), TE_PT)
    print("events caller -> node:", sent)
    assert [e[0] for e in sent] == DIGITS_2833, sent

    infos = peers.info_digits(gw)
    print("INFO received by the vendor:", infos)
    assert infos == [("application/dtmf-relay", d) for d in DIGITS_2833], \
        f"INFO to the vendor: {infos}; SDP answer to the caller: {sdp}"
    assert not [c for c in gw.received_codes() if c >= 300]
    # and nothing as telephone-events toward the vendor
    ev_b = peers.events_in(_to(cap, gw.media_port, s["b_port"]), TE_PT)
    assert ev_b == [], f"events sent to an INFO vendor: {ev_b}"
    # the CDR says how digits went to each leg
    cdr, _ = peers.cdr_rtp(stack)
    assert (cdr["dtmf_a"], cdr["dtmf_b"]) == ("rfc2833", "info"), cdr


def test_rfc2833_to_inband(stack):
    gw = peers.sipp_uas(stack, "vendor", sdp="PCMA")
    cap = _setup(stack, gw, gw_media={"dtmf_send": "inband"})
    pcap = peers.pcma_with_events_pcap(stack.dir / "pcma_dtmf.pcap",
                                       DIGITS_ALL, gap_s=0.6)
    uac = peers.sipp_uac(stack, "caller", sdp="PCMA+te",
                         play_items=[(pcap, 1000 + 700 * len(DIGITS_ALL)
                                      + 1200)], hold_ms=500)
    rc = uac.finish(60)
    cap.finish()
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    s = _session(stack)
    sdp, _ = _caller_view(uac)

    sent = peers.events_in(_to(cap, s["a_port"]), TE_PT)
    assert [e[0] for e in sent] == DIGITS_ALL, sent

    to_vendor = _to(cap, gw.media_port, s["b_port"])
    audio = peers.pcma_audio(to_vendor)
    found = peers.goertzel_digits(audio)
    print(f"vendor received {len(to_vendor)} packets, "
          f"{len(audio) / 8000:.2f} s of PCMA; tones: {found}")
    assert len(audio) >= 8000 * 10, "the vendor got less than 10 s of PCMA"
    assert [d for d, _, _ in found] == DIGITS_ALL, \
        f"tones in the vendor's audio: {found}; SDP answer to the " \
        f"caller: {sdp}"
    for d, start, length in found:
        assert 0.06 <= length <= 0.5, (d, start, length)
    ev_b = peers.events_in(to_vendor, TE_PT)
    assert ev_b == [], f"events sent to an inband vendor: {ev_b}"
    assert peers.info_digits(gw) == [], "INFO sent to an inband vendor"


def _info_to_rfc2833(stack, caller_audio):
    gw = peers.sipp_uas(stack, "vendor", "uas_media_info.xml", sdp="PCMA",
                        subst={"@WAIT@": 1000,
                               "@INFOS@": peers.info_requests(DIGITS_INFO,
                                                              600)})
    cap = _setup(stack, gw, gw_media={"dtmf_receive": "info"})
    call_ms = 1000 + 700 * len(DIGITS_INFO) + 1500
    if caller_audio:
        # PCMA every 20 ms for the whole call (one SSRC), echoed back by
        # the vendor: audio flows toward the caller all along
        pcap = peers.pcma_with_events_pcap(stack.dir / "pcma.pcap", [],
                                           lead_s=call_ms / 1000, tail_s=0)
        items = [(pcap, call_ms)]
    else:
        items = []
    uac = peers.sipp_uac(stack, "caller", sdp="PCMA+te", play_items=items,
                         hold_ms=500 if caller_audio else call_ms)
    rc = uac.finish(60)
    cap.finish()
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    s = _session(stack)
    sdp, caller_infos = _caller_view(uac)

    codes = gw.received_codes()
    print("vendor received codes:", codes)
    assert codes.count(200) >= len(DIGITS_INFO), \
        f"the vendor's INFOs were not all answered 200: {codes}"

    to_caller = _to(cap, uac.media_port, s["a_port"])
    audio_pkts = [r for r in map(peers.parse_rtp, to_caller)
                  if r and r[0] == 8]
    print(f"PCMA packets node -> caller: {len(audio_pkts)}")
    if caller_audio:
        # the relay forwarded the vendor's audio until the first INFO
        # digit started the engine: still one stream, no sequence gap
        rtp = [r for r in map(peers.parse_rtp, to_caller) if r]
        ssrcs = {r[4] for r in rtp}
        gaps = [(a[2], b[2]) for a, b in zip(rtp, rtp[1:])
                if (a[2] + 1) & 0xFFFF != b[2]]
        print(f"to the caller: SSRCs {ssrcs}, sequence gaps {gaps[:5]}")
        assert len(ssrcs) == 1, f"the stream to the caller changed SSRC: " \
            f"{ssrcs}"
        assert gaps == [], f"sequence gaps toward the caller: {gaps[:10]}"
    evs = peers.events_in(to_caller, TE_PT)
    print("events node -> caller (digit, ts, end packets, marker, "
          "duration):", evs)
    assert [e[0] for e in evs] == DIGITS_INFO, \
        f"events to the caller: {evs}; INFO to the caller: " \
        f"{caller_infos}; SDP answer to the caller: {sdp}"
    assert caller_infos == [], "the caller got INFO too"
    stamps = [e[1] for e in evs]
    assert len(set(stamps)) == len(stamps), \
        f"RFC 4733: digits sent to the caller share RTP timestamps " \
        f"(a receiver takes them for one event): {evs}"
    for d, ts, ends, marker, dur in evs:
        assert ends == 3, f"digit {d}: {ends} end packets"
        assert marker, f"digit {d}: no marker on the first packet"
        assert dur >= 800, f"digit {d}: duration {dur} < 100 ms"


def test_sip_info_to_rfc2833(stack):
    """The caller sends audio all along (so does the echoing vendor)."""
    _info_to_rfc2833(stack, caller_audio=True)


def test_sip_info_to_rfc2833_silent_leg(stack):
    """The caller sends no audio (a phone with silence suppression, or on
    mute): the node's events toward it must still be one RFC 4733 event
    per digit, each with its own timestamp."""
    _info_to_rfc2833(stack, caller_audio=False)


def test_inband_to_rfc2833(stack):
    tones = peers.pcma_tones_pcap(stack.dir / "vendor_tones.pcap",
                                  DIGITS_ALL, lead_s=1.0, gap_s=0.6)
    call_ms = 1000 + 700 * len(DIGITS_ALL) + 2000
    gw = peers.sipp_uas(stack, "vendor", sdp="PCMA", rtp_echo=False,
                        subst={"@PLAYS@": peers.plays([(tones, 0)])})
    cap = _setup(stack, gw, gw_media={"dtmf_receive": "inband"})
    # the caller sends PCMA all along too
    pcap = peers.pcma_with_events_pcap(stack.dir / "pcma.pcap", [],
                                       lead_s=call_ms / 1000, tail_s=0)
    uac = peers.sipp_uac(stack, "caller", sdp="PCMA+te",
                         play_items=[(pcap, call_ms)], hold_ms=300)
    rc = uac.finish(60)
    cap.finish()
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    s = _session(stack)
    sdp, caller_infos = _caller_view(uac)

    from_vendor = _to(cap, s["b_port"], gw.media_port)
    sent = peers.goertzel_digits(peers.pcma_audio(from_vendor))
    assert [d for d, _, _ in sent] == DIGITS_ALL, \
        f"the vendor's own tones: {sent}"

    to_caller = _to(cap, uac.media_port, s["a_port"])
    evs = peers.events_in(to_caller, TE_PT)
    tones_caller = peers.goertzel_digits(peers.pcma_audio(to_caller))
    print("events node -> caller:", evs, "\ntones in the caller's audio:",
          tones_caller)
    assert [e[0] for e in evs] == DIGITS_ALL, \
        f"events to the caller: {evs}; INFO to the caller: " \
        f"{caller_infos}; SDP answer to the caller: {sdp}"
    assert caller_infos == [], "the caller got INFO too"
    stamps = [e[1] for e in evs]
    assert len(set(stamps)) == len(stamps), evs
    for d, ts, ends, marker, dur in evs:
        assert ends == 3, f"digit {d}: {ends} end packets"
        assert marker, f"digit {d}: no marker on the first packet"
    # SPEC §5: inband -> RFC 2833 keeps the tones in the audio
    assert [d for d, _, _ in tones_caller] == DIGITS_ALL, tones_caller


def test_rfc2833_to_an_opus_vendor_at_its_clock(stack):
    gw = peers.sipp_uas(stack, "vendor", sdp="opus+te48", rtp_echo=False)
    cap = _setup(stack, gw, mg_media={"allow_transcoding": True},
                 gw_media={"codecs": ["opus", "PCMU"],
                           "allow_transcoding": True})
    digits = list("159#")
    pcap = peers.pcma_with_events_pcap(stack.dir / "pcma_dtmf.pcap",
                                       digits, gap_s=0.6)
    uac = peers.sipp_uac(stack, "caller", sdp="PCMA+te",
                         play_items=[(pcap, 1000 + 700 * len(digits)
                                      + 1200)], hold_ms=500)
    rc = uac.finish(60)
    cap.finish()
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    s = _session(stack)

    # our offer: events at both clocks, each on its own PT
    inv = gw.received_texts("INVITE ")[0]
    assert "a=rtpmap:101 telephone-event/8000" in inv, inv
    assert "a=rtpmap:97 telephone-event/48000" in inv, inv
    to_vendor = _to(cap, gw.media_port, s["b_port"])
    ev = peers.events_in(to_vendor, 97)
    print("events node -> vendor on PT 97:", ev)
    assert [e[0] for e in ev] == digits, ev
    # 100 ms digits at 48 kHz: durations in 48 kHz ticks (4800), not 800
    assert all(4000 <= e[4] <= 9600 for e in ev), ev
    assert peers.events_in(to_vendor, 101) == [], "events on the /8000 PT"
    cdr, _ = peers.cdr_rtp(stack)
    assert (cdr["codec_a"], cdr["codec_b"]) == ("PCMA", "opus"), cdr
    assert (cdr["dtmf_a"], cdr["dtmf_b"]) == ("rfc2833", "rfc2833"), cdr
