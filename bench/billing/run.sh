#!/usr/bin/env bash
# bench/billing/run.sh - billingd: credit authorizations/s and rated CDRs/s
# stored, vs single-row INSERT and raw COPY into the same cdr table
#
# In one run, on one private PostgreSQL (deploy/pg.sh, fsync=off like the
# tests), with billingd (build/rel) on the same host:
#   auth1   bdload keeps INFLIGHT auth.request in flight on billingd's bus
#           socket for SECONDS (prepaid account, big balance, 101-entry rate
#           table; every reply must be allow:true) -> authorizations/s, p50/p99
#   auth    the same in batches of AUTH_BATCH requests per message, as
#           signalingd sends them under load (docs/bus.md "Batches")
#   cdr     bdload keeps INFLIGHT cdr.submit (complete answered CDRs, unique
#           ids, one attempt, rtp stats) in flight for SECONDS, in batches
#           of CDR_BATCH -> CDRs
#           acknowledged/s; then checks: rows in cdr == acknowledged CDRs,
#           the account's balance moved by exactly the sum of the
#           acknowledged fees == sum(cdr.fee), and every fee is the one the
#           rate table gives (int64 micro-units)
#   insert  billingd stopped; the same number of equivalent cdr rows, one
#           prepared single-row INSERT per row in autocommit, over
#           INSERT_CONNS connections (billingd's pool size) -> rows/s
#   copy    the same number of rows in one COPY ... FROM STDIN -> rows/s,
#           three times: the median run is the reference
# The reference rows are deleted (and the table vacuumed) after each.
# billingd does more per CDR than the references (decode, rate, the resend check,
# the attempts, balance update, balance_history, the reply): the references
# write the cdr rows only, as the DESIGN target is stated.
# CPU: ms per operation of billingd and of PostgreSQL (postmaster and all
# its processes, /proc), and of the load client itself.
#
# Environment (defaults):
#   BILLING_SECONDS 10   BILLING_AUTH_INFLIGHT 128   BILLING_CDR_INFLIGHT 256
#   BILLING_AUTH_BATCH 32   BILLING_CDR_BATCH 32 (requests per bus message,
#   docs/bus.md "Batches"; auth also runs once with 1 per message)
#   BILLING_INSERT_CONNS 4   BILLING_BASE_PORT 17800 (bus +11, HTTP +80,
#   PostgreSQL 55532 = BILLING_PG_PORT)   BILLING_BIN build/rel
#   BILLING_PERF 0 (1: perf record billingd during auth and cdr, print the
#   hottest symbols)   BILLING_KEEP 0 (1: keep the work dir)
#   BILLING_OUT <file> (also append the table, markdown, to it)
# Loopback only; every process it starts is stopped by pid on exit.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

SECONDS_RUN=${BILLING_SECONDS:-10}
AUTH_INFLIGHT=${BILLING_AUTH_INFLIGHT:-128}
CDR_INFLIGHT=${BILLING_CDR_INFLIGHT:-256}
AUTH_BATCH=${BILLING_AUTH_BATCH:-32}
CDR_BATCH=${BILLING_CDR_BATCH:-32}
INSERT_CONNS=${BILLING_INSERT_CONNS:-4}
BASE=${BILLING_BASE_PORT:-17800}
PG_PORT=${BILLING_PG_PORT:-55532}
BIN=${BILLING_BIN:-$root/build/rel}
PERF=${BILLING_PERF:-0}
KEEP=${BILLING_KEEP:-0}
OUT=${BILLING_OUT:-}

BUS_PORT=$((BASE + 11))
BD_BUS=tcp://127.0.0.1:$BUS_PORT
BD_HTTP_PORT=$((BASE + 80))
SG_CONTROL=tcp://127.0.0.1:$((BASE + 2))	# nothing listens: no signalingd

work=$(mktemp -d /tmp/billing_bench.XXXXXX)
chmod 755 "$work"
BENCH_TAG=billing
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bd_pid=""

port_busy() {
	ss -lnt 2>/dev/null | awk '{print $4}' | grep -q ":$1\$"
}

need() {
	command -v "$1" >/dev/null 2>&1 || { log "billing: $1 not found ($2)"; exit 1; }
}
need psql "apt-get install postgresql-client"
need ss "apt-get install iproute2"
for b in billingd tandemctl; do
	[ -x "$BIN/$b" ] || { log "billing: $BIN/$b not built (make build/rel/$b)"; exit 1; }
