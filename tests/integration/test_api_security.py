"""Security of the API (issue 8 item 6, done-when 5): Web Access Control
refuses addresses not listed and refuses to save a list that would lock
the caller out; HTTPS when a certificate is configured, with Secure
cookies, and tandemctl speaks it; bodies too large or badly framed are
refused without harm."""

import json
import socket
import ssl
import subprocess

import tandem_it as it


def test_web_access_control(stack):
    stack.start_daemon("billingd")
    addr = stack.bd_http

    def set_list(value):
        return it.api(addr, "PATCH", "/api/v1/system_parameters",
                      {"SERVER_WEB_ACCESS_LIST": value})

    status, _, js = set_list("10.0.0.0/8")
    assert status == 409 and js["error"]["field"] == \
        "SERVER_WEB_ACCESS_LIST", js
    assert "127.0.0.1" in js["error"]["message"]
    status, _, js = set_list("10.0.0.300")
    assert status == 400 and "not an IP address" in \
        js["error"]["message"], js
    status, _, js = set_list("10.0.0.0/8,,127.0.0.1")
    assert status == 400, js
    assert stack.scalar("SELECT count(*) FROM system_parameters WHERE "
                        "name = 'SERVER_WEB_ACCESS_LIST'") == 0
    status, _, js = set_list("10.0.0.0/8, 127.0.0.0/8")
    assert status == 200, js
    assert it.api(addr, "GET", "/api/v1/me")[0] == 200

    # a list without us (written behind the API's back): everything but
    # the bare health check is refused, the login too
    stack.query("UPDATE system_parameters SET value = '10.0.0.0/8' WHERE "
                "name = 'SERVER_WEB_ACCESS_LIST' RETURNING name")
    status, _, js = it.api(addr, "GET", "/api/v1/me")
    assert status == 403 and js["error"]["code"] == "access_denied", js
    status, _, js = it.api(addr, "POST", "/api/v1/login",
                           {"username": it.ADMIN_USER,
                            "password": it.ADMIN_PASSWORD}, token="")
    assert status == 403, js
    assert it.api(addr, "GET", "/healthz", token="")[0] == 200
    assert "refused: not in the web access list" in \
        stack.daemon("billingd").log()
    stack.query("DELETE FROM system_parameters WHERE name = "
                "'SERVER_WEB_ACCESS_LIST' RETURNING name")
    assert it.api(addr, "GET", "/api/v1/me")[0] == 200


def test_https_and_bad_bodies(stack, tmp_path):
    cert = stack.dir / "api.pem"
    key = stack.dir / "key.pem"
    crt = stack.dir / "crt.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    cert.write_text(crt.read_text() + key.read_text())
    stack.conf_extra["billingd"]["http_tls_cert"] = str(cert)
    stack.start_daemon("billingd")
    host, port = stack.bd_http.rsplit(":", 1)

    ctx = ssl.create_default_context(cafile=str(crt))
    import http.client
    conn = http.client.HTTPSConnection(host, int(port), context=ctx,
                                       timeout=10)
    conn.request("POST", "/api/v1/login",
                 body=json.dumps({"username": it.ADMIN_USER,
                                  "password": it.ADMIN_PASSWORD}),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    assert resp.status == 200, body
    cookie = resp.getheader("Set-Cookie")
    assert "; Secure" in cookie and "HttpOnly" in cookie, cookie
    conn.close()
    # plain HTTP on the HTTPS port gets nothing useful
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    try:
        data = s.recv(100)
    except (socket.timeout, ConnectionResetError):
        data = b""
    s.close()
    assert not data.startswith(b"HTTP/1.1 200"), data
    # tandemctl over https with the private CA
    r = stack.ctl("--api", f"https://{stack.bd_http}", "status",
                  check=False, env={"TANDEM_API_CA": str(crt)})
    assert r.returncode == 3 and "billingd" in r.stdout, r.stdout + r.stderr
    r = stack.ctl("--api", f"https://{stack.bd_http}", "status",
                  check=False)
    assert r.returncode == 1 and "certificate" in r.stderr.lower(), r.stderr

    # an oversized body: refused, billingd unharmed
    conn = http.client.HTTPSConnection(host, int(port), context=ctx,
                                       timeout=20)
    big = b'{"name": "' + b"x" * (600 * 1024) + b'"}'
    try:
        conn.request("POST", "/api/v1/rate_tables", body=big,
                     headers={"Content-Type": "application/json",
                              "Authorization": f"Bearer {it.API_TOKEN}"})
        status = conn.getresponse().status
    except (ConnectionError, http.client.HTTPException, OSError):
        status = None
    conn.close()
    assert status in (None, 400, 413), status
    assert stack.daemon("billingd").alive()
    assert stack.scalar("SELECT count(*) FROM rate_tables") == 0
