"""tandemctl firewall, loaded into a real kernel and probed with real packets.

Two network namespaces joined by a veth pair: "srv" holds the ruleset and
listeners on every port the ruleset names (SIP UDP/TCP/TLS, both ends of the
RTP range, each bus port, HTTP, SSH); "cli" holds one address per kind of
sender: a mapping gateway, a routing gateway, an admin address
(SERVER_WEB_ACCESS_LIST), a bus peer (named by a config file's dial URL),
a blacklisted address, an address inside a blacklisted /28, an address
whose blacklist entry has expired, and an unknown address; and over IPv6 a
gateway, an admin address and an unknown one.  Every sender
probes every port (UDP: an echo comes back; TCP: connect succeeds), all
probes at once; a probe that gets nothing within the window was dropped.

- nft -f of the default output: each sender reaches exactly its ports;
- --sip-trusted-only: SIP from unknown addresses is dropped too;
- iptables-restore of --iptables and ip6tables-restore of --ip6tables
  output (both pass --test first): the same matrix with real packets;
- --sip-tcp-per-source N: the N+1st open TCP connection to a SIP port from
  an untrusted address is dropped (nftables and iptables), a gateway's not;
- bad input (a malformed gateway ip, a missing config dir) exits 1 and prints
  no ruleset.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

import tandem_it as it

NET = "10.77.0"
SRV = f"{NET}.1"
SRV6 = "fd77::1"
SENDERS = {
    "gateway": f"{NET}.2",     # mapping gateway ips
    "blacklisted": f"{NET}.3",  # blacklist, no expiry
    "unknown": f"{NET}.4",
    "admin": f"{NET}.5",       # SERVER_WEB_ACCESS_LIST
    "peer": f"{NET}.6",        # mediaproxyd.conf signaling_url host
    "routing_gw": f"{NET}.7",  # routing_gateways.address
    "expired": f"{NET}.8",     # blacklist row that has expired
    "blacklisted_net": f"{NET}.17",  # inside 10.77.0.16/28, expiring later
    "gateway6": "fd77::2",     # mapping gateway ips, IPv6
    "admin6": "fd77::5",       # SERVER_WEB_ACCESS_LIST, IPv6
    "unknown6": "fd77::4",
}
SSH_PORT = 2222
TLS_PORT = 5061
WINDOW_S = 3  # silence that counts as "dropped"; passing probes take ms

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"),
    reason="needs root, nft and ip (network namespaces)")

# runs in "srv": UDP echo and TCP accept on every port given as argv JSON
LISTENER = r"""
import json, select, socket, sys
ports = json.loads(sys.argv[1])
socks, held = [], []
for proto, port in ports:
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET6, kind)  # dual stack
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    if proto == "tcp":
        s.listen(64)
    socks.append(s)
print("ready", flush=True)
while True:
    r, _, _ = select.select(socks, [], [])
    for s in r:
        if s.type == socket.SOCK_DGRAM:
            data, addr = s.recvfrom(2048)
            s.sendto(data, addr)
        else:
            held.append(s.accept()[0])  # open: conntrack keeps counting it
"""

# runs in "cli": every probe in its own thread; prints {"src proto port": ok}
PROBER = r"""
import json, socket, sys, threading
srv4, srv6, window = sys.argv[1], sys.argv[2], float(sys.argv[3])
probes = json.loads(sys.argv[4])
out = {}
def probe(src, proto, port):
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    six = ":" in src
    srv = srv6 if six else srv4
    s = socket.socket(socket.AF_INET6 if six else socket.AF_INET, kind)
    s.bind((src, 0))
    s.settimeout(window)
    ok = False
    try:
        if proto == "udp":
            s.sendto(b"probe", (srv, port))
            ok = s.recvfrom(64)[0] == b"probe"
        else:
            s.connect((srv, port))
            ok = True
    except ConnectionRefusedError:
        ok = True  # the firewall let it through; nobody listens
    except OSError:
        ok = False
    finally:
        s.close()
    out[f"{src} {proto} {port}"] = ok
