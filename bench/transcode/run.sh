#!/usr/bin/env bash
# run.sh - bench/transcode: concurrent real-time transcoding channels per
# core for PCMA<->G.729 and PCMA<->Opus (8k, 48k): our engine, the raw codec
# loop (the limit) and rtpengine (Debian, userspace) in one run, with the
# ratio of each to the raw loop.
#   CALLS=10 SECONDS_RT=10 bench/transcode/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$("$here/build.sh")
work=$(mktemp -d /tmp/transcode-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$root/$bin" -t "${SECONDS_CPU:-20}" -n 4 -r "${ROUNDS:-5}" | tee "$work/engine.txt"
"$root/$bin" -d "$work"
if command -v rtpengine >/dev/null; then
	python3 "$here/rtpengine_bench.py" "$work" --calls "${CALLS:-10}" \
		--seconds "${SECONDS_RT:-10}" | tee "$work/rtpengine.txt"
else
	echo "rtpengine not installed: no reference column" | tee "$work/rtpengine.txt"
fi

python3 - "$work/engine.txt" "$work/rtpengine.txt" <<'PY'
import re, sys
eng = {}
for line in open(sys.argv[1]):
    m = re.match(r"(PCMA<->\S+(?: \d+k)?)\s+(\d+)\s+(\d+)\s+\d+%\s+(\d+)\s+\d+%\s+(\d+)", line)
    if m:
        eng[m.group(1)] = [int(m.group(2)), int(m.group(3)), int(m.group(5))]
rtpe = {}
names = {"g729": "PCMA<->G.729", "opus8": "PCMA<->Opus 8k",
         "opus48": "PCMA<->Opus 48k"}
for line in open(sys.argv[2]):
    m = re.match(r"rtpengine (\w+)\s.*->\s+(\d+) ch/core", line)
    if m:
        rtpe[names[m.group(1)]] = int(m.group(2))
print()
print("%-16s %6s %7s %6s %10s %6s %10s %6s %10s" % ("channels/core",
      "raw", "engine", "ratio", "engine+io", "ratio", "rtpengine", "ratio",
      "ours+io/rtpe"))
for k, (raw, e, eio) in eng.items():
    r = rtpe.get(k)
    print("%-16s %6d %7d %5.0f%% %10d %5.0f%% %10s %6s %10s" % (k, raw, e,
          100.0 * e / raw, eio, 100.0 * eio / raw, r if r else "-",
          "%.0f%%" % (100.0 * r / raw) if r else "-",
          "%.1fx" % (eio / r) if r else "-"))
PY