done
for p in $BUS_PORT $BD_HTTP_PORT $PG_PORT; do
	port_busy "$p" && { log "billing: port $p is in use; set BILLING_BASE_PORT / BILLING_PG_PORT"; exit 1; }
done

# the load client: rebuilt when its source is newer
bdload=$root/build/rel/bench/bdload
if [ ! -x "$bdload" ] || [ "$here/bdload.c" -nt "$bdload" ]; then
	sh "$here/build.sh" >/dev/null || { log "billing: bdload does not build"; exit 1; }
fi

# CPU ms (user+system, with reaped children) of the given pids and their
# live children
cpu_ms() {
	local p c all=() hz
	hz=$(getconf CLK_TCK)
	for p in "$@"; do
		[ -n "$p" ] || continue
		all+=("$p")
		for c in $(pgrep -P "$p" 2>/dev/null); do all+=("$c"); done
	done
	for p in "${all[@]}"; do
		sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }'
	done | awk -v hz="$hz" '{ t += $1 } END { printf "%d\n", t * 1000 / hz }'
}

sql() {
	psql -h 127.0.0.1 -p "$PG_PORT" -U tandem -d tandem -tAq -F ' ' -v ON_ERROR_STOP=1 -c "$1"
}

# value of key K in a bdload output file
kv() {
	sed -n "s/^$2=//p" "$1" | head -n 1
}

per_op() {	# ms ops
	awk -v c="$1" -v n="$2" 'BEGIN { printf "%.3f", (n > 0 ? c / n : 0) }'
}

# ---------------------------------------------------------------- setup

log "billing: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); ${SECONDS_RUN}s per load"
pg_dir="$work/pg"
"$root/deploy/pg.sh" start "$pg_dir" "$PG_PORT" >"$work/pg.log" 2>&1 || {
	cat "$work/pg.log" >&2; pg_dir=""; log "billing: PostgreSQL did not start"; exit 1; }
conninfo=$("$root/deploy/pg.sh" conninfo "$PG_PORT")
pg_pid=$(head -n 1 "$pg_dir/postmaster.pid")
"$BIN/tandemctl" -d "$conninfo" --schema-dir "$root/schema" db migrate >"$work/migrate.log" 2>&1 || {
	cat "$work/migrate.log" >&2; log "billing: tandemctl db migrate failed"; exit 1; }

# rate table: "1" and the 100 prefixes 1200..1299 the load uses, all
# 0.0100/min 6/6 (bdload knows the fee: 1000 micro-units per started 6 s)
entries() {	# rate
	local i sep=""
	printf '{"prefix": "1", "area_name": "bench", "connect_fee": "0", "first_interval": 6, "first_rate": "%s", "next_interval": 6, "next_rate": "%s"}' "$1" "$1"
	sep=","
	for i in $(seq 1200 1299); do
		printf '%s\n   {"prefix": "%s", "area_name": "bench %s", "connect_fee": "0", "first_interval": 6, "first_rate": "%s", "next_interval": 6, "next_rate": "%s"}' "$sep" "$i" "$i" "$1" "$1"
	done
}
cat >"$work/bench.json" <<EOF
{
 "rate_tables": [
  {"name": "bench_sell", "entries": [
   $(entries 0.0100)]},
  {"name": "bench_buy", "entries": [
   $(entries 0.0050)]}],
 "accounts": [
  {"name": "bench_cust", "type": "customer", "balance": "1000000000",
   "credit_limit": "0", "billing_type": "prepaid", "rate_table": "bench_sell",
   "max_concurrent_calls": 0},
  {"name": "bench_vend", "type": "vendor", "buy_rate_table": "bench_buy"}],
 "mapping_gateways": [
  {"name": "bench_mg", "account": "bench_cust", "auth_mode": "ip",
   "ips": ["127.0.0.1"], "ports": [], "cps_limit": 0, "max_concurrent_calls": 0}],
 "routing_gateways": [
  {"name": "bench_gw", "account": "bench_vend", "address": "127.0.0.1",
   "port": 5060, "transport": "udp", "prefixes": ["1"], "priority": 1,
   "line_limit": 0, "gateway_prefix": "", "switch_until_connect": true,
   "protect_route": false, "locked": false}]
}
EOF
"$BIN/tandemctl" -d "$conninfo" provision "$work/bench.json" >"$work/provision.log" 2>&1 || {
	tail -n 20 "$work/provision.log" >&2; log "billing: tandemctl provision failed"; exit 1; }
