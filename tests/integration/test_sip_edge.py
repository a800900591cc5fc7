"""The SIP edge layer (issue 9, item 3; SPEC §8): rate limits, failures
counted, the dynamic blacklist, identical answers for every user.

Raw SIP over UDP from loopback addresses of our own (the Client of
test_digest_replay), so every header is exactly what the test says:

- brute force on one phone account from one address is blacklisted at
  SS_EDGE_FAIL_LIMIT, then gets silence, the row is in the blacklist table
  and billingd raises sip_blacklist; the real phone, from another address,
  still registers and calls; a second attacker on the account under attack
  is blacklisted at its first failure;
- known and unknown users get the same answers (no enumeration);
- `tandemctl blacklist add|del|clear` applies live, and survives a restart;
- a source over its token bucket, or over its /24's, gets silence for the
  excess, a gateway of the same /24 none of it, nor a PBX whose digest
  verified;
- a flood of scanners from a network namespace (done-when 3): the trusted
  customer's calls unharmed, the scanners silenced and blacklisted,
  memory bounded, no CDR for them."""

import json
import math
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import tandem_it as it
from test_digest_replay import Client, _auth, _challenge

PHONE_PW = "Phone-secret-1"


def _doc(stack, gw_port, **params):
    doc = it.base_doc(gw_port, 0, gw_b=False)
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0", **params})
    doc["phones"] = [{"number": "7001", "account": "cust1",
                      "password": PHONE_PW}]
    return doc


def _silent(fn):
    try:
        return fn()
    except socket.timeout:
        return None


def _log(stack):
    return stack.daemon("signalingd").log()


def _applied(stack, action, entries):
    """Run action, then wait until signalingd holds that many entries."""
    def last():
        lines = [l for l in _log(stack).splitlines()
                 if "blacklist applied:" in l]
        return lines[-1].split("blacklist applied: ")[1] if lines else ""

    action()
    it.wait_for(lambda: last() == f"{entries} entries", 5,
                f"signalingd to hold {entries} blacklist entries")


def _options(client, uri, extra=()):
    """An OPTIONS sent without waiting for its answer."""
    lines = [f"OPTIONS {uri} SIP/2.0",
             f"Via: SIP/2.0/UDP {client.ip}:{client.port};branch=z9hG4bK"
             f"{uuid.uuid4().hex[:16]};rport",
             "Max-Forwards: 70",
             f"From: <sip:probe@{client.ip}>;tag={uuid.uuid4().hex[:8]}",
             f"To: <{uri}>", f"Call-ID: {uuid.uuid4()}", "CSeq: 1 OPTIONS",
             *extra, "Content-Length: 0", "", ""]
    client.sock.sendto("\r\n".join(lines).encode(), client.server)


def _register(client, stack, user, pw, contact_at=None):
    """REGISTER with a fresh nonce; the final code."""
    ruri = f"sip:127.0.0.1:{stack.sip_port}"
    code, text = client.request("REGISTER", ruri, user, user,
                                contact_at=contact_at)
    if code != 401:
        return code
    cred = _auth(user, pw, "REGISTER", ruri, _challenge(text))
    return client.request("REGISTER", ruri, user, user, auth=cred,
                          contact_at=contact_at)[0]


def _call(client, stack, user, pw, number="15551230001"):
    uri = f"sip:{number}@127.0.0.1:{stack.sip_port}"
    code, text = client.request("INVITE", uri, user, number)
    assert code == 407, text
    cred = _auth(user, pw, "INVITE", uri, _challenge(text))
    return client.request("INVITE", uri, user, number, auth=cred)[0]


