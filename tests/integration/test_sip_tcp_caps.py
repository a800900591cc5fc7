"""SIP over TCP held in bounds (issue 9, item 4; SPEC §8).

3 000 idle TCP connections to signalingd's SIP port, half from ten
addresses that are neither gateways nor phones (127.0.0.20-29), half from
the customer's gateway address (127.0.0.1): the unknown sources' are all
closed once their grace is over, the customer's beyond the per-source cap
at once and the rest after the idle timeout; signalingd's log grows by a
few lines, not one per connection; a request from an unknown source over
TCP closes its connection at once; SIGHUP still reloads, and a call over
UDP still connects.  At the descriptor limit signalingd neither spins nor
floods its log.  A phone that registers over TCP keeps its connection.

The bounds asserted on time are the configured ones plus the guard's
one-second sweep and slack for a loaded machine (the issue asks for
"closed on time")."""

import os
import re
import resource
import select
import signal
import socket
import subprocess
import time

import tandem_it as it

PER_SOURCE = 20
TOTAL = 100
GRACE_MS = 1000
IDLE_MS = 3000
SLACK_S = 6.0  # the 1 s sweep, 3 000 accepts, a loaded machine
UNKNOWN = [f"127.0.0.{20 + i}" for i in range(10)]
CUSTOMER = "127.0.0.1"


def _backlog(port):
    """Connections waiting in signalingd's accept queue."""
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[1])


