"""Hosts for the multi-host test: systemd-nspawn containers on this machine.

Each host is a container booted with its own systemd (PID 1), its own
network namespace with an address on a bridge, its own hostname and a
writable overlay over this machine's root file system (--volatile=overlay):
it starts with this machine's Debian and its installed libraries, and
whatever is installed or written in it (packages, /etc/tandem, databases)
stays in the container and is gone when it stops.  Ansible reaches each
one over ssh as root with a key made for the run, as it would reach real
hosts.  Only loopback-free addresses of a private bridge are used.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

BRIDGE = "tmhbr0"
NET = "10.77.0"
HOST_IP = f"{NET}.1"
BASE = Path("/var/lib/machines/tandem-base")
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o",
            "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=5", "-o", "BatchMode=yes"]
# units of this machine a host must not start (tests start their own)
MASK = ["prometheus.service", "kamailio.service", "rtpengine-daemon.service",
        "ngcp-rtpengine-daemon.service", "systemd-remount-fs.service"]
PG_UNITS = ["postgresql.service", "postgresql@15-main.service"]


def _run(argv, **kw):
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run([str(a) for a in argv], **kw)


def available():
    """Why containers cannot run here, or None."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("systemd-nspawn", "ansible-playbook", "nsenter"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"],
                          capture_output=True).returncode:
            return f"{tool} missing"
    if not Path("/usr/sbin/sshd").exists():
        return "openssh-server missing"
    return None


class Host:
    def __init__(self, name, ip, db):
        self.name = name
        self.ip = ip
        self.db = db  # PostgreSQL may run here
        self.proc = None
        self.init_pid = None


class Fleet:
    """Containers named and numbered from NET.11 up."""

    def __init__(self, workdir, names, db_hosts=()):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.hosts = {n: Host(n, f"{NET}.{11 + i}", n in db_hosts)
                      for i, n in enumerate(names)}
        self.key = self.dir / "id_ed25519"

    # ---- lifecycle

    def start(self, timeout=90):
        self._bridge()
        self._base()
        if not self.key.exists():
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                  self.key])
        for h in self.hosts.values():
            self._boot(h)
        deadline = time.monotonic() + timeout
        for h in self.hosts.values():
            self._wait_booted(h, deadline)
            self._setup(h)
        for h in self.hosts.values():
            self._wait_ssh(h, deadline)

    def stop(self):
        for h in self.hosts.values():
            if h.proc and h.proc.poll() is None:
                h.proc.send_signal(signal.SIGTERM)  # PID 1 powers off
        for h in self.hosts.values():
            if not h.proc:
                continue
            try:
                h.proc.wait(30)
            except subprocess.TimeoutExpired:
                h.proc.kill()
                h.proc.wait(10)
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)

    # ---- pieces

    def _bridge(self):
        clash = [ln for ln in _run(["ip", "-br", "addr"]).stdout.splitlines()
                 if f" {NET}." in ln and not ln.startswith(BRIDGE + " ")]
        if clash:
            raise RuntimeError(f"{NET}.0/24 is already used here: {clash}")
        if subprocess.run(["ip", "link", "show", BRIDGE],
                          capture_output=True).returncode:
            _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
            _run(["ip", "addr", "add", f"{HOST_IP}/24", "dev", BRIDGE])
        _run(["ip", "link", "set", BRIDGE, "up"])

    @staticmethod
    def _base():
        # nspawn refuses / itself as the directory; a bind mount of it is
        # the same tree under another name
        BASE.mkdir(parents=True, exist_ok=True)
        if subprocess.run(["mountpoint", "-q", str(BASE)]).returncode:
            _run(["mount", "--bind", "/", BASE])

    def _boot(self, h):
        # a container killed earlier can leave its host-side link behind
        subprocess.run(["ip", "link", "del", f"vb-{h.name}"],
                       capture_output=True)
        mask = MASK + ([] if h.db else PG_UNITS)
        argv = ["systemd-nspawn", "-q", "-D", BASE, "--volatile=overlay",
                "-M", h.name, "--register=no", "--keep-unit",
                f"--network-bridge={BRIDGE}", "-b", "--"]
        argv += [f"systemd.mask={u}" for u in mask]
        log = open(self.dir / f"{h.name}.console", "wb")
        h.proc = subprocess.Popen([str(a) for a in argv],
                                  stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT,
                                  start_new_session=True)
        log.close()

    def _init_pid(self, h):
        """The container's PID 1 as this machine sees it."""
        kids = _run(["pgrep", "-P", h.proc.pid], check=False).stdout.split()
        for k in kids:
            inits = _run(["pgrep", "-P", k], check=False).stdout.split()
            if inits:
                return int(inits[0])
        return None

    def _wait_booted(self, h, deadline):
        while True:
            if h.proc.poll() is not None:
                raise RuntimeError(f"{h.name}: nspawn exited "
                                   f"{h.proc.returncode}: "
                                   + (self.dir / f"{h.name}.console")
                                   .read_text(errors="replace")[-2000:])
            h.init_pid = self._init_pid(h)
            if h.init_pid:
                r = self.nsenter(h, ["systemctl", "is-system-running"],
                                 check=False)
                if r.stdout.strip() in ("running", "degraded"):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{h.name} did not boot")
            time.sleep(0.5)

    def nsenter(self, h, argv, ns="-a", **kw):
        return _run(["nsenter", "-t", h.init_pid, ns, "--", *argv], **kw)

    def _setup(self, h):
        self.nsenter(h, ["sh", "-c",
                         f"ip addr add {h.ip}/24 dev host0 && "
                         f"ip link set host0 up && "
                         f"ip route add default via {HOST_IP}"], ns="-n")
        pub = (self.key.parent / (self.key.name + ".pub")).read_text()
        self.nsenter(h, ["sh", "-c",
                         "mkdir -p /root/.ssh && chmod 700 /root/.ssh && "
                         "cat > /root/.ssh/authorized_keys && "
                         "chmod 600 /root/.ssh/authorized_keys && "
                         f"echo {h.name} > /etc/hostname && "
                         f"hostname {h.name}"], input=pub)

    def _wait_ssh(self, h, deadline):
        while True:
            if self.ssh(h, "true", check=False).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"ssh to {h.name} ({h.ip})")
            time.sleep(0.5)

    # ---- use

    def ssh(self, h, command, check=True, timeout=120, input=None):
        if isinstance(h, str):
            h = self.hosts[h]
        return _run(["ssh", "-i", self.key, *SSH_OPTS, f"root@{h.ip}",
                     command], check=check, timeout=timeout, input=input)

    def inventory(self, path, groups, host_vars=None, all_vars=None):
        """An Ansible INI inventory of these hosts: groups {name: [hosts]}."""
        lines = ["[all:vars]",
                 "ansible_user=root",
                 f"ansible_ssh_private_key_file={self.key}",
                 "ansible_ssh_common_args='" + " ".join(SSH_OPTS) + "'",
                 "ansible_python_interpreter=/usr/bin/python3"]
        lines += [f"{k}={v}" for k, v in (all_vars or {}).items()]
        for g, names in groups.items():
            lines += ["", f"[{g}]"]
            for n in names:
                hv = " ".join(f"{k}={v}" for k, v in
                              ((host_vars or {}).get(n, {})).items())
                lines.append(f"{n} ansible_host={self.hosts[n].ip} {hv}"
                             .rstrip())
        Path(path).write_text("\n".join(lines) + "\n")
        return path
