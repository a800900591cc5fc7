"""SIP torture (issue 9 item 8): RFC 4475-style messages written here, each
sent over UDP and over TCP to a running signalingd (the ASan/UBSan build in
`make test`; the harness fails the test on any sanitizer report), each with
the answer it must get -- a status code, or silence.

The cases come from the families of RFC 4475: valid but odd messages
(whitespace, line folding, compact and case-mixed headers, escaped and
parameter-laden URIs, unknown headers, bodies with Content-Length shorter
than the datagram) that must be answered normally, and invalid ones
(Content-Length too big, negative, doubled and conflicting; CSeq out of
range or naming another method; missing mandatory headers; unknown methods,
URI schemes and SIP versions; NUL bytes; huge headers; truncated messages;
bad SDP) that must be refused or ignored without harm.

The sender is the customer's mapping gateway address (127.0.0.1), so the
edge layer's rate limits and blacklist never step in: what is tested is the
parser and the dispatcher.  Silence is made deterministic where framing
allows: after each case a well-formed OPTIONS follows on the same socket,
and the case got no answer if the OPTIONS's 200 arrives first (messages on
one socket are handled in order).  Only cases that leave a TCP stream
unframed (truncated, Content-Length too big) wait a window.

At the end the daemon still answers OPTIONS and routes a call, over both
transports.
"""

import socket
import time
import uuid

import pytest

import tandem_it as it
from sipraw import Raw, header

SRC = "127.0.0.1"  # mapping gateway mg1 of base_doc: a trusted source
WINDOW_S = 2  # silence window, only for cases that break TCP framing
REPLY_S = 10  # how long an expected answer may take (sanitizer build)


def _b(s):
    return s.encode() if isinstance(s, str) else s


class Ctx:
    """What a case needs to build its bytes."""

    def __init__(self, raw, sip_port):
        self.raw = raw
        self.sip_port = sip_port
        self.call_id = f"torture-{uuid.uuid4().hex[:12]}"
        self.tag = uuid.uuid4().hex[:8]

    @property
    def host(self):
        return f"127.0.0.1:{self.sip_port}"

    def via(self):
        t = self.raw.transport.upper()
        return (f"Via: SIP/2.0/{t} {self.raw.ip}:{self.raw.port};"
                f"branch=z9hG4bK{uuid.uuid4().hex[:16]};rport")

    def msg(self, method="OPTIONS", ruri=None, headers=None, body=b"",
            cl="auto", first=None, drop=(), extra=()):
        """A request: the standard headers (minus drop, plus extra), then
        body with Content-Length len(body) (cl=None: no header; cl=str:
        that value)."""
        ruri = ruri or f"sip:{self.host}"
        std = headers or [
            ("Via", self.via()[5:]),
            ("Max-Forwards", "70"),
            ("From", f"<sip:5550100@{SRC}>;tag={self.tag}"),
            ("To", f"<sip:15551230001@{self.host}>"),
            ("Call-ID", self.call_id),
            ("CSeq", f"1 {method}"),
            ("Contact", f"<sip:5550100@{self.raw.ip}:{self.raw.port}>"),
        ]
        lines = [_b(first or f"{method} {ruri} SIP/2.0")]
        lines += [_b(f"{k}: {v}") for k, v in std if k not in drop]
        lines += [_b(x) for x in extra]
        if cl == "auto":
            lines.append(_b(f"Content-Length: {len(_b(body))}"))
        elif cl is not None:
            lines.append(_b(f"Content-Length: {cl}"))
        return b"\r\n".join(lines) + b"\r\n\r\n" + _b(body)


SDP_OK = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
          "t=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")


def _folded(c):
    # RFC 4475 3.1.1.1 (wsinv): folding, odd whitespace, compact forms
    return (
        f"OPTIONS sip:{c.host} SIP/2.0\r\n"
        f"v:  {c.via()[5:]}\r\n"
        "Max-Forwards:\t70\r\n"
        f"f  :  <sip:5550100@{SRC}>\r\n   ;tag={c.tag}\r\n"
        f"TO : <sip:15551230001@{c.host}>\r\n"
        f"i: {c.call_id}\r\n"
        "cSeQ:   1\r\n\t OPTIONS\r\n"
        "Subject: a header\r\n  folded\r\n\tover three lines\r\n"
        "NewFangledHeader:   newfangled value\r\n more newfangled value\r\n"
        "l: 0\r\n\r\n").encode()


