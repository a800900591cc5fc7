#!/usr/bin/env python3
"""rtpengine_bench.py - rtpengine (Debian, userspace) transcoding the same
streams as transcode_bench: CPU per real-time channel.

Starts its own rtpengine (--config-file=none, --table=-1: no kernel
forwarding, one media thread), sets up N calls over the ng protocol (caller
offers PCMA, the callee answers only G.729 or Opus, so rtpengine transcodes
both ways), plays the recorded streams from both ends at real time for T
seconds and reads rtpengine's CPU time from /proc.  Channels per core =
N * T / CPU seconds.  Prints one line per case.

Usage: rtpengine_bench.py STREAMDIR [--calls N] [--seconds T] [--case ...]
"""
import argparse
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time


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
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        a.setblocking(False)
        b.setblocking(False)
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

    def hdr(pt_, seq, ts, ssrc):
        return bytes([0x80, pt_, seq >> 8 & 0xff, seq & 0xff,
                      ts >> 24 & 0xff, ts >> 16 & 0xff, ts >> 8 & 0xff,
                      ts & 0xff, ssrc >> 24 & 0xff, ssrc >> 16 & 0xff,
                      ssrc >> 8 & 0xff, ssrc & 0xff])

    if len(pt_b) != 1:
        raise RuntimeError("rtpengine varied the PT: %r" % pt_b)
    got = {"a": 0, "b": 0, "pt_a": set(), "pt_b": set(), "bytes_b": 0}

    def drain():
        for _, a, b, _, _ in calls:
            for side, s in (("a", a), ("b", b)):
                while True:
                    try:
                        d = s.recv(2048)
                    except BlockingIOError:
                        break
                    got[side] += 1
                    got["pt_" + side].add(d[1] & 0x7f)
                    if side == "b":
                        got["bytes_b"] += len(d) - 12

    frames = args.seconds * 50
    warm = 50  # 1 s before measuring
    t0 = time.monotonic()
    c0 = None
    for f in range(frames + warm):
        if f == warm:
            c0 = cpu_seconds(rtpe_pid)
            drain()
            got["a"] = got["b"] = got["bytes_b"] = 0
        k = f % len(pcma)
        for i, (_, a, b, to_b, to_a) in enumerate(calls):
            # caller -> rtpengine's caller-side port (answer SDP)
            a.sendto(hdr(8, f & 0xffff, f * 160, 0x1000 + i) + pcma[k],
                     ("127.0.0.1", to_a))
            b.sendto(hdr(pt, f & 0xffff, f * tstep, 0x2000 + i) +
                     bstr[k % len(bstr)], ("127.0.0.1", to_b))
        drain()
        delay = t0 + (f + 1) * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    wall = time.monotonic() - t0 - warm * 0.02
    cpu = cpu_seconds(rtpe_pid) - c0
    for cid, a, b, _, _ in calls:
        try:
            ng.cmd({"command": "delete", "call-id": cid, "from-tag": "a"})
        except RuntimeError:
            pass
        a.close()
        b.close()
    expect = args.calls * args.seconds * 50
    ch = args.calls * wall / cpu if cpu > 0 else float("inf")
    print("%-16s calls %3d  cpu %.2f s / %.1f s  -> %5.0f ch/core  "
          "(rx at caller %d/%d PT %s, at callee %d/%d PT %s, %.1f kbit/s)"
          % ("rtpengine " + name, args.calls, cpu, wall, ch,
             got["a"], expect, sorted(got["pt_a"]), got["b"], expect,
             sorted(got["pt_b"]),
             got["bytes_b"] * 8 / 1000.0 / max(wall, 1e-9) /
             max(args.calls, 1)))
    sys.stdout.flush()


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