def test_brute_force_blacklisted_real_phone_still_works(stack):
    gw = stack.uas("gwA", "uas_reject.xml", code=486, reason="Busy Here")
    stack.provision(_doc(stack, gw.port))
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    real = Client(stack, "127.0.0.21")
    evil = Client(stack, "127.0.0.22")
    evil2 = Client(stack, "127.0.0.23")
    for c in (evil, evil2):
        c.sock.settimeout(1.5)

    # nine wrong passwords: still answered (401 each)
    for i in range(9):
        assert _register(evil, stack, "7001", f"guess-{i}") == 401
    assert stack.scalar("SELECT count(*) FROM blacklist") == 0
    # the tenth is answered, then the source is blacklisted: silence
    assert _register(evil, stack, "7001", "guess-9") == 401
    assert _silent(lambda: _register(evil, stack, "7001", PHONE_PW)) is None
    row = it.wait_for(lambda: stack.query(
        "SELECT origin, reason, expires_at > now() + interval '3500 s' AS "
        "long FROM blacklist WHERE ip = '127.0.0.22'"), 5,
        "the blacklist row")[0]
    assert row["origin"] == "auto" and row["long"], row
    assert "credentials refused" in row["reason"], row

    # the real phone, from its own address, registers and calls
    assert _register(real, stack, "7001", PHONE_PW) == 200
    assert _call(real, stack, "7001", PHONE_PW) == 486
    assert len(gw.received_requests("INVITE")) == 1

    # the account is under attack: another source's first failure
    # blacklists it
    assert _register(evil2, stack, "7001", "guess-x") == 401
    assert _silent(lambda: _register(evil2, stack, "7001", PHONE_PW)) is None
    it.wait_for(lambda: stack.scalar(
        "SELECT count(*) FROM blacklist WHERE origin = 'auto'") == 2, 5,
        "the second blacklist row")
    # still the real phone is served
    assert _register(real, stack, "7001", PHONE_PW) == 200
    # and a forger sending scanner requests from its (registered) address
    # does not get it banned
    uri = f"sip:127.0.0.1:{stack.sip_port}"
    for _ in range(12):
        _options(real, uri, ["User-Agent: friendly-scanner"])
    assert _register(real, stack, "7001", PHONE_PW) == 200
    edge = it.ping(stack.sg_control)["edge"]
    assert edge["banned"] == 2 and edge["blacklisted"] == 2, edge
    assert edge["dropped_blacklisted"] == 2, edge  # one REGISTER each

    # billingd's alarm, while automatic entries are active; raised at the
    # first ban, its message follows the count at the next check (10 s)
    alarm = it.wait_for(lambda: [a for a in stack.query(
        "SELECT severity, message FROM alarms WHERE kind = 'sip_blacklist' "
        "AND cleared_at IS NULL") if a["message"].startswith("2 source(s)")],
        30, "the sip_blacklist alarm with both sources")
    assert len(alarm) == 1 and alarm[0]["severity"] == "warning", alarm
    gw.quit()


def test_known_and_unknown_users_answered_alike(stack):
    stack.provision(_doc(stack, stack.port()))
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    probe = Client(stack, "127.0.0.24")
    ruri = f"sip:127.0.0.1:{stack.sip_port}"

    def shape(text):
        """The answer without what differs per request."""
        out = []
        for line in text.split("\r\n"):
            name = line.split(":", 1)[0].lower()
            if name in ("via", "from", "to", "call-id", "cseq", "contact",
                        "content-length", ""):
                continue
            if "nonce=" in line:
                line = line.split("nonce=")[0]
            out.append(line)
        return out

    answers = {}
    for user in ("7001", "7999"):
        code, text = probe.request("REGISTER", ruri, user, user)
        answers[("REGISTER", user)] = (code, shape(text))
        cred = _auth(user, "wrong", "REGISTER", ruri, _challenge(text))
        code, text = probe.request("REGISTER", ruri, user, user, auth=cred)
        answers[("REGISTER+cred", user)] = (code, shape(text))
        uri = f"sip:15551230001@127.0.0.1:{stack.sip_port}"
        code, text = probe.request("INVITE", uri, user, "15551230001")
        answers[("INVITE", user)] = (code, shape(text))
    for kind in ("REGISTER", "REGISTER+cred", "INVITE"):
        assert answers[(kind, "7001")] == answers[(kind, "7999")], kind
    assert answers[("REGISTER", "7001")][0] == 401
    assert answers[("REGISTER+cred", "7001")][0] == 401
    assert answers[("INVITE", "7001")][0] == 407


