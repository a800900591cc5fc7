"""Issue 12, items 1 and 2: the daemons under systemd.

Without a systemd on this machine, the test plays its part: each daemon is
started with NOTIFY_SOCKET pointing at a datagram socket of the test,
WATCHDOG_USEC and JOURNAL_STREAM set, as a Type=notify unit with
WatchdogSec= would start it.  Asserted: READY=1 only once the daemon
answers on its bus, WATCHDOG=1 pings, RELOADING=1 then READY=1 on SIGHUP,
STOPPING=1 on SIGTERM and exit 0; every log line carries a journald
priority and no timestamp of its own.

`make install DESTDIR=...` lays out the FHS tree (binaries in /usr/sbin,
schema in /usr/share/tandem, units, sysusers and tmpfiles, config files
that are never overwritten); every installed config passes its daemon's
-t; `systemd-analyze verify` passes on every unit (their Exec paths
pointed into DESTDIR, the only change) and `systemd-analyze security
--offline` rates each "OK" or better.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import tandem_it as it

DAEMONS = ("billingd", "signalingd", "mediaproxyd")


class Notify:
    """The datagram socket systemd would listen on for one daemon."""

    def __init__(self, tmp, name):
        self.path = str(Path(tmp) / f"{name}.notify")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        self.msgs = []

    def wait(self, line, timeout):
        """Until a datagram with `line` arrives; returns its lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.s.recv(4096).decode()
            except socket.timeout:
                break
            lines = data.split("\n")
            self.msgs.append(lines)
            if line in lines:
                return lines
        raise it.ItError(f"no {line} within {timeout} s; got {self.msgs}")

    def close(self):
        self.s.close()


def _start(stack, name, notify):
    conf = stack.write_conf(name)
    env = dict(it.SAN_ENV)
    env.update({"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000",
                "JOURNAL_STREAM": "8:4242"})
    proc = it.Proc(name, [it.binary(name), "-F", "-f", conf],
                   stack.dir / f"{name}.log", env=env, cwd=stack.dir)
    proc.start()
    stack.daemons[name] = proc
    stack.procs.append(proc)
    return proc


def test_notify_watchdog_reload_stop_and_journal_lines(stack):
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    tmp = tempfile.mkdtemp(prefix="sdn")
    try:
        for name in DAEMONS:
            n = Notify(tmp, name)
            try:
                proc = _start(stack, name, n)
                status = n.wait("READY=1", 30)
                # ready means serving: the bus answers at once
                assert it.ping(stack.rep_url(name), timeout_ms=1000) \
                    is not None, f"{name} READY before its bus answers"
                print(f"{name}: {status}")
                # WatchdogSec=2: pinged at least every second (billingd's
                # sweep every 5 s, its unit has WatchdogSec=30)
                n.wait("WATCHDOG=1", 7)
                proc.send_signal(signal.SIGHUP)
                n.wait("RELOADING=1", 10)
                n.wait("READY=1", 10)
                proc.send_signal(signal.SIGTERM)
                n.wait("STOPPING=1", 10)
                assert proc.wait(15) == 0
            finally:
                n.close()
            lines = [ln for ln in proc.log().splitlines()
                     if ln and not ln.startswith("+ ")]
            assert lines, name
            prio = re.compile(r"^<[3467]>(err|warn|info|debug) +%s/" % name)
            bad = [ln for ln in lines if not prio.match(ln)]
            assert not bad, f"{name}: lines without a journald priority: " \
                f"{bad[:5]}"
            assert any(ln.startswith("<6>info") for ln in lines)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _make_install(destdir):
    build = str(it.BUILD)
    args = ["make", "-s", "-C", str(it.REPO), f"BUILD={build}",
            f"DESTDIR={destdir}", "install"]
    if "san" in Path(build).name:
        args.append("SAN=1")
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_make_install_units_verify_and_security(tmp_path):
    dest = tmp_path / "root"
    _make_install(dest)
    for b in ("signalingd", "mediaproxyd", "billingd", "tandemctl"):
        assert os.access(dest / "usr/sbin" / b, os.X_OK), b
    schema = sorted(p.name for p in (it.REPO / "schema").glob("*.sql"))
    assert sorted(p.name for p in
                  (dest / "usr/share/tandem/schema").glob("*.sql")) == schema
    assert (dest / "usr/lib/sysusers.d/tandem.conf").is_file()
    assert (dest / "usr/lib/tmpfiles.d/tandem.conf").is_file()
    assert oct((dest / "var/spool/tandem").stat().st_mode & 0o777) == "0o750"
    for d in DAEMONS:
        conf = dest / "etc/tandem" / f"{d}.conf"
        assert oct(conf.stat().st_mode & 0o777) == "0o640"
        # the shipped config passes the daemon's own check
        r = subprocess.run([str(dest / "usr/sbin" / d), "-t", "-f",
                            str(conf)], capture_output=True, text=True,
                           env=dict(os.environ, **it.SAN_ENV), timeout=30)
        assert r.returncode == 0, f"{d} -t: {r.stdout}{r.stderr}"
    # an operator's config is never overwritten by the next install
    mine = dest / "etc/tandem/signalingd.conf"
    mine.write_text("node_id edited-by-operator\n")
    _make_install(dest)
    assert mine.read_text() == "node_id edited-by-operator\n"

    scores = {}
    for d in DAEMONS:
        unit = (dest / "lib/systemd/system" / f"{d}.service").read_text()
        assert "Type=notify" in unit and "ExecReload=" in unit
        # the one change: the Exec paths point into DESTDIR
        check = tmp_path / f"{d}.service"
        check.write_text(unit.replace("/usr/sbin/", f"{dest}/usr/sbin/"))
        r = subprocess.run(["systemd-analyze", "verify", str(check)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and d not in r.stderr, r.stderr
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                            str(check)], capture_output=True, text=True,
                           timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)",
                      r.stdout)
        assert m, r.stdout + r.stderr
        scores[d] = (float(m.group(1)), m.group(2))
    print("systemd-analyze security:", scores)
    for d, (score, rating) in scores.items():
        assert rating in ("SAFE", "OK"), f"{d}: {score} {rating}"
