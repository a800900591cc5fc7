#!/usr/bin/env bash
# bench/prefix/run.sh - longest-prefix lookups per second over 100 000
# prefixes: common/prefix.c (routing, buy rates, rate tables) against a
# scan of every prefix and a binary search per digit, in one run
#
# Environment: PREFIX_N 100000 (prefixes)   PREFIX_Q 200000 (lookups)
#   PREFIX_OUT <file> (also append the table to it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build/rel/bench
mkdir -p "$out"
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I"$root" \
	-o "$out/prefix_bench" "$here/prefix_bench.c" "$root/common/prefix.c"
table=$("$out/prefix_bench" "${PREFIX_N:-100000}" "${PREFIX_Q:-200000}")
echo "$table"
[ -z "${PREFIX_OUT:-}" ] || echo "$table" >>"$PREFIX_OUT"
