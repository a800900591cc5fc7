"""Issue 9, done-when 1: the trusted bus.

Every bus link of the stack runs over tls+tcp:// with certificates from
`tandemctl pki`: each listener admits only the role that talks to it
(billingd: signaling; signalingd's control socket: billing; its events
socket: media; mediaproxyd: signaling).

- A client with no certificate, with a certificate of the wrong role, or
  with one from another CA gets no answer to any message type; plain tcp://
  to a TLS port gets nothing either.
- A certificate of the right role may send only its own message types: a
  signaling certificate asking billingd for call.hangup gets "forbidden".
- A forged node.heartbeat for the live media node from another media
  certificate changes nothing: the node keeps its URL and calls connect.
- 1 000 fake media nodes leave signalingd's node table capped, its memory
  and its CPU bounded.
- Config check: plain tcp:// off loopback is refused by `-t` unless
  bus_insecure is set, which is then warned about.
"""

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import tandem_it as it

ROOT = Path(__file__).resolve().parents[2]


def message_types():
    text = (ROOT / "proto" / "proto.h").read_text()
    return re.findall(r'#define SW_MSG_\w+\s+"([a-z0-9_.]+)"', text)


def probe(url, type_, body=None, args=(), timeout_ms=2000):
    exe = str(it.binary("tests/busprobe"))
    argv = [exe, *args, "-t", str(timeout_ms), url, type_,
            json.dumps(body or {})]
    r = subprocess.run(argv, capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode(errors="replace")


def pki(*args):
    return subprocess.run([str(it.binary("tandemctl")), "pki", *args],
                          check=True, capture_output=True, text=True)


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def cpu_s(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / 100.0  # utime + stime, in ticks


def call_ok(stack, name):
    uac = stack.uac(name, "uac_pcap.xml", calls=1, duration_ms=1000,
                    timeout_s=30)
    assert uac.finish(45) == 0, f"{name}: call failed"


def test_bus_refuses_untrusted_peers(tls_stack):
    stack = tls_stack
    gw_a = stack.uas("gwA", "uas_answer.xml")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    stack.provision(it.base_doc(gw_a.port, gw_b.port))
    stack.start_all()
    call_ok(stack, "before")

    ca = stack.pki / "ca"
    hosts = stack.pki / "hosts"
    # another CA whose role CAs carry the very same names
    other = stack.dir / "pki-other"
    pki("init", str(other))
    pki("issue", str(other), "signaling", "sg-it")
    pki("issue", str(other), "billing", "bd-it")
    pki("issue", str(other), "media", "mp-it")
    pki("issue", str(stack.pki), "control", "ops1")

    # listener -> (its own CA, the role it admits, a wrong role's cert)
    listeners = {
        stack.bd_bus: ("billing.crt", "sg-it", "mp-it"),
        stack.sg_control: ("signaling.crt", "bd-it", "sg-it"),
        stack.mp_bus: ("media.crt", "sg-it", "bd-it"),
    }
    types = message_types()
    assert len(types) >= 19, types
    for url, (server_ca, good, wrong) in listeners.items():
        trust = ["-a", str(ca / server_ca)]
        # the right certificate gets answers
        rc, out = probe(url, "health.ping", args=trust + [
            "-c", str(hosts / good / "cert.pem")])
        assert rc == 0, (url, rc, out)
        bad_clients = {
            "no certificate": trust,
            "wrong role": trust + ["-c", str(hosts / wrong / "cert.pem")],
            "control role": trust + ["-c", str(hosts / "ops1" / "cert.pem")],
            "other CA": trust + ["-c", str(other / "hosts" / good /
                                           "cert.pem")],
        }
        for what, args in bad_clients.items():
            for t in types:
                rc, out = probe(url, t, args=args, timeout_ms=1500)
                assert rc == 4 and out == "", \
                    f"{url} answered {t} from a client with {what}: " \
                    f"rc={rc} {out}"
        # plain tcp:// to a TLS port: nothing either
        plain = url.replace("tls+tcp://", "tcp://")
        rc, out = probe(plain, "health.ping", timeout_ms=1500)
        assert rc in (3, 4) and out == "", (plain, rc, out)

    # a signaling certificate may not use billingd for what billing does
    rc, out = probe(stack.bd_bus, "call.hangup", {"call_id": "x"}, args=[
        "-a", str(ca / "billing.crt"), "-c",
        str(hosts / "sg-it" / "cert.pem")])
    assert rc == 1 and json.loads(out)["body"]["code"] == "forbidden", out

    # the pushes of the events socket are refused without a media cert
    hb = {"node_id": "mp-x", "url": "tls+tcp://127.0.0.1:1"}
    for args in (["-a", str(ca / "signaling.crt")],
                 ["-a", str(ca / "signaling.crt"), "-c",
                  str(hosts / "bd-it" / "cert.pem")],
                 ["-a", str(ca / "signaling.crt"), "-c",
                  str(other / "hosts" / "mp-it" / "cert.pem")]):
        rc, _ = probe(stack.sg_events, "node.heartbeat", hb,
                      args=["-p"] + args)
        assert rc == 4, args
    nodes = it.ping(stack.sg_control)["media_nodes"]
    assert [n["node_id"] for n in nodes] == ["mp-it"], nodes

    call_ok(stack, "after")


def test_forged_heartbeat_and_fake_nodes(tls_stack, monkeypatch):
    stack = tls_stack
    # ASan keeps freed blocks in a quarantine (256 MB by default), which
    # would read as growth: keep it small so that RSS shows what is held
    monkeypatch.setitem(it.SAN_ENV, "ASAN_OPTIONS",
                        it.SAN_ENV["ASAN_OPTIONS"] +
                        ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64")
    gw_a = stack.uas("gwA", "uas_answer.xml")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    stack.provision(it.base_doc(gw_a.port, gw_b.port))
    stack.start_all()
    ca = stack.pki / "ca"
    pki("issue", str(stack.pki), "media", "mp-evil")
    evil = ["-p", "-a", str(ca / "signaling.crt"), "-c",
            str(stack.pki / "hosts" / "mp-evil" / "cert.pem")]
    real = it.ping(stack.sg_control)["media_nodes"][0]
    assert real["node_id"] == "mp-it" and real["online"], real

    # a media certificate of its own claims the live node's id
    trap = f"tls+tcp://127.0.0.1:{stack.one()}"
    forged = {"node_id": "mp-it", "url": trap, "sessions": 0,
              "free_ports": 100000, "cpu_pct": 0}
    for _ in range(3):
        rc, _ = probe(stack.sg_events, "node.heartbeat", forged, args=evil)
        assert rc == 0
    sg = stack.daemon("signalingd")
    it.wait_for(lambda: "node.heartbeat for mp-it ignored" in sg.log(), 10,
                "signalingd to ignore the forged heartbeat")
    nodes = it.ping(stack.sg_control)["media_nodes"]
    assert [(n["node_id"], n["url"]) for n in nodes] == \
        [("mp-it", stack.mp_bus)], nodes
    call_ok(stack, "after_forgery")

    # 1 000 fake nodes, each with its own id and a dead URL
    pid = sg.p.pid
    rss0 = rss_kb(pid)
    lines = []
    for i in range(1000):
        env = {"v": 1, "type": "node.heartbeat", "id": str(uuid.uuid4()),
               "ts": int(time.time() * 1000),
               "body": {"node_id": f"fake{i}",
                        "url": f"tls+tcp://127.0.{1 + i // 250}.{1 + i % 250}:9"}}
        lines.append(json.dumps(env))
    flood = stack.dir / "fake-nodes.jsonl"
    flood.write_text("\n".join(lines) + "\n")
    r = subprocess.run([str(it.binary("tests/busprobe")), "-m", *evil[1:],
                        stack.sg_events, f"@{flood}"], capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    it.wait_for(lambda: len(it.ping(stack.sg_control)["media_nodes"]) >= 64,
                15, "signalingd to take fake nodes up to its cap")
    time.sleep(1)
    nodes = it.ping(stack.sg_control)["media_nodes"]
    assert len(nodes) == 64, len(nodes)
    assert any(n["node_id"] == "mp-it" and n["online"] for n in nodes)
    # bounded: the table, its redials, its memory; after the flood
    # nothing may keep growing
    grown = rss_kb(pid) - rss0
    assert grown < 32 * 1024, f"signalingd grew by {grown} kB"
    rss1, c0 = rss_kb(pid), cpu_s(pid)
    time.sleep(5)
    used = cpu_s(pid) - c0
    assert used < 2.5, f"signalingd used {used:.2f} s of CPU in 5 s"
    still = rss_kb(pid) - rss1
    assert still < 4 * 1024, f"signalingd still grows: {still} kB in 5 s"
    print(f"fake nodes: +{grown} kB, then {used:.2f} s CPU and "
          f"+{still} kB in 5 s")
    call_ok(stack, "after_fakes")


@pytest.mark.parametrize("daemon,key", [
    ("billingd", "bus_listen"), ("signalingd", "bus_events"),
    ("mediaproxyd", "signaling_url")])
def test_plain_tcp_off_loopback_needs_bus_insecure(conf_stack, daemon, key):
    stack = conf_stack
    if stack.tls:
        pytest.skip("the config check is the plain run's")
    stack.conf_extra[daemon][key] = "tcp://192.0.2.10:7000"
    conf = stack.write_conf(daemon)
    r = subprocess.run([str(it.binary(daemon)), "-t", "-f", str(conf)],
                       capture_output=True, text=True, timeout=30,
                       env=it.SAN_ENV)
    assert r.returncode != 0
    assert "off loopback" in r.stderr + r.stdout, r.stderr
    stack.conf_extra[daemon]["bus_insecure"] = "yes"
    conf = stack.write_conf(daemon)
    r = subprocess.run([str(it.binary(daemon)), "-t", "-f", str(conf)],
                       capture_output=True, text=True, timeout=30,
                       env=it.SAN_ENV)
    assert r.returncode == 0, r.stderr
    assert "bus_insecure" in r.stderr + r.stdout, r.stderr
    # tls+tcp:// without certificates is refused too
    stack.conf_extra[daemon][key] = "tls+tcp://192.0.2.10:7000"
    conf = stack.write_conf(daemon)
    r = subprocess.run([str(it.binary(daemon)), "-t", "-f", str(conf)],
                       capture_output=True, text=True, timeout=30,
                       env=it.SAN_ENV)
    assert r.returncode != 0 and "bus_pki" in r.stderr + r.stdout


def test_bus_connection_cap(conf_stack):
    """A listening socket holds at most SW_BUS_MAX_PIPES (512) connections:
    the ones beyond are closed at once (a full socket refuses newcomers; over
    TLS only certified peers get that far), memory stays bounded, and the
    daemon serves again as soon as they go."""
    import resource
    import socket

    stack = conf_stack
    if stack.tls:
        pytest.skip("raw SP handshakes need a plain socket")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    stack.start_daemon("mediaproxyd")
    host, port = stack.mp_bus.split("://")[1].rsplit(":", 1)
    socks, closed = [], 0
    try:
        for _ in range(600):
            s = socket.create_connection((host, int(port)), timeout=5)
            # SP header of a REQ peer (protocol 0x30)
            s.sendall(b"\x00SP\x00\x00\x30\x00\x00")
            socks.append(s)
        # the server answers each accepted header with its own; the
        # connections beyond the cap are closed (after the handshake on
        # nng, at once on a listener on the loop: a reset when our header
        # was still unread)
        for s in socks:
            try:
                hdr = s.recv(8)
                s.settimeout(0.05)
                more = s.recv(1)
            except socket.timeout:
                continue
            except ConnectionResetError:
                closed += 1
                continue
            if hdr == b"" or more == b"":
                closed += 1
        assert 600 - 512 <= closed <= 600 - 500, closed
        # full: one more is refused too, and the daemon is still up
        assert it.ping(stack.mp_bus, timeout_ms=1000) is None
        assert stack.daemon("mediaproxyd").alive()
    finally:
        for s in socks:
            s.close()
    # and once they are gone, new peers are served again
    it.wait_for(lambda: it.ping(stack.mp_bus, timeout_ms=500), 10,
                "mediaproxyd to answer after the connections closed")