acc_id=$(sql "SELECT id FROM accounts WHERE name = 'bench_cust'")
[ -n "$acc_id" ] || { log "billing: account bench_cust missing"; exit 1; }

cat >"$work/billingd.conf" <<EOF
# generated by bench/billing/run.sh
node_id bd-bench
bus_listen $BD_BUS
signaling_url $SG_CONTROL
db $conninfo
http_listen 127.0.0.1:$BD_HTTP_PORT
log_level warn
EOF
"$BIN/billingd" -t -f "$work/billingd.conf" >"$work/billingd.check" 2>&1 || {
	cat "$work/billingd.check" >&2; exit 1; }
"$BIN/billingd" -F -f "$work/billingd.conf" >"$work/billingd.log" 2>&1 &
bd_pid=$!
pids+=("$bd_pid")
for _ in $(seq 100); do
	port_busy "$BUS_PORT" && break
	kill -0 "$bd_pid" 2>/dev/null || break
	sleep 0.1
done
port_busy "$BUS_PORT" || { tail -n 20 "$work/billingd.log" >&2; log "billing: billingd did not start"; exit 1; }
sleep 0.5	# its pool connects and prepares

perf_pid=""
perf_start() {
	[ "$PERF" = 1 ] && command -v perf >/dev/null 2>&1 || return 0
	perf record -q -F 499 ${BILLING_PERF_CG:--g} -o "$work/perf.$1.data" -p "$bd_pid" >/dev/null 2>&1 &
	perf_pid=$!
	pids+=("$perf_pid")
}
perf_stop() {
	[ -n "$perf_pid" ] || return 0
	kill -INT "$perf_pid" 2>/dev/null
	wait "$perf_pid" 2>/dev/null
	stop_pid "$perf_pid"
	perf_pid=""
	log "  $1: billingd hottest symbols (perf, self %):"
	perf report -q -i "$work/perf.$1.data" --stdio --no-children \
		--sort dso,symbol -g none --percent-limit 1.5 2>/dev/null |
		grep -v '^$' | head -n 15 | sed 's/^/      /' >&2
}

# one bus load: NAME INFLIGHT [bdload args...]; CPU in bd_NAME / pg_NAME
declare -A cpu_bd cpu_pg
bus_load() {
	local name=$1 n=$2 b0 p0
	shift 2
	b0=$(cpu_ms "$bd_pid")
	p0=$(cpu_ms "$pg_pid")
	perf_start "$name"
	"$bdload" "${name%1}" -u "$BD_BUS" -a bench_cust -n "$n" -t "$SECONDS_RUN" "$@" \
		>"$work/$name.out" 2>"$work/$name.err"
	local rc=$?
	perf_stop "$name"
	cpu_bd[$name]=$(( $(cpu_ms "$bd_pid") - b0 ))
	cpu_pg[$name]=$(( $(cpu_ms "$pg_pid") - p0 ))
	[ $rc = 0 ] || { cat "$work/$name.err" >&2; log "billing: bdload $name failed"; return 1; }
	log "  $name: $(kv "$work/$name.out" ok) ok in $(kv "$work/$name.out" seconds) s," \
		"$(kv "$work/$name.out" errors) errors, $(kv "$work/$name.out" refused) refused," \
		"p50 $(kv "$work/$name.out" p50_ms) ms, p99 $(kv "$work/$name.out" p99_ms) ms" \
		"$(sed -n 's/^first_error=/(first error: /p' "$work/$name.out" | sed 's/$/)/')"
}

# a reference: NAME ROWS [args]; CPU of postgres in cpu_pg[NAME]
ref_load() {
	local name=$1 rows=$2 p0 n
	shift 2
	p0=$(cpu_ms "$pg_pid")
	"$bdload" "$name" -d "$conninfo" -a bench_refs -A "$acc_id" -r "$rows" "$@" \
		>"$work/$name.out" 2>"$work/$name.err"
	local rc=$?
	cpu_pg[$name]=$(( $(cpu_ms "$pg_pid") - p0 ))
	n=$(sql "SELECT count(*) FROM cdr WHERE account = 'bench_refs'")
	log "  $name: $(kv "$work/$name.out" rows) rows in $(kv "$work/$name.out" seconds) s; $n rows in cdr"
	sql "DELETE FROM cdr WHERE account = 'bench_refs'" >/dev/null
	sql "VACUUM cdr" >/dev/null
	if [ $rc != 0 ] || [ "$n" != "$rows" ]; then
		cat "$work/$name.err" >&2
		log "billing: $name reference failed"
		return 1
	fi
}

