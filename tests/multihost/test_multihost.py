"""Tandem across hosts (issue 12, done-when 1 and 3): seven systemd-nspawn
containers on this machine, each with its own systemd, address and file
system (fleet.py), deployed by the Ansible playbook (deploy/ansible) from
the Debian packages built in the same run: two signaling hosts, billing
with the PostgreSQL primary, a streaming replica, three media nodes, every
bus link mutual TLS with certificates the playbook issued.  A second run of
the playbook changes nothing.

Then, under sipp load toward both signaling hosts (calls of a few seconds
with RTP, well under 20 calls/s), every daemon is restarted once, one at a
time, and one media node is killed with SIGKILL.  Asserted: every call sipp
made has exactly one CDR; no call on a node that was not killed ends other
than normally; the killed node's calls end MediaNodeLost, billed no longer
than they had media; new calls avoid the dead node within 3 s; every
daemon is back in `tandemctl status`; the replica holds the same CDRs.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import tandem_it as it  # noqa: E402

import fleet as fl  # noqa: E402

SIGNALING = ["sg1", "sg2"]
MEDIA = ["mp1", "mp2", "mp3"]
HOSTS = SIGNALING + ["bd1", "db2"] + MEDIA
DB_PASSWORD = "mh-db-secret"
PLAYBOOK = it.REPO / "deploy/ansible/site.yml"

why = fl.available()
pytestmark = pytest.mark.skipif(why is not None, reason=why or "")


class Peers:
    """What it.Sipp needs of a stack: a directory, ports, a process list."""

    def __init__(self, d):
        self.dir = Path(d)
        self.procs = []
        self.held = []

    def port(self):
        return self.port_block(1)

    def port_block(self, n, align=1):
        base = it.PORTS.block(n, align)
        self.held.extend(range(base, base + n))
        return base

    def stop(self):
        for p in self.procs:
            p.kill()
        it.PORTS.release(self.held)


def _recap(out):
    """{host: {ok, changed, unreachable, failed}} of a PLAY RECAP."""
    hosts = {}
    for m in re.finditer(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+"
                         r"unreachable=(\d+)\s+failed=(\d+)", out, re.M):
        hosts[m.group(1)] = {"ok": int(m.group(2)),
                             "changed": int(m.group(3)),
                             "unreachable": int(m.group(4)),
                             "failed": int(m.group(5))}
    return hosts


def _playbook(inv, log):
    r = subprocess.run(["ansible-playbook", "-i", str(inv), str(PLAYBOOK)],
                       capture_output=True, text=True, timeout=1200,
                       env={**os.environ, "ANSIBLE_FORCE_COLOR": "0",
                            "ANSIBLE_NOCOLOR": "1",
                            # a task that hangs fails the run, in minutes
                            "ANSIBLE_TASK_TIMEOUT": "300",
                            "ANSIBLE_HOST_KEY_CHECKING": "False"})
    Path(log).write_text(r.stdout + r.stderr)
    assert r.returncode == 0, (r.stdout + r.stderr)[-8000:]
    return _recap(r.stdout)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    work = tmp_path_factory.mktemp("multihost")
    debs = it.build_debs(work / "debs")
    f = fl.Fleet(work / "fleet", HOSTS, db_hosts=("bd1", "db2"))
    inv = work / "inventory.ini"
    try:
        f.start()
        f.inventory(inv, {"signaling": SIGNALING, "billing": ["bd1"],
                          "db_primary": ["bd1"], "db_replica": ["db2"],
                          "media": MEDIA},
                    all_vars={"tandem_deb_dir": next(iter(debs.values()))
                              .parent,
                              "tandem_pki_dir": work / "pki",
                              "tandem_ctl_bin": it.binary("tandemctl"),
                              "tandem_db_password": DB_PASSWORD,
                              "tandem_replication_password": "mh-repl",
                              # the hosts have no way out: every package
                              # the .debs need is on the image already
                              "tandem_apt_update_cache": "false"})
        first = _playbook(inv, work / "ansible-1.log")
        assert set(first) == set(HOSTS), first
        assert all(v["failed"] == 0 and v["unreachable"] == 0
                   for v in first.values()), first
        second = _playbook(inv, work / "ansible-2.log")
        assert all(v["changed"] == 0 for v in second.values()), second
        yield f, work
    finally:
        f.stop()


def _conninfo():
    return (f"host={fl.NET}.13 port=5432 user=tandem dbname=tandem "
            f"password={DB_PASSWORD}")


def _sql(f, host, sql):
    """Rows of sql on host's own PostgreSQL (local socket, as postgres)."""
    r = f.ssh(host, "runuser -u postgres -- psql -d tandem -AtF '|' -f -",
              input=sql)
    return [ln.split("|") for ln in r.stdout.splitlines() if ln]


def _ctl(f, *args, check=True):
    return f.ssh("bd1", "TANDEM_DB='" + _conninfo() + "' tandemctl "
                 + " ".join(args), check=check)


def _doc(gw_port):
    doc = it.base_doc(gw_port, 0, gw_b=False)
    doc["mapping_gateways"][0]["ips"] = [fl.HOST_IP]
    doc["routing_gateways"][0]["address"] = fl.HOST_IP
    doc["accounts"][0]["balance"] = "100000"
    return doc


