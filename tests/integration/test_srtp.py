"""Issue 13 item 5: SRTP (an RTP/SAVP offer with SDES keys).

The media node cannot decrypt SRTP, so the switch never relays it: in mode
0 the offer and its keys reach the vendor untouched; in modes 1 and 2 a
call that needs nothing of the node goes direct; where relaying would be
needed (mode 3, or transcoding) the caller gets 488 `SrtpNotRelayed` and no
vendor sees an INVITE.
"""

import pytest

import peers
import tandem_it as it

ANSWERED = """  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="500"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""

REFUSED = """  <recv response="488"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

XC_A = {"codecs": ["PCMA"], "allow_transcoding": True}
XC_B = {"codecs": ["G729"], "allow_transcoding": True}

# name: (mode, mapping gateway media, routing gateway media, answered?)
CASES = {
    "mode0": ("0", None, None, True),
    "mode1": ("1", None, None, True),
    "mode2": ("2", None, None, True),
    "mode3": ("3", None, None, False),
    "mode1_transcoding": ("1", XC_A, XC_B, False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_srtp_is_never_relayed(stack, case):
    mode, mg_media, gw_media, answered = CASES[case]
    gw = peers.sipp_uas(stack, "gwA", sdp="PCMA")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = mode
    peers.media_doc(doc, mg_media=mg_media, gw_media=gw_media)
    stack.provision(doc)
    stack.start_all()
    uac = it.Sipp(stack, "caller", "uac_srtp.xml",
                  remote=f"127.0.0.1:{stack.sip_port}",
                  service="15551230001", keys={"caller": "5550100"},
                  subst={"@FLOW@": ANSWERED if answered else REFUSED},
                  calls=1, timeout_s=60).start()
    rc = uac.finish(60)
    gw.quit()
    assert rc == 0, f"caller's call failed (sipp exit {rc}): " \
        f"{uac.received()}"
    cdr, _ = peers.cdr_rtp(stack)
    assert peers.mp_sessions(stack) == []
    if answered:
        offer = gw.received_texts("INVITE ")[0]
        assert f"m=audio {uac.media_port} RTP/SAVP 8" in offer, offer
        assert "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in offer, offer
        assert cdr["end_reason"] == "Normal", cdr
    else:
        assert gw.received_requests("INVITE") == [], gw.received()
        assert cdr["end_code"] == 488, cdr
        assert cdr["end_reason"] == "SrtpNotRelayed", cdr
