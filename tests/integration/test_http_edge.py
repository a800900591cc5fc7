"""Issue 8, item 6 (HTTP listener): billingd's API refuses a request that
frames its body twice (two Content-Length headers, or Content-Length with
Transfer-Encoding: request smuggling) with a 400, and listens with a
backlog that holds a burst of connects (libre's default is 5).

Issue 9 (low items): a Content-Length that is not plain digits ("-1", "+3",
"3, 3", two of them that differ) is a 400 too, Transfer-Encoding alone is a
501 (libre reads no chunked bodies), and after each of these the connection
is closed, so the bytes that follow are never taken for a request.  An
anonymous /api/v1/status learns nothing (401, no bus URL); /healthz says
"ok" and nothing else."""

import socket
import subprocess

import tandem_it as it


def _raw(addr, data):
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and b"}" in out:
                break
        return out.decode(errors="replace")


def _raw_to_eof(addr, data):
    """Send data, read until the server closes: (answer, closed)."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                return out.decode(errors="replace"), False
            except ConnectionResetError:
                return out.decode(errors="replace"), True
            if not chunk:
                return out.decode(errors="replace"), True
            out += chunk


def test_bad_framing_refused_and_connection_closed(stack):
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    stack.start_daemon("billingd")
    addr = stack.bd_http
    # the "body" is a second request: answered only if framing went wrong
    smuggled = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    n = str(len(smuggled)).encode()
    cases = {
        b"Content-Length: " + n + b"\r\nContent-Length: 0\r\n": 400,
        b"Content-Length: -1\r\n": 400,
        b"Content-Length: +" + n + b"\r\n": 400,
        b"Content-Length: " + n + b", " + n + b"\r\n": 400,
        b"Content-Length: abc\r\n": 400,
        b"Transfer-Encoding: chunked\r\n": 501,
        b"Transfer-Encoding: identity\r\nContent-Length: " + n + b"\r\n":
            400,
    }
    for hdrs, code in cases.items():
        out, closed = _raw_to_eof(
            addr, b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\n" + hdrs +
            b"\r\n" + smuggled)
        assert out.startswith(f"HTTP/1.1 {code} "), (hdrs, out)
        assert out.count("HTTP/1.1") == 1, (hdrs, out)  # nothing smuggled
        assert '{"status":"ok"}' not in out, (hdrs, out)
        assert closed, (hdrs, out)

    # a plain Content-Length still works, and keeps the connection
    body = b'{"username":"nobody","password":"x"}'
    out = _raw(addr, b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\nContent-Length: " +
               str(len(body)).encode() + b"\r\n\r\n" + body)
    assert out.startswith("HTTP/1.1 401"), out

    # what an anonymous caller learns: nothing about the bus or the nodes
    anon = _raw(addr, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
    assert anon.startswith("HTTP/1.1 401"), anon
    for leak in ("tcp://", "ipc://", stack.bd_bus, stack.sg_control,
                 "node_id", "daemons"):
        assert leak not in anon, (leak, anon)
    health = _raw(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert health.startswith("HTTP/1.1 200"), health
    assert health.split("\r\n\r\n", 1)[1] == '{"status":"ok"}', health
    assert stack.daemon("billingd").alive()


def test_double_framing_refused_and_backlog(stack):
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    stack.start_daemon("billingd")
    addr = stack.bd_http
    for extra in (b"Content-Length: 3\r\nContent-Length: 3\r\n",
                  b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"):
        out = _raw(addr, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n" +
                   extra + b"\r\nabc")
        assert out.startswith("HTTP/1.1 400"), out
        assert "Content-Length" in out and "bad_request" in out, out
    ok = _raw(addr, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + it.API_TOKEN.encode() +
              b"\r\n\r\n")
    assert ok.startswith("HTTP/1.1 200"), ok
    anon = _raw(addr, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
    assert anon.startswith("HTTP/1.1 401"), anon
    # the listening socket's backlog (ss: Send-Q of a LISTEN socket)
    port = addr.rsplit(":", 1)[1]
    ss = subprocess.run(["ss", "-ltnH", f"sport = :{port}"],
                        capture_output=True, text=True).stdout.split()
    assert ss and int(ss[2]) >= 1024, ss
    assert stack.daemon("billingd").alive()
