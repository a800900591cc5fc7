"""Issue 8, item 6 (HTTP listener): billingd's API refuses a request that
frames its body twice (two Content-Length headers, or Content-Length with
Transfer-Encoding: request smuggling) with a 400, and listens with a
backlog that holds a burst of connects (libre's default is 5)."""

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
