#!/usr/bin/env python3
"""rtpengine_bench.py - rtpengine (Debian, userspace) transcoding the same
streams as transcode_bench: CPU per real-time channel.

Starts its own rtpengine (--config-file=none, --table=-1: no kernel
forwarding, one media thread), sets up N calls over the ng protocol (caller
offers PCMA, the callee answers only G.729 or Opus, so rtpengine transcodes
both ways), plays the recorded streams from both ends at real time for T
seconds and reads rtpengine's CPU time from /proc.  Channels per core =
N * T / CPU seconds.  Prints one line per case: CPU, what each end
received (count, PTs, sequence gaps = loss) and the added latency of the
callee -> caller direction (p50/p99, by matching the speech envelope).
play() and report() are the traffic generator and report that
mediaproxyd_bench.py uses too.

Usage: rtpengine_bench.py STREAMDIR [--calls N] [--seconds T] [--case ...]
"""
import argparse
import bisect
import math
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # Python 3.11 (Debian 12); gone in 3.13


def benc(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, list):
        return b"l" + b"".join(benc(i) for i in x) + b"e"
    if isinstance(x, dict):
        return b"d" + b"".join(benc(k) + benc(v)
                               for k, v in sorted(x.items())) + b"e"
    raise TypeError(type(x))


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        out, i = [], i + 1
        while b[i:i + 1] != b"e":
            v, i = bdec(b, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while b[i:i + 1] != b"e":
            k, i = bdec(b, i)
            v, i = bdec(b, i)
            out[k.decode()] = v
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


class Ng:
    def __init__(self, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(2)
        self.addr = ("127.0.0.1", port)

    def cmd(self, d):
        cookie = b"%08x" % random.getrandbits(32)
        for _ in range(5):
            self.s.sendto(cookie + b" " + benc(d), self.addr)
            try:
                data = self.s.recv(65535)
            except socket.timeout:
                continue
            if data.startswith(cookie + b" "):
                r, _ = bdec(data, len(cookie) + 1)
                if r.get("result") != b"ok":
                    raise RuntimeError("ng %s: %r" % (d["command"], r))
                return r
        raise RuntimeError("ng: no answer")


def sdp(port, pt, rtpmap, fmtp=None):
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-",
             "c=IN IP4 127.0.0.1", "t=0 0",
             "m=audio %d RTP/AVP %d 101" % (port, pt),
             "a=rtpmap:%d %s" % (pt, rtpmap)]
    if fmtp:
        lines.append("a=fmtp:%d %s" % (pt, fmtp))
    lines += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16",
              "a=ptime:20", "a=sendrecv", ""]
    return "\r\n".join(lines)


def sdp_port(s):
    for line in s.decode().split("\r\n"):
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise RuntimeError("no m=audio in %r" % s)


def sdp_pt(s, enc):
    """payload type rtpengine gave encoding @enc in its offer"""
    for line in s.decode().split("\r\n"):
        if line.startswith("a=rtpmap:"):
            pt, name = line[9:].split(" ", 1)
            if name.lower().startswith(enc.lower() + "/"):
                return int(pt)
    raise RuntimeError("%s not offered in %r" % (enc, s))


def load(path):
    out, b = [], open(path, "rb").read()
    i = 0
    while i + 2 <= len(b):
        n = b[i] << 8 | b[i + 1]
        out.append(b[i + 2:i + 2 + n])
        i += 2 + n
    return out


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def hdr(pt, seq, ts, ssrc):
    return bytes([0x80, pt, seq >> 8 & 0xff, seq & 0xff,
                  ts >> 24 & 0xff, ts >> 16 & 0xff, ts >> 8 & 0xff,
                  ts & 0xff, ssrc >> 24 & 0xff, ssrc >> 16 & 0xff,
                  ssrc >> 8 & 0xff, ssrc & 0xff])