ts = [threading.Thread(target=probe, args=p) for p in probes]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(out))
"""


# runs in "cli": per [src, port, n], n TCP connections one after the other,
# all kept open; prints {src: [connected?, ...]}
HOLDER = r"""
import json, socket, sys, threading
srv4, srv6, window = sys.argv[1], sys.argv[2], float(sys.argv[3])
out, keep = {}, []
def hold(src, port, n):
    six = ":" in src
    res = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if six else socket.AF_INET)
        s.bind((src, 0))
        s.settimeout(window)
        try:
            s.connect((srv6 if six else srv4, port))
            res.append(True)
            keep.append(s)
        except OSError:
            res.append(False)
            s.close()
    out[src] = res
ts = [threading.Thread(target=hold, args=a) for a in json.loads(sys.argv[4])]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(out))
"""


def sh(*argv, check=True, input=None):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                       input=input, timeout=60)
    if check and r.returncode:
        raise it.ItError(f"{' '.join(map(str, argv))} exited {r.returncode}"
                         f":\n{r.stdout}{r.stderr}")
    return r


class Netns:
    """srv and cli namespaces joined by a veth pair; cli has every sender."""

    def __init__(self):
        tag = f"{os.getpid() % 100000}"
        self.srv, self.cli = f"tfw-srv-{tag}", f"tfw-cli-{tag}"
        self.listener = None
        for ns in (self.srv, self.cli):
            sh("ip", "netns", "del", ns, check=False)  # a killed run's
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", "tfws" + tag, "netns", self.srv, "type",
           "veth", "peer", "name", "tfwc" + tag, "netns", self.cli)
        sh("ip", "-n", self.srv, "addr", "add", f"{SRV}/24", "dev",
           "tfws" + tag)
        sh("ip", "-n", self.srv, "addr", "add", f"{SRV6}/64", "dev",
           "tfws" + tag, "nodad")
        for a in SENDERS.values():
            sh("ip", "-n", self.cli, "addr", "add",
               f"{a}/64" if ":" in a else f"{a}/24", "dev", "tfwc" + tag,
               *(["nodad"] if ":" in a else []))
        for ns, dev in ((self.srv, "tfws" + tag), (self.cli, "tfwc" + tag)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")

    def exec(self, ns, *argv, **kw):
        return sh("ip", "netns", "exec", ns, *argv, **kw)

    def listen(self, ports):
        self.listener = subprocess.Popen(
            ["ip", "netns", "exec", self.srv, sys.executable, "-c", LISTENER,
             json.dumps(ports)], stdout=subprocess.PIPE, text=True)
        assert self.listener.stdout.readline().strip() == "ready"

    def probe(self, probes):
        r = self.exec(self.cli, sys.executable, "-c", PROBER, SRV, SRV6,
                      str(WINDOW_S), json.dumps(probes))
        return json.loads(r.stdout)

    def hold(self, plan):
        r = self.exec(self.cli, sys.executable, "-c", HOLDER, SRV, SRV6,
                      str(WINDOW_S), json.dumps(plan))
        return json.loads(r.stdout)

    def close(self):
        if self.listener:
            self.listener.kill()
            self.listener.wait()
        for ns in (self.srv, self.cli):
            sh("ip", "netns", "del", ns, check=False)


@pytest.fixture
def netns():
    n = Netns()
    try:
        yield n
    finally:
        n.close()


def port_of(url):
    return int(url.rsplit(":", 1)[1])


def prepare(stack):
    """Database rows and config files for every kind of sender."""
    doc = it.base_doc(5070, 5080)
    doc["mapping_gateways"][0]["ips"] = [SENDERS["gateway"], "192.0.2.0/24",
                                         "192.0.2.9", SENDERS["gateway6"]]
    for g in doc["routing_gateways"]:
        g["address"] = SENDERS["routing_gw"]
    doc.setdefault("system_parameters", {})["SERVER_WEB_ACCESS_LIST"] = \
        f"{SENDERS['admin']}, 127.0.0.1, {SENDERS['admin6']}"
    stack.provision(doc)
    stack.query(
        "INSERT INTO blacklist (ip, reason, expires_at) VALUES "
        "(%s, 'test', NULL), (%s, 'test', now() + interval '1 hour'), "
        "(%s, 'test', now() - interval '1 second'), "
        "('192.0.2.5', 'inside a gateway net: blacklist wins', NULL)",
        (SENDERS["blacklisted"], f"{NET}.16/28", SENDERS["expired"]))
    conf = stack.dir / "etc"
    conf.mkdir(exist_ok=True)
    # the bus peer: a media node elsewhere would dial signalingd; here the
    # media node's config names signalingd's host, which must be trusted
    stack.conf_extra["mediaproxyd"]["signaling_url"] = \
        f"tls+tcp://{SENDERS['peer']}:{port_of(stack.sg_events)}"
    stack.conf_extra["mediaproxyd"]["bus_pki"] = str(stack.dir / "pki")
    for d in it.DAEMONS:
        stack.write_conf(d, name=f"etc/{d}.conf")
    return conf


def ports(stack):
    """{service: [(proto, port)]} as the stack's config files name them."""
    return {
        "sip": [("udp", stack.sip_port), ("tcp", stack.sip_port),
                ("tcp", TLS_PORT)],
        "rtp": [("udp", stack.rtp_min), ("udp", stack.rtp_max)],
        "bus": [("tcp", port_of(u)) for u in (stack.sg_events,
                                             stack.sg_control, stack.bd_bus,
                                             stack.mp_bus)],
        "admin": [("tcp", port_of("x:" + stack.bd_http)), ("tcp", SSH_PORT)],
        # a port nothing names: dropped for everybody
        "closed": [("udp", stack.rtp_max + 1), ("tcp", stack.rtp_max + 1)],
    }