# ---------------------------------------------------------------- loads

fail=0
log "billing: auth.request one per message, $AUTH_INFLIGHT in flight, load $(cut -d' ' -f1 /proc/loadavg)"
bus_load auth1 "$AUTH_INFLIGHT" || fail=1
log "billing: auth.request in batches of $AUTH_BATCH, $AUTH_INFLIGHT in flight, load $(cut -d' ' -f1 /proc/loadavg)"
bus_load auth "$AUTH_INFLIGHT" -b "$AUTH_BATCH" || fail=1

bal0=$(sql "SELECT balance FROM accounts WHERE id = $acc_id")
log "billing: cdr.submit in batches of $CDR_BATCH, $CDR_INFLIGHT in flight, load $(cut -d' ' -f1 /proc/loadavg)"
bus_load cdr "$CDR_INFLIGHT" -g bench_gw -b "$CDR_BATCH" || fail=1
bal1=$(sql "SELECT balance FROM accounts WHERE id = $acc_id")

# the CDR checks (replies come after COMMIT: nothing is still on its way
# unless a request timed out, which the client reports)
acked=$(kv "$work/cdr.out" ok)
fee_sum=$(kv "$work/cdr.out" fee_sum)
read -r rows rows_fee ids ledger <<<"$(sql "SELECT count(*), coalesce(sum(fee), 0),
	count(DISTINCT id), (SELECT -coalesce(sum(delta), 0) FROM balance_history
	WHERE account_id = $acc_id AND reason = 'cdr') FROM cdr
	WHERE account = 'bench_cust'")"
moved=$((bal0 - bal1))
check="acknowledged ${acked:-?} new CDRs, ${rows:-?} rows in cdr (${ids:-?} distinct ids);"
check+=" balance moved $moved = acknowledged fees ${fee_sum:-?} = sum(cdr.fee) ${rows_fee:-?} = ledger ${ledger:-?};"
check+=" fees off the rate table: $(kv "$work/cdr.out" fee_mismatch); duplicates $(kv "$work/cdr.out" duplicate), errors $(kv "$work/cdr.out" errors), unanswered $(kv "$work/cdr.out" unfinished)"
if [ -n "$acked" ] && [ "$acked" -gt 0 ] && [ "$rows" = "$acked" ] && [ "$ids" = "$acked" ] &&
	[ "$moved" = "$fee_sum" ] && [ "$rows_fee" = "$fee_sum" ] && [ "$ledger" = "$fee_sum" ] &&
	[ "$(kv "$work/cdr.out" fee_mismatch)" = 0 ]; then
	check="OK: $check"
else
	check="FAILED: $check"
	fail=1
fi
log "  cdr check $check"

stop_pid "$bd_pid"	# the references run without billingd
sql "VACUUM ANALYZE cdr" >/dev/null

nref=${acked:-0}
[ "$nref" -ge 20000 ] 2>/dev/null || nref=20000	# COPY needs ~1 s to be timed
log "billing: references, $nref rows each, load $(cut -d' ' -f1 /proc/loadavg)"
ref_load insert "$nref" -j "$INSERT_CONNS" || fail=1
# COPY three times, the median run is the reference: a COPY lasts 1-3 s,
# short enough for a burst of the shared machine to swing it by half
copies=()
for k in 1 2 3; do
	ref_load copy "$nref" || fail=1
	mv "$work/copy.out" "$work/copy$k.out"
	cpu_pg[copy$k]=${cpu_pg[copy]:-0}
	copies+=("$(kv "$work/copy$k.out" rate) $k")
done
mid=$(printf '%s\n' "${copies[@]}" | sort -n | sed -n 2p | cut -d' ' -f2)
log "  copy rows/s: $(printf '%s\n' "${copies[@]}" | cut -d' ' -f1 | paste -sd' '); the median (run $mid) is the reference"
cp "$work/copy$mid.out" "$work/copy.out"
cpu_pg[copy]=${cpu_pg[copy$mid]}

# ---------------------------------------------------------------- table

