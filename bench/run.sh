#!/usr/bin/env bash
# bench/run.sh - what `make bench` runs: every bench/*/run.sh that exists
#
# Each benchmark prints its own comparison table (DESIGN.md "Benchmarks").
# A missing benchmark is skipped; a failing one is reported and the others
# still run.  Exit status: 0 when every benchmark that ran succeeded.
# BENCH="sip_cps transcode" runs only those.
set -u
here=$(cd "$(dirname "$0")" && pwd)
rc=0
ran=0
for d in "$here"/*/; do
	name=$(basename "$d")
	if [ -n "${BENCH:-}" ] && ! printf ' %s ' "$BENCH" | grep -q " $name "; then
		continue
	fi
	[ -f "$d/run.sh" ] || continue
	echo "==== bench/$name"
	if bash "$d/run.sh"; then
		ran=$((ran + 1))
	else
		echo "bench/$name: failed (exit $?)" >&2
		rc=1
	fi
	echo
done
[ "$ran" -gt 0 ] || [ "$rc" -ne 0 ] || echo "bench: no benchmark found under bench/*/run.sh"
exit $rc
