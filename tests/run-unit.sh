#!/usr/bin/env bash
# run-unit.sh - run each unit test binary given as an argument under a timeout
#
#   tests/run-unit.sh build/san/tests/test_common_conf ...
#
# Each binary runs alone (cmocka output passes through); a binary that fails,
# crashes, or runs longer than UNIT_TIMEOUT seconds (default 120) counts as a
# failure.  The last line is "unit: N passed, N failed"; the exit status is
# non-zero when anything failed or when no test binary was given.
set -uo pipefail

timeout_s=${UNIT_TIMEOUT:-120}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

pass=0
fail=0
failed=()
for t in "$@"; do
	if [ ! -x "$t" ]; then
		echo "run-unit: $t: not an executable" >&2
		fail=$((fail + 1)); failed+=("$t")
		continue
	fi
	echo "=== $t"
	timeout --kill-after=10 "$timeout_s" "$t"
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
	else
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "run-unit: $t: timed out after ${timeout_s}s" >&2
		else
			echo "run-unit: $t: exit status $rc" >&2
		fi
		fail=$((fail + 1)); failed+=("$t")
	fi
done

if [ $# -eq 0 ]; then
	echo "run-unit: no unit test binaries given" >&2
	echo "unit: 0 passed, 1 failed"
	exit 1
fi
for t in "${failed[@]}"; do
	echo "FAILED: $t"
done
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ]
