#!/usr/bin/env bash
# lint.sh - static checks: cppcheck and clang-tidy over the project's C code.
# Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

srcs=$(git ls-files '*.c' | grep -v '^tests/fuzz/' || true)
incs="-I. -isystem /usr/include/sofia-sip-1.12 -isystem /usr/include/re
 -isystem /usr/include/rem -isystem /usr/include/opus
 -isystem /usr/include/postgresql"
defs="-D_GNU_SOURCE -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DLINUX -DTANDEM_VERSION=\"lint\""

echo "== cppcheck"
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
	--enable=warning,portability --suppress=missingIncludeSystem \
	-I. $defs $srcs

echo "== clang-tidy"
fail=0
for f in $srcs; do
	# shellcheck disable=SC2086
	if ! out=$(clang-tidy --quiet "$f" -- -std=gnu11 $incs $defs 2>/dev/null); then
		fail=1
	fi
	if echo "$out" | grep -qE '(warning|error):'; then
		echo "$out"
		fail=1
	fi
done
[ $fail = 0 ] && echo "lint: clean"
exit $fail