def expected(sip_open=True):
    """{sender: set of services it reaches}."""
    public = {"sip", "rtp"} if sip_open else {"rtp"}
    return {
        "gateway": {"sip", "rtp"},
        "routing_gw": {"sip", "rtp"},
        "blacklisted": set(),
        "blacklisted_net": set(),
        "unknown": public,
        "expired": public,
        "admin": public | {"admin"},
        "peer": public | {"bus"},
        "gateway6": {"sip", "rtp"},
        "admin6": public | {"admin"},
        "unknown6": public,
    }


def check_matrix(netns, stack, sip_open=True):
    svc = ports(stack)
    netns.listen([p for ps in svc.values() for p in ps])
    probes = [(a, proto, port) for a in SENDERS.values()
              for ps in svc.values() for proto, port in ps]
    got = netns.probe(probes)
    want = expected(sip_open)
    wrong = []
    for who, a in SENDERS.items():
        for name, ps in svc.items():
            for proto, port in ps:
                ok = got[f"{a} {proto} {port}"]
                if ok != (name in want[who]):
                    wrong.append(f"{who} ({a}) {name} {proto}/{port}: "
                                 f"{'passed' if ok else 'dropped'}")
    assert not wrong, "\n".join(wrong)


def render(stack, conf, *extra):
    return stack.ctl("firewall", "--conf-dir", conf, "--ssh-port", SSH_PORT,
                     "--sip-tls-port", TLS_PORT, *extra)


def test_nft_ruleset_passes_and_drops_real_packets(stack, netns):
    conf = prepare(stack)
    r = render(stack, conf)
    rules = r.stdout
    # overlapping entries folded: 192.0.2.9 is inside 192.0.2.0/24
    assert "192.0.2.0/24" in rules and "192.0.2.9" not in rules
    assert f"{NET}.16/28 timeout" in rules
    assert SENDERS["expired"] not in rules
    # loaded twice: a reload replaces the table, it does not fail or stack
    for _ in range(2):
        netns.exec(netns.srv, "nft", "-f", "-", input=rules)
    listed = netns.exec(netns.srv, "nft", "list", "ruleset").stdout
    assert listed.count("table inet tandem") == 1
    check_matrix(netns, stack)


