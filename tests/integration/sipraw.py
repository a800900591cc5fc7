"""Raw SIP for integration tests: every byte is what the test says.

- `Client`: a UDP user agent on an address of its own (a loopback alias such
  as 127.0.0.7), with `request()` building a well-formed request (with an
  SDP body if given) and waiting for its final response (ACKing a non-2xx INVITE answer); `digest()` and
  `challenge()` compute and read Digest credentials (hashlib, RFC 2617).
- `Raw`: sends arbitrary bytes over UDP or TCP and collects what comes back
  (responses parsed into `Msg`), for malformed-input tests.

Used by test_digest_replay.py, test_sip_edge.py, test_sip_torture.py and
test_failure_codes.py.
"""

import hashlib
import re
import socket
import uuid

REALM = "tandem"


def _md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def challenge(text):
    """The nonce of a 401/407 answer."""
    m = re.search(r'nonce="([^"]+)"', text)
    assert m, text
    return m.group(1)


def digest(user, pw, method, uri, nonce, nc=1):
    """An Authorization / Proxy-Authorization value (qop=auth, MD5)."""
    ha1 = _md5(f"{user}:{REALM}:{pw}")
    ha2 = _md5(f"{method}:{uri}")
    ncs = f"{nc:08x}"
    resp = _md5(f"{ha1}:{nonce}:{ncs}:c0ffee:auth:{ha2}")
    return (f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", '
            f'uri="{uri}", response="{resp}", algorithm=MD5, qop=auth, '
            f'nc={ncs}, cnonce="c0ffee"')


def header(text, name):
    """The first value of header name in a message (text), else ""."""
    m = re.search(rf"^{name}:\s*(.*?)\r?$", text, re.M | re.I)
    return m.group(1) if m else ""


class Client:
    """A UDP user agent from its own address, talking to the stack's SIP
    port."""

    def __init__(self, stack, ip):
        self.ip = ip
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.server = ("127.0.0.1", stack.sip_port)

    def request(self, method, ruri, from_user, to_user, auth=None,
                contact=None, cseq=1, extra=(), sdp=None, contact_at=None):
        """contact_at: the Contact's "host:port" (default: this socket's,
        as a phone not behind NAT writes it)."""
        call_id = str(uuid.uuid4())
        branch = "z9hG4bK" + uuid.uuid4().hex[:16]
        hdr = "Proxy-Authorization" if method == "INVITE" else \
            "Authorization"
        lines = [
            f"{method} {ruri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.ip}:{self.port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{from_user}@{self.ip}>;tag={uuid.uuid4().hex[:8]}",
            f"To: <sip:{to_user}@127.0.0.1>",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:{contact or from_user}@"
            f"{contact_at or f'{self.ip}:{self.port}'}>",
        ]
        if method == "REGISTER" and not any(
                e.lower().startswith("expires:") for e in extra):
            lines.append("Expires: 300")
        if auth:
            lines.append(f"{hdr}: {auth}")
        lines += list(extra)
        body = sdp.encode() if sdp else b""
        if body:
            lines.append("Content-Type: application/sdp")
        lines += [f"Content-Length: {len(body)}", "", ""]
        self.sock.sendto("\r\n".join(lines).encode() + body, self.server)
        return self.final(method)

    def final(self, method):
        """The first final response (ACKing a non-2xx INVITE answer)."""
        while True:
            data, _ = self.sock.recvfrom(65535)
            text = data.decode(errors="replace")
            if not text.startswith("SIP/2.0 "):
                continue
            code = int(text.split()[1])
            if code < 200:
                continue
            if method == "INVITE":
                self.ack(text)
            return code, text

    def ack(self, resp):
        ruri = re.search(r"^To:\s*<([^>]*)>", resp, re.M).group(1)
        lines = [f"ACK {ruri} SIP/2.0", f"Via: {header(resp, 'Via')}",
                 "Max-Forwards: 70", f"From: {header(resp, 'From')}",
                 f"To: {header(resp, 'To')}",
                 f"Call-ID: {header(resp, 'Call-ID')}",
                 f"CSeq: {header(resp, 'CSeq').split()[0]} ACK",
                 "Content-Length: 0", "", ""]
        self.sock.sendto("\r\n".join(lines).encode(), self.server)


class Msg:
    """A SIP response received by Raw: status code, Call-ID, the text."""

    def __init__(self, text):
        self.text = text
        first = text.split("\r\n", 1)[0].split()
        self.code = int(first[1]) if len(first) > 1 and \
            first[1].isdigit() else 0
        self.call_id = header(text, "Call-ID") or header(text, "i")

    def __repr__(self):
        return f"<{self.code} {self.call_id}>"


class Raw:
    """Arbitrary bytes to the SIP port over UDP or TCP from ip; responses
    read back one message at a time (TCP: framed by Content-Length)."""

    def __init__(self, ip, port, transport="udp", server="127.0.0.1"):
        self.transport = transport
        self.server = (server, port)
        kind = socket.SOCK_DGRAM if transport == "udp" else \
            socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind((ip, 0))
        self.ip, self.port = self.sock.getsockname()
        self.buf = b""
        self.closed = False
        if transport == "tcp":
            self.sock.settimeout(5)
            self.sock.connect(self.server)

    def send(self, data):
        if self.transport == "udp":
            self.sock.sendto(data, self.server)
        else:
            try:
                self.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                self.closed = True

    def _frame(self):
        """One whole message off the TCP buffer, else None."""
        while self.buf.startswith(b"\r\n"):
            self.buf = self.buf[2:]  # keep-alive pongs
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].decode(errors="replace")
        m = re.search(r"^(?:Content-Length|l)\s*:\s*(\d+)", head,
                      re.M | re.I)
        total = end + 4 + (int(m.group(1)) if m else 0)
        if len(self.buf) < total:
            return None
        msg, self.buf = self.buf[:total], self.buf[total:]
        return msg.decode(errors="replace")

    def recv(self, timeout):
        """The next response within timeout s, else None (TCP: also None
        once the server closed the connection, with self.closed set)."""
        self.sock.settimeout(timeout)
        while True:
            if self.transport == "tcp":
                text = self._frame()
                if text is not None:
                    return Msg(text)
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                return None
            except (ConnectionResetError, OSError):
                self.closed = True
                return None
            if self.transport == "udp":
                text = data.decode(errors="replace")
                if text.startswith("SIP/2.0 "):
                    return Msg(text)
                continue
            if not data:
                self.closed = True
                return None
            self.buf += data

    def close(self):
        self.sock.close()