def test_blacklist_by_tandemctl_applies_live(stack):
    stack.provision(_doc(stack, stack.port()))
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    client = Client(stack, "127.0.0.25")
    client.sock.settimeout(1.5)
    ruri = f"sip:127.0.0.1:{stack.sip_port}"

    def answer():
        return _silent(lambda: client.request("REGISTER", ruri, "7001",
                                              "7001")[0])

    assert answer() == 401
    # the reload the change watch makes when it connects, then no other:
    # a change of the blacklist alone reads the blacklist alone
    it.wait_for(lambda: "routing tables reloaded" in _log(stack), 5,
                "the first reload")
    reloads = _log(stack).count("routing tables reloaded")
    _applied(stack, lambda: stack.ctl("blacklist", "add", "127.0.0.25",
                                      "--reason", "seen scanning"), 1)
    assert answer() is None
    assert _log(stack).count("routing tables reloaded") == reloads
    out = stack.ctl("blacklist", "list").stdout
    line = next(l for l in out.splitlines() if l.startswith("127.0.0.25 "))
    assert "manual" in line and "never" in line and "seen scanning" in line
    assert stack.scalar("SELECT count(*) FROM audit_log WHERE action = "
                        "'blacklist add' AND object = '127.0.0.25'") == 1

    # the table is read at start: still silence after a restart
    stack.stop_daemon("signalingd")
    stack.start_daemon("signalingd")
    assert answer() is None

    _applied(stack, lambda: stack.ctl("blacklist", "del", "127.0.0.25"), 0)
    assert answer() == 401
    r = stack.ctl("blacklist", "del", "127.0.0.25", check=False)
    assert r.returncode == 4, r

    # an entry with a time, then clear
    _applied(stack, lambda: stack.ctl("blacklist", "add", "127.0.0.25",
                                      "--time", "600"), 1)
    assert answer() is None
    assert stack.scalar("SELECT expires_at BETWEEN now() + interval '590 s' "
                        "AND now() + interval '600 s' FROM blacklist") is True
    _applied(stack, lambda: stack.ctl("blacklist", "clear"), 0)
    assert answer() == 401
    r = stack.ctl("blacklist", "add", "not-an-ip", check=False)
    assert r.returncode == 2 and "not an IP address" in r.stderr, r


def test_over_rate_source_silenced_gateway_not(stack):
    """Failures are not counted here: only the token buckets speak."""
    vendor = stack.uas("gwA", "uas_reject.xml", code=486, reason="Busy Here")
    doc = _doc(stack, vendor.port, SS_SIP_REPLY_UNKNOWN_SOURCE="1",
               SS_EDGE_SOURCE_RATE="1", SS_EDGE_SOURCE_BURST="5",
               SS_EDGE_NET_RATE="1", SS_EDGE_NET_BURST="8",
               SS_EDGE_FAIL_LIMIT="0")
    doc["mapping_gateways"].append(
        {"name": "pbx", "account": "cust1", "auth_mode": "password",
         "username": "pbx1", "password": "Pbx-secret-1"})
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")

    def burst(client, n):
        """n OPTIONS sent at once: the answers' codes, the seconds the
        sending took and when it ended."""
        uri = f"sip:127.0.0.1:{stack.sip_port}"
        codes = []
        start = time.monotonic()
        for _ in range(n):
            _options(client, uri)
        sent_at = time.monotonic()
        client.sock.settimeout(1.0)
        while True:
            try:
                data, _ = client.sock.recvfrom(65535)
            except socket.timeout:
                break
            codes.append(int(data.split()[1]))
        return codes, sent_at - start, sent_at

    t0 = time.monotonic()
    a = Client(stack, "127.0.0.26")
    codes, sent_in, _ = burst(a, 20)
    # 5 at once, 1 more for each second the sending took (a fraction)
    assert 5 <= len(codes) <= 5 + int(sent_in), (codes, sent_in)
    assert set(codes) == {403}, codes
    # another source of the /24: its own bucket is full, the /24's has
    # 8 - 5 left, and 1 more for each second since
    b = Client(stack, "127.0.0.27")
    codes_b, _, sent_at = burst(b, 5)
    since = sent_at - t0
    assert 3 <= len(codes_b) <= 3 + int(since), (codes_b, since)
    # the mapping gateway (127.0.0.1, the same /24) is never limited
    gw = Client(stack, "127.0.0.1")
    codes_gw, _, _ = burst(gw, 30)
    assert codes_gw == [200] * 30, codes_gw
    # nor is a PBX once its digest verified (another /24): 3 requests of
    # its burst of 5 for the call, then 20 more all answered
    pbx = Client(stack, "127.0.1.28")
    assert _call(pbx, stack, "pbx1", "Pbx-secret-1") == 486
    codes_pbx, _, _ = burst(pbx, 20)
    assert codes_pbx == [403] * 20, codes_pbx
    vendor.quit()


