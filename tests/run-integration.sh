#!/usr/bin/env bash
# run-integration.sh - the integration suite (real PostgreSQL, daemons, sipp)
#
#   BUILD=build/san tests/run-integration.sh [pytest args...]
#
# BUILD names the build directory whose daemons the tests run (default
# build/san, the ASan/UBSan build).  Debian's pytest is used on purpose
# (/usr/bin/python3), whatever python3 comes first in PATH.  pytest's exit
# status 5 (no test collected) counts as a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

export BUILD=${BUILD:-build/san}
case "$BUILD" in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export PYTHONDONTWRITEBYTECODE=1

/usr/bin/python3 -m pytest -v -p no:cacheprovider tests/integration "$@"
rc=$?
if [ $rc -eq 5 ]; then
	echo "run-integration: no test was collected" >&2
	exit 1
fi
exit $rc