def _long_call_id(c):
    c.call_id = c.call_id + "-" + "x" * 2000
    return c.msg()


def _header_without_colon(c):
    return c.msg(extra=["ThisHeaderHasNoColon"])


# name -> (builder, expected code or None for silence, framing intact)
CASES = {
    # ---- valid but odd: answered like any OPTIONS
    "plain": (lambda c: c.msg(), 200, True),
    "folding_whitespace_compact": (_folded, 200, True),
    "escaped_ruri": (lambda c: c.msg(
        ruri=f"sip:%35%35%35@{c.host};lr;%6Eew=%22v%22"), 200, True),
    "ruri_user_params": (lambda c: c.msg(
        ruri=f"sip:user;par=u%40example.net@{c.host}"), 200, True),
    "unknown_scheme_in_to": (lambda c: c.msg(headers=[
        ("Via", c.via()[5:]), ("Max-Forwards", "70"),
        ("From", f"<sip:5550100@{SRC}>;tag={c.tag}"),
        ("To", "<mailto:nobody@example.com>"), ("Call-ID", c.call_id),
        ("CSeq", "1 OPTIONS")]), 200, True),
    "quoted_display_escapes": (lambda c: c.msg(headers=[
        ("Via", c.via()[5:]), ("Max-Forwards", "70"),
        ("From", f'"\\"B\\\\ob\\" <x>" <sip:5550100@{SRC}>;tag={c.tag}'),
        ("To", f"<sip:15551230001@{c.host}>"), ("Call-ID", c.call_id),
        ("CSeq", "1 OPTIONS")]), 200, True),
    "unknown_headers_odd_chars": (lambda c: c.msg(extra=[
        "X-!%*_+`'~: value",
        "X-Empty:",
        "x-lower: " + "y" * 200]), 200, True),
    "content_length_shorter_than_udp_body": (lambda c: c.msg(
        body=b"12345678", cl="4", extra=["Content-Type: text/plain"]),
        200, True),
    "long_call_id": (_long_call_id, 200, True),
    "many_via_params": (lambda c: c.msg(extra=[
        "X-Params: a" + ";p=1" * 400]), 200, True),

    # ---- invalid: refused with a 4xx/5xx
    "unknown_method": (lambda c: c.msg(method="NEWMETHOD"), 501, True),
    "cseq_method_mismatch": (lambda c: c.msg(headers=[
        ("Via", c.via()[5:]), ("Max-Forwards", "70"),
        ("From", f"<sip:5550100@{SRC}>;tag={c.tag}"),
        ("To", f"<sip:15551230001@{c.host}>"), ("Call-ID", c.call_id),
        ("CSeq", "1 INVITE")]), 400, True),
    "cseq_overflow": (lambda c: c.msg(headers=[
        ("Via", c.via()[5:]), ("Max-Forwards", "70"),
        ("From", f"<sip:5550100@{SRC}>;tag={c.tag}"),
        ("To", f"<sip:15551230001@{c.host}>"), ("Call-ID", c.call_id),
        ("CSeq", "4294967296 OPTIONS")]), 400, True),
    "cseq_negative": (lambda c: c.msg(headers=[
        ("Via", c.via()[5:]), ("Max-Forwards", "70"),
        ("From", f"<sip:5550100@{SRC}>;tag={c.tag}"),
        ("To", f"<sip:15551230001@{c.host}>"), ("Call-ID", c.call_id),
        ("CSeq", "-1 OPTIONS")]), 400, True),
    # OPTIONS is the switch's keep-alive answer, whatever the URI
    "unknown_ruri_scheme_options": (lambda c: c.msg(
        ruri="nobody:15551230001@example.com"), 200, True),
    "sip_version_7": (lambda c: c.msg(
        first=f"OPTIONS sip:{c.host} SIP/7.0"), 505, True),
    "missing_call_id": (lambda c: c.msg(drop=("Call-ID",)), 400, True),
    "missing_from": (lambda c: c.msg(drop=("From",)), 400, True),
    "missing_to": (lambda c: c.msg(drop=("To",)), 400, True),
    "missing_cseq": (lambda c: c.msg(drop=("CSeq",)), 400, True),
    "double_content_length_conflict": (lambda c: c.msg(
        body=b"abcd", extra=["Content-Length: 2"]), 400, True),
    "negative_content_length": (lambda c: c.msg(cl="-999"), 400, True),
    "header_without_colon": (_header_without_colon, 200, True),
    "bad_sdp_invite": (lambda c: c.msg(
        method="INVITE", ruri=f"sip:15551230001@{c.host}",
        body="v=0\r\no=garbage\r\nm=audio notaport RTP/AVP x\r\n",
        extra=["Content-Type: application/sdp"]), 488, True),
    "unknown_ruri_scheme_invite": (lambda c: c.msg(
        method="INVITE", ruri="nobody:15551230001@example.com",
        body=SDP_OK, extra=["Content-Type: application/sdp"]), 416, True),
    "max_forwards_zero_invite": (lambda c: c.msg(
        method="INVITE", ruri=f"sip:15551230001@{c.host}", body=SDP_OK,
        drop=("Max-Forwards",),
        extra=["Content-Type: application/sdp", "Max-Forwards: 0"]),
        483, True),
    "invite_missing_contact": (lambda c: c.msg(
        method="INVITE", ruri=f"sip:15551230001@{c.host}", body=SDP_OK,
        drop=("Contact",), extra=["Content-Type: application/sdp"]),
        400, True),
    # routed by its prefix and passed on as dialled (escaped): the
    # vendor's number to refuse, never a C string cut at the NUL
    "escaped_nul_in_ruri_user": (lambda c: c.msg(
        method="INVITE", ruri=f"sip:1555%0023@{c.host}", body=SDP_OK,
        extra=["Content-Type: application/sdp"]), 486, True),
    # a phone's REGISTER: challenged before anything is stored
    "register_expires_overflow": (lambda c: c.msg(
        method="REGISTER", ruri=f"sip:{c.host}", headers=[
            ("Via", c.via()[5:]), ("Max-Forwards", "70"),
            ("From", f"<sip:7001@{c.host}>;tag={c.tag}"),
            ("To", f"<sip:7001@{c.host}>"), ("Call-ID", c.call_id),
            ("CSeq", "1 REGISTER"),
            ("Contact", f"<sip:7001@{c.raw.ip}:{c.raw.port}>")],
        extra=["Expires: 99999999999999999999"]), 401, True),
    "register_from_gateway": (lambda c: c.msg(
        method="REGISTER", ruri=f"sip:{c.host}"), 501, True),
    # lenient where RFC 4475 allows it: extra blanks in the request line
    "request_line_extra_spaces": (lambda c: c.msg(
        first=f"OPTIONS  sip:{c.host}  SIP/2.0"), 200, True),
    "crlf_keepalive": (lambda c: b"\r\n\r\n", None, True),

    "unterminated_quote_display": (lambda c: c.msg(headers=[
        ("Via", c.via()[5:]), ("Max-Forwards", "70"),
        ("From", f'"Bob <sip:5550100@{SRC}>;tag={c.tag}'),
        ("To", f"<sip:15551230001@{c.host}>"), ("Call-ID", c.call_id),
        ("CSeq", "1 OPTIONS")]), 400, True),
    # routed: the headers of a Request-URI are never applied to the B leg
    "ruri_with_escaped_headers": (lambda c: c.msg(
        method="INVITE",
        ruri=f"sip:15551230001@{c.host}?Route=%3Csip:evil.example%3E",
        body=SDP_OK, extra=["Content-Type: application/sdp"]), 486, True),
    "thousand_unknown_headers": (lambda c: c.msg(
        extra=[f"X-H{i}: {i}" for i in range(1000)]), 200, True),
    "bye_unknown_dialog": (lambda c: c.msg(method="BYE", headers=[
        ("Via", c.via()[5:]), ("Max-Forwards", "70"),
        ("From", f"<sip:5550100@{SRC}>;tag={c.tag}"),
        ("To", f"<sip:15551230001@{c.host}>;tag=nosuch"),
        ("Call-ID", c.call_id), ("CSeq", "2 BYE")]), 481, True),
    "cancel_unknown_transaction": (lambda c: c.msg(method="CANCEL"),
                                   481, True),
    "reinvite_unknown_dialog": (lambda c: c.msg(
        method="INVITE", headers=[
            ("Via", c.via()[5:]), ("Max-Forwards", "70"),
            ("From", f"<sip:5550100@{SRC}>;tag={c.tag}"),
            ("To", f"<sip:15551230001@{c.host}>;tag=nosuch"),
            ("Call-ID", c.call_id), ("CSeq", "2 INVITE"),
            ("Contact", f"<sip:5550100@{c.raw.ip}:{c.raw.port}>")],
        body=SDP_OK, extra=["Content-Type: application/sdp"]), 481, True),
    # beyond the 64 KiB message limit (NTATAG_MAXSIZE): refused
    "tcp_oversize_message": (lambda c: c.msg(
        body=b"x" * (100 << 10), extra=["Content-Type: text/plain"]),
        {"udp": "skip", "tcp": 413}, False),

    # ---- invalid: silence (nothing to answer, or no way to answer)
    "ack_unknown_transaction": (lambda c: c.msg(method="ACK"), None, True),
    "missing_via": (lambda c: c.msg(drop=("Via",)), None, True),
    # TCP: the stream cannot be framed past the NUL, nothing is answered
    "nul_in_header": (lambda c: c.msg(extra=[b"X-Nul: a\x00b"]),
                      {"udp": 400, "tcp": None}, False),
    "garbage_bytes": (lambda c: bytes(range(256)) * 4 + b"\r\n\r\n",
                      None, True),
    "via_unknown_transport": (lambda c: c.msg(headers=[
        ("Via", f"SIP/2.0/FOO {c.raw.ip}:{c.raw.port};branch=z9hG4bKfoo"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:5550100@{SRC}>;tag={c.tag}"),
        ("To", f"<sip:15551230001@{c.host}>"), ("Call-ID", c.call_id),
        ("CSeq", "1 OPTIONS")]), None, True),
    "stray_response": (lambda c: (
        f"SIP/2.0 200 OK\r\n{c.via()}\r\n"
        f"From: <sip:a@{SRC}>;tag=1\r\nTo: <sip:b@{c.host}>;tag=2\r\n"
        f"Call-ID: {c.call_id}\r\nCSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n").encode(), None, True),
    "huge_header": (lambda c: c.msg(extra=["X-Huge: " + "a" * 60000]),
                    200, True),

    # ---- framing broken: a truncated message or a body never sent
    "truncated_mid_header": (lambda c: c.msg()[:60], None, False),
    "content_length_too_big": (lambda c: c.msg(body=b"abc", cl="5000"),
                               {"udp": 400, "tcp": None}, False),
}


def _sync(c):
    """A well-formed OPTIONS on the same socket: its 200 marks the end."""
    s = Ctx(c.raw, c.sip_port)
    c.raw.send(s.msg())
    return s.call_id


def _answers(raw, call_id, until_call_id, timeout):
    """Final answers for call_id seen before until_call_id's (if given)."""
    got = []
    while True:
        m = raw.recv(timeout)
        if m is None:
            return got, False
        # an answer without Call-ID can only be to a case that had none
        if m.code >= 200 and m.call_id in (call_id, ""):
            got.append(m.code)
            if not until_call_id:
                return got, True
        if until_call_id and m.call_id == until_call_id and m.code >= 200:
            return got, True


def run_case(stack, transport, name):
    build, want, framed = CASES[name]
    if isinstance(want, dict):
        want = want[transport]
    if want == "skip":  # e.g. bigger than a datagram
        return
    raw = Raw(SRC, stack.sip_port, transport)
    try:
        c = Ctx(raw, stack.sip_port)
        raw.send(build(c))
        if framed and not (transport == "tcp" and name == "garbage_bytes"):
            sync = _sync(c)
            got, synced = _answers(raw, c.call_id, sync, REPLY_S)
            if want is not None and not got and synced:
                # an answer that needs the database may follow the sync
                more, _ = _answers(raw, c.call_id, None, REPLY_S)
                got += more
            assert synced or raw.closed, f"{name}: no answer to the sync"
        else:
            got, _ = _answers(raw, c.call_id, None, WINDOW_S)
        if want is None:
            assert not got, f"{name} over {transport}: answered {got}"
        else:
            assert got and got[0] == want, \
                f"{name} over {transport}: want {want}, got {got}"
    finally:
        raw.close()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sip_torture(stack, transport):
    gw = stack.uas("gwA", "uas_reject.xml", code=486, reason="Busy Here")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    doc["phones"] = [{"number": "7001", "account": "cust1",
                      "password": "Phone-secret-1"}]
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")

    failures = []
    for name in sorted(CASES):
        try:
            run_case(stack, transport, name)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)

    # still a switch: OPTIONS answered, and a call routed to the vendor
    assert stack.daemon("signalingd").alive()
    run_case(stack, transport, "plain")
    raw = Raw(SRC, stack.sip_port, transport)
    c = Ctx(raw, stack.sip_port)
    raw.send(c.msg(method="INVITE", ruri=f"sip:15551230001@{c.host}",
                   body=SDP_OK, extra=["Content-Type: application/sdp"]))
    got, _ = _answers(raw, c.call_id, None, REPLY_S)
    raw.close()
    assert got == [486], got
    gw.quit()