class Rx:
    """what one receiving socket got: count, PTs, sequence gaps (loss),
    arrival times (for the latency estimate)"""

    def __init__(self):
        self.n = 0
        self.rtcp = 0
        self.pts = set()
        self.bytes = 0
        self.ext = None   # extended highest sequence
        self.base = None
        self.pkts = []    # (arrival, payload) of 20 ms PCMA packets

    def add(self, d, now):
        if len(d) >= 2 and 192 <= d[1] <= 223:
            self.rtcp += 1  # RTCP (RFC 5761 ranges): not counted as RTP
            return
        if len(d) < 12:
            return
        self.n += 1
        self.pts.add(d[1] & 0x7f)
        self.bytes += len(d) - 12
        if d[1] & 0x7f == 8 and len(d) == 172:
            self.pkts.append((now, d[12:]))
        seq = d[2] << 8 | d[3]
        if self.ext is None:
            self.ext = self.base = seq
            return
        delta = (seq - self.ext) & 0xffff
        if delta < 0x8000:
            self.ext += delta

    def lost(self):
        if self.ext is None:
            return 0
        return max(0, self.ext - self.base + 1 - self.n)


BLOCK = 40  # 5 ms of 8 kHz samples


def envelope(payload):
    """log RMS of each 5 ms block of a PCMA payload"""
    x = audioop.alaw2lin(payload, 2)
    return [math.log(audioop.rms(x[i:i + 2 * BLOCK], 2) + 1.0)
            for i in range(0, len(x) - 2 * BLOCK + 1, 2 * BLOCK)]


