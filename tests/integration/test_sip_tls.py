"""Issue 13 item 5: SIP over TLS (sofia-sip's TLS transport).

signalingd listens for sips on `sip_tls_listen` with the certificate in
`sip_tls_dir` (agent.pem: certificate and key; cafile.pem).  A caller
(Python's ssl, raw SIP, every byte asserted) places a call over TLS to a
sipp vendor over UDP: the 200 carries our sips Contact (transport=tls),
the caller's BYE over TLS ends the call with its CDR.  A plain-text
request on the TLS port and a handshake that never completes leave the
daemon serving.
"""

import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid

import pytest

import peers
import tandem_it as it


def _cert_dir(stack):
    d = stack.dir / "sip-tls"
    d.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out",
                    str(d / "cert.pem")], check=True, capture_output=True)
    (d / "agent.pem").write_bytes((d / "cert.pem").read_bytes() +
                                  (d / "key.pem").read_bytes())
    shutil.copy(d / "cert.pem", d / "cafile.pem")
    return d


class TlsUa:
    """A caller over TLS: requests built here, responses read back."""

    def __init__(self, port, cafile):
        ctx = ssl.create_default_context(cafile=str(cafile))
        ctx.check_hostname = False
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.s = ctx.wrap_socket(raw)
        self.lport = self.s.getsockname()[1]
        self.buf = b""
        self.call_id = f"{uuid.uuid4()}@tls.test"
        self.tag = uuid.uuid4().hex[:8]
        self.cseq = 0

    def send(self, method, ruri, to_tag="", body="", cseq=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        ctype = "Content-Type: application/sdp\r\n" if body else ""
        msg = (f"{method} {ruri} SIP/2.0\r\n"
               f"Via: SIP/2.0/TLS 127.0.0.1:{self.lport};branch=z9hG4bK"
               f"{uuid.uuid4().hex[:12]};rport\r\n"
               f"From: <sip:5550100@127.0.0.1>;tag={self.tag}\r\n"
               f"To: <sip:15551230001@127.0.0.1>"
               f"{';tag=' + to_tag if to_tag else ''}\r\n"
               f"Call-ID: {self.call_id}\r\n"
               f"CSeq: {cseq} {method}\r\n"
               f"Contact: <sip:5550100@127.0.0.1:{self.lport};"
               f"transport=tls>\r\n"
               f"Max-Forwards: 70\r\n{ctype}"
               f"Content-Length: {len(body)}\r\n\r\n{body}")
        self.s.sendall(msg.encode())

    def recv(self, timeout=10):
        """The next whole SIP message (Content-Length framed)."""
        end = time.monotonic() + timeout
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"^Content-Length:\s*(\d+)", head,
                              re.M | re.I)
                n = int(m.group(1)) if m else 0
                if len(rest) >= n:
                    self.buf = rest[n:]
                    return (head + sep + rest[:n]).decode()
            left = end - time.monotonic()
            assert left > 0, f"no SIP message over TLS: {self.buf!r}"
            self.s.settimeout(left)
            data = self.s.recv(65536)
            assert data, "TLS connection closed"
            self.buf += data

    def final(self, method):
        while True:
            m = self.recv()
            code = int(m.split()[1]) if m.startswith("SIP/2.0") else 0
            if code >= 200 and re.search(rf"^CSeq:.*{method}", m, re.M):
                return code, m


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
       "t=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")


