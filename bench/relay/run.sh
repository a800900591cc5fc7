#!/usr/bin/env bash
# run.sh - bench/relay: RTP relay packets per second per core, loss, added
# latency and memory per relayed session of mediaproxyd (plain relay, PCMA
# both legs, no engine), rtpengine (Debian, userspace) and the bare
# forwarder fwd.c (the practical limit: recvmmsg + one sendto a packet, and
# "fwd-mmsg": recvmmsg + sendmmsg), in one run, with the ratios.
#   CALLS=100 SECONDS_RT=10 ROUNDS=3 bench/relay/run.sh
# Each round runs fwd, fwd-mmsg, mediaproxyd and rtpengine one after the
# other (relay_bench.py: N calls of 50 packets/s each way, spread over the
# 20 ms); the table keeps each one's best round of packets/s per core (the
# least disturbed by other processes) among rounds that lost <= 1 % and
# reached >= 95 % of the offered rate, with that round's latency; loss is
# summed over all rounds, kB/session is the largest of the rounds.
# PORT_OFFSET=N moves every fixed port (bus 17741-17743, RTP 50000-57999)
# by N, for a run beside another one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$("$here/build.sh")
work=$(mktemp -d /tmp/relay-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
off=${PORT_OFFSET:-0}
calls=${CALLS:-100}
secs=${SECONDS_RT:-10}

# mediaproxyd and busprobe: built by the top Makefile (only these targets)
make -s -C "$root" build/rel/mediaproxyd build/rel/tests/busprobe >&2 ||
	echo "warning: make failed, using the existing build/rel/mediaproxyd" >&2
# every round runs the same binaries, even if the shared tree is rebuilt
cp "$root/build/rel/mediaproxyd" "$root/build/rel/tests/busprobe" \
	"$root/$bin" "$work/"

targets="fwd fwdm mediaproxyd"
if command -v rtpengine >/dev/null; then
	targets="$targets rtpengine"
else
	echo "rtpengine not installed: no reference column" >&2
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
: >"$work/results.txt"
for round in $(seq "${ROUNDS:-3}"); do
	echo "round $round" >&2
	for t in $targets; do
		case $t in
		fwd | fwdm) b=$work/fwd ;;
		mediaproxyd) b=$work/mediaproxyd ;;
		*) b=rtpengine ;;
		esac
		python3 "$here/relay_bench.py" "$t" "$work" --calls "$calls" \
			--seconds "$secs" --port-offset "$off" --binary "$b" \
			--busprobe "$work/busprobe" | tee -a "$work/results.txt"
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work/results.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 3 or f[0] != "relay":
        continue
    d = dict(x.split("=", 1) for x in f[2:])
    d = {k: float(v) for k, v in d.items()}
    o = rows.setdefault(f[1], {"best": None, "lost": 0, "sent": 0,
                               "kb": 0.0, "n": 0, "bad": 0})
    o["n"] += 1
    o["lost"] += d["lost"]
    o["sent"] += d["sent"]
    o["kb"] = max(o["kb"], d["kb_session"])
    ok = (d["lost"] * 100 <= d["sent"] and
          d["offered_pps"] >= 0.95 * d["target_pps"])
    if not ok:
        o["bad"] += 1
    elif o["best"] is None or d["pps_core"] > o["best"]["pps_core"]:
        o["best"] = d

names = [("fwd", "fwd (sendto)"), ("fwdm", "fwd-mmsg"),
         ("mediaproxyd", "mediaproxyd"), ("rtpengine", "rtpengine")]


def pps(k):
    b = rows.get(k, {}).get("best")
    return b["pps_core"] if b else None


def ratio(a, b):
    a, b = pps(a), pps(b)
    return "%.0f%%" % (100.0 * a / b) if a and b else "-"


print()
print("%-14s %10s %9s %9s %9s %9s %14s %10s" % (
    "relay", "pkts/s", "offered", "pps/core", "p50 ms", "p99 ms",
    "lost/sent", "kB/session"))
for k, label in names:
    o = rows.get(k)
    if not o:
        continue
    b = o["best"]
    if o["bad"]:
        print("%s: %d of %d rounds lost > 1 %% or fell short of the "
              "offered rate, not used" % (label, o["bad"], o["n"]))
    if b is None:
        print("%-14s %10s" % (label, "no usable round"))
        continue
    kb = "%.1f" % o["kb"] if k in ("mediaproxyd", "rtpengine") else "-"
    print("%-14s %10.0f %9.0f %9.0f %9.3f %9.3f %14s %10s" % (
        label, b["target_pps"], b["offered_pps"], b["pps_core"],
        b["p50_ms"], b["p99_ms"], "%d/%d" % (o["lost"], o["sent"]), kb))
print()
print("mediaproxyd / fwd (sendto)  %s   (target >= 85 %%)" %
      ratio("mediaproxyd", "fwd"))
print("mediaproxyd / fwd-mmsg      %s" % ratio("mediaproxyd", "fwdm"))
print("mediaproxyd / rtpengine     %s" % ratio("mediaproxyd", "rtpengine"))
print("fwd (sendto) / rtpengine    %s" % ratio("fwd", "rtpengine"))
print("kB/session: VmRSS with the calls up minus before, / calls "
      "(target mediaproxyd < 8 kB)")
print("latency: send -> receive through the relay, Python generator "
      "included (fwd = that floor)")
PY