# ------------------------------------------------------------ the flood

FLOOD_RATE = 2000  # scanner requests/s, all sources together
FLOOD_S = 12  # the calls start once the flood runs and take 10 s
CALL_RATE = 10  # the trusted customer's calls/s
# the second customer floods its own mapping gateway (127.0.0.3, 5 calls/s
# allowed) with 100 INVITEs/s for 10 s
GREEDY_IP = "127.0.0.3"
GREEDY_CPS = 5
GREEDY_RATE = 100
# signalingd's RSS growth over the flood and the 100 calls: the edge
# tables are fixed at start (~3 MB, touched as used), the calls' memory
# goes back to the allocator (~3 MB seen in a release build, ~6.5 MB under
# ASan, whose quarantine is turned off for this test: it would hold every
# freed message up to its size).  After the calls, 2 s of flood alone add
# less than RSS_FLAT_KB (0 to 140 KB seen).
RSS_BOUND_KB = 8 * 1024
RSS_BOUND_SAN_KB = 16 * 1024
RSS_FLAT_KB = 512


def _sh(*argv):
    subprocess.run(argv, check=True, capture_output=True, text=True)


class Netns:
    """A network namespace joined to this one by a veth pair: our side
    has .host, the namespace the scanner addresses (two /24s)."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.name = f"tandem-edge-{tag}"
        self.veth = (f"tev{tag}a", f"tev{tag}b")
        net = 200 + os.getpid() % 50
        self.host = f"10.{net}.0.1"
        self.sources = [f"10.{net}.{sub}.{i}" for sub in (1, 2)
                        for i in range(2, 12)]
        self.up = False
        self.procs = []
        _sh("ip", "netns", "add", self.name)
        self.up = True
        try:
            self._wire(net)
        except BaseException:
            self.close()
            raise

    def _wire(self, net):
        _sh("ip", "link", "add", self.veth[0], "type", "veth", "peer",
            "name", self.veth[1])
        _sh("ip", "link", "set", self.veth[1], "netns", self.name)
        _sh("ip", "addr", "add", f"{self.host}/16", "dev", self.veth[0])
        _sh("ip", "link", "set", self.veth[0], "up")
        inside = ["ip", "netns", "exec", self.name]
        _sh(*inside, "ip", "link", "set", "lo", "up")
        _sh(*inside, "ip", "link", "set", self.veth[1], "up")
        for ip in [f"10.{net}.0.2"] + self.sources:
            _sh(*inside, "ip", "addr", "add", f"{ip}/16", "dev",
                self.veth[1])

    def popen(self, *argv):
        p = subprocess.Popen(["ip", "netns", "exec", self.name, *argv],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.up:  # the veth pair goes with the namespace
            subprocess.run(["ip", "netns", "del", self.name],
                           capture_output=True)
            subprocess.run(["ip", "link", "del", self.veth[0]],
                           capture_output=True)
            self.up = False


def _netns_or_skip():
    try:
        return Netns()
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        pytest.skip(f"network namespaces are not possible here "
                    f"(ip netns/veth: {detail.strip()}); the flood test "
                    f"needs root and CONFIG_NET_NS")


def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _cpu_s(pid):
    """CPU seconds (user + system) a process used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pdds(sipp):
    """The INVITE-to-200 times (ms) sipp recorded (-trace_rtt)."""
    out = []
    for f in sipp.stack.dir.glob(f"{sipp.name}_*_rtt.csv"):
        for line in f.read_text().splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 2 and parts[1]:
                out.append(float(parts[1]))
    return out