def corr(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sxx = syy = 0.0
    for a, b in zip(x, y):
        a -= mx
        b -= my
        sxy += a * b
        sxx += a * a
        syy += b * b
    if sxx <= 0 or syy <= 0:
        return 0.0
    return sxy / math.sqrt(sxx * syy)


def latency(rx, sent, pcma, warm, tend, win=50, max_ms=600):
    """Added latency of the callee -> caller direction (G.729/Opus in, PCMA
    out), by content: the speech envelope (log RMS per 5 ms) of each second
    of PCMA the caller received is matched against the recording at every
    offset up to max_ms behind (packets that came
    after the end of sending left out) what had been sent when its first packet
    arrived; a packet's latency is its arrival time minus the send time of
    the input frame that held the last of its audio.  Includes the codec's
    algorithmic delay and the jitter buffer; 5 ms resolution; seconds whose
    best match correlates below 0.8 (silence) are skipped.  Returns sorted
    latencies in seconds."""
    ref = []
    for fr in pcma:
        ref.extend(envelope(fr))
    nref = len(ref)
    per = len(pcma[0]) // BLOCK  # blocks per frame
    out = []
    for ra, _ in rx:
        pk = [x for x in ra.pkts if x[0] <= tend]
        for j0 in range(0, len(pk) - win + 1, win):
            f0 = bisect.bisect_right(sent, pk[j0][0]) - 1
            if f0 < warm:
                continue
            env = []
            for _, pl in pk[j0:j0 + win]:
                env.extend(envelope(pl))
            best, bl = -1.0, None
            for lag in range(-per, max_ms // 5):
                s0 = per * f0 - lag
                seg = [ref[(s0 + i) % nref] for i in range(len(env))]
                c = corr(env, seg)
                if c > best:
                    best, bl = c, s0
            if os.environ.get("LATDBG"):
                print("  latency window f0 %d corr %.2f lag %.0f ms" % (
                    f0, best, (pk[j0][0] - sent[(bl + per - 1) // per])
                    * 1000), file=sys.stderr)
            if best < 0.8:
                continue
            for i in range(win):
                last = (bl + per * i + per - 1) // per
                if 0 <= last < len(sent):
                    out.append(pk[j0 + i][0] - sent[last])
    out.sort()
    return out


RTCP = {}  # RTP socket -> its RTCP socket (port + 1)
_next_port = [36000]


def peer():
    """a non-blocking UDP socket on an even port of 36000-39999 with its
    RTCP socket bound on the next port (so the RTCP the relay sends to
    port + 1 lands there, not on another call's socket)"""
    while _next_port[0] < 40000:
        port = _next_port[0]
        _next_port[0] += 2
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
        RTCP[a] = c
        return a
    raise RuntimeError("no free port pair in 36000-39999")


def close_peer(a):
    c = RTCP.pop(a, None)
    if c:
        c.close()
    a.close()


def play(args, calls, pt, tstep, pcma, bstr, pid):
    """The traffic generator shared by every process under test: each call
    is (a, b, to_b, to_a): the caller socket a sends the recorded PCMA
    stream (PT 8) to to_a (the relay's caller-side port), the callee socket
    b sends the recorded G.729/Opus stream (PT pt, timestamp step tstep) to
    to_b, both every 20 ms at real time, for 1 s of warm-up then
    args.seconds measured; the CPU time of process pid over the measured
    part is returned with what each side received."""
    rx = [(Rx(), Rx()) for _ in calls]

    who = {}
    for (a, b, _, _), (ra, rb) in zip(calls, rx):
        who[a] = ra
        who[b] = rb
        if a in RTCP:
            who[RTCP[a]] = ra
        if b in RTCP:
            who[RTCP[b]] = rb

    def drain(socks=who):
        now = time.monotonic()
        for s in socks:
            r = who[s]
            while True:
                try:
                    d = s.recv(2048)
                except BlockingIOError:
                    break
                r.add(d, now)

    def wait(until):
        # receive as packets arrive (arrival times to ~1 ms) until @until
        while True:
            delay = until - time.monotonic()
            if delay <= 0:
                return
            rd, _, _ = select.select(list(who), [], [], delay)
            drain(rd)

    frames = args.seconds * 50
    warm = 50  # 1 s before measuring
    sent = []
    t0 = time.monotonic()
    c0 = None
    mark = None
    for f in range(frames + warm):
        if f == warm:
            c0 = cpu_seconds(pid)
            drain()
            mark = [(ra.n, rb.n) for ra, rb in rx]
        k = f % len(pcma)
        sent.append(time.monotonic())
        for i, (a, b, to_b, to_a) in enumerate(calls):
            # caller -> the relay's caller-side port (answer SDP)
            a.sendto(hdr(8, f & 0xffff, f * 160, 0x1000 + i) + pcma[k],
                     ("127.0.0.1", to_a))
            b.sendto(hdr(pt, f & 0xffff, f * tstep, 0x2000 + i) +
                     bstr[k % len(bstr)], ("127.0.0.1", to_b))
        drain()
        wait(t0 + (f + 1) * 0.02)
    wall = time.monotonic() - t0 - warm * 0.02
    cpu = cpu_seconds(pid) - c0
    drain()
    end = [(ra.n, rb.n) for ra, rb in rx]
    tend = time.monotonic()
    wait(tend + 0.3)  # what is still in jitter buffers
    lat = latency(rx, sent, pcma, warm, tend)
    late = sorted(sent[f] - (t0 + f * 0.02) for f in range(len(sent)))
    if os.environ.get("LATDBG"):
        print("  sender lateness p50 %.1f ms p99 %.1f ms max %.1f ms" % (
            late[len(late) // 2] * 1000, late[len(late) * 99 // 100] * 1000,
            late[-1] * 1000), file=sys.stderr)
    res = {"cpu": cpu, "wall": wall, "calls": len(calls),
           "expect": len(calls) * frames,
           "rx_a": sum(e[0] - m[0] for e, m in zip(end, mark)),
           "rx_b": sum(e[1] - m[1] for e, m in zip(end, mark)),
           "lost_a": sum(ra.lost() for ra, _ in rx),
           "lost_b": sum(rb.lost() for _, rb in rx),
           "rtcp_a": sum(ra.rtcp for ra, _ in rx),
           "rtcp_b": sum(rb.rtcp for _, rb in rx),
           "pt_a": sorted(set().union(*[ra.pts for ra, _ in rx])),
           "pt_b": sorted(set().union(*[rb.pts for _, rb in rx])),
           "kbit_b": sum(rb.bytes for _, rb in rx) * 8 / 1000.0 /
           max(wall + warm * 0.02, 1e-9) / max(len(calls), 1)}
    if lat:
        res["lat_p50"] = lat[len(lat) // 2] * 1000
        res["lat_p99"] = lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000
    return res


def report(label, args, r):
    ch = r["calls"] * r["wall"] / r["cpu"] if r["cpu"] > 0 else float("inf")
    lat = ""
    if "lat_p99" in r:
        lat = ", latency p50 %.0f ms p99 %.0f ms" % (r["lat_p50"],
                                                    r["lat_p99"])
    print("%-18s calls %3d  cpu %.2f s / %.1f s  -> %5.0f ch/core  "
          "(rx at caller %d/%d PT %s lost %d, at callee %d/%d PT %s "
          "lost %d, %.1f kbit/s%s, RTCP rx %d/%d)"
          % (label, r["calls"], r["cpu"], r["wall"], ch,
             r["rx_a"], r["expect"], r["pt_a"], r["lost_a"],
             r["rx_b"], r["expect"], r["pt_b"], r["lost_b"],
             r["kbit_b"], lat, r["rtcp_a"], r["rtcp_b"]))
    sys.stdout.flush()


CASES = {
    # name: (transcode codec, answer pt, rtpmap, fmtp, stream, ts step)
    "g729": ("G729", 18, "G729/8000", "annexb=no", "g729", 160),
    "opus8": ("opus", 111, "opus/48000/2", "maxplaybackrate=8000",
              "opus8", 960),
    "opus48": ("opus", 111, "opus/48000/2", "maxaveragebitrate=32000",
               "opus48", 960),
}


def run_case(args, name, ng, rtpe_pid):
    tc, pt, rtpmap, fmtp, stream, tstep = CASES[name]
    pt_b = set()
    pcma = load(os.path.join(args.streams, "pcma"))
    bstr = load(os.path.join(args.streams, stream))
    calls = []
    for n in range(args.calls):
        a, b = peer(), peer()
        cid = "bench-%s-%d-%d" % (name, os.getpid(), n)
        r = ng.cmd({"command": "offer", "call-id": cid, "from-tag": "a",
                    "sdp": sdp(a.getsockname()[1], 8, "PCMA/8000"),
                    "codec": {"transcode": [tc]},
                    "replace": ["origin"]})
        to_b = sdp_port(r["sdp"])
        pt = sdp_pt(r["sdp"], tc)
        r = ng.cmd({"command": "answer", "call-id": cid, "from-tag": "a",
                    "to-tag": "b",
                    "sdp": sdp(b.getsockname()[1], pt, rtpmap, fmtp),
                    "replace": ["origin"]})
        to_a = sdp_port(r["sdp"])
        calls.append((cid, a, b, to_b, to_a))
        pt_b.add(pt)

    if len(pt_b) != 1:
        raise RuntimeError("rtpengine varied the PT: %r" % pt_b)
    r = play(args, [(a, b, to_b, to_a) for _, a, b, to_b, to_a in calls],
             pt, tstep, pcma, bstr, rtpe_pid)
    for cid, a, b, _, _ in calls:
        try:
            ng.cmd({"command": "delete", "call-id": cid, "from-tag": "a"})
        except RuntimeError:
            pass
        close_peer(a)
        close_peer(b)
    report("rtpengine " + name, args, r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("streams")
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--case", action="append")
    ap.add_argument("--ng-port", type=int, default=22999)
    ap.add_argument("--port-min", type=int, default=42000)
    args = ap.parse_args()

    cmd = ["rtpengine", "--config-file=none", "--foreground",
           "--log-stderr", "--log-level=3", "--table=-1",
           "--interface=127.0.0.1",
           "--listen-ng=127.0.0.1:%d" % args.ng_port,
           "--port-min=%d" % args.port_min,
           "--port-max=%d" % (args.port_min + 1999),
           "--num-threads=1", "--media-num-threads=1"]
    log = open(os.path.join(args.streams, "rtpengine.log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)
        if p.poll() is not None:
            sys.exit("rtpengine exited: see %s" % log.name)
        ng = Ng(args.ng_port)
        for name in args.case or ["g729", "opus8", "opus48"]:
            run_case(args, name, ng, p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