def test_sip_trusted_only_drops_unknown_sip(stack, netns):
    conf = prepare(stack)
    r = render(stack, conf, "--sip-trusted-only")
    netns.exec(netns.srv, "nft", "-f", "-", input=r.stdout)
    check_matrix(netns, stack, sip_open=False)


@pytest.mark.skipif(not shutil.which("ip6tables-restore"),
                    reason="iptables not installed")
def test_iptables_script_passes_and_drops_real_packets(stack, netns):
    conf = prepare(stack)
    v4 = render(stack, conf, "--iptables").stdout
    assert v4.startswith("#") and "*filter" in v4 and v4.endswith("COMMIT\n")
    netns.exec(netns.srv, "iptables-restore", "--test", input=v4)
    netns.exec(netns.srv, "iptables-restore", input=v4)
    v6 = render(stack, conf, "--ip6tables").stdout
    assert "ipv6-icmp" in v6 and SENDERS["gateway6"] in v6
    assert SENDERS["gateway"] not in v6 and SENDERS["gateway6"] not in v4
    netns.exec(netns.srv, "ip6tables-restore", "--test", input=v6)
    netns.exec(netns.srv, "ip6tables-restore", input=v6)
    check_matrix(netns, stack)


def test_bad_input_prints_no_ruleset(stack, tmp_path):
    conf = prepare(stack)
    r = stack.ctl("firewall", "--conf-dir", tmp_path, check=False)
    assert r.returncode == 1 and r.stdout == ""
    assert "no signalingd" in r.stderr

    stack.query("UPDATE mapping_gateways SET ips = ips || '{10.1.2.300}'")
    r = stack.ctl("firewall", "--conf-dir", conf, check=False)
    assert r.returncode == 1 and r.stdout == ""
    assert "'10.1.2.300' is not an IP address or CIDR" in r.stderr

    r = stack.ctl("firewall", "--conf-dir", conf, "--admin", "nonsense",
                  check=False)
    assert r.returncode == 1 and r.stdout == ""


@pytest.mark.parametrize("fmt", ["nft", "iptables"])
def test_sip_tcp_connections_capped_per_untrusted_source(stack, netns, fmt):
    """--sip-tcp-per-source 3: a fourth open TCP connection to the SIP port
    from an unknown address is dropped; a gateway is never capped."""
    conf = prepare(stack)
    if fmt == "nft":
        r = render(stack, conf, "--sip-tcp-per-source", "3")
        assert "ct count over 3" in r.stdout
        netns.exec(netns.srv, "nft", "-f", "-", input=r.stdout)
    else:
        for flag, tool in (("--iptables", "iptables-restore"),
                           ("--ip6tables", "ip6tables-restore")):
            r = render(stack, conf, flag, "--sip-tcp-per-source", "3")
            assert "--connlimit-above 3" in r.stdout
            netns.exec(netns.srv, tool, input=r.stdout)
    netns.listen([("tcp", stack.sip_port), ("tcp", TLS_PORT)])
    got = netns.hold([[SENDERS[w], port, 5]
                      for w in ("unknown", "gateway", "unknown6")
                      for port in (stack.sip_port,)] +
                     [[SENDERS["admin"], TLS_PORT, 5]])
    assert got[SENDERS["unknown"]] == [True] * 3 + [False] * 2, got
    assert got[SENDERS["unknown6"]] == [True] * 3 + [False] * 2, got
    assert got[SENDERS["admin"]] == [True] * 3 + [False] * 2, got
    assert got[SENDERS["gateway"]] == [True] * 5, got