def _open(addr, ip, n, batch=500):
    """n connections from ip, a batch at a time, the next one once
    signalingd has accepted the last (its backlog is 1000): a flood beyond
    the backlog would measure the clients' SYN retries, not signalingd."""
    socks = []
    for k in range(0, n, batch):
        for _ in range(min(batch, n - k)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((ip, 0))
            s.connect_ex(addr)
            socks.append(s)
        it.wait_for(lambda: _backlog(addr[1]) == 0, 10,
                    "signalingd to accept", interval=0.01)
    return socks


def _closed(socks):
    """The sockets the server closed (readable: EOF or reset; an idle
    SIP connection is never sent anything)."""
    p = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        p.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    gone = set()
    for fd, ev in p.poll(0):
        s = by_fd[fd]
        try:
            if ev & select.POLLIN and s.recv(1) != b"":
                continue
        except BlockingIOError:
            continue
        except OSError:
            pass
        gone.add(fd)
    return gone


def _log_lines(stack):
    return stack.daemon("signalingd").log().count("\n")


MSG_MS = 2000
PARTIAL = "127.0.0.2"  # a second gateway of the customer


def test_idle_tcp_connections_are_capped_and_closed(stack):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4000 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4000, hard))
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False, extra_mgws=[
        {"name": "mg2", "account": "cust1", "auth_mode": "ip",
         "ips": [PARTIAL]}])
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.conf_extra["signalingd"].update({
        "tcp_max_per_source": PER_SOURCE, "tcp_max_connections": TOTAL,
        "tcp_unknown_grace_ms": GRACE_MS, "tcp_idle_timeout_ms": IDLE_MS,
        "tcp_msg_timeout_ms": MSG_MS})
    stack.start_all()
    addr = ("127.0.0.1", stack.sip_port)
    sg = stack.daemon("signalingd")
    lines0 = _log_lines(stack)

    # a message that never completes holds sofia's idle timer: it is
    # given up after tcp_msg_timeout_ms, then the connection idles out
    partial = socket.create_connection(addr, source_address=(PARTIAL, 0),
                                       timeout=5)
    partial.sendall(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP ")
    partial.setblocking(False)
    unknown = []
    for ip in UNKNOWN:
        unknown += _open(addr, ip, 150)
    t0 = time.monotonic()  # before any of the customer's connections
    customer = _open(addr, CUSTOMER, 1500)
    try:
        # the customer's connections beyond its cap go at once (the
        # sweep after the accepts), PER_SOURCE stay
        it.wait_for(lambda: len(_closed(customer)) >= 1500 - PER_SOURCE,
                    SLACK_S, "the customer's connections over the cap")
        assert len(_closed(customer)) == 1500 - PER_SOURCE
        # every unknown source's, once its grace is over
        it.wait_for(lambda: len(_closed(unknown)) == len(unknown),
                    GRACE_MS / 1000 + SLACK_S,
                    "the unknown sources' connections")
        # the customer's last ones when idle for IDLE_MS
        it.wait_for(lambda: len(_closed(customer)) == 1500,
                    IDLE_MS / 1000 + SLACK_S, "the idle connections")
        took = time.monotonic() - t0
        assert took >= IDLE_MS / 1000, took  # idle, not shed
        it.wait_for(lambda: _closed([partial]),
                    (MSG_MS + IDLE_MS) / 1000 + SLACK_S,
                    "the connection with an incomplete message")
    finally:
        for s in unknown + customer + [partial]:
            s.close()

    # a request from an unknown source over TCP: the connection goes now,
    # not at the end of its grace
    c = socket.create_connection(addr, source_address=(UNKNOWN[0], 0),
                                 timeout=5)
    c.sendall(
        (f"OPTIONS sip:127.0.0.1:{stack.sip_port} SIP/2.0\r\n"
         f"Via: SIP/2.0/TCP {UNKNOWN[0]}:5060;branch=z9hG4bK-tcp1\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.20>;tag=1\r\n"
         "To: <sip:y@127.0.0.1>\r\nCall-ID: tcp-guard-1\r\n"
         "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
    c.settimeout(GRACE_MS / 1000 / 2)
    try:
        assert c.recv(100) == b""  # EOF before the grace could run out
    except ConnectionResetError:
        pass
    c.close()

    # no log storm: a few summary lines, not one per connection
    grown = _log_lines(stack) - lines0
    assert grown < 100, sg.log()[-6000:]
    assert "over the per-source cap" in sg.log()

    # SIGHUP still reloads the tables
    n = sg.log().count("routing tables reloaded")
    sg.send_signal(signal.SIGHUP)
    it.wait_for(lambda: sg.log().count("routing tables reloaded") > n, 10,
                "the SIGHUP reload")

    # and a call over UDP still connects
    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=500,
                    timeout_s=20)
    assert uac.finish(30) == 0
    rows = it.wait_for(lambda: it.cdr_rows(stack), 20, "the CDR")
    assert rows[0]["hold_ms"] > 0, rows[0]
    gw.quit()


def _cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_descriptor_limit_is_no_busy_loop(stack):
    """At RLIMIT_NOFILE, pending connections are accepted and closed on a
    spare descriptor: no accept() spinning, no log storm, and SIGHUP (a new
    database connection) works once the caps have freed descriptors."""
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    stack.conf_extra["signalingd"].update({
        "tcp_max_per_source": PER_SOURCE, "tcp_max_connections": TOTAL,
        "tcp_unknown_grace_ms": GRACE_MS, "tcp_idle_timeout_ms": IDLE_MS})
    stack.start_all()
    sg = stack.daemon("signalingd")
    addr = ("127.0.0.1", stack.sip_port)
    nfd = len(os.listdir(f"/proc/{sg.pid}/fd"))
    # 40 descriptors to spare: the flood below reaches the limit at once
    resource.prlimit(sg.pid, resource.RLIMIT_NOFILE, (nfd + 40, nfd + 40))
    lines0 = _log_lines(stack)
    cpu0 = _cpu_s(sg.pid)
    socks = []
    try:
        for ip in UNKNOWN[:4]:
            for _ in range(250):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.bind((ip, 0))
                s.connect_ex(addr)
                socks.append(s)
        # everything is closed: refused at the limit, shed by the caps
        it.wait_for(lambda: len(_closed(socks)) == len(socks),
                    GRACE_MS / 1000 + SLACK_S, "every connection closed")
    finally:
        for s in socks:
            s.close()
    t0 = time.monotonic()
    cpu1 = _cpu_s(sg.pid)
    time.sleep(2)  # measuring CPU over a span: no spinning afterwards
    idle_cpu = (_cpu_s(sg.pid) - cpu1) / (time.monotonic() - t0)
    assert idle_cpu < 0.5, f"signalingd busy at {idle_cpu:.0%} after"
    assert cpu1 - cpu0 < 10, cpu1 - cpu0
    log = sg.log()
    refused = [int(x) for x in re.findall(
        r"(\d+) refused at the descriptor limit", log)]
    assert sum(refused) > 0, log[-4000:]
    assert _log_lines(stack) - lines0 < 100, log[-6000:]
    assert sg.alive()

    n = log.count("routing tables reloaded")
    sg.send_signal(signal.SIGHUP)
    it.wait_for(lambda: sg.log().count("routing tables reloaded") > n, 10,
                "the SIGHUP reload at the old descriptor limit")
    gw.quit()


def _tcp_request(sock, ip, port, text):
    """Send one request on a TCP connection, return the final response."""
    sock.sendall(text.encode())
    buf = b""
    while True:
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if sep:
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if len(rest) >= (int(m.group(1)) if m else 0):
                resp = head.decode(errors="replace")
                if int(resp.split()[1]) >= 200:
                    return resp
                buf = rest
                continue
        data = sock.recv(65535)
        assert data, "connection closed while waiting for a response"
        buf += data


def _register(ip, lport, port, auth=None, cseq=1):
    lines = [f"REGISTER sip:127.0.0.1:{port} SIP/2.0",
             f"Via: SIP/2.0/TCP {ip}:{lport};branch=z9hG4bK-r{cseq};rport",
             "Max-Forwards: 70", f"From: <sip:7001@{ip}>;tag=t{cseq}",
             "To: <sip:7001@127.0.0.1>", "Call-ID: tcp-phone-1",
             f"CSeq: {cseq} REGISTER",
             f"Contact: <sip:7001@{ip}:{lport};transport=tcp>",
             "Expires: 300"]
    if auth:
        lines.append(f"Authorization: {auth}")
    return "\r\n".join(lines + ["Content-Length: 0", "", ""])


def test_phone_over_tcp_stays_an_unknown_source_does_not(stack):
    """A phone registers over TCP within the grace (digest against its
    HA1) and keeps its connection; a connection opened after it from a
    source that never authenticates is closed when its grace is over (the
    phone's would have gone in the same sweep)."""
    from test_digest_replay import _auth, _challenge
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["phones"] = [{"number": "7001", "account": "cust1",
                      "password": "Phone-secret-1"}]
    stack.provision(doc)
    stack.conf_extra["signalingd"].update({
        "tcp_unknown_grace_ms": GRACE_MS, "tcp_idle_timeout_ms": 60000})
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    port = stack.sip_port
    phone_ip, other_ip = "127.0.0.30", "127.0.0.31"  # phone sorts first
    phone = socket.create_connection(("127.0.0.1", port),
                                     source_address=(phone_ip, 0), timeout=5)
    other = socket.create_connection(("127.0.0.1", port),
                                     source_address=(other_ip, 0), timeout=5)
    try:
        lport = phone.getsockname()[1]
        resp = _tcp_request(phone, phone_ip, port,
                            _register(phone_ip, lport, port))
        assert resp.startswith("SIP/2.0 401"), resp
        cred = _auth("7001", "Phone-secret-1", "REGISTER",
                     f"sip:127.0.0.1:{port}", _challenge(resp))
        resp = _tcp_request(phone, phone_ip, port,
                            _register(phone_ip, lport, port, cred, 2))
        assert resp.startswith("SIP/2.0 200"), resp
        it.wait_for(lambda: _closed([other]), GRACE_MS / 1000 + SLACK_S,
                    "the unknown source's connection")
        assert not _closed([phone]), "the registered phone was cut off"
    finally:
        phone.close()
        other.close()
    gw.quit()