def _p(values, q):
    """The q-quantile, nearest rank: of 100 values, p99 is the 99th."""
    v = sorted(values)
    return v[max(0, math.ceil(q * len(v)) - 1)]


def test_scanner_flood_trusted_calls_unharmed(stack, monkeypatch):
    """Done-when 3 of issue 9: 20 scanner sources in two /24s of a network
    namespace send OPTIONS/REGISTER/INVITE at 2000 requests/s for 12 s
    while the trusted customer (a mapping gateway) calls at 10/s for 10 s,
    from the flood's start, and a second customer floods its own mapping
    gateway (cps_limit 5) with 100 INVITEs/s for those 10 s.  Every call of
    the first connects, with at most 50 ms added to the p99 of its
    INVITE-to-200 time; the second's excess gets 503 and no CDR; the
    scanners get no answer at all and are all on the blacklist;
    signalingd's RSS grows less than 8 MiB (16 MiB under ASan) in all,
    and by less than 512 KiB over the last 2 s of flood alone; the CDR
    table grows by the real calls only (the first customer's, and the
    second's that were admitted)."""
    ns = _netns_or_skip()
    try:
        _flood(stack, monkeypatch, ns)
    finally:
        ns.close()


def _flood(stack, monkeypatch, ns):
    monkeypatch.setitem(it.SAN_ENV, "ASAN_OPTIONS",
                        it.SAN_ENV["ASAN_OPTIONS"] + ":quarantine_size_mb=0")
    gw = stack.uas("gwA", "uas_answer.xml", rtp_echo=False)
    doc = it.base_doc(gw.port, 0, gw_b=False,
                      **it.second_customer("greedy", GREEDY_IP, GREEDY_CPS))
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0"})
    stack.provision(doc)
    stack.conf_extra["signalingd"].update(
        {"sip_listen": f"{ns.host}:{stack.sip_port}", "log_level": "info"})
    stack.start_daemon("billingd")
    sg = stack.start_daemon("signalingd")
    remote = f"{ns.host}:{stack.sip_port}"

    def calls(name, n):
        return it.Sipp(stack, name, "uac_pdd.xml", remote=remote,
                       service="15551230001", keys={"caller": "5550100"},
                       calls=n, rate=CALL_RATE, limit=50, duration_ms=200,
                       timeout_s=60,
                       extra=["-trace_rtt", "-rtt_freq", "1"]).start()

    # the baseline: 20 calls, nothing else going on
    base = calls("base", 20)
    assert base.finish(60) == 0, base.report()
    baseline = _pdds(base)
    assert len(baseline) == 20, baseline
    # the baseline's CDRs are stored before counting from there (they
    # reach billingd after the CDR journal's group commit)
    base_ids = sorted(base.sent_call_ids())
    it.wait_for(lambda: stack.scalar(
        "SELECT count(*) FROM cdr WHERE call_id_a = ANY(%s)", (base_ids,)) ==
        20, 30, "the baseline's CDRs")
    cdrs0 = stack.scalar("SELECT count(*) FROM cdr")
    rss0 = _rss_kb(sg.pid)
    cpu0 = _cpu_s(sg.pid)

    flood = ns.popen("/usr/bin/python3", str(Path(__file__).parent /
                                             "sip_flood.py"),
                     ns.host, str(stack.sip_port), str(FLOOD_RATE),
                     str(FLOOD_S), *ns.sources)
    assert flood.stdout.readline().strip() == "flooding", \
        flood.stderr.read()
    n_calls = CALL_RATE * 10
    uac = calls("flooded", n_calls)
    greedy = it.Sipp(stack, "greedy", "uac_hold.xml", remote=remote,
                     ip=GREEDY_IP, service="15551230001",
                     keys={"caller": "5550200"}, calls=GREEDY_RATE * 10,
                     rate=GREEDY_RATE, limit=GREEDY_RATE * 10,
                     duration_ms=500, timeout_s=60).start()
    assert uac.finish(60) == 0, uac.report()
    # the calls are over, the flood goes on for 2 s more: memory must not
    # grow with it
    rss_calls = _rss_kb(sg.pid)
    out, err = flood.communicate(timeout=FLOOD_S + 30)
    assert flood.returncode == 0, err
    res = json.loads(out)
    rss1 = _rss_kb(sg.pid)
    cpu1 = _cpu_s(sg.pid)
    greedy.finish(60)  # most of its calls fail (503): by design
    refused = greedy.call_ids_answered(503)
    admitted = greedy.call_ids_answered(200)

    # the flood was what it claims: >= 2000 requests/s for 12 s
    assert res["sent"] >= FLOOD_RATE * FLOOD_S * 0.95, res
    assert res["sent"] / res["elapsed"] >= FLOOD_RATE * 0.95, res
    # every trusted call connected, the added PDD within 50 ms
    pdds = _pdds(uac)
    assert len(pdds) == n_calls, len(pdds)
    added = _p(pdds, 0.99) - _p(baseline, 0.5)
    assert added < 50, (added, _p(pdds, 0.99), _p(baseline, 0.5))
    # the scanners heard nothing and are all blacklisted
    assert sum(res["answered"].values()) == 0, res["answered"]
    listed = {r["ip"] for r in stack.query(
        "SELECT host(ip) AS ip FROM blacklist WHERE origin = 'auto' AND "
        "expires_at > now()")}
    assert set(ns.sources) <= listed, sorted(set(ns.sources) - listed)
    edge = it.ping(stack.sg_control)["edge"]
    assert edge["banned"] == len(ns.sources), edge
    assert edge["blacklisted"] == len(ns.sources), edge
    assert edge["dropped_blacklisted"] >= res["sent"] * 0.9, (edge, res)
    # the second customer got its 5 calls/s, the rest 503
    assert len(greedy.sent_call_ids()) == GREEDY_RATE * 10
    assert len(admitted) + len(refused) == GREEDY_RATE * 10, \
        (len(admitted), len(refused), greedy.received_codes()[:20])
    assert GREEDY_CPS <= len(admitted) <= GREEDY_CPS * 15, len(admitted)
    assert it.ping(stack.sg_control)["refused"]["by_gateway"] == \
        {"mg_greedy": len(refused)}
    # memory bounded, CDRs only for the real calls
    print(f"greedy customer: {len(admitted)} admitted, {len(refused)} "
          f"refused")
    print(f"flood: {res['sent']} requests in {res['elapsed']:.1f} s, "
          f"PDD p50 {_p(baseline, 0.5)} ms before, p99 {_p(pdds, 0.99)} ms "
          f"during; signalingd RSS {rss0} -> {rss_calls} (calls over) -> "
          f"{rss1} kB, CPU {cpu1 - cpu0:.1f} s")
    bound = RSS_BOUND_SAN_KB if it.BUILD.name == "san" else RSS_BOUND_KB
    assert rss1 - rss0 < bound, (rss0, rss1, bound)
    assert rss1 - rss_calls < RSS_FLAT_KB, (rss0, rss_calls, rss1)
    real = n_calls + len(admitted)
    it.wait_for(lambda: stack.scalar("SELECT count(*) FROM cdr") >=
                cdrs0 + real, 30, "the calls' CDRs")
    assert stack.scalar("SELECT count(*) FROM cdr") == cdrs0 + real
    written = {r["call_id_a"] for r in stack.query(
        "SELECT call_id_a FROM cdr WHERE account = 'greedy'")}
    assert written == admitted, (len(written), len(admitted))
    gw.quit()