def _why_no_cdr(f, sent):
    """Print what the signaling hosts logged of the calls without a CDR."""
    have = {r[0] for r in _sql(f, "bd1", "SELECT call_id_a, end_reason,"
                               " media_node, setup_ms, answer_ms, end_ms,"
                               " hold_ms FROM cdr")}
    missing = sorted(sent - have)
    print(f"{len(missing)} calls without a CDR:", missing[:10])
    for cid in missing[:5]:
        for h in SIGNALING:
            out = f.ssh(h, f"journalctl -u signalingd --no-pager -o "
                        f"short-precise | grep -F -- '{cid}' | tail -40",
                        check=False).stdout
            print(f"--- {h}, {cid}:\n{out}")


def test_deployed_by_ansible_survives_restarts(deployed):
    f, work = deployed
    for h in SIGNALING:
        assert f.ssh(h, "systemctl is-active signalingd").stdout.strip() \
            == "active"
        conf = f.ssh(h, "cat /etc/tandem/signalingd.conf").stdout
        assert re.search(r"^bus_control tls\+tcp://", conf, re.M), conf
    for h in MEDIA:
        assert f.ssh(h, "systemctl is-active mediaproxyd").stdout.strip() \
            == "active"
    assert f.ssh("bd1", "systemctl is-active billingd").stdout.strip() \
        == "active"

    peers = Peers(work)
    try:
        gw = it.Sipp(peers, "gw", "uas_answer.xml", ip=fl.HOST_IP,
                     rtp_echo=True)
        gw.start()
        prov = json.dumps(_doc(gw.port))
        f.ssh("bd1", "cat > /tmp/prov.json", input=prov)
        _ctl(f, "provision", "/tmp/prov.json")
        # an operator's API token for tandemctl status on the billing host
        f.ssh("bd1", "TANDEM_DB='" + _conninfo() + "' tandemctl user add "
              "noc operator", input="noc-password-1234\n")
        tok = _ctl(f, "user", "token", "noc", "status").stdout.split()[-1]
        f.ssh("bd1", "umask 077; cat > /etc/tandem/api-token", input=tok)
        it.wait_for(lambda: _ctl(f, "--api", f"http://{fl.NET}.13:8080",
                                 "status", check=False).returncode == 0,
                    30, "every daemon and media node in tandemctl status")

        uacs = [it.Sipp(peers, f"uac_{h}", "uac_pcap.xml", ip=fl.HOST_IP,
                        remote=f"{f.hosts[h].ip}:5060",
                        service="15551230001",
                        keys={"caller": "5550100",
                              "pcap": str(it.G711A_PCAP)},
                        calls=2000, rate=4, limit=40, duration_ms=3000,
                        timeout_s=600)
                for h in SIGNALING]
        for u in uacs:
            u.start()
        time.sleep(5)
        restarts = [("mp2", "mediaproxyd"), ("sg1", "signalingd"),
                    ("bd1", "billingd"), ("sg2", "signalingd"),
                    ("mp3", "mediaproxyd")]
        for host, unit in restarts:
            f.ssh(host, f"systemctl restart {unit}", timeout=300)
            assert f.ssh(host, f"systemctl is-active {unit}").stdout \
                .strip() == "active"
            time.sleep(2)
        # SIGKILL, and no restart by systemd until the checks are done
        f.ssh("mp1", "kill -9 $(systemctl show -p MainPID --value "
              "mediaproxyd) && systemctl stop mediaproxyd")
        killed_ms = int(time.time() * 1000)  # dead by then
        time.sleep(10)
        for u in uacs:  # no new call; the ones up end normally
            u.stop(signal.SIGUSR1, timeout=60)
        sent = set()
        for u in uacs:
            sent.update(u.sent_call_ids())

        def all_cdrs():
            rows = _sql(f, "bd1", "SELECT call_id_a, end_reason, media_node,"
                        " setup_ms, answer_ms, end_ms, hold_ms FROM cdr")
            return rows if {r[0] for r in rows} >= sent else None

        try:
            rows = [r for r in it.wait_for(all_cdrs, 90,
                                           "a CDR for every call sipp made")
                    if r[0] in sent]
        except TimeoutError:
            _why_no_cdr(f, sent)
            raise
        ids = [r[0] for r in rows]
        assert len(ids) == len(set(ids)), "a call with two CDRs"
        assert set(ids) == sent
        for cid, reason, node, setup, answer, end, hold in rows:
            if node == "mp1" and int(answer) and int(end) > killed_ms:
                assert reason == "MediaNodeLost", (cid, reason)
            if reason == "MediaNodeLost":  # billed until its media stopped
                # (answered after the node was last heard: nothing)
                assert node == "mp1" and \
                    int(end) <= max(killed_ms, int(answer)), (cid, end)
            elif node in ("mp2", "mp3") and int(answer):
                assert reason == "Normal", (cid, reason, node)
            if int(setup) > killed_ms + 3000:
                assert node != "mp1", (cid, setup)
        assert any(r[2] == "mp1" for r in rows) and \
            any(r[1] == "MediaNodeLost" for r in rows), "mp1 had no call"

        f.ssh("mp1", "systemctl start mediaproxyd")
        it.wait_for(lambda: _ctl(f, "--api", f"http://{fl.NET}.13:8080",
                                 "status", check=False).returncode == 0,
                    60, "every daemon back in tandemctl status")
        # the replica streams the same CDRs
        n = _sql(f, "bd1", "SELECT count(*) FROM cdr")
        it.wait_for(lambda: _sql(f, "db2", "SELECT count(*) FROM cdr") == n,
                    30, "the replica's CDRs")
    finally:
        peers.stop()