def test_call_over_tls(stack):
    d = _cert_dir(stack)
    tls_port = stack.port_block(1)
    stack.conf_extra["signalingd"].update(
        {"sip_tls_listen": f"127.0.0.1:{tls_port}", "sip_tls_dir": str(d)})
    gw = peers.sipp_uas(stack, "gwA", sdp="PCMA")
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()

    # garbage first: plain text on the TLS port, and a handshake left open
    junk = socket.create_connection(("127.0.0.1", tls_port), timeout=5)
    junk.sendall(b"OPTIONS sip:x SIP/2.0\r\n\r\n")
    idle = socket.create_connection(("127.0.0.1", tls_port), timeout=5)

    ua = TlsUa(tls_port, d / "cafile.pem")
    ua.send("INVITE", "sip:15551230001@127.0.0.1", body=SDP)
    code, ok = ua.final("INVITE")
    assert code == 200, ok
    contact = re.search(r"^Contact:\s*(.*)$", ok, re.M).group(1)
    assert f"127.0.0.1:{tls_port}" in contact and \
        "transport=tls" in contact, contact
    to_tag = re.search(r"^To:.*;tag=([^;\s]+)", ok, re.M).group(1)
    ua.send("ACK", "sip:127.0.0.1", to_tag=to_tag, cseq=1)
    time.sleep(1)
    ua.send("BYE", f"sip:127.0.0.1:{tls_port};transport=tls",
            to_tag=to_tag)
    code, _ = ua.final("BYE")
    assert code == 200
    gw.quit()
    junk.close()
    idle.close()

    cdr, _ = peers.cdr_rtp(stack)
    assert cdr["end_reason"] == "Normal", cdr
    assert cdr["hold_ms"] >= 900, cdr
    assert stack.daemon("signalingd").alive()
    log = stack.daemon("signalingd").log()
    assert f"SIP listening on sips:127.0.0.1:{tls_port}" in log, log[-2000:]


def test_missing_certificate_is_a_clear_start_error(stack, tmp_path):
    stack.conf_extra["signalingd"].update(
        {"sip_tls_listen": f"127.0.0.1:{stack.port_block(1)}",
         "sip_tls_dir": str(tmp_path / "none")})
    stack.provision(it.base_doc(stack.port_block(1), 0, gw_b=False))
    with pytest.raises(Exception):
        stack.start_all()
    log = stack.daemon("signalingd").log()
    assert "agent.pem" in log, log[-2000:]


def test_tls_connections_are_held_in_bounds(stack):
    """The TCP guard's bounds hold on the TLS port too, counted apart from
    the TCP port's: connections from the customer's gateway address beyond
    tcp_max_per_source are closed at once, an unknown source's when its
    grace is over (neither ever completes a handshake), and the customer's
    TCP connection to the plain SIP port is untouched."""
    from test_sip_tcp_caps import _closed, _open
    per_source, grace_ms = 5, 1000
    d = _cert_dir(stack)
    tls_port = stack.port_block(1)
    stack.conf_extra["signalingd"].update(
        {"sip_tls_listen": f"127.0.0.1:{tls_port}", "sip_tls_dir": str(d),
         "tcp_max_per_source": per_source,
         "tcp_unknown_grace_ms": grace_ms, "tcp_idle_timeout_ms": 60000})
    stack.provision(it.base_doc(stack.port_block(1), 0, gw_b=False))
    stack.start_all()
    tls = ("127.0.0.1", tls_port)
    plain = socket.create_connection(("127.0.0.1", stack.sip_port),
                                     source_address=("127.0.0.1", 0),
                                     timeout=5)
    customer = _open(tls, "127.0.0.1", 20)
    unknown = _open(tls, "127.0.0.20", 10)
    try:
        it.wait_for(lambda: len(_closed(customer)) >= 20 - per_source, 6,
                    "the customer's TLS connections over the cap")
        it.wait_for(lambda: len(_closed(unknown)) == 10,
                    grace_ms / 1000 + 6, "the unknown source's")
        assert len(_closed(customer)) == 20 - per_source
        assert not _closed([plain])  # the TCP port counts its own
    finally:
        for s in customer + unknown + [plain]:
            s.close()
    log = stack.daemon("signalingd").log()
    assert f"connections on port {tls_port} closed" in log, log[-3000:]
    assert stack.daemon("signalingd").alive()