def test_registrations_survive_a_signalingd_restart(stack):
    """Issue 13, item 4 (done-when 4): a phone's registration is kept in
    PostgreSQL (table registrations: contact, source, node, expiry) and a
    restarted signalingd reads it back: health.ping counts it again and
    the dashboard shows it online (phones only), with no new REGISTER.
    An unregistered phone's row goes, and a restart does not bring it
    back.  A mapping gateway in password mode registers with digest like
    a phone."""
    doc = _doc(stack, stack.port())
    doc["phones"].append({"number": "7002", "account": "cust1",
                          "password": PHONE_PW})
    doc["mapping_gateways"].append(
        {"name": "pbx", "account": "cust1", "auth_mode": "password",
         "username": "pbx1", "password": "Pbx-secret-1"})
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    p1 = Client(stack, "127.0.0.31")
    p2 = Client(stack, "127.0.0.32")
    assert _register(p1, stack, "7001", PHONE_PW) == 200
    assert _register(p2, stack, "7002", PHONE_PW) == 200
    pbx = Client(stack, "127.0.0.33")
    assert _register(pbx, stack, "pbx1", "Wrong-secret") == 401
    assert _register(pbx, stack, "pbx1", "Pbx-secret-1") == 200
    rows = it.wait_for(lambda: (lambda r: r if len(r) == 3 else None)(
        stack.query("SELECT number, contact, source, node, expires_at > "
                    "now() + interval '250 s' AS fresh FROM registrations "
                    "ORDER BY number")), 10, "three registration rows")
    assert rows[0]["contact"] == f"sip:7001@127.0.0.31:{p1.port}", rows
    assert rows[0]["source"].startswith("127.0.0.31"), rows
    assert all(r["fresh"] and r["node"] for r in rows), rows
    assert rows[2]["number"] == "pbx1" and \
        rows[2]["contact"] == f"sip:pbx1@127.0.0.33:{pbx.port}", rows
    # 7002 unregisters (Expires 0): its row goes
    ruri = f"sip:127.0.0.1:{stack.sip_port}"
    code, text = p2.request("REGISTER", ruri, "7002", "7002",
                            extra=("Expires: 0",))
    if code == 401:
        cred = _auth("7002", PHONE_PW, "REGISTER", ruri, _challenge(text))
        code = p2.request("REGISTER", ruri, "7002", "7002", auth=cred,
                          extra=("Expires: 0",))[0]
    assert code == 200
    it.wait_for(lambda: stack.scalar(
        "SELECT count(*) FROM registrations") == 2, 10, "7002's row gone")
    assert it.ping(stack.sg_control)["registrations"] == 2

    stack.stop_daemon("signalingd")
    stack.start_daemon("signalingd")
    it.wait_for(lambda: (it.ping(stack.sg_control) or {}).get(
        "registrations") == 2, 10, "the registrations read back")
    assert "2 registrations read back from PostgreSQL, 2 kept" in \
        stack.daemon("signalingd").log()

    # the dashboard counts the table's live rows: 7001 as a phone online,
    # pbx1 as a registered mapping gateway, not as a phone
    status, _, dash = it.api(stack.bd_http, "GET", "/api/v1/dashboard")
    assert status == 200, dash
    assert dash["phones"] == {"total": 2, "online": 1}, dash
    assert dash["mapping_gateways"]["registered"] == 1, dash
    assert stack.scalar("SELECT count(*) FROM registrations") == 2
    # and the API lists them, online with contact and expiry
    status, _, js = it.api(stack.bd_http, "GET", "/api/v1/registrations")
    assert status == 200 and js["total"] == 2, js
    got = {g["user"]: g for g in js["items"]}
    assert got["7001"]["kind"] == "phone" and \
        got["pbx1"]["kind"] == "mapping_gateway", got
    assert got["7001"]["contact"] == f"sip:7001@127.0.0.31:{p1.port}", got
    assert got["7001"]["expires_at"] and got["7001"]["node"], got


