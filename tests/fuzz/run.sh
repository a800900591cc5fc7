#!/usr/bin/env bash
# run.sh - build every libFuzzer harness in tests/fuzz and run each for a
# bounded time.  A harness names what it links in its first lines:
#   // FUZZ_SOURCES: common/envelope.c ...
#   // FUZZ_LIBS: -ljansson ...
# Usage: tests/fuzz/run.sh [SECONDS_PER_HARNESS (default 30)] [harness ...]
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-30}
shift || true
out=build/fuzz
mkdir -p "$out"

flags="-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -I. -D_GNU_SOURCE
 -DTANDEM_VERSION=\"fuzz\" -isystem /usr/include/sofia-sip-1.12
 -isystem /usr/include/re -isystem /usr/include/rem -DHAVE_INTTYPES_H -DLINUX
 -isystem /usr/include/opus -isystem /usr/include/postgresql"

harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(tests/fuzz/fuzz_*.c)

fail=0
for h in "${harnesses[@]}"; do
	name=$(basename "$h" .c)
	srcs=$(sed -n 's#^// FUZZ_SOURCES:##p' "$h")
	libs=$(sed -n 's#^// FUZZ_LIBS:##p' "$h")
	echo "== $name: build"
	# shellcheck disable=SC2086
	clang $flags -o "$out/$name" "$h" $srcs $libs
	corpus="$out/$name.corpus"
	mkdir -p "$corpus"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	echo "== $name: run ${secs}s"
	if ! "$out/$name" -max_total_time="$secs" -max_len=65536 \
		-print_final_stats=1 "$corpus" >"$out/$name.log" 2>&1; then
		echo "!! $name found a crash: see $out/$name.log"
		tail -n 40 "$out/$name.log"
		fail=1
	else
		grep -E 'stat::number_of_executed_units' "$out/$name.log" || true
	fi
done
exit $fail