class TlsVendor:
    """A routing gateway over TLS with its own certificate: accepts one
    connection at a time and answers each INVITE 486 (its ACK read);
    what it received is kept."""

    def __init__(self, cert_dir):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert_dir / "cert.pem"),
                                 str(cert_dir / "key.pem"))
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.port = self.srv.getsockname()[1]
        self.invites = []
        self.handshake_errors = []
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while True:
            try:
                raw, _ = self.srv.accept()
            except OSError:
                return
            try:
                s = self.ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.handshake_errors.append(str(e))
                raw.close()
                continue
            self._serve(s)

    def _serve(self, s):
        buf = b""
        s.settimeout(10)
        while True:
            try:
                data = s.recv(65536)
            except (OSError, ssl.SSLError):
                break
            if not data:
                break
            buf += data
            while b"\r\n\r\n" in buf:
                head, _, buf = buf.partition(b"\r\n\r\n")
                text = head.decode(errors="replace")
                m = re.search(r"^Content-Length:\s*(\d+)", text, re.M | re.I)
                buf = buf[int(m.group(1)) if m else 0:]
                if text.startswith("INVITE "):
                    self.invites.append(text)
                    hdrs = "".join(
                        f"{ln}\r\n" for ln in text.split("\r\n")
                        if ln.split(":", 1)[0].lower() in
                        ("via", "from", "call-id", "cseq"))
                    to = re.search(r"^To:\s*(.*)$", text, re.M).group(1)
                    s.sendall((f"SIP/2.0 486 Busy Here\r\n{hdrs}"
                               f"To: {to};tag=tlsv\r\n"
                               "Content-Length: 0\r\n\r\n").encode())
        s.close()

    def close(self):
        self.srv.close()


@pytest.mark.parametrize("case", ["trusted", "untrusted", "wrong_name",
                                  "unchecked"])
def test_gateway_certificate_checked(stack, case):
    """sip_tls_verify_gateways: signalingd calls a routing gateway over TLS
    only when its certificate is signed by a CA of cafile.pem and names
    the gateway's address; untrusted, or trusted but for another name, no
    INVITE reaches it and the caller gets 503.  Without the setting (the
    default) any certificate is taken, as before."""
    d = _cert_dir(stack)                      # signalingd's own
    vd = stack.dir / "vendor-tls"
    vd.mkdir()
    name = ("/CN=other.example", "subjectAltName=DNS:other.example") \
        if case == "wrong_name" else \
        ("/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", name[0],
                    "-addext", name[1],
                    "-keyout", str(vd / "key.pem"), "-out",
                    str(vd / "cert.pem")], check=True, capture_output=True)
    if case in ("trusted", "wrong_name"):
        (d / "cafile.pem").write_bytes((d / "cert.pem").read_bytes() +
                                       (vd / "cert.pem").read_bytes())
    vendor = TlsVendor(vd)
    stack.conf_extra["signalingd"].update(
        {"sip_tls_listen": f"127.0.0.1:{stack.port_block(1)}",
         "sip_tls_dir": str(d),
         "sip_tls_verify_gateways": "0" if case == "unchecked" else "1"})
    doc = it.base_doc(vendor.port, 0, gw_b=False)
    doc["routing_gateways"][0]["transport"] = "tls"
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    refused = case in ("untrusted", "wrong_name")
    want = 503 if refused else 486
    uac = stack.uac("caller", "uac_expect_code.xml", code=want, calls=1,
                    timeout_s=40)
    try:
        assert uac.finish(50) == 0
    finally:
        vendor.close()
    print("vendor handshake errors:", vendor.handshake_errors)
    log = stack.daemon("signalingd").log()
    if refused:
        assert not vendor.invites, vendor.invites
        # the log says why: treated as a gateway that does not answer
        why = "Error with certificate" if case == "untrusted" else \
            "Peer Subject Mismatch"
        assert why in log, log[-3000:]
        assert "no provisional response from gwA" in log, log[-3000:]
    else:
        assert len(vendor.invites) == 1, vendor.invites
        assert vendor.invites[0].startswith(
            f"INVITE sip:15551230001@127.0.0.1:{vendor.port};"
            "transport=tls "), vendor.invites[0]
    assert stack.daemon("signalingd").alive()