def test_call_to_a_registered_phone(stack):
    """Issue 13, item 4: a call whose callee is a registered phone goes to
    the phone's contact (as gateway phone:<number>), and is billed to the
    caller like any call; an unregistered phone's number is unroutable."""
    doc = _doc(stack, stack.port())
    doc["rate_tables"][0]["entries"].append(
        {"prefix": "7", "area_name": "phones", "connect_fee": "0",
         "first_interval": 6, "first_rate": "0.0100",
         "next_interval": 6, "next_rate": "0.0100"})
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")

    # not registered: no route (404)
    uac = stack.uac("early", "uac_expect_code.xml", callee="7001", code=404,
                    calls=1, timeout_s=20)
    assert uac.finish(30) == 0

    reg = Client(stack, "127.0.0.41")
    assert _register(reg, stack, "7001", PHONE_PW) == 200
    port = reg.port
    reg.sock.close()  # the phone itself answers on that address
    phone = stack.uas("phone", "uas_answer.xml", ip="127.0.0.41", port=port)
    uac = stack.uac("caller", "uac_hold.xml", callee="7001", calls=1,
                    duration_ms=1000, timeout_s=30)
    assert uac.finish(40) == 0
    phone.quit()
    inv = phone.received_texts("INVITE ")
    assert len(inv) == 1 and inv[0].startswith(
        f"INVITE sip:7001@127.0.0.41:{port} "), inv
    rows = it.wait_for(lambda: (lambda r: r if len(r) == 2 else None)(
        it.cdr_rows(stack)), 20, "two CDRs")
    call = rows[-1]
    assert call["routing_gateway"] == "phone:7001", call
    assert call["answer_ms"] > 0 and call["end_reason"] == "Normal", call
    assert rows[0]["end_code"] == 404, rows[0]


