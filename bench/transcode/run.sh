#!/usr/bin/env bash
# run.sh - bench/transcode: concurrent real-time transcoding channels per
# core for PCMA<->G.729 and PCMA<->Opus (8k, 48k): the raw codec loop (the
# limit), our engine in-process, our engine inside a running mediaproxyd and
# rtpengine (Debian, userspace) in one run, with the ratio of each to the
# raw loop and of mediaproxyd to rtpengine.
#   CALLS=20 SECONDS_RT=10 bench/transcode/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$("$here/build.sh")
work=$(mktemp -d /tmp/transcode-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$root/$bin" -t "${SECONDS_CPU:-20}" -n 4 -r "${ROUNDS:-5}" | tee "$work/engine.txt"
"$root/$bin" -d "$work"

# mediaproxyd: built by the top Makefile (only its own targets)
make -s -C "$root" build/rel/mediaproxyd build/rel/tests/busprobe >&2 ||
	echo "warning: make failed, using the existing build/rel/mediaproxyd" >&2
# ROUNDS_RT alternating rounds of mediaproxyd and rtpengine; the summary
# keeps each one's best round (the least disturbed by other processes, as
# for the in-process columns) and sums loss over all rounds
: >"$work/mediaproxyd.txt"
: >"$work/rtpengine.txt"
for round in $(seq "${ROUNDS_RT:-3}"); do
	echo "round $round" >&2
	python3 "$here/mediaproxyd_bench.py" "$work" --calls "${CALLS:-20}" \
		--seconds "${SECONDS_RT:-10}" | tee -a "$work/mediaproxyd.txt"
	if command -v rtpengine >/dev/null; then
		python3 "$here/rtpengine_bench.py" "$work" --calls "${CALLS:-20}" \
			--seconds "${SECONDS_RT:-10}" | tee -a "$work/rtpengine.txt"
	elif [ "$round" = 1 ]; then
		echo "rtpengine not installed: no reference column" >&2
	fi
done

python3 - "$work/engine.txt" "$work/mediaproxyd.txt" "$work/rtpengine.txt" <<'PY'
import re, sys
eng = {}
for line in open(sys.argv[1]):
    m = re.match(r"(PCMA<->\S+(?: \d+k)?)\s+(\d+)\s+(\d+)\s+\d+%\s+(\d+)\s+\d+%\s+(\d+)", line)
    if m:
        eng[m.group(1)] = [int(m.group(2)), int(m.group(3)), int(m.group(5))]
names = {"g729": "PCMA<->G.729", "opus8": "PCMA<->Opus 8k",
         "opus48": "PCMA<->Opus 48k"}


def parse(path, who):
    out = {}
    for line in open(path):
        m = re.match(who + r" (\w+)\s.*->\s+(\d+) ch/core.*rx at caller "
                     r"(\d+)/(\d+) PT \[([\d, ]*)\] lost (\d+), at callee "
                     r"(\d+)/(\d+) PT \[([\d, ]*)\] lost (\d+)"
                     r"(?:.*latency p50 (\d+) ms p99 (\d+) ms)?", line)
        if not m:
            continue
        g = m.groups()
        o = out.setdefault(names[g[0]], {"ch": 0, "lost": 0, "exp": 0,
                                         "short": 0, "pta": set(),
                                         "ptb": set(), "p50": [],
                                         "p99": [], "n": 0})
        o["n"] += 1
        o["ch"] = max(o["ch"], int(g[1]))
        # sequence gaps at both ends / packets expected at both ends
        o["lost"] += int(g[5]) + int(g[9])
        o["exp"] += int(g[3]) + int(g[7])
        o["short"] += max(0, int(g[3]) - int(g[2])) + \
            max(0, int(g[7]) - int(g[6]))
        o["pta"].add(g[4])
        o["ptb"].add(g[8])
        if g[10]:
            o["p50"].append(int(g[10]))
            o["p99"].append(int(g[11]))
    for o in out.values():
        o["pt"] = "%s / %s" % (",".join(sorted(o["pta"])),
                               ",".join(sorted(o["ptb"])))
        o["loss"] = "%d+%d/%d" % (o["lost"], o["short"], o["exp"])
        o["lat"] = "%d / %d" % (max(o["p50"]), max(o["p99"])) \
            if o["p50"] else "-"
    return out


mp = parse(sys.argv[2], "mediaproxyd")
rtpe = parse(sys.argv[3], "rtpengine")


def pct(a, b):
    return "%.0f%%" % (100.0 * a / b) if a and b else "-"


print()
print("%-16s %6s %7s %6s %10s %6s %11s %6s %10s %6s %9s" % ("channels/core",
      "raw", "engine", "ratio", "engine+io", "ratio", "mediaproxyd",
      "ratio", "rtpengine", "ratio", "mp/rtpe"))
for k, (raw, e, eio) in eng.items():
    m = mp.get(k, {}).get("ch")
    r = rtpe.get(k, {}).get("ch")
    print("%-16s %6d %7d %6s %10d %6s %11s %6s %10s %6s %9s" % (k, raw, e,
          pct(e, raw), eio, pct(eio, raw), m or "-", pct(m, raw),
          r or "-", pct(r, raw), "%.2fx" % (m / r) if m and r else "-"))
print()
print("received: PTs at caller / callee; lost = sequence gaps + packets "
      "short / expected, all rounds; added latency callee->caller, worst "
      "round, ms")
print("%-16s %-10s %-16s %-14s %-10s %-16s %-14s" % ("",
      "mp PT", "mp lost", "mp p50/p99", "rtpe PT",
      "rtpe lost", "rtpe p50/p99"))
for k in eng:
    m, r = mp.get(k, {}), rtpe.get(k, {})
    print("%-16s %-10s %-16s %-14s %-10s %-16s %-14s" % (k,
          m.get("pt", "-"), m.get("loss", "-"), m.get("lat", "-"),
          r.get("pt", "-"), r.get("loss", "-"), r.get("lat", "-")))
PY
