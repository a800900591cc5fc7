"""Issue 13, item 6: failure codes a carrier's peers can act on.

- A number no routing gateway has a prefix for gets 404 at once (SPEC §3.2:
  the customer's switch stops there instead of retrying); a number whose
  gateways are only not eligible now (locked) keeps 503 NoAvailableRouter.
- A caller's SDP the switch cannot relay (a host name or a bad address in
  `c=`, port 99999, an absurd clock rate, IPv6 toward an IPv4-only media
  node) gets 488 BadSdp, and no media node is counted as failing for it:
  the next good call is relayed as usual.
- A gateway that stays silent (no 1xx within SS_FAILOVER_NO_PROVISIONAL_MS)
  is not sent the INVITE again once the call has moved on to the next
  gateway (Timer A would go on until Timer B, 32 s).
"""

import socket
import threading
import time

import peers
import sipraw
import tandem_it as it


def _with_prefix(doc, prefix):
    """A rate for prefix in every table (billing allows the call)."""
    for t in doc["rate_tables"]:
        t["entries"].append(dict(t["entries"][0], prefix=prefix))


def test_unroutable_number_gets_404_not_503(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    _with_prefix(doc, "9")                  # rated, no gateway at all
    _with_prefix(doc, "7")                  # rated, its gateway locked
    doc["routing_gateways"].append(
        dict(doc["routing_gateways"][0], name="gwL", prefixes=["7"],
             locked=True))
    stack.provision(doc)
    stack.start_all()

    for name, callee, code in (("c404", "95551230001", 404),
                               ("c503", "75551230001", 503)):
        uac = stack.uac(name, "uac_expect_code.xml", callee=callee,
                        code=code, calls=1, timeout_s=20)
        assert uac.finish(30) == 0, f"{callee}: not answered {code}"
    rows = it.wait_for(lambda: (lambda r: r if len(r) == 2 else None)(
        it.cdr_rows(stack)), 20, "two CDRs")
    gw.quit()
    got = {r["callee"]: (r["end_code"], r["end_reason"], r["q850"],
                         r["end_direction"]) for r in rows}
    print("CDRs:", got)
    assert got["95551230001"] == (404, "NoRoute", 1, "server")
    assert got["75551230001"] == (503, "NoAvailableRouter", 41, "server")


SDP = """v=0\r
o=- 1 1 IN IP4 127.0.0.1\r
s=-\r
c=IN {c}\r
t=0 0\r
m=audio {port} RTP/AVP {pt} 101\r
a=rtpmap:{pt} {codec}\r
a=rtpmap:101 telephone-event/8000\r
a=sendrecv\r
"""

BAD_SDP = {
    "host name": dict(c="IP4 media.example.com", port=40000, pt=8,
                      codec="PCMA/8000"),
    "bad address": dict(c="IP4 999.1.1.1", port=40000, pt=8,
                        codec="PCMA/8000"),
    "port 99999": dict(c="IP4 127.0.0.1", port=99999, pt=8,
                       codec="PCMA/8000"),
    "clock rate 999999": dict(c="IP4 127.0.0.1", port=40000, pt=96,
                              codec="PCMA/999999"),
    "IPv6 toward an IPv4 node": dict(c="IP6 ::1", port=40000, pt=8,
                                     codec="PCMA/8000"),
}


def test_bad_caller_sdp_gets_488_and_no_node_is_blamed(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    sg = stack.daemon("signalingd")
    ua = sipraw.Client(stack, "127.0.0.1")
    codes = {}
    for what, fields in BAD_SDP.items():
        code, text = ua.request("INVITE",
                                f"sip:15551230001@127.0.0.1:{stack.sip_port}",
                                "5550100", "15551230001",
                                sdp=SDP.format(**fields))
        codes[what] = code
    print("answers:", codes)
    assert codes == {what: 488 for what in BAD_SDP}, codes
    rows = it.wait_for(lambda: (lambda r: r if len(r) == len(BAD_SDP)
                                else None)(it.cdr_rows(stack)), 20,
                       "a CDR per refused call")
    assert {r["end_reason"] for r in rows} == {"BadSdp"}, rows
    assert not [r for r in rows if r["media_node"]], \
        "a media session was made for a call refused for its SDP"
    assert "MediaUnavailable" not in sg.log()
    # the node is not blamed: the next call is relayed through it at once
    uac = stack.uac("caller", "uac_hold.xml", duration_ms=500, calls=1,
                    timeout_s=20)
    assert uac.finish(30) == 0
    gw.quit()
    last = it.wait_for(lambda: (lambda r: r if len(r) > len(BAD_SDP)
                                else None)(it.cdr_rows(stack)), 20,
                       "the good call's CDR")[-1]
    assert last["end_reason"] == "Normal" and last["media_node"], last


class _Silent:
    """A gateway that receives and never answers: the time of every
    INVITE it gets."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.invites = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            if data.startswith(b"INVITE "):
                self.invites.append(time.monotonic())

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def test_silent_gateway_is_not_retransmitted_to_after_failover(stack):
    silent = _Silent()
    gw_b = stack.uas("gwB", "uas_answer.xml")
    doc = it.base_doc(silent.port, gw_b.port)      # gwA silent, then gwB
    noprov_s = int(doc["system_parameters"]
                   ["SS_FAILOVER_NO_PROVISIONAL_MS"]) / 1000
    stack.provision(doc)
    stack.start_all()
    uac = stack.uac("caller", "uac_hold.xml", duration_ms=1000, calls=1,
                    timeout_s=30)
    assert uac.finish(40) == 0, "the call did not move on to gwB"
    first = silent.invites[0]
    time.sleep(max(0.0, first + 9 - time.monotonic()))   # Timer A: 7.5 s
    silent.close()
    gw_b.quit()
    after = [round(t - first, 2) for t in silent.invites]
    print("INVITEs to the silent gateway at", after, "s")
    assert len(after) >= 2, "Timer A did not retransmit before the timer"
    assert after[-1] < noprov_s, \
        f"INVITE sent to the silent gateway at {after[-1]} s, after the " \
        f"call moved on at {noprov_s} s"
    cdr = it.cdr_rows(stack)[0]
    assert [(a["gateway"], a["code"]) for a in it.attempts(stack, cdr["id"])
            ] == [("gwA", 408), ("gwB", 200)]


def test_gsm_only_call_passes_through_relayed(stack):
    """Issue 13, item 3 (part): a codec the switch cannot transcode (GSM)
    that both sides share passes through in mode 3: offered to the vendor,
    answered, and its RTP relayed by the media node both ways untouched."""
    gsm = {"RTP/AVP 8 101": "RTP/AVP 3 101",
           "a=rtpmap:8 PCMA/8000": "a=rtpmap:3 GSM/8000"}
    pcap = peers.write_rtp_pcap(
        stack.dir / "gsm.pcap",
        [(i * 0.02, peers.rtp_header(3, i, i * 160, 0x6a5) + bytes(
            [0xD0 | (i & 0x0F)]) + bytes(range(32))) for i in range(150)])
    gw = stack.uas("gwA", "uas_answer.xml", subst=gsm)
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "3"
    stack.provision(doc)
    stack.start_all()
    uac = it.Sipp(stack, "caller", "uac_pcap.xml",
                  remote=f"127.0.0.1:{stack.sip_port}",
                  service="15551230001",
                  keys={"caller": "5550100", "pcap": str(pcap)},
                  subst=gsm, calls=1, duration_ms=4000,
                  timeout_s=30).start()
    assert uac.finish(40) == 0, "the GSM call failed"
    gw.quit()
    cdr = it.wait_for(lambda: it.cdr_rows(stack) or None, 20, "the CDR")[0]
    rtp = cdr["rtp"]
    print("GSM call:", cdr["codec_a"], cdr["codec_b"], cdr["media_node"],
          rtp)
    assert (cdr["codec_a"], cdr["codec_b"]) == ("GSM", "GSM")
    assert cdr["media_node"], "not relayed"
    assert cdr["end_reason"] == "Normal"
    # the caller's 150 packets reached the vendor, whose echo came back
    assert rtp["a"]["rx_packets"] >= 140, rtp
    assert rtp["b"]["rx_packets"] >= 140, rtp