def test_call_to_a_phone_behind_nat(stack):
    """Issue 13, item 4: a phone behind NAT registers the private contact
    it knows (192.0.2.10:5060, where nothing answers) from the public
    address its NAT gives it (127.0.0.42 and a port of its own); the call
    to it goes to that public address and port, which its NAT keeps open,
    and connects.  The registration keeps the contact as written and the
    source with its port (API and table); signalingd logs the NAT."""
    doc = _doc(stack, stack.port())
    doc["rate_tables"][0]["entries"].append(
        {"prefix": "7", "area_name": "phones", "connect_fee": "0",
         "first_interval": 6, "first_rate": "0.0100",
         "next_interval": 6, "next_rate": "0.0100"})
    stack.provision(doc)
    stack.start_daemon("billingd")
    sg = stack.start_daemon("signalingd")

    reg = Client(stack, "127.0.0.42")
    assert _register(reg, stack, "7001", PHONE_PW,
                     contact_at="192.0.2.10:5060") == 200
    port = reg.port
    reg.sock.close()  # the phone's NAT mapping: answered on that address
    it.wait_for(lambda: f"behind NAT, called at sip:7001@127.0.0.42:{port}"
                in sg.log(), 10, "the NAT noticed")
    row = it.wait_for(lambda: stack.query(
        "SELECT contact, source FROM registrations WHERE number = '7001'")
        or None, 10, "the registration row")[0]
    assert row == {"contact": "sip:7001@192.0.2.10:5060",
                   "source": f"127.0.0.42:{port}"}, row

    phone = stack.uas("phone", "uas_answer.xml", ip="127.0.0.42", port=port)
    uac = stack.uac("caller", "uac_hold.xml", callee="7001", calls=1,
                    duration_ms=1000, timeout_s=30)
    assert uac.finish(40) == 0
    phone.quit()
    inv = phone.received_texts("INVITE ")
    assert len(inv) == 1 and inv[0].startswith(
        f"INVITE sip:7001@127.0.0.42:{port} "), inv
    call = it.wait_for(lambda: it.cdr_rows(stack) or None, 20, "the CDR")[-1]
    assert call["routing_gateway"] == "phone:7001", call
    assert call["answer_ms"] > 0 and call["end_reason"] == "Normal", call
