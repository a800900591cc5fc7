#!/usr/bin/env bash
# run.sh - build every libFuzzer harness in tests/fuzz and run each for a
# bounded time.  A harness names what it links in its first lines:
#   // FUZZ_SOURCES: common/envelope.c ...
#   // FUZZ_LIBS: -ljansson ...
# FUZZ_SOURCES may use globs (billingd/*.c): a daemon's main.c is left out,
# so a harness keeps building when the daemon gains a file.  Either line may
# be given more than once (keep each under 80 columns: clang-format wraps
# longer comments and the wrapped part would be lost).
#
# Usage: tests/fuzz/run.sh [SECONDS_PER_HARNESS] [harness ...]
#   SECONDS_PER_HARNESS: else $FUZZ_TIME, else 30 (`make fuzz`);
#   `make fuzz-long` passes FUZZ_TIME (default 3600); 0 builds every
#   harness and replays its corpus once, finding nothing new (`make test`:
#   a harness that no longer builds fails the suite).
#
# Each harness keeps its corpus in build/fuzz/NAME.corpus between runs (seeded
# from tests/fuzz/corpus/NAME), writes its log to build/fuzz/NAME.log and any
# crashing input to build/fuzz/NAME.crash-*.  At the end a summary table
# (harness, seconds, runs, execs/s, coverage at start and end, new corpus
# units, crashes) is printed and written to build/fuzz/summary.md.
# Exit status: 0 clean, 1 a harness crashed or did not build.
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-${FUZZ_TIME:-30}}
shift || true
case $secs in
'' | *[!0-9]*)
	echo "run.sh: seconds per harness must be a whole number" >&2
	exit 2
	;;
esac
out=build/fuzz
mkdir -p "$out"

flags="-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -I. -D_GNU_SOURCE
 -DTANDEM_VERSION=\"fuzz\" -isystem /usr/include/sofia-sip-1.12
 -isystem /usr/include/re -isystem /usr/include/rem -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DLINUX
 -isystem /usr/include/opus -isystem /usr/include/postgresql"

harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(tests/fuzz/fuzz_*.c)

# the value of libFuzzer's final "stat::NAME: N" line in a log, else "-"
stat() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1 | grep . || echo -
}

# "cov: N" of the first line matching $1 (INITED / DONE) in a log, else "-"
cov() {
	sed -n "s/^#[0-9]*[[:space:]]*$1[[:space:]]*cov: \([0-9]*\).*/\1/p" "$2" |
		head -n 1 | grep . || echo -
}

summary="$out/summary.md"
rows="$out/.summary.$$"
trap 'rm -f "$rows"' EXIT
{
	echo "| harness | s | runs | execs/s | cov start | cov end | new units | crashes |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$rows"

fail=0
for h in "${harnesses[@]}"; do
	name=$(basename "$h" .c)
	# globs expand here; a daemon's main.c never links into a harness
	# shellcheck disable=SC2046,SC2086
	srcs=$(printf '%s\n' $(sed -n 's#^// FUZZ_SOURCES:##p' "$h") |
		grep -v '/main\.c$' | sort -u | tr '\n' ' ')
	libs=$(sed -n 's#^// FUZZ_LIBS:##p' "$h")
	echo "== $name: build"
	# shellcheck disable=SC2086
	if ! clang $flags -o "$out/$name" "$h" $srcs $libs; then
		echo "!! $name did not build"
		echo "| $name | $secs | - | - | - | - | - | build failed |" >>"$rows"
		fail=1
		continue
	fi
	corpus="$out/$name.corpus"
	mkdir -p "$corpus"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	rm -f "$out/$name".crash-* "$out/$name".leak-* "$out/$name".timeout-* \
		"$out/$name".oom-*
	echo "== $name: run ${secs}s"
	crashes=0
	# 0 s: replay the corpus once, no new inputs (make test)
	limit=-max_total_time="$secs"
	[ "$secs" != 0 ] || limit=-runs=0
	if ! "$out/$name" "$limit" -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$out/$name." \
		"$corpus" >"$out/$name.log" 2>&1; then
		echo "!! $name found a crash: see $out/$name.log"
		tail -n 40 "$out/$name.log"
		crashes=$(find "$out" -maxdepth 1 -name "$name.*-*" -type f |
			wc -l)
		[ "$crashes" -gt 0 ] || crashes=1
		fail=1
	fi
	log="$out/$name.log"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$secs" \
		"$(stat number_of_executed_units "$log")" \
		"$(stat average_exec_per_sec "$log")" \
		"$(cov INITED "$log")" "$(cov DONE "$log")" \
		"$(stat new_units_added "$log")" "$crashes" >>"$rows"
	grep -E 'stat::number_of_executed_units' "$log" || true
done
mv "$rows" "$summary"
echo "== summary ($summary)"
cat "$summary"
exit $fail
