#!/usr/bin/env python3
"""relay_bench.py - one round of the media relay benchmark for one process
under test: packets relayed per CPU second, loss, added latency and memory
per relayed session.

TARGET is one of
  fwd          build/rel/bench/fwd (bench/relay/fwd.c), one sendto() a packet
  fwdm         the same with -m: one sendmmsg() per recvmmsg() batch
  mediaproxyd  build/rel/mediaproxyd, sessions set up over the bus with
               build/rel/tests/busprobe (media.offer/media.answer, both legs
               PCMA PT 8 with telephone-event 101: a plain relay, no engine)
  rtpengine    rtpengine (Debian) in userspace (--table=-1, one media
               thread, --config-file=none), calls over the ng protocol
               (offer and answer PCMA: a plain relay, no transcoding)
It starts the process, reads its VmRSS, sets up N calls, then plays PCMA
20 ms RTP (172-byte packets, 50 a second each way, so N * 100 packets a
second in all) from both ends of every call for 1 s of warm-up plus T
seconds measured, and stops the process.  The calls' send times are spread
evenly over each 20 ms (real calls are not in phase), and the first 8
payload bytes carry the send time (CLOCK_MONOTONIC, ns), so a received
packet gives its own latency through the relay (the generator's own
scheduling included: the fwd rows show that floor).

Measured over the T seconds only: the process's CPU time (user + system
of all its threads, ns, from /proc/PID/task/*/schedstat, so the kernel's
loopback work done in its sendto() calls is included) and the packets the
ends received; packets/s per core = packets received / CPU seconds.  Loss
= packets sent in the window minus those of them received (by the send
time they carry) after 0.3 s of draining; the warm-up is left out because
fwd, having no SDP addresses, drops each call's first packet (the other
leg's peer is not latched yet).  Memory: VmRSS before any call and with the N calls up after the
traffic; kB per session = the difference / N.

The generator (this process, Python) may be the bottleneck: "offered"
(packets sent per second over the window) says what it achieved, "late"
how far behind schedule the sends fell (p99).  Packets per CPU second is
comparable across the targets either way.

Prints one line starting "relay " with key=value fields (run.sh parses it).

Usage: relay_bench.py TARGET WORKDIR [--calls N] [--seconds T]
       [--port-offset P] [--binary PATH] [--busprobe PATH]
Ports (+ --port-offset): mediaproxyd bus 17741 (signaling_url 17742) and
RTP 50000-51999, rtpengine ng 17743 and RTP 52000-53999, fwd 54000-55999,
the generator's sockets 56000-57999 (RTP even, RTCP odd).
"""
import argparse
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench", "transcode"))
# the transcode benchmark's ng client, SDP, bus client and /proc CPU reader
from rtpengine_bench import Ng, cpu_seconds, hdr, sdp, sdp_port  # noqa: E402
from mediaproxyd_bench import Bus, leg  # noqa: E402

PKT = 160  # 20 ms of PCMA


def cpu_time(pid):
    """CPU seconds of every thread of @pid: the sum of
    /proc/PID/task/*/schedstat (ns, user + system), finer than the 10 ms
    ticks of /proc/PID/stat that cpu_seconds() reads (its fallback)"""
    try:
        ns = 0
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                ns += int(f.read().split()[0])
        return ns / 1e9
    except (OSError, ValueError, IndexError):
        return cpu_seconds(pid)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Peers:
    """the generator's UDP sockets: RTP on an even port from @base, its
    RTCP socket on the next one (so RTCP a relay sends lands here, not on
    another call's socket)"""

    def __init__(self, base, top):
        self.port, self.top = base, top
        self.rtcp = {}

    def get(self):
        while self.port + 1 < self.top:
            port = self.port
            self.port += 2
            a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                a.bind(("127.0.0.1", port))
                c.bind(("127.0.0.1", port + 1))
            except OSError:
                a.close()
                c.close()
                continue
            a.setblocking(False)
            c.setblocking(False)
            a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.rtcp[a] = c
            return a
        raise RuntimeError("no free port pair below %d" % self.top)

    def close(self):
        for a, c in self.rtcp.items():
            a.close()
            c.close()
        self.rtcp = {}


class End:
    """one end of a call: what it received (count, sequence, latencies)"""

    def __init__(self):
        self.n = 0
        self.rtcp = 0
        self.bad = 0
        self.lat = []  # ns, of packets sent in the measured window


