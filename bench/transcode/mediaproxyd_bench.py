#!/usr/bin/env python3
"""mediaproxyd_bench.py - our media engine INSIDE a running mediaproxyd,
transcoding the same streams as transcode_bench and rtpengine_bench.py:
CPU per real-time channel.

Starts its own build/rel/mediaproxyd (generated config: private bus port,
RTP range 32000-32999, xcode_budget 1000), sets up N sessions over the bus
with build/rel/tests/busprobe (media.offer: leg a PCMA PT 8; media.answer:
leg b G.729 PT 18 or Opus PT 96 with the fmtp of the in-process columns,
so the node runs the media engine both ways), plays the recorded streams
from both ends at real time for T seconds with rtpengine_bench.play() (the
traffic generator the rtpengine column uses) and reads mediaproxyd's CPU
time from /proc.  Channels per core = N * T / CPU seconds.  Prints one line
per case, in rtpengine_bench.py's format, plus the node's own per-leg
counters from media.delete and its memory per transcoded session: VmRSS
with the N sessions up after the traffic (engines, codec states, jitter
buffers all allocated) minus VmRSS before the first offer, / N.  Each case
runs in a mediaproxyd of its own, so no case reuses another's memory.

LATDBG=1 in the environment adds, on stderr, the latency estimator's
per-second matches, the sender's lateness and each session's media.query
counters before and after the traffic.

Usage: mediaproxyd_bench.py STREAMDIR [--calls N] [--seconds T] [--case ...]
       [--bus-port P] [--binary PATH] [--busprobe PATH]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rtpengine_bench import close_peer, load, peer, play, report  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

CASES = {
    # name: (codec, pt, rate, fmtp, stream, ts step) -- the fmtp of
    # transcode_bench's engine column (opus_fmtp())
    "g729": ("G729", 18, 8000, "annexb=no", "g729", 160),
    "opus8": ("opus", 96, 48000, "maxplaybackrate=8000", "opus8", 960),
    "opus48": ("opus", 96, 48000, "maxaveragebitrate=32000", "opus48", 960),
}


class Bus:
    def __init__(self, probe, url):
        self.probe = probe
        self.url = url

    def req(self, typ, body):
        p = subprocess.run([self.probe, "-t", "3000", self.url, typ,
                            json.dumps(body)], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError("%s: exit %d: %s %s" % (typ, p.returncode,
                                                      p.stdout, p.stderr))
        return json.loads(p.stdout)["body"]


def leg(port, codec, pt, rate, fmtp):
    return {"remote_ip": "127.0.0.1", "remote_port": port, "codec": codec,
            "pt": pt, "rate": rate, "ptime": 20, "fmtp": fmtp, "te_pt": 101,
            "dtmf_send": "rfc2833", "dtmf_recv": "rfc2833",
            "direction": "sendrecv"}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_case(args, name, bus, pid):
    codec, pt, rate, fmtp, stream, tstep = CASES[name]
    rss0 = rss_kb(pid)
    pcma = load(os.path.join(args.streams, "pcma"))
    bstr = load(os.path.join(args.streams, stream))
    calls, sess = [], []
    for n in range(args.calls):
        a, b = peer(), peer()
        sid = str(uuid.uuid4())
        # the offer knows the callee's address but not its codec yet
        r = bus.req("media.offer", {
            "session": sid, "call_id": "bench-%s-%d" % (name, n),
            "a": leg(a.getsockname()[1], "PCMA", 8, 8000, ""),
            "b": {"remote_ip": "127.0.0.1",
                  "remote_port": b.getsockname()[1]}})
        to_a, to_b = r["a"]["local_port"], r["b"]["local_port"]
        bus.req("media.answer", {
            "session": sid,
            "b": leg(b.getsockname()[1], codec, pt, rate, fmtp)})
        calls.append((a, b, to_b, to_a))
        sess.append(sid)
    if os.environ.get("LATDBG"):
        q0 = [bus.req("media.query", {"session": x}) for x in sess]
    r = play(args, calls, pt, tstep, pcma, bstr, pid)
    if os.environ.get("LATDBG"):
        q1 = [bus.req("media.query", {"session": x}) for x in sess]
        for i, (x, y) in enumerate(zip(q0, q1)):
            print("  session %d before %s after %s" % (i, json.dumps(
                {k: x["stats"]["a"].get(k) for k in ("concealed", "jb_delay_ms", "tx_packets")}),
                json.dumps({k: y["stats"]["a"].get(k) for k in ("concealed", "jb_delay_ms", "tx_packets", "rx_packets")})), file=sys.stderr)
    rss1 = rss_kb(pid)
    node = {"a": {}, "b": {}}
    for sid in sess:
        try:
            st = bus.req("media.delete", {"session": sid,
                                          "reason": "bench"})["stats"]
        except RuntimeError as e:
            print("media.delete: %s" % e, file=sys.stderr)
            continue
        for side in ("a", "b"):
            for k in ("rx_packets", "tx_packets", "lost", "dropped",
                      "concealed", "jb_delay_ms"):
                node[side][k] = node[side].get(k, 0) + st[side].get(k, 0)
    for a, b, _, _ in calls:
        close_peer(a)
        close_peer(b)
    report("mediaproxyd " + name, args, r)
    for side, who in (("a", "caller"), ("b", "callee")):
        s = node[side]
        print("  node leg %s (%s): rx %d tx %d lost %d dropped %d "
              "concealed %d jb_delay avg %.0f ms"
              % (side, who, s.get("rx_packets", 0), s.get("tx_packets", 0),
                 s.get("lost", 0), s.get("dropped", 0),
                 s.get("concealed", 0),
                 s.get("jb_delay_ms", 0) / max(len(sess), 1)))
    print("mediaproxyd %s memory: %.1f kB per transcoded session "
          "(VmRSS %d -> %d kB with %d sessions up)"
          % (name, (rss1 - rss0) / max(len(sess), 1), rss0, rss1, len(sess)))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("streams")
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--case", action="append")
    ap.add_argument("--bus-port", type=int, default=17641)
    ap.add_argument("--port-min", type=int, default=32000)
    ap.add_argument("--binary",
                    default=os.path.join(ROOT, "build/rel/mediaproxyd"))
    ap.add_argument("--busprobe",
                    default=os.path.join(ROOT, "build/rel/tests/busprobe"))
    args = ap.parse_args()

    url = "tcp://127.0.0.1:%d" % args.bus_port
    conf = os.path.join(args.streams, "mediaproxyd.conf")
    with open(conf, "w") as f:
        f.write("node_id mpbench\n"
                "bus_listen %s\n"
                "signaling_url tcp://127.0.0.1:%d\n"
                "rtp_ip 127.0.0.1\n"
                "port_min %d\nport_max %d\n"
                "rtp_timeout_s 60\n"
                "xcode_budget 1000\n"
                "log_level warn\n"
                % (url, args.bus_port + 1, args.port_min,
                   args.port_min + 999))
    for name in args.case or ["g729", "opus8", "opus48"]:
        one_node(args, url, conf, name)


def one_node(args, url, conf, name):
    log = open(os.path.join(args.streams, "mediaproxyd.log"), "a")
    p = subprocess.Popen([args.binary, "-F", "-f", conf], stdout=log,
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
        run_case(args, name, bus, p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
