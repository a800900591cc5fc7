# shellcheck shell=bash disable=SC2154,SC2153	# root, work, KEEP: set by the sourcing script
# bench/lib.sh - process handling shared by the benchmark scripts (sourced)
#
# The sourcing script sets, before it sources this file:
#   root      the repository
#   work      its work directory (removed on exit unless KEEP=1)
#   KEEP      1 = keep the work directory
#   BENCH_TAG prefix of its log lines ("sip_cps", "billing")
# and appends every process it starts to pids; pg_dir names the private
# PostgreSQL (deploy/pg.sh) once there is one.  Sourcing installs the EXIT
# trap that stops all of them.
pids=()		# every process we started, stopped by pid on exit
pg_dir=""

log() { printf '%s\n' "$*" >&2; }

# shellcheck disable=SC2317	# called by the EXIT trap
bench_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 25); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$p" 2>/dev/null
	done
	pids=()
	[ -n "$pg_dir" ] && "$root/deploy/pg.sh" stop "$pg_dir" >/dev/null 2>&1
	pg_dir=""
	if [ "$KEEP" = 1 ]; then
		log "$BENCH_TAG: work dir kept: $work"
	else
		rm -rf "$work"
	fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# stop one process we started (by pid) and forget it
stop_pid() {
	local p=$1 q keep=()
	kill "$p" 2>/dev/null
	for _ in $(seq 80); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for q in "${pids[@]}"; do
		[ "$q" = "$p" ] || keep+=("$q")
	done
	pids=("${keep[@]}")
}
