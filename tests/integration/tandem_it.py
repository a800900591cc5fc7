"""tandem_it - helpers for Tandem's integration tests.

Everything here starts real processes on loopback: a private PostgreSQL
cluster (deploy/pg.sh), the three daemons from $BUILD with generated config
files on free ports, sipp peers.  Every process started is recorded and
stopped by the fixtures in conftest.py; every wait has a timeout.
"""

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
import types
from fractions import Fraction
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BUILD", REPO / "build" / "san"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
SIPP_DIR = Path(__file__).resolve().parent / "sipp"
# the web manager's built files (`make web`); billingd serves them
WEB_ROOT = REPO / "billingd" / "web" / "public"
PG_SH = REPO / "deploy" / "pg.sh"
G711A_PCAP = Path("/usr/share/sip-tester/g711a.pcap")

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:disable_coredump=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}
SANITIZER_RE = re.compile(
    r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
    r"SUMMARY: (Address|Undefined)Sanitizer)")

DAEMONS = ("billingd", "mediaproxyd", "signalingd")

# TANDEM_IT_BUS_TLS=1: every stack's bus runs over tls+tcp:// with
# certificates from `tandemctl pki` (a dedicated run of the whole suite).
BUS_TLS = os.environ.get("TANDEM_IT_BUS_TLS") == "1"

# url -> busprobe TLS arguments, filled by stacks that use tls+tcp://
TLS_PROBE = {}


class ItError(Exception):
    """A test environment step failed (not an assertion on the product)."""


def binary(name):
    """Path of a built binary; fails clearly when it is not built."""
    p = BUILD / name
    if not p.exists():
        raise ItError(f"{p} is not built (make SAN=1 all)")
    return p


