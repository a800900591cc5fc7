#!/usr/bin/env python3
"""rawrelay_bench.py - the raw codec+socket loop (rawrelay.c) transcoding
the same streams as mediaproxyd_bench.py and rtpengine_bench.py: CPU per
real-time channel, the "raw-rt" column of run.sh.

Per case it starts build/rel/bench/rawrelay (built by build.sh) for N calls
on ports from --port-base (call i: leg a at base+4i, leg b at base+4i+2,
RTCP on the next port of each), plays the recorded streams from both ends
at real time for T seconds with rtpengine_bench.play() (the traffic
generator of the other columns: caller PCMA PT 8, callee G.729 PT 18 or
Opus PT 96), reads rawrelay's CPU time from /proc over the measured window
only, and stops it with SIGTERM.  Channels per core = N * T / CPU seconds.
Prints one line per case in rtpengine_bench.py's format, plus rawrelay's
own counters (its getrusage() CPU covers the whole run, warm-up and
tear-down included).

Usage: rawrelay_bench.py STREAMDIR [--calls N] [--seconds T] [--case ...]
       [--port-base P] [--binary PATH]
"""
import argparse
import os
import select
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rtpengine_bench import close_peer, load, peer, play, report  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

CASES = {
    # name: (payload type of leg b, stream, RTP timestamp step)
    "g729": (18, "g729", 160),
    "opus8": (96, "opus8", 960),
    "opus48": (96, "opus48", 960),
}


def stop(p):
    """SIGTERM rawrelay; its last line (own CPU and counters)"""
    p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out.strip().splitlines()[-1] if out.strip() else ""


def run_case(args, name):
    pt, stream, tstep = CASES[name]
    pcma = load(os.path.join(args.streams, "pcma"))
    bstr = load(os.path.join(args.streams, stream))
    p = subprocess.Popen([args.binary, "-c", name, "-n", str(args.calls),
                          "-p", str(args.port_base), "-b", str(pt)],
                         stdout=subprocess.PIPE, text=True)
    calls = []
    try:
        rd, _, _ = select.select([p.stdout], [], [], 5)
        line = p.stdout.readline() if rd else ""
        if not line.startswith("rawrelay ready"):
            sys.exit("rawrelay did not start (%r)" % line)
        for i in range(args.calls):
            a, b = peer(), peer()
            port = args.port_base + 4 * i
            calls.append((a, b, port + 2, port))
        r = play(args, calls, pt, tstep, pcma, bstr, p.pid)
    finally:
        own = stop(p)
        for a, b, _, _ in calls:
            close_peer(a)
            close_peer(b)
    report("rawrelay " + name, args, r)
    print("  " + own)
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("streams")
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--case", action="append")
    ap.add_argument("--port-base", type=int, default=46000)
    ap.add_argument("--binary",
                    default=os.path.join(ROOT, "build/rel/bench/rawrelay"))
    args = ap.parse_args()
    for name in args.case or ["g729", "opus8", "opus48"]:
        run_case(args, name)


if __name__ == "__main__":
    main()