def play(calls, seconds, pid, warm=1.0):
    """Each call (a, b, to_b, to_a): a sends to to_a, b to to_b, every 20 ms
    at real time, call i at offset i/N of the period; returns the counters
    of the measured window and the latencies (ns)."""
    n = len(calls)
    ends = {}
    ep = select.epoll()
    fds = {}
    for a, b, _, _ in calls:
        for s in (a, b):
            e = End()
            ends[s] = e
            fds[s.fileno()] = (s, e, False)
    for s in list(ends):
        c = PEERS.rtcp.get(s)
        if c is not None:
            fds[c.fileno()] = (c, ends[s], True)
    for fd in fds:
        ep.register(fd, select.EPOLLIN)

    filler = bytes(range(8, PKT))
    t0 = time.monotonic_ns()
    period = 20_000_000
    w0 = t0 + int(warm * 1e9)  # measured window start
    w1 = w0 + int(seconds * 1e9)
    mark = end = {}

    def recv(now_ns):
        for fd, _ in ep.poll(0):
            s, e, is_rtcp = fds[fd]
            while True:
                try:
                    d = s.recv(4096)
                except BlockingIOError:
                    break
                if is_rtcp:
                    e.rtcp += 1
                    continue
                if len(d) != 12 + PKT:
                    e.bad += 1
                    continue
                e.n += 1
                st = struct.unpack_from("!Q", d, 12)[0]
                if w0 <= st < w1:
                    e.lat.append(now_ns - st)

    sent = sent_w = 0
    late = []
    k = 0  # next send slot: frame k // n, call k % n
    c0 = c1 = None
    while True:
        now = time.monotonic_ns()
        if c0 is None and now >= w0:
            c0 = cpu_time(pid)
            mark = {s: e.n for s, e in ends.items()}
        if c0 is not None and c1 is None and now >= w1:
            c1 = cpu_time(pid)
            end = {s: e.n for s, e in ends.items()}
            break
        # every slot that is due
        while True:
            due = t0 + (k // n) * period + (k % n) * period // n
            if due > now:
                break
            a, b, to_b, to_a = calls[k % n]
            f = k // n
            ts = time.monotonic_ns()
            late.append(ts - due)
            tsb = struct.pack("!Q", ts)
            a.sendto(hdr(8, f & 0xffff, f * 160 & 0xffffffff, 0x1000 + k % n)
                     + tsb + filler, ("127.0.0.1", to_a))
            b.sendto(hdr(8, f & 0xffff, f * 160 & 0xffffffff, 0x2000 + k % n)
                     + tsb + filler, ("127.0.0.1", to_b))
            sent += 2
            if w0 <= ts < w1:
                sent_w += 2
            k += 1
        now = time.monotonic_ns()
        recv(now)
        due = t0 + (k // n) * period + (k % n) * period // n
        wait = (due - time.monotonic_ns()) / 1e9
        if wait > 0:
            # epoll_wait has ms resolution: sleep on the sockets
            if ep.poll(min(wait, 0.02), 1):
                recv(time.monotonic_ns())
    stop_at = time.monotonic_ns() + 300_000_000
    while time.monotonic_ns() < stop_at:
        if ep.poll(0.05, 1):
            recv(time.monotonic_ns())
    ep.close()
    relayed = sum(end[s] - mark[s] for s in ends)
    lat = sorted(x for e in ends.values() for x in e.lat)
    late.sort()
    res = {"cpu": c1 - c0, "wall": seconds, "relayed": relayed,
           "offered": sent_w / seconds, "target": n * 100,
           "sent": sent_w, "lost": max(0, sent_w - len(lat)),
           "rtcp": sum(e.rtcp for e in ends.values()),
           "bad": sum(e.bad for e in ends.values()),
           "late_p99": late[len(late) * 99 // 100] / 1e6}
    if lat:
        res["p50"] = lat[len(lat) // 2] / 1e6
        res["p99"] = lat[min(len(lat) - 1, len(lat) * 99 // 100)] / 1e6
    return res


def stop_proc(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_line(p, prefix, what):
    rd, _, _ = select.select([p.stdout], [], [], 5)
    line = p.stdout.readline() if rd else ""
    if not line.startswith(prefix):
        sys.exit("%s did not start (%r)" % (what, line))


def run_fwd(args, mmsg):
    base = 54000 + args.port_offset
    cmd = [args.binary or os.path.join(ROOT, "build/rel/bench/fwd"),
           "-n", str(args.calls), "-p", str(base)] + (["-m"] if mmsg else [])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        wait_line(p, "fwd ready", "fwd")
        rss0 = rss_kb(p.pid)
        calls = []
        for i in range(args.calls):
            a, b = PEERS.get(), PEERS.get()
            calls.append((a, b, base + 4 * i + 2, base + 4 * i))
        r = play(calls, args.seconds, p.pid)
        r["rss0"], r["rss1"] = rss0, rss_kb(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
    if out.strip():
        print("  " + out.strip().splitlines()[-1], file=sys.stderr)
    return r


def run_mediaproxyd(args):
    bus_port = 17741 + args.port_offset
    pmin = 50000 + args.port_offset
    url = "tcp://127.0.0.1:%d" % bus_port
    conf = os.path.join(args.work, "relay-mediaproxyd.conf")
    with open(conf, "w") as f:
        f.write("node_id relaybench\n"
                "bus_listen %s\n"
                "signaling_url tcp://127.0.0.1:%d\n"
                "rtp_ip 127.0.0.1\n"
                "port_min %d\nport_max %d\n"
                "rtp_timeout_s 60\n"
                "log_level warn\n"
                % (url, bus_port + 1, pmin, pmin + 1999))
    log = open(os.path.join(args.work, "relay-mediaproxyd.log"), "w")
    p = subprocess.Popen([args.binary or
                          os.path.join(ROOT, "build/rel/mediaproxyd"),
                          "-F", "-f", conf], stdout=log,
                         stderr=subprocess.STDOUT)
    try:
        bus = Bus(args.busprobe, url)
        for _ in range(50):
            if p.poll() is not None:
                sys.exit("mediaproxyd exited: see %s" % log.name)
            try:
                bus.req("health.ping", {})
                break
            except RuntimeError:
                time.sleep(0.1)
        else:
            sys.exit("mediaproxyd does not answer on %s" % url)
        rss0 = rss_kb(p.pid)
        calls = []
        for n in range(args.calls):
            a, b = PEERS.get(), PEERS.get()
            sid = str(uuid.uuid4())
            r = bus.req("media.offer", {
                "session": sid, "call_id": "relaybench-%d" % n,
                "a": leg(a.getsockname()[1], "PCMA", 8, 8000, ""),
                "b": {"remote_ip": "127.0.0.1",
                      "remote_port": b.getsockname()[1]}})
            to_a, to_b = r["a"]["local_port"], r["b"]["local_port"]
            bus.req("media.answer", {
                "session": sid,
                "b": leg(b.getsockname()[1], "PCMA", 8, 8000, "")})
            calls.append((a, b, to_b, to_a))
        r = play(calls, args.seconds, p.pid)
        r["rss0"], r["rss1"] = rss0, rss_kb(p.pid)
    finally:
        stop_proc(p)
    return r


def run_rtpengine(args):
    ng_port = 17743 + args.port_offset
    pmin = 52000 + args.port_offset
    cmd = [args.binary or "rtpengine", "--config-file=none", "--foreground",
           "--log-stderr", "--log-level=3", "--table=-1",
           "--interface=127.0.0.1",
           "--listen-ng=127.0.0.1:%d" % ng_port,
           "--port-min=%d" % pmin, "--port-max=%d" % (pmin + 1999),
           "--num-threads=1", "--media-num-threads=1"]
    log = open(os.path.join(args.work, "relay-rtpengine.log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        ng = Ng(ng_port)
        for _ in range(50):
            if p.poll() is not None:
                sys.exit("rtpengine exited: see %s" % log.name)
            try:
                ng.cmd({"command": "ping"})
                break
            except RuntimeError as e:
                if "pong" in str(e):  # Ng.cmd wants "ok"
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("rtpengine does not answer on ng port %d" % ng_port)
        rss0 = rss_kb(p.pid)
        calls = []
        for n in range(args.calls):
            a, b = PEERS.get(), PEERS.get()
            cid = "relaybench-%d-%d" % (os.getpid(), n)
            r = ng.cmd({"command": "offer", "call-id": cid, "from-tag": "a",
                        "sdp": sdp(a.getsockname()[1], 8, "PCMA/8000"),
                        "replace": ["origin"]})
            to_b = sdp_port(r["sdp"])
            r = ng.cmd({"command": "answer", "call-id": cid, "from-tag": "a",
                        "to-tag": "b",
                        "sdp": sdp(b.getsockname()[1], 8, "PCMA/8000"),
                        "replace": ["origin"]})
            to_a = sdp_port(r["sdp"])
            calls.append((a, b, to_b, to_a))
        r = play(calls, args.seconds, p.pid)
        r["rss0"], r["rss1"] = rss0, rss_kb(p.pid)
    finally:
        stop_proc(p)
    return r


PEERS = None


def main():
    global PEERS
    ap = argparse.ArgumentParser()
    ap.add_argument("target",
                    choices=["fwd", "fwdm", "mediaproxyd", "rtpengine"])
    ap.add_argument("work")
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--port-offset", type=int, default=0)
    ap.add_argument("--binary")
    ap.add_argument("--busprobe",
                    default=os.path.join(ROOT, "build/rel/tests/busprobe"))
    args = ap.parse_args()
    if not 1 <= args.calls <= 450:
        sys.exit("--calls: 1-450 (the port ranges hold 4 ports a call)")
    PEERS = Peers(56000 + args.port_offset, 58000 + args.port_offset)
    try:
        if args.target in ("fwd", "fwdm"):
            r = run_fwd(args, args.target == "fwdm")
        elif args.target == "mediaproxyd":
            r = run_mediaproxyd(args)
        else:
            r = run_rtpengine(args)
    finally:
        PEERS.close()
    pps = r["relayed"] / r["cpu"] if r["cpu"] > 0 else 0
    print("relay %s calls=%d seconds=%d target_pps=%d offered_pps=%.0f "
          "relayed=%d cpu=%.3f pps_core=%.0f sent=%d lost=%d bad=%d "
          "rtcp=%d late_p99_ms=%.2f p50_ms=%.3f p99_ms=%.3f rss0_kb=%d "
          "rss1_kb=%d kb_session=%.2f"
          % (args.target, args.calls, args.seconds, r["target"],
             r["offered"], r["relayed"], r["cpu"], pps, r["sent"],
             r["lost"], r["bad"], r["rtcp"], r["late_p99"],
             r.get("p50", -1), r.get("p99", -1), r["rss0"], r["rss1"],
             (r["rss1"] - r["rss0"]) / args.calls))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