a1_ok=$(kv "$work/auth1.out" ok); a1_ok=${a1_ok:-0}
a1_rate=$(kv "$work/auth1.out" rate); a1_rate=${a1_rate:-0}
a_ok=$(kv "$work/auth.out" ok); a_ok=${a_ok:-0}
a_rate=$(kv "$work/auth.out" rate); a_rate=${a_rate:-0}
c_rate=$(kv "$work/cdr.out" rate); c_rate=${c_rate:-0}
i_rate=$(kv "$work/insert.out" rate); i_rate=${i_rate:-0}
p_rate=$(kv "$work/copy.out" rate); p_rate=${p_rate:-0}
i_rows=$(kv "$work/insert.out" rows); i_rows=${i_rows:-0}
p_rows=$(kv "$work/copy.out" rows); p_rows=${p_rows:-0}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else printf "-" }'; }
client_ms() { awk -v s="$(kv "$1" client_cpu_s)" -v n="$2" 'BEGIN { printf "%.3f", (n > 0 ? s * 1000 / n : 0) }'; }
verdict() { [ "$1" = 1 ] && echo "yes" || echo "**no**"; }
a_ok_t=$(awk -v r="$a_rate" 'BEGIN { print (r >= 20000) ? 1 : 0 }')
c_ok_t=$(awk -v c="$c_rate" -v p="$p_rate" 'BEGIN { print (p > 0 && c >= 0.3 * p) ? 1 : 0 }')

table=$(
	echo "| load | per second | vs COPY | p50 / p99 ms | CPU ms/op billingd / postgres / client | target |"
	echo "|---|---:|---:|---:|---:|---|"
	echo "| auth.request via billingd, one per message ($AUTH_INFLIGHT in flight) | $a1_rate | - |" \
		"$(kv "$work/auth1.out" p50_ms) / $(kv "$work/auth1.out" p99_ms) |" \
		"$(per_op "${cpu_bd[auth1]:-0}" "$a1_ok") / $(per_op "${cpu_pg[auth1]:-0}" "$a1_ok") / $(client_ms "$work/auth1.out" "$a1_ok") |" \
		"- |"
	echo "| auth.request via billingd, batches of $AUTH_BATCH ($AUTH_INFLIGHT in flight) | $a_rate | - |" \
		"$(kv "$work/auth.out" p50_ms) / $(kv "$work/auth.out" p99_ms) |" \
		"$(per_op "${cpu_bd[auth]:-0}" "$a_ok") / $(per_op "${cpu_pg[auth]:-0}" "$a_ok") / $(client_ms "$work/auth.out" "$a_ok") |" \
		"≥ 20000/s: $(verdict "$a_ok_t") ($(pct "$a_rate" 20000)) |"
	echo "| cdr.submit stored via billingd, batches of $CDR_BATCH ($CDR_INFLIGHT in flight) | $c_rate | $(pct "$c_rate" "$p_rate") |" \
		"$(kv "$work/cdr.out" p50_ms) / $(kv "$work/cdr.out" p99_ms) |" \
		"$(per_op "${cpu_bd[cdr]:-0}" "${acked:-0}") / $(per_op "${cpu_pg[cdr]:-0}" "${acked:-0}") / $(client_ms "$work/cdr.out" "${acked:-0}") |" \
		"≥ 30 % of COPY: $(verdict "$c_ok_t") |"
	echo "| single-row INSERT, autocommit, $INSERT_CONNS conns | $i_rate | $(pct "$i_rate" "$p_rate") | - |" \
		"- / $(per_op "${cpu_pg[insert]:-0}" "$i_rows") / $(client_ms "$work/insert.out" "$i_rows") | reference |"
	echo "| COPY FROM STDIN, 1 conn (median of 3) | $p_rate | 100 % | - |" \
		"- / $(per_op "${cpu_pg[copy]:-0}" "$p_rows") / $(client_ms "$work/copy.out" "$p_rows") | reference |"
)
echo
echo "Billing: billingd -> PostgreSQL $(psql --version | awk '{print $3}') (same host, fsync=off); $(nproc) cores, loopback, ${SECONDS_RUN}s per bus load, $nref rows per reference"
echo "$table"
echo "CDR check $check"
if [ -n "$OUT" ]; then
	{
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg):"
		echo
		echo "$table"
		echo
		echo "CDR check $check"
		echo
	} >>"$OUT"
fi
exit $fail
