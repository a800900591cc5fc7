#!/usr/bin/env bash
# run.sh - bench/transcode: concurrent real-time transcoding channels per
# core for PCMA<->G.729, PCMA<->Opus (8k, 48k) and, in process only, PCMA<->G.723.1: the raw codec loop (the
# limit in-process), the raw codec+socket loop driven by real RTP (raw-rt:
# rawrelay.c, the limit for a real-time network transcoder), our engine
# in-process, our engine inside a running mediaproxyd and rtpengine (Debian,
# userspace) in one run, with the ratio of each to the raw loop, of
# mediaproxyd (and rtpengine) to raw-rt and of mediaproxyd to rtpengine.
#   CALLS=20 SECONDS_RT=10 bench/transcode/run.sh
# PORT_OFFSET=N moves every fixed port of the three drivers (mediaproxyd's
# bus 17641 and RTP 32000-32999, rtpengine's ng 22999 and RTP 42000-43999,
# rawrelay's 46000-) by N, for a run beside another one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$("$here/build.sh")
work=$(mktemp -d /tmp/transcode-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
off=${PORT_OFFSET:-0}

"$root/$bin" -t "${SECONDS_CPU:-20}" -n 4 -r "${ROUNDS:-5}" | tee "$work/engine.txt"
"$root/$bin" -d "$work"

# mediaproxyd: built by the top Makefile (only its own targets)
make -s -C "$root" build/rel/mediaproxyd build/rel/tests/busprobe >&2 ||
	echo "warning: make failed, using the existing build/rel/mediaproxyd" >&2
# every round runs the same binaries, even if the shared tree is rebuilt
cp "$root/build/rel/mediaproxyd" "$root/build/rel/tests/busprobe" \
	"$root/$(dirname "$bin")/rawrelay" "$work/"
# ROUNDS_RT alternating rounds of mediaproxyd, rawrelay (raw-rt, built by
# build.sh next to transcode_bench) and rtpengine; the summary
# keeps each one's best round (the least disturbed by other processes, as
# for the in-process columns) and sums loss over all rounds
: >"$work/mediaproxyd.txt"
: >"$work/rtpengine.txt"
: >"$work/rawrelay.txt"
for round in $(seq "${ROUNDS_RT:-3}"); do
	echo "round $round" >&2
	python3 "$here/mediaproxyd_bench.py" "$work" --calls "${CALLS:-20}" \
		--seconds "${SECONDS_RT:-10}" --bus-port $((17641 + off)) \
		--port-min $((32000 + off)) --binary "$work/mediaproxyd" \
		--busprobe "$work/busprobe" | tee -a "$work/mediaproxyd.txt"
	python3 "$here/rawrelay_bench.py" "$work" --calls "${CALLS:-20}" \
		--seconds "${SECONDS_RT:-10}" --port-base $((46000 + off)) \
		--binary "$work/rawrelay" | tee -a "$work/rawrelay.txt"
	if command -v rtpengine >/dev/null; then
		python3 "$here/rtpengine_bench.py" "$work" --calls "${CALLS:-20}" \
			--seconds "${SECONDS_RT:-10}" --ng-port $((22999 + off)) \
			--port-min $((42000 + off)) | tee -a "$work/rtpengine.txt"
	elif [ "$round" = 1 ]; then
		echo "rtpengine not installed: no reference column" >&2
	fi
done

python3 - "$work/engine.txt" "$work/mediaproxyd.txt" "$work/rtpengine.txt" \
	"$work/rawrelay.txt" <<'PY'
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
        short = max(0, int(g[3]) - int(g[2])) + max(0, int(g[7]) - int(g[6]))
        # a round that lost more than 1 % (the process died, ports taken)
        # measured less work: its channels/core is not a candidate
        if short * 100 <= int(g[3]) + int(g[7]):
            o["ch"] = max(o["ch"], int(g[1]))
            if g[10]:
                o["p50"].append(int(g[10]))
                o["p99"].append(int(g[11]))
        else:
            o["bad"] = o.get("bad", 0) + 1
        # sequence gaps at both ends / packets expected at both ends
        o["lost"] += int(g[5]) + int(g[9])
        o["exp"] += int(g[3]) + int(g[7])
        o["short"] += short
        o["pta"].add(g[4])
        o["ptb"].add(g[8])
    for k, o in out.items():
        if o.get("bad"):
            print("%s %s: %d of %d rounds more than 1 %% short, not used "
                  "for channels/core and latency" % (who, k, o["bad"],
                                                     o["n"]))
        o["pt"] = "%s / %s" % (",".join(sorted(o["pta"])),
                               ",".join(sorted(o["ptb"])))
        o["loss"] = "%d+%d/%d" % (o["lost"], o["short"], o["exp"])
        o["lat"] = "%d / %d" % (max(o["p50"]), max(o["p99"])) \
            if o["p50"] else "-"
    return out


mp = parse(sys.argv[2], "mediaproxyd")
rtpe = parse(sys.argv[3], "rtpengine")
rrt = parse(sys.argv[4], "rawrelay")


def pct(a, b):
    return "%.0f%%" % (100.0 * a / b) if a and b else "-"


print()
print("ratio: of the column before to raw; /raw-rt: of the column before "
      "(mediaproxyd, rtpengine) to raw-rt")
print("%-16s %5s %6s %6s %6s %6s %9s %6s %11s %6s %7s %9s %6s %7s %8s" % (
      "channels/core", "raw", "raw-rt", "ratio", "engine", "ratio",
      "engine+io", "ratio", "mediaproxyd", "ratio", "/raw-rt", "rtpengine",
      "ratio", "/raw-rt", "mp/rtpe"))
for k, (raw, e, eio) in eng.items():
    rt = rrt.get(k, {}).get("ch")
    m = mp.get(k, {}).get("ch")
    r = rtpe.get(k, {}).get("ch")
    print("%-16s %5d %6s %6s %6d %6s %9d %6s %11s %6s %7s %9s %6s %7s %8s" % (
          k, raw, rt or "-", pct(rt, raw), e, pct(e, raw), eio,
          pct(eio, raw), m or "-", pct(m, raw), pct(m, rt), r or "-",
          pct(r, raw), pct(r, rt), "%.2fx" % (m / r) if m and r else "-"))
print()
print("received: PTs at caller / callee; lost = sequence gaps + packets "
      "short / expected, all rounds; added latency callee->caller, worst "
      "round, ms")
fmt = "%-16s" + " %-9s %-14s %-9s" * 3
print(fmt % ("", "raw-rt PT", "raw-rt lost", "p50/p99", "mp PT", "mp lost",
             "p50/p99", "rtpe PT", "rtpe lost", "p50/p99"))
for k in eng:
    row = [k]
    for d in (rrt, mp, rtpe):
        x = d.get(k, {})
        row += [x.get("pt", "-"), x.get("loss", "-"), x.get("lat", "-")]
    print(fmt % tuple(row))

# memory per transcoded session in mediaproxyd: the largest of the rounds
mem = {}
for line in open(sys.argv[2]):
    m = re.match(r"mediaproxyd (\w+) memory: ([\d.]+) kB", line)
    if m:
        k = names[m.group(1)]
        mem[k] = max(mem.get(k, 0.0), float(m.group(2)))
if mem:
    print()
    print("mediaproxyd memory per transcoded session (VmRSS with the calls "
          "up after the traffic minus before, / calls; largest round)")
    for k in eng:
        if k in mem:
            print("%-16s %7.1f kB" % (k, mem[k]))
PY