def wait_for(pred, timeout, what, interval=0.1):
    """Poll pred() until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout}s waiting for {what}"
            if last_exc:
                msg += f" (last error: {last_exc!r})"
            raise TimeoutError(msg)
        time.sleep(interval)


# ---------------------------------------------------------------- ports

class Ports:
    """Hands out loopback ports free for both TCP and UDP right now.

    Ports come from outside the kernel's ephemeral range
    (net.ipv4.ip_local_port_range), which every outgoing connection (libpq,
    nng dials, sipp) takes its local port from: a port checked free inside
    it could be taken by such a connection before the daemon binds it
    ("Address in use" at start-up).  Single ports and small blocks (SIP,
    bus, HTTP, sipp media) come from 10000 up to 3000 below that range; the
    RTP ranges of media nodes from the 3000 below it and from above it, so
    that neither fragments the other.  A port is never handed out twice
    while held; a test's stack releases what it took when it ends.
    """

    @staticmethod
    def _ephemeral():
        try:
            lo, hi = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range")
                         .read_text().split())
        except (OSError, ValueError):
            lo, hi = 32768, 60999
        return max(lo, 16000), hi

    EPH = _ephemeral.__func__()
    SMALL = [(10000, EPH[0] - 3000)]
    LARGE = [r for r in ((EPH[0] - 3000, EPH[0]), (EPH[1] + 1, 65536))
             if r[1] - r[0] > 400]

    def __init__(self):
        self.used = set()

    @staticmethod
    def _free(port, ip="127.0.0.1"):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((ip, port))
            except OSError:
                return False
            finally:
                s.close()
        return True

    def block(self, n=1, align=1):
        """n consecutive free ports; the first one a multiple of align."""
        ranges = self.LARGE if n > 16 else self.SMALL
        for _ in range(5000):
            lo, hi = random.choice(ranges)
            base = random.randrange(lo, hi - n)
            base -= base % align
            ports = range(base, base + n)
            if any(p in self.used for p in ports):
                continue
            if all(self._free(p) for p in ports):
                self.used.update(ports)
                return base
        raise ItError(f"no free block of {n} ports found in {ranges} "
                      f"({len(self.used)} held)")

    def one(self):
        return self.block(1)

    def release(self, ports):
        self.used.difference_update(ports)


PORTS = Ports()


# ---------------------------------------------------------------- money

def money(text):
    """Decimal string -> int micro-units (exact)."""
    f = Fraction(text)
    v = f * 1000000
    if v.denominator != 1:
        raise ValueError(f"{text}: more than 6 decimals")
    return int(v)


def round_half_up(value, precision):
    """Round a Fraction of micro-units half up to `precision` decimals."""
    step = 10 ** (6 - precision)
    q = value / step
    n = q.numerator // q.denominator
    rem = q - n
    if rem >= Fraction(1, 2):
        n += 1
    return n * step


def billable_seconds(hold_ms, hold_precision_ms=50, free_s=0):
    s, rem = divmod(hold_ms, 1000)
    if rem >= hold_precision_ms:
        s += 1
    return max(0, s - free_s)


def expected_fee(hold_ms, entry, fee_precision=4, hold_precision_ms=50,
                 free_s=0):
    """SPEC §6: fee of an answered call, in micro-units.

    entry is a provisioning rate entry (money as decimal strings).
    """
    s = billable_seconds(hold_ms, hold_precision_ms, free_s)
    if s == 0:
        return 0
    connect = money(entry["connect_fee"])
    first_i = int(entry["first_interval"])
    first_r = money(entry["first_rate"])
    next_i = int(entry["next_interval"]) or 1
    next_r = money(entry["next_rate"])
    fee = Fraction(connect) + Fraction(first_r * first_i, 60)
    extra = max(0, s - first_i)
    units = -(-extra // next_i)
    fee += Fraction(units * next_i * next_r, 60)
    return round_half_up(fee, fee_precision)


# ---------------------------------------------------------------- processes

class Proc:
    """A started process whose output goes to a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None,
                 stdout_devnull=False):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.cwd = cwd
        self.stdout_devnull = stdout_devnull
        self.p = None
        self.rc = None

    def start(self):
        log = open(self.log_path, "ab")
        log.write(("+ " + " ".join(self.argv) + "\n").encode(
            errors="surrogateescape"))
        log.flush()
        out = subprocess.DEVNULL if self.stdout_devnull else log
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=log, env=self.env,
                                  cwd=self.cwd, start_new_session=True)
        log.close()
        self.rc = None
        return self

    @property
    def pid(self):
        return self.p.pid if self.p else None

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def wait(self, timeout):
        try:
            self.rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.name} still running after {timeout}s")
        return self.rc

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.p.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop with sig, then SIGKILL after timeout; returns the exit code."""
        if self.p is None:
            return None
        if self.p.poll() is None:
            try:
                os.kill(self.p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill(dump=True,
                          why=f"still running {timeout}s after {sig!r}")
        self.rc = self.p.wait(timeout=10)
        return self.rc

    def dump_stacks(self, why):
        """Append every thread's stack (gdb in batch mode) to the log."""
        with open(self.log_path, "ab") as log:
            log.write(f"===== {self.name} pid {self.p.pid}: {why}; stacks "
                      f"before SIGKILL =====\n".encode())
            log.flush()
            try:
                subprocess.run(["gdb", "-batch", "-nx", "-p",
                                str(self.p.pid), "-ex",
                                "thread apply all bt"],
                               stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as e:
                log.write(f"gdb failed: {e!r}\n".encode())
            log.write(b"===== end of stacks =====\n")

    def kill(self, dump=False, why="killed"):
        """SIGKILL the process (and its process group); with dump, its
        stacks go to the log first so that a hang explains itself."""
        if self.p is None or self.p.poll() is not None:
            return
        if dump:
            self.dump_stacks(why)
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.rc = self.p.wait(timeout=10)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def sanitizer_report(self):
        text = self.log()
        m = SANITIZER_RE.search(text)
        if not m:
            return None
        start = max(0, text.rfind("\n", 0, max(0, m.start() - 2000)))
        return text[start:start + 8000]


# ---------------------------------------------------------------- PostgreSQL

class Pg:
    """A private PostgreSQL cluster started with deploy/pg.sh."""

    def __init__(self, root, port):
        self.dir = Path(root) / "pg"
        self.port = port
        self.started = False

    def start(self):
        r = subprocess.run([str(PG_SH), "start", str(self.dir),
                            str(self.port)], capture_output=True, text=True,
                           timeout=120)
        if r.returncode:
            raise ItError(f"pg.sh start failed ({r.returncode}):\n"
                          f"{r.stdout}{r.stderr}")
        self.started = True

    def stop(self):
        if self.started:
            subprocess.run([str(PG_SH), "stop", str(self.dir)],
                           capture_output=True, timeout=120)
            self.started = False

    def conninfo(self, db="tandem"):
        return f"host=127.0.0.1 port={self.port} user=tandem dbname={db}"

    def connect(self, db="tandem"):
        conn = psycopg2.connect(self.conninfo(db))
        conn.autocommit = True
        return conn

    def create_db(self, name, template=None):
        conn = self.connect("postgres")
        try:
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
                tmpl = f' TEMPLATE "{template}"' if template else ""
                cur.execute(f'CREATE DATABASE "{name}"{tmpl}')
        finally:
            conn.close()


# ---------------------------------------------------------------- tandemctl

# the admin web user of every test database (conftest.py creates it in the
# template) and its API token, which tandemctl sends to billingd's API
ADMIN_USER = "admin"
ADMIN_PASSWORD = "it-Admin-Password-1"
API_TOKEN = ""


def tandemctl(conninfo, *args, timeout=60, check=True, env=None, input=None):
    """Run tandemctl against a database; returns CompletedProcess."""
    e = dict(os.environ)
    e.update(SAN_ENV)
    e["TANDEM_DB"] = conninfo
    if API_TOKEN:
        e["TANDEM_API_TOKEN"] = API_TOKEN
    # libpq's own variables too, for a tool that connects with defaults
    kv = dict(x.split("=", 1) for x in conninfo.split())
    e.update({"PGHOST": kv["host"], "PGPORT": kv["port"],
              "PGUSER": kv["user"], "PGDATABASE": kv["dbname"]})
    e.update(env or {})
    argv = [str(binary("tandemctl")), "-d", conninfo, *map(str, args)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=e, input=input)
    if check and r.returncode != 0:
        raise ItError(f"{' '.join(argv)} exited {r.returncode}:\n"
                      f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r


# ---------------------------------------------------------------- HTTP API

_OPENAPI = {}


def openapi_doc():
    if not _OPENAPI:
        _OPENAPI.update(json.loads(
            (REPO / "docs" / "openapi.json").read_text()))
    return _OPENAPI


def _resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        node = _follow(doc, node["$ref"])
    return node


def _follow(doc, ref):
    node = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def check_openapi(method, path, status, body):
    """The response must be one the OpenAPI document describes: the path
    and method, the status, and the body against the schema."""
    import jsonschema
    doc = openapi_doc()
    path = path.split("?", 1)[0]
    op = None
    item = doc["paths"].get(path)
    if item is None:
        for tmpl, it_ in doc["paths"].items():
            if "{" in tmpl and re.fullmatch(
                    re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(tmpl)),
                    path):
                item = it_
                break
    if item is not None:
        op = item.get(method.lower())
    if op is None:
        # unknown resources and methods answer with the Error schema
        assert status in (404, 405), (method, path, status,
                                      "not in docs/openapi.json")
        schema = _follow(doc, "#/components/schemas/Error")
    else:
        resp = op["responses"].get(str(status))
        assert resp is not None, (method, path, status,
                                  "status not in docs/openapi.json")
        resp = _resolve(doc, resp)
        content = resp.get("content")
        if content is None:
            assert body is None, (method, path, status, body)
            return
        if "application/json" not in content:
            assert isinstance(body, str), (method, path, status)
            return
        schema = content["application/json"]["schema"]
    resolver = jsonschema.RefResolver.from_schema(doc)
    jsonschema.Draft202012Validator(schema, resolver=resolver).validate(
        body)


def api(addr, method, path, body=None, token=None, headers=None,
        raw=None, timeout=10, validate=True):
    """One request to billingd's API at addr ("ip:port").  token: None
    sends the admin's API token, "" none.  Returns (status, headers,
    parsed JSON body or None)."""
    h = {"Accept": "application/json"}
    tok = API_TOKEN if token is None else token
    if tok:
        h["Authorization"] = f"Bearer {tok}"
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if data is not None:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn = http.client.HTTPConnection(addr, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        text = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        cookies = resp.headers.get_all("Set-Cookie") or []
        if cookies:
            hdrs["set-cookie"] = cookies
        ctype = hdrs.get("content-type", "")
        js = json.loads(text) if text and "json" in ctype else (
            text.decode() if text else None)
        if validate:
            check_openapi(method, path, resp.status, js)
        return resp.status, hdrs, js
    finally:
        conn.close()


# ---------------------------------------------------------------- bus probe

def busprobe(url, type_=None, body=None, raw=None, timeout_ms=5000,
             tmpdir=None):
    """Send one message to a REP url with tests/tools/busprobe.

    Returns (exit code, reply text, stderr).  raw: bytes/str sent as is
    (through a file, whatever its size).
    """
    exe = str(binary("tests/busprobe"))
    exe_tls = [exe] + TLS_PROBE.get(url, [])
    if raw is not None:
        data = raw.encode() if isinstance(raw, str) else raw
        r = subprocess.run(exe_tls + ["-t", str(timeout_ms), "-r", url, "@-"],
                           input=data, capture_output=True,
                           timeout=timeout_ms / 1000 + 20)
    else:
        argv = exe_tls + ["-t", str(timeout_ms), url, type_]
        if body is not None:
            argv.append(json.dumps(body))
        r = subprocess.run(argv, capture_output=True,
                           timeout=timeout_ms / 1000 + 20)
    return (r.returncode, r.stdout.decode(errors="replace").strip(),
            r.stderr.decode(errors="replace"))


def ping(url, timeout_ms=2000):
    """health.ping body, or None when no proper reply came."""
    rc, out, _ = busprobe(url, "health.ping", {}, timeout_ms=timeout_ms)
    if rc != 0:
        return None
    try:
        env = json.loads(out)
    except ValueError:
        return None
    if env.get("type") != "health.ping.reply":
        return None
    return env.get("body") or {}


# ---------------------------------------------------------------- sipp

class Sipp(Proc):
    """One sipp instance with its traces in the test's directory."""

    def __init__(self, stack, name, scenario, remote=None, ip="127.0.0.1",
                 port=None, media_port=None, rtp_echo=False, keys=None,
                 subst=None, calls=None, limit=None, rate=None,
                 duration_ms=None, service=None, timeout_s=None,
                 extra=()):
        self.stack = stack
        d = stack.dir
        src = SIPP_DIR / scenario
        text = src.read_text()
        for k, v in (subst or {}).items():
            text = text.replace(k, str(v))
        self.scenario = d / f"{name}.xml"
        self.scenario.write_text(text)
        self.port = port or stack.port()
        self.media_port = media_port or stack.port_block(4, align=2)
        self.ip = ip
        self.msg_file = d / f"{name}.msg"
        self.err_file = d / f"{name}.err"
        self.screen_file = d / f"{name}.screen"
        self.stat_file = d / f"{name}.csv"
        argv = ["sipp"]
        if remote:
            argv.append(remote)
        argv += ["-sf", self.scenario, "-i", ip, "-p", self.port,
                 "-mi", ip, "-mp", self.media_port, "-nostdin",
                 "-trace_msg", "-message_file", self.msg_file,
                 "-trace_err", "-error_file", self.err_file,
                 "-trace_screen", "-screen_file", self.screen_file,
                 "-trace_stat", "-stf", self.stat_file,
                 "-max_socket", "256"]
        if rtp_echo:
            argv.append("-rtp_echo")
        if service:
            argv += ["-s", service]
        for k, v in (keys or {}).items():
            argv += ["-key", k, v]
        if calls is not None:
            argv += ["-m", calls]
        if limit is not None:
            argv += ["-l", limit]
        if rate is not None:
            argv += ["-r", rate]
        if duration_ms is not None:
            argv += ["-d", duration_ms]
        if timeout_s is not None:
            argv += ["-timeout", f"{timeout_s}s", "-timeout_error"]
        argv += list(extra)
        super().__init__(name, argv, d / f"{name}.log", stdout_devnull=True,
                         cwd=d)
        stack.procs.append(self)

    @property
    def addr(self):
        return f"{self.ip}:{self.port}"

    def finish(self, timeout):
        """Wait for a sipp with -m to end; returns its exit code."""
        try:
            return self.wait(timeout)
        except TimeoutError:
            self.stop(signal.SIGUSR1, timeout=5)
            raise

    def quit(self):
        """End a server sipp cleanly (its traces are flushed)."""
        return self.stop(signal.SIGUSR1, timeout=5)

    def messages(self):
        try:
            return self.msg_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def received(self):
        """Start lines of the SIP messages this sipp received."""
        out = []
        blocks = re.split(r"^-{10,}.*$", self.messages(), flags=re.M)
        for b in blocks:
            b = b.strip("\n")
            m = re.match(r"\s*(?:UDP|TCP) message received \[\d+\] bytes :"
                         r"\s*\n\s*\n?(.*)", b)
            if m:
                out.append(m.group(1).strip())
        return out

    def received_texts(self, start):
        """Whole text of every SIP message this sipp received whose first
        line starts with start ("INVITE ", "ACK ", "SIP/2.0 200")."""
        out = []
        for b in re.split(r"^-{10,}.*$", self.messages(), flags=re.M):
            m = re.match(r"\s*(?:UDP|TCP) message received \[\d+\] "
                         r"bytes :\s*\n(.*)", b, re.S)
            if m and m.group(1).lstrip().startswith(start):
                out.append(m.group(1).lstrip())
        return out

    def received_requests(self, method):
        return [l for l in self.received() if l.startswith(method + " ")]

    def received_codes(self):
        codes = []
        for l in self.received():
            m = re.match(r"SIP/2\.0 (\d{3})", l)
            if m:
                codes.append(int(m.group(1)))
        return codes

    def call_ids_answered(self, code):
        """Call-IDs of the calls this sipp received a final `code` for."""
        ids = set()
        for b in re.split(r"^-{10,}.*$", self.messages(), flags=re.M):
            if "message received" in b and \
                    re.search(rf"^\s*SIP/2\.0 {code} ", b, re.M) and \
                    re.search(r"^CSeq:\s*\d+ INVITE", b, re.M | re.I):
                m = re.search(r"^Call-ID:\s*(\S+)", b, re.M | re.I)
                if m:
                    ids.add(m.group(1))
        return ids

    def sent_call_ids(self):
        ids = []
        for b in re.split(r"^-{10,}.*$", self.messages(), flags=re.M):
            if re.search(r"message sent", b) and re.search(r"^INVITE ",
                                                            b, re.M):
                m = re.search(r"^Call-ID:\s*(\S+)", b, re.M | re.I)
                if m and m.group(1) not in ids:
                    ids.append(m.group(1))
        return ids

    def report(self):
        parts = [f"--- sipp {self.name}: {' '.join(self.argv)}"]
        for f in (self.log_path, self.err_file, self.screen_file):
            try:
                t = f.read_text(errors="replace")
            except FileNotFoundError:
                continue
            parts.append(f"--- {f.name}\n{t[-6000:]}")
        msgs = self.messages()
        if msgs:
            parts.append(f"--- {self.msg_file.name} (tail)\n{msgs[-6000:]}")
        return "\n".join(parts)


# ---------------------------------------------------------------- the stack

class Stack:
    """One test's Tandem: a database, three daemons, sipp peers."""

    def __init__(self, dirpath, pg, dbname, template, tls=None):
        self.dir = Path(dirpath)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.pg = pg
        self.db = dbname
        if pg is not None:
            pg.create_db(dbname, template)
            self.conninfo = pg.conninfo(dbname)
        else:  # config-only tests: no database behind it
            self.conninfo = "host=127.0.0.1 port=1 user=tandem dbname=tandem"
        self.procs = []
        self.daemons = {}
        self.spool = self.dir / "spool"
        self.spool.mkdir(exist_ok=True)
        self.provisioned = None
        self.held = []
        p = self
        self.tls = BUS_TLS if tls is None else tls
        bus = "tls+tcp" if self.tls else "tcp"
        self.sip_port = p.one()
        self.sg_events = f"{bus}://127.0.0.1:{p.one()}"
        self.sg_control = f"{bus}://127.0.0.1:{p.one()}"
        self.bd_bus = f"{bus}://127.0.0.1:{p.one()}"
        self.bd_http = f"127.0.0.1:{p.one()}"
        self.mp_bus = f"{bus}://127.0.0.1:{p.one()}"
        if self.tls:
            self.make_pki()
        self.rtp_min = p.port_block(200, align=2)
        self.rtp_max = self.rtp_min + 199
        self.conf_extra = {d: {} for d in DAEMONS}

    # ---- bus certificates (tandemctl pki)

    PKI_HOSTS = {"signalingd": ("signaling", "sg-it"),
                 "mediaproxyd": ("media", "mp-it"),
                 "billingd": ("billing", "bd-it")}

    def make_pki(self):
        """A CA and one certificate directory per daemon; busprobe uses the
        certificate of the role each listener admits."""
        self.pki = self.dir / "pki"
        # parametrized tests can share a (truncated) directory name
        shutil.rmtree(self.pki, ignore_errors=True)
        run = lambda *a: subprocess.run(  # noqa: E731
            [str(binary("tandemctl")), "pki", *a], check=True,
            capture_output=True, env={**os.environ, **SAN_ENV})
        run("init", str(self.pki))
        for role, name in self.PKI_HOSTS.values():
            run("issue", str(self.pki), role, name)
        ca = self.pki / "ca"
        host = self.pki / "hosts"
        TLS_PROBE[self.sg_control] = ["-a", str(ca / "signaling.crt"), "-c",
                                      str(host / "bd-it" / "cert.pem")]
        TLS_PROBE[self.bd_bus] = ["-a", str(ca / "billing.crt"), "-c",
                                  str(host / "sg-it" / "cert.pem")]
        TLS_PROBE[self.mp_bus] = ["-a", str(ca / "media.crt"), "-c",
                                  str(host / "sg-it" / "cert.pem")]
        TLS_PROBE[self.sg_events] = ["-a", str(ca / "signaling.crt"), "-c",
                                     str(host / "mp-it" / "cert.pem")]

    def pki_dir(self, daemon):
        return self.pki / "hosts" / self.PKI_HOSTS[daemon][1]

    # ---- ports (released when the stack stops)

    def port_block(self, n, align=1):
        base = PORTS.block(n, align)
        self.held.extend(range(base, base + n))
        return base

    def port(self):
        return self.port_block(1)

    one = port

    def release_ports(self):
        PORTS.release(self.held)
        self.held = []

    # ---- configuration

    def conf_items(self, daemon):
        if daemon == "signalingd":
            c = {"node_id": "sg-it", "sip_listen": f"127.0.0.1:{self.sip_port}",
                 "bus_events": self.sg_events,
                 "bus_control": self.sg_control,
                 "billing_url": self.bd_bus,
                 "media_nodes": "",
                 "db": self.conninfo, "spool_dir": str(self.spool),
                 "log_level": "debug"}
        elif daemon == "mediaproxyd":
            c = {"node_id": "mp-it", "bus_listen": self.mp_bus,
                 "signaling_url": self.sg_events, "rtp_ip": "127.0.0.1",
                 "port_min": self.rtp_min, "port_max": self.rtp_max,
                 "heartbeat_ms": 500, "log_level": "debug"}
        elif daemon == "billingd":
            c = {"node_id": "bd-it", "bus_listen": self.bd_bus,
                 "signaling_url": self.sg_control, "db": self.conninfo,
                 "http_listen": self.bd_http, "log_level": "debug"}
            if (WEB_ROOT / "app.js").exists():
                c["web_root"] = str(WEB_ROOT)
        else:
            raise ValueError(daemon)
        if self.tls:
            c["bus_pki"] = str(self.pki_dir(daemon))
        c.update(self.conf_extra[daemon])
        return c

    def write_conf(self, daemon, extra_lines=(), name=None):
        path = self.dir / (name or f"{daemon}.conf")
        lines = [f"# generated by tests/integration for {daemon}"]
        lines += [f"{k} {v}" for k, v in self.conf_items(daemon).items()]
        lines += list(extra_lines)
        path.write_text("\n".join(lines) + "\n")
        return path

    def rep_url(self, daemon):
        return {"signalingd": self.sg_control, "billingd": self.bd_bus,
                "mediaproxyd": self.mp_bus}[daemon]

    # ---- provisioning and queries

    def provision(self, doc, check=True):
        path = self.dir / f"provision-{len(list(self.dir.glob('provision-*')))}.json"
        path.write_text(json.dumps(doc, indent=1))
        r = tandemctl(self.conninfo, "provision", path, check=check)
        if check:
            self.provisioned = doc
        return r

    def ctl(self, *args, **kw):
        return tandemctl(self.conninfo, *args, **kw)

    def query(self, sql, args=None):
        conn = self.pg.connect(self.db)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                if cur.description is None:
                    return []
                cols = [c.name for c in cur.description]
                return [dict(zip(cols, row)) for row in cur.fetchall()]
        finally:
            conn.close()

    def scalar(self, sql, args=None):
        rows = self.query(sql, args)
        if not rows:
            return None
        return next(iter(rows[0].values()))

    def balance(self, account):
        return self.scalar("SELECT balance FROM accounts WHERE name = %s",
                           (account,))

    # ---- daemons

    def daemon(self, name):
        return self.daemons[name]

    def start_daemon(self, name, wait=True, timeout=30):
        conf = self.write_conf(name)
        old = self.daemons.get(name)
        if old and old.alive():
            raise ItError(f"{name} already running")
        proc = Proc(name, [binary(name), "-F", "-f", conf],
                    self.dir / f"{name}.log", env=SAN_ENV, cwd=self.dir)
        proc.start()
        self.daemons[name] = proc
        if proc not in self.procs:
            self.procs.append(proc)
        if wait:
            self.wait_ready(name, timeout)
        return proc

    def wait_ready(self, name, timeout=30):
        proc = self.daemons[name]
        url = self.rep_url(name)

        def ready():
            if not proc.alive():
                raise ItError(f"{name} exited with {proc.p.returncode} "
                              f"during start:\n{proc.log()[-4000:]}")
            return ping(url, timeout_ms=500)

        try:
            return wait_for(ready, timeout, f"{name} health.ping on {url}",
                            interval=0.2)
        except ItError:
            raise

    def wait_media_online(self, timeout=15):
        """Until signalingd lists an online media node."""
        def online():
            body = ping(self.sg_control, timeout_ms=500) or {}
            return any(n.get("online") for n in body.get("media_nodes", []))
        return wait_for(online, timeout, "signalingd to see mediaproxyd "
                        "online (node.heartbeat)", interval=0.2)

    def add_signalingd(self, name="sg2"):
        """Another signalingd (node id name) on ports and a spool of its
        own, sharing the database, billingd and the media nodes; started
        and answering health.ping.  Returns its ports and URLs."""
        bus = "tls+tcp" if self.tls else "tcp"
        sg = types.SimpleNamespace(
            name=name, sip_port=self.one(),
            events=f"{bus}://127.0.0.1:{self.one()}",
            control=f"{bus}://127.0.0.1:{self.one()}",
            spool=self.dir / f"spool-{name}")
        sg.spool.mkdir(exist_ok=True)
        items = self.conf_items("signalingd")
        items.update({"node_id": name,
                      "sip_listen": f"127.0.0.1:{sg.sip_port}",
                      "bus_events": sg.events, "bus_control": sg.control,
                      "spool_dir": str(sg.spool)})
        conf = self.dir / f"{name}.conf"
        conf.write_text("".join(f"{k} {v}\n" for k, v in items.items()))
        if self.tls:
            TLS_PROBE[sg.control] = TLS_PROBE[self.sg_control]
        sg.proc = Proc(name, [binary("signalingd"), "-F", "-f", conf],
                       self.dir / f"{name}.log", env=SAN_ENV, cwd=self.dir)
        sg.proc.start()
        self.daemons[name] = sg.proc
        self.procs.append(sg.proc)
        wait_for(lambda: sg.proc.alive() and ping(sg.control, timeout_ms=500),
                 30, f"{name} health.ping on {sg.control}", interval=0.2)
        return sg

    def start_all(self):
        self.start_daemon("billingd")
        self.start_daemon("signalingd")
        self.start_daemon("mediaproxyd")
        self.wait_media_online()

    def stop_daemon(self, name, timeout=15):
        proc = self.daemons[name]
        return proc.stop(signal.SIGTERM, timeout=timeout)

    # ---- sipp

    def uas(self, name, scenario="uas_answer.xml", code=None, reason="",
            rtp_echo=None, **kw):
        subst = dict(kw.pop("subst", {}))
        if code is not None:
            subst.update({"@CODE@": code, "@REASON@": reason or "Failure"})
        if rtp_echo is None:
            rtp_echo = scenario == "uas_answer.xml"
        s = Sipp(self, name, scenario, subst=subst, rtp_echo=rtp_echo, **kw)
        s.start()
        wait_for(lambda: s.alive() and not Ports._free(s.port, s.ip), 10,
                 f"sipp {name} to bind {s.ip}:{s.port}")
        return s

    def uac(self, name, scenario, callee="15551230001", caller="5550100",
            code=None, **kw):
        subst = {"@CODE@": code} if code is not None else {}
        keys = {"caller": caller}
        keys.update(kw.pop("keys", {}))
        if "pcap" in scenario:
            keys.setdefault("pcap", str(G711A_PCAP))
        s = Sipp(self, name, scenario, remote=f"127.0.0.1:{self.sip_port}",
                 service=callee, keys=keys, subst=subst, **kw)
        return s.start()

    # ---- teardown and diagnostics

    def sanitizer_reports(self):
        out = []
        for name, p in self.daemons.items():
            rep = p.sanitizer_report()
            if rep:
                out.append(f"{name}:\n{rep}")
        return out

    def stop_all(self):
        """Stop everything; returns {daemon: exit code}."""
        rcs = {}
        for p in reversed(self.procs):
            if isinstance(p, Sipp):
                p.stop(signal.SIGUSR1, timeout=5)
        extra = [n for n in self.daemons if n not in DAEMONS]
        for name in (*extra, "signalingd", "mediaproxyd", "billingd"):
            p = self.daemons.get(name)
            if p is not None and p.p is not None:
                was_alive = p.alive()
                rc = p.stop(signal.SIGTERM, timeout=15)
                if was_alive:
                    rcs[name] = rc
        for p in self.procs:
            p.kill()
        return rcs

    def report(self):
        parts = []
        for name, p in self.daemons.items():
            text = p.log()
            parts.append(f"===== {name} log ({p.log_path}) =====\n"
                         f"{text[-15000:]}")
            at = text.find("stacks before SIGKILL")
            if 0 <= at < len(text) - 15000:
                parts.append(text[text.rfind("\n", 0, at) + 1:][:40000])
        for p in self.procs:
            if isinstance(p, Sipp):
                parts.append(p.report())
        return "\n".join(parts)


def cdr_rows(stack, where="TRUE", args=None):
    return stack.query(f"SELECT * FROM cdr WHERE {where} ORDER BY setup_ms",
                       args)


def attempts(stack, cdr_id):
    return stack.query("SELECT gateway, code FROM cdr_attempts "
                       "WHERE cdr_id = %s ORDER BY seq", (cdr_id,))


def second_customer(name, ip, cps_limit=0):
    """extra_accounts and extra_mgws of base_doc for one more prepaid
    customer (retail rates, balance 100) on mapping gateway mg_NAME at ip."""
    return {"extra_accounts": [
        {"name": name, "type": "customer", "balance": "100",
         "credit_limit": "0", "billing_type": "prepaid",
         "rate_table": "retail", "max_concurrent_calls": 0}],
        "extra_mgws": [
        {"name": f"mg_{name}", "account": name, "auth_mode": "ip",
         "ips": [ip], "ports": [], "cps_limit": cps_limit,
         "max_concurrent_calls": 0}]}


def base_doc(gw_a_port, gw_b_port, balance="100", credit_limit="0",
             gw_b=True, extra_accounts=(), extra_mgws=()):
    """A provisioning document: customer cust1 on 127.0.0.1, two vendor
    gateways gwA (priority 1) and gwB (priority 2) for prefix 1."""
    doc = {
        "system_parameters": {"SS_FAILOVER_NO_PROVISIONAL_MS": "3000"},
        "rate_tables": [
            {"name": "retail", "entries": [
                # 6/6 billing with rates whose exact fees need rounding:
                # 8 s = 0.0050 + 0.00125 + 0.00133 = 0.00758 -> 0.0076
                {"prefix": "1", "area_name": "US", "connect_fee": "0.0050",
                 "first_interval": 6, "first_rate": "0.0125",
                 "next_interval": 6, "next_rate": "0.0133"}]},
            {"name": "wholesale", "entries": [
                {"prefix": "1", "area_name": "US", "connect_fee": "0",
                 "first_interval": 6, "first_rate": "0.0050",
                 "next_interval": 6, "next_rate": "0.0050"}]},
        ],
        "accounts": [
            {"name": "cust1", "type": "customer", "balance": balance,
             "credit_limit": credit_limit, "billing_type": "prepaid",
             "rate_table": "retail", "max_concurrent_calls": 0},
            {"name": "vend1", "type": "vendor",
             "buy_rate_table": "wholesale"},
            *extra_accounts,
        ],
        "mapping_gateways": [
            {"name": "mg1", "account": "cust1", "auth_mode": "ip",
             "ips": ["127.0.0.1"], "ports": [], "cps_limit": 0,
             "max_concurrent_calls": 0},
            *extra_mgws,
        ],
        "routing_gateways": [
            {"name": "gwA", "account": "vend1", "address": "127.0.0.1",
             "port": gw_a_port, "transport": "udp", "prefixes": ["1"],
             "priority": 1, "line_limit": 0, "gateway_prefix": "",
             "switch_until_connect": True,
             "stop_codes": [486, 487, 403, 404, 484, 488, 600, 603, 606],
             "protect_route": False, "locked": False},
        ],
    }
    if gw_b:
        doc["routing_gateways"].append(
            {"name": "gwB", "account": "vend1", "address": "127.0.0.1",
             "port": gw_b_port, "transport": "udp", "prefixes": ["1"],
             "priority": 2, "line_limit": 0, "gateway_prefix": "",
             "switch_until_connect": True,
             "stop_codes": [486, 487, 403, 404, 484, 488, 600, 603, 606],
             "protect_route": False, "locked": False})
    return doc


def rate_entry(doc, table="retail", prefix="1"):
    for t in doc["rate_tables"]:
        if t["name"] == table:
            for e in t["entries"]:
                if e["prefix"] == prefix:
                    return e
    raise KeyError((table, prefix))


def copy_tree_safe(src, dst):
    shutil.copytree(src, dst, dirs_exist_ok=True)


# ---------------------------------------------------------------- capture

class Capture(Proc):
    """tshark on the loopback interface, to count what a peer received."""

    def __init__(self, stack, name, bpf):
        self.pcap = stack.dir / f"{name}.pcapng"
        super().__init__(name, ["tshark", "-i", "lo", "-f", bpf, "-q",
                                "-w", self.pcap],
                         stack.dir / f"{name}.log", cwd=stack.dir)
        stack.procs.append(self)

    def start(self, timeout=20):
        super().start()
        wait_for(lambda: "Capturing on" in self.log() or not self.alive(),
                 timeout, f"tshark {self.name} to start")
        if not self.alive():
            raise ItError(f"tshark failed:\n{self.log()}")
        return self

    def finish(self):
        time.sleep(0.5)
        self.stop(signal.SIGINT, timeout=10)

    def count(self, display_filter):
        r = subprocess.run(["tshark", "-r", str(self.pcap), "-Y",
                            display_filter, "-T", "fields", "-e",
                            "frame.number"], capture_output=True, text=True,
                           timeout=60)
        if r.returncode:
            raise ItError(f"tshark -r failed: {r.stderr}")
        return len([l for l in r.stdout.splitlines() if l.strip()])


def build_debs(workdir):
    """dpkg-buildpackage -b on a copy of the tree (what git tracks, plus the
    web manager's built files when there are any), as a build host would:
    {package: .deb path}, the -dbgsym packages aside."""
    workdir = Path(workdir)
    src = workdir / "tandem"
    files = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"], capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        f = REPO / rel
        if not f.is_file():
            continue  # deleted in the work tree
        out = src / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, out)
    web = REPO / "billingd/web/public"
    if (web / "app.js").exists():
        shutil.copytree(web, src / "billingd/web/public", dirs_exist_ok=True)
    # not the variables of a make that runs the tests (SAN=1...)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SAN", "BUILD")}
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b", "-j2"],
                       cwd=src, capture_output=True, text=True, timeout=1200,
                       env=env)
    if r.returncode:
        raise ItError("dpkg-buildpackage failed:\n"
                      + (r.stdout + r.stderr)[-6000:])
    return {p.name.split("_")[0]: p for p in workdir.glob("*.deb")
            if not p.name.split("_")[0].endswith("-dbgsym")}
