"""Issue 13 item 5: TCP and TLS connection reuse where the peer asks
(RFC 5923).

A carrier's gateway (127.0.0.56, a routing gateway over TCP, or TLS, at a
port where nothing listens) connects to signalingd and says, by
";alias" in the Via of its OPTIONS, that requests for its sent-by address
may come over that connection.  A call routed to it then arrives on that
connection: the INVITE, the ACK of its 200 and the caller's BYE, every one
on the socket the peer opened (a new connection could not even be made:
nothing listens at the gateway's port).  Before the peer offers its
connection, the same call cannot reach it and fails over to 503.  A Via
naming another host than the one the connection comes from is not taken
at its word.  Every byte on the peer's side is written and read here.
"""

import socket
import ssl
import time
import uuid

import pytest

import tandem_it as it
from sipraw import Raw, header
from test_sip_tls import _cert_dir

GW_IP = "127.0.0.56"
REPLY_S = 10  # how long an expected message may take (sanitizer build)
SDP_OK = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
          "t=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")


def _dead_port():
    """A TCP port on GW_IP where nothing listens."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((GW_IP, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _connect(port, tls_ca):
    """The gateway's connection to signalingd: TCP, or TLS trusting
    tls_ca."""
    peer = Raw(GW_IP, port, transport="tcp")
    if tls_ca:
        ctx = ssl.create_default_context(cafile=str(tls_ca))
        ctx.check_hostname = False
        peer.sock = ctx.wrap_socket(peer.sock)
    peer.proto = "tls" if tls_ca else "tcp"
    return peer


def _options(peer, sent_by, alias=True):
    branch = "z9hG4bK" + uuid.uuid4().hex[:12]
    peer.send((
        f"OPTIONS sip:{peer.server[0]}:{peer.server[1]};"
        f"transport={peer.proto} SIP/2.0\r\n"
        f"Via: SIP/2.0/{peer.proto.upper()} {sent_by};branch={branch}"
        f"{';alias' if alias else ''}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:ping@{GW_IP}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:{peer.server[0]}>\r\n"
        f"Call-ID: {uuid.uuid4()}@{GW_IP}\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
    r = peer.recv(REPLY_S)
    assert r and r.code == 200, r


def _next(peer, method, timeout=REPLY_S):
    """The next request of that method on the peer's connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = peer.recv(max(0.05, deadline - time.monotonic()))
        if m is None:
            if peer.closed:
                return None
            continue
        if m.text.startswith(method + " "):
            return m.text
    return None


def _reply(peer, req, code, extra="", body=""):
    hdrs = "".join(f"{ln}\r\n" for ln in req.split("\r\n")
                   if ln.split(":", 1)[0].lower() in
                   ("via", "from", "call-id", "cseq"))
    to = header(req, "To")
    if code > 100 and ";tag=" not in to:
        to += ";tag=alias1"
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    peer.send((f"SIP/2.0 {code} {'OK' if code == 200 else 'Trying'}\r\n"
               f"{hdrs}To: {to}\r\n{extra}{ctype}"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode())


@pytest.mark.parametrize("proto", ["tcp", "tls"])
def test_gateway_connection_reused_where_it_asks(stack, proto):
    port = _dead_port()
    sip_port, ca = stack.sip_port, None
    if proto == "tls":
        d = _cert_dir(stack)
        sip_port = stack.port_block(1)
        stack.conf_extra["signalingd"].update(
            {"sip_tls_listen": f"127.0.0.1:{sip_port}",
             "sip_tls_dir": str(d)})
        ca = d / "cafile.pem"
    doc = it.base_doc(port, 0, gw_b=False)
    gw = doc["routing_gateways"][0]
    gw["address"], gw["transport"] = GW_IP, proto
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.start_daemon("billingd")
    sg = stack.start_daemon("signalingd")

    # no connection offered: the gateway cannot be reached
    uac = stack.uac("caller0", "uac_expect_code.xml", code=503, calls=1,
                    timeout_s=30)
    assert uac.finish(40) == 0

    # a Via for another host than the connection's is not taken
    liar = _connect(sip_port, ca)
    _options(liar, f"127.0.0.57:{port}")
    it.wait_for(lambda: "ignored: not the connection's address" in
                sg.log(), REPLY_S, "the foreign alias refused")
    liar.close()

    peer = _connect(sip_port, ca)
    try:
        _options(peer, f"{GW_IP}:{port}")
        it.wait_for(lambda: f"{proto}:{GW_IP}:{port} offers its connection"
                    in sg.log(), REPLY_S, "the alias taken")
        uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=2000,
                        timeout_s=40)
        inv = _next(peer, "INVITE")
        assert inv, "no INVITE on the peer's own connection"
        assert inv.startswith(f"INVITE sip:15551230001@{GW_IP}:{port};"
                              f"transport={proto} "), inv.split("\r\n", 1)[0]
        assert f"SIP/2.0/{proto.upper()}" in header(inv, "Via"), \
            header(inv, "Via")
        _reply(peer, inv, 100)
        _reply(peer, inv, 200,
               f"Contact: <sip:{GW_IP}:{port};transport={proto}>\r\n",
               SDP_OK)
        ack = _next(peer, "ACK")
        assert ack, "no ACK on the peer's connection"
        assert header(ack, "Call-ID") == header(inv, "Call-ID")
        bye = _next(peer, "BYE", 20)
        assert bye, "no BYE on the peer's connection"
        assert header(bye, "Call-ID") == header(inv, "Call-ID")
        _reply(peer, bye, 200)
        assert uac.finish(40) == 0
    finally:
        peer.close()

    rows = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                                if r["answer_ms"]] or None, 20,
                       "the answered call's CDR")
    assert len(rows) == 1, rows
    assert rows[0]["routing_gateway"] == "gwA", rows[0]
    assert rows[0]["end_reason"] == "Normal", rows[0]