def test_max_forwards_decremented_not_restarted(stack):
    """A B2BUA that restarts Max-Forwards at 70 lets a routing loop
    (switch -> vendor -> switch) run for ever: the vendor gets the
    caller's value less one, and 0 is refused with 483 (above)."""
    vendor = Raw("127.0.0.1", 0)  # a routing gateway that only listens
    vendor.sock.settimeout(REPLY_S)
    doc = it.base_doc(vendor.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    try:
        for sent, want, number in (("7", "6", "15551230001"),
                                   (None, "69", "15551230002")):
            raw = Raw(SRC, stack.sip_port)
            c = Ctx(raw, stack.sip_port)
            extra = ["Content-Type: application/sdp"]
            if sent:
                extra.append(f"Max-Forwards: {sent}")
            raw.send(c.msg(method="INVITE",
                           ruri=f"sip:{number}@{c.host}", body=SDP_OK,
                           drop=("Max-Forwards",), extra=extra))
            while True:  # skipping retransmissions of the previous one
                text = vendor.sock.recv(65535).decode(errors="replace")
                if text.startswith(f"INVITE sip:{number}@"):
                    break
            assert header(text, "Max-Forwards") == want, text
            raw.close()
    finally:
        vendor.close()



def _vendor_request(vendor, method, timeout):
    """The next request of that method the raw vendor socket gets (other
    requests and retransmissions of earlier ones are skipped), with the
    address it came from; None after timeout s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        vendor.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, addr = vendor.sock.recvfrom(65535)
        except socket.timeout:
            return None, None
        text = data.decode(errors="replace")
        if text.startswith(method + " "):
            return text, addr
    return None, None


def test_retransmitted_2xx_is_acked_again(stack):
    """The vendor's ACK got lost: it sends its 200 again, 0.5 s and then
    6 s after the first (past the trim of the INVITE transaction), and
    must get an ACK for each (RFC 3261 13.2.2.4; the same ACK, as the
    retransmission of one), else it ends the call at its Timer H.  The
    call then ends normally by the caller's BYE, with its CDR."""
    vendor = Raw("127.0.0.1", 0)  # a routing gateway written here
    doc = it.base_doc(vendor.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=9000,
                    timeout_s=40)
    try:
        inv, src = _vendor_request(vendor, "INVITE", REPLY_S)
        assert inv, "no INVITE at the vendor"
        hdrs = "".join(f"{ln}\r\n" for ln in inv.split("\r\n")
                       if ln.split(":", 1)[0].lower() in
                       ("via", "from", "call-id", "cseq"))
        ok = (f"SIP/2.0 200 OK\r\n{hdrs}"
              f"To: {header(inv, 'To')};tag=v2xx\r\n"
              f"Contact: <sip:127.0.0.1:{vendor.port}>\r\n"
              "Content-Type: application/sdp\r\n"
              f"Content-Length: {len(SDP_OK)}\r\n\r\n{SDP_OK}").encode()
        acks = []
        for pause in (0, 0.5, 6):
            time.sleep(pause)
            vendor.sock.sendto(ok, src)
            ack, _ = _vendor_request(vendor, "ACK", REPLY_S)
            assert ack, f"no ACK for the 200 sent {len(acks) + 1}"
            acks.append(ack)
        assert len({header(a, "CSeq") for a in acks}) == 1, acks
        assert header(acks[0], "CSeq").endswith(" ACK"), acks[0]
        bye, src = _vendor_request(vendor, "BYE", 20)
        assert bye, "no BYE at the vendor"
        vendor.sock.sendto((
            "SIP/2.0 200 OK\r\n" + "".join(
                f"{ln}\r\n" for ln in bye.split("\r\n")
                if ln.split(":", 1)[0].lower() in
                ("via", "from", "to", "call-id", "cseq"))
            + "Content-Length: 0\r\n\r\n").encode(), src)
        assert uac.finish(40) == 0
    finally:
        vendor.close()
    rows = it.wait_for(lambda: (lambda r: r if r else None)(
        it.cdr_rows(stack)), 20, "the call's CDR")
    assert len(rows) == 1 and rows[0]["answer_ms"] > 0, rows
    assert rows[0]["end_reason"] == "Normal", rows
