#!/usr/bin/env bash
# bench/sip_cps/run.sh - SIP calls per second at <0.1 % failures
#
# Measures, in one run on this machine, the highest call rate that completes
# with fewer than 0.1 % failed calls through:
#   kamailio  Debian's Kamailio as a transaction-stateful proxy with dialog
#             tracking doing the same longest-prefix routing (kamailio.cfg.in)
#   sg_off    signalingd, SS_MEDIAPROXYMODE 0 (SDP passed through)
#   sg_on     signalingd, SS_MEDIAPROXYMODE 3 (every call anchored on mediaproxyd)
#   direct    optional: the UAC straight to a UAS, the load generator's ceiling
# Calls: sipp UAC (uac.xml) -> target -> two sipp UAS (uas.xml), callee prefix
# "12" -> gateway B, "1" -> gateway A; INVITE/180/200/ACK/BYE/200, hold time 0.
#
# Step search per target: run the UAC at rate r for STEP_S seconds (-m r*STEP_S),
# count failed calls (every call not counted successful by sipp, including
# calls left unfinished), double r until a step fails (>= 0.1 % failed, or the
# UAC could not reach 90 % of r) or the cap is reached, then bisect REFINE times
# between the last clean and the first failing rate.  After a failed step the
# target and the UAS are restarted, so each step starts from a clean state.  The reported number is the
# achieved rate of the highest clean step.
#
# Environment (defaults):
#   SIP_CPS_STEP_S 4   SIP_CPS_START 100   SIP_CPS_CAP 6400   SIP_CPS_REFINE 2
#   SIP_CPS_TARGETS "kamailio sg_off sg_on"   SIP_CPS_BASE_PORT 12000
#   SIP_CPS_KAM_CHILDREN <nproc>   SIP_CPS_KAM_MEM fm (Kamailio -x/-X memory
#     manager; its default "qm" keeps debug data and costs ~4x the CPU per call)
#   SIP_CPS_HOLD_MS 0   SIP_CPS_KEEP 0 (keep work dir)
#   SIP_CPS_BIN build/rel (where signalingd, mediaproxyd, billingd, tandemctl are;
#     SIP_CPS_SIGNALINGD, ..._BILLINGD, ..._MEDIAPROXYD, ..._TANDEMCTL override one)
#   SIP_CPS_OUT <file> (also append the table, markdown, to this file)
#   SIP_CPS_PERF 0 (1: perf record signalingd and billingd during the search
#     and print their hottest symbols; needs perf)
#
# After the search, two more measurements (DESIGN.md targets; each prints its
# own table; SIP_CPS_TARGETS="" runs only these):
#   post-dial delay (SIP_CPS_PDD 1): the UAC (uac_pdd.xml) at one fixed rate
#     for SIP_CPS_PDD_S 10 s through each of SIP_CPS_PDD_TARGETS ("direct
#     kamailio sg_off sg_on"); per call INVITE sent -> first 180 (or 200)
#     received, microseconds from sipp's gettimeofday; p50/p99/max per target
#     and the delay added over "direct" (UAC -> UAS, the harness's floor).
#     Rate: SIP_CPS_PDD_RATE, else half of the lower signalingd rate found by
#     the search in this run, else 250/s (about half of media on's rate on
#     the 2-core machine).  Target: added p99 < 5 ms.  Also the target's
#     own CPU per call at that rate (Kamailio's processes; signalingd alone),
#     which the search's figure (mostly at overload) does not show.
#   memory per call (SIP_CPS_MEM 1): on a freshly started target whose
#     memory has settled, hold SIP_CPS_MEM_CALLS 1500 calls placed at
#     SIP_CPS_MEM_RATE 300/s for SIP_CPS_MEM_HOLD_S 45 s (sipp -d); read the
#     figures before the calls, at "setup" (the middle of the ramp's end and
#     the first call's end, capped 3.5 s after the ramp: every call up, as
#     sipp's CurrentCall confirms, the newest seconds old, so the SIP
#     transactions of their setup are still alive) and at "held" (34 s after
#     the ramp: past every transaction timer, 32 s at most, of Tandem and
#     of Kamailio), -> kB per concurrent call at each.  Figures: signalingd
#     (media off and on) and mediaproxyd (media on, per session): VmRSS
#     (/proc/PID/status; glibc keeps freed pages, so it shows the peak) and
#     the heap in use (gdb makes the daemon call malloc_stats(): malloc's
#     uordblks + hblkhd; "-" without gdb); Kamailio: the shared memory in use
#     (kamcmd core.shmmem real_used; its -m 1024 pool is mapped at start, so
#     RSS says little) and the Pss of its processes.  SIP_CPS_MEM_TARGETS
#     ("kamailio sg_off sg_on").  Target: < 16 kB per held call in
#     signalingd, < 8 kB per session in mediaproxyd.  The calls send no RTP:
#     the bench provisions SS_RTP_TIMEOUT 120 so media on keeps them.
#   SIP_CPS_PDD=0 / SIP_CPS_MEM=0 skip them (together about 2 minutes).
#
# Table size (SIP_CPS_PREFIXES 100000): Tandem runs with that many more
# prefixes loaded, as a carrier's tables have: the sell and the buy rate
# table get SIP_CPS_PREFIXES entries each, and routing gateways (5 000
# prefixes each, the most one may have) get SIP_CPS_PREFIXES prefixes, all
# distinct, 3 to 7 digits, starting 2..9 or diverging from the bench's
# numbers after "1" or "12" (so every call still routes to gateway A or B,
# and every lookup has many lengths to try).  Kamailio keeps its two
# routes.  0 = the bench's two prefixes only.
#
# Needs: sipp (sip-tester), kamailio, PostgreSQL server (deploy/pg.sh), and the
# Tandem binaries for the signalingd rows.  Loopback only; every process it
# starts is stopped by pid on exit.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

STEP_S=${SIP_CPS_STEP_S:-4}
START=${SIP_CPS_START:-100}
CAP=${SIP_CPS_CAP:-6400}
REFINE=${SIP_CPS_REFINE:-2}
TARGETS=${SIP_CPS_TARGETS-"kamailio sg_off sg_on"}
BASE=${SIP_CPS_BASE_PORT:-12000}
KAM_CHILDREN=${SIP_CPS_KAM_CHILDREN:-$(nproc)}
KAM_MEM=${SIP_CPS_KAM_MEM:-fm}
HOLD_MS=${SIP_CPS_HOLD_MS:-0}
KEEP=${SIP_CPS_KEEP:-0}
BIN=${SIP_CPS_BIN:-$root/build/rel}
OUT=${SIP_CPS_OUT:-}
PDD=${SIP_CPS_PDD:-1}
PDD_RATE=${SIP_CPS_PDD_RATE:-}
PDD_S=${SIP_CPS_PDD_S:-10}
PDD_TARGETS=${SIP_CPS_PDD_TARGETS-"direct kamailio sg_off sg_on"}
MEM=${SIP_CPS_MEM:-1}
MEM_CALLS=${SIP_CPS_MEM_CALLS:-1500}
MEM_RATE=${SIP_CPS_MEM_RATE:-300}
MEM_HOLD_S=${SIP_CPS_MEM_HOLD_S:-45}
MEM_TARGETS=${SIP_CPS_MEM_TARGETS-"kamailio sg_off sg_on"}
PREFIXES=${SIP_CPS_PREFIXES:-100000}
[ "$PDD" = 1 ] || PDD_TARGETS=""
[ "$MEM" = 1 ] || MEM_TARGETS=""

KAM_PORT=$((BASE + 60))
SG_PORT=$((BASE + 160))
UAS_A=$((BASE + 70))
UAS_B=$((BASE + 72))
UAC_PORT=$((BASE + 80))
PG_PORT=$((BASE + 432))
SG_EVENTS=tcp://127.0.0.1:$((BASE + 601))
SG_CONTROL=tcp://127.0.0.1:$((BASE + 602))
BD_BUS=tcp://127.0.0.1:$((BASE + 611))
BD_HTTP=127.0.0.1:$((BASE + 680))
MP_BUS=tcp://127.0.0.1:$((BASE + 621))
RTP_MIN=$((BASE + 1000))	# below the kernel's ephemeral ports and the
RTP_MAX=$((BASE + 7999))	# integration tests' random 20000-45000
# a media session takes 4 ports (RTP+RTCP on both legs): room for the calls
# held by the memory measurement
if [ -n "$MEM_TARGETS" ] && [ $((RTP_MIN + MEM_CALLS * 4 + 256)) -gt "$RTP_MAX" ]; then
	RTP_MAX=$((RTP_MIN + MEM_CALLS * 4 + 256))
fi
UAS_RECV_MS=10000	# the UAS's wait for the next request (ACK, BYE)

work=$(mktemp -d /tmp/sip_cps.XXXXXX)
chmod 755 "$work"
BENCH_TAG=sip_cps
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

# wait until something listens on 127.0.0.1:PORT (udp|tcp), pid must stay alive
wait_listen() {
	local proto=$1 port=$2 pid=$3 what=$4 opt=-lnu
	[ "$proto" = tcp ] && opt=-lnt
	for _ in $(seq 100); do
		if ss $opt 2>/dev/null | awk '{print $4}' | grep -q ":$port\$"; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { log "sip_cps: $what exited during start"; return 1; }
		sleep 0.1
	done
	log "sip_cps: $what does not listen on $proto port $port"
	return 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || { log "sip_cps: $1 not found ($2)"; exit 1; }
}
need sipp "apt-get install sip-tester"
# sipp wants a descriptor per open call; high rates need more than 1024
ulimit -n 65536 2>/dev/null || ulimit -n 16384 2>/dev/null || true

# our fixed ports must be free (another bench run, or a test, may hold them)
for p in $KAM_PORT $SG_PORT $UAS_A $UAS_B $UAC_PORT $PG_PORT; do
	if ss -lnu 2>/dev/null | awk '{print $4}' | grep -q ":$p\$" ||
		ss -lnt 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; then
		log "sip_cps: port $p is in use; set SIP_CPS_BASE_PORT to another base"
		exit 1
	fi
done

# ---------------------------------------------------------------- sipp peers

# the callees: alternating between the two routes ("12..." -> B, "15..." -> A)
{
	echo SEQUENTIAL
	for i in $(seq 1000 1999); do
		echo "1200555$i;4420000$i"
		echo "1500555$i;4420000$i"
	done
} >"$work/callees.csv"

# the extra prefixes (SIP_CPS_PREFIXES), as JSON list fragments made once:
# rate entries for the sell and buy tables, and routing gateways of 5 000
# prefixes each, on a port nothing answers (no call ever matches them)
awk -v n="$PREFIXES" 'BEGIN {
	srand(7)
	while (k < n) {
		r = int(rand() * 10)
		if (r < 8) { p = 2 + int(rand() * 8); len = 3 + int(rand() * 5) }
		else if (r < 9) { p = "1" substr("346789", 1 + int(rand() * 6), 1); len = 4 + int(rand() * 4) }
		else { p = "12" (1 + int(rand() * 9)); len = 5 + int(rand() * 3) }
		while (length(p) < len) p = p int(rand() * 10)
		if (!(p in seen)) { seen[p] = 1; print p; k++ }
	}
}' >"$work/prefixes.txt"
extra_entries() {	# rate
	awk -v r="$1" '{ printf ",\n   {\"prefix\": \"%s\", \"area_name\": \"x\", \"connect_fee\": \"0\", \"first_interval\": 6, \"first_rate\": \"%s\", \"next_interval\": 6, \"next_rate\": \"%s\"}", $1, r, r }' "$work/prefixes.txt"
}
extra_entries 0.0100 >"$work/extra_sell.json"
extra_entries 0.0050 >"$work/extra_buy.json"
awk -v port=$((BASE + 399)) '
	(NR - 1) % 5000 == 0 {
		if (NR > 1) printf "]}"
		printf ",\n  {\"name\": \"bench_x%d\", \"account\": \"bench_vend\", \"address\": \"127.0.0.1\", \"port\": %d, \"transport\": \"udp\", \"priority\": 5, \"prefixes\": [\"%s\"", (NR - 1) / 5000 + 1, port, $1
		next
	}
	{ printf ", \"%s\"", $1 }
	END { if (NR) printf "]}" }' "$work/prefixes.txt" >"$work/extra_gws.json"

uas_pids=()
start_uas() {
	local port mp=$((BASE + 300))
	for port in $UAS_A $UAS_B; do
		sipp -sf "$here/uas.xml" -i 127.0.0.1 -p "$port" -mp "$mp" \
			-nostdin -recv_timeout "$UAS_RECV_MS" >/dev/null 2>"$work/uas.$port.err" &
		pids+=($!)
		uas_pids+=($!)
		wait_listen udp "$port" $! "sipp uas :$port" || return 1
		mp=$((mp + 10))
	done
}
stop_uas() {
	local p
	for p in "${uas_pids[@]}"; do stop_pid "$p"; done
	uas_pids=()
}

# column NAME of the last line of a sipp ;-separated statistics file
stat_col() {
	awk -F';' -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i }
		END { if (k) print $k }' "$1"
}

# CPU time (ms, user+system, including reaped children) of the given pids and
# of their live children
cpu_ms() {
	local p c all=() hz
	hz=$(getconf CLK_TCK)
	for p in "$@"; do
		[ -n "$p" ] || continue
		all+=("$p")
		for c in $(pgrep -P "$p" 2>/dev/null); do all+=("$c"); done
	done
	for p in "${all[@]}"; do
		# fields after the ")" of the command: 12-15 = utime stime cutime cstime
		sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }'
	done | awk -v hz="$hz" '{ t += $1 } END { printf "%d\n", t * 1000 / hz }'
}

# calls placed by the UAC for one target (all its stat files)
placed_calls() {
	local f n placed=0
	for f in "$@"; do
		[ -s "$f" ] || continue
		n=$(stat_col "$f" "OutgoingCall(C)")
		placed=$((placed + ${n:-0}))
	done
	echo "$placed"
}

# one step: rate $2 against port $1 for STEP_S s; prints "total ok failed achieved"
step() {
	local port=$1 rate=$2 tag=$3 n stf t0 t1 ok el secs
	n=$((rate * STEP_S))
	stf="$work/stat.$tag.$rate.csv"
	rm -f "$stf"
	t0=$(date +%s%N)
	timeout $((STEP_S * 2 + 25)) sipp "127.0.0.1:$port" -sf "$here/uac.xml" \
		-inf "$work/callees.csv" -i 127.0.0.1 -p "$UAC_PORT" -mp $((BASE + 400)) \
		-r "$rate" -rp 1000 -m "$n" -l $((rate * 10 + 1000)) -d "$HOLD_MS" \
		-recv_timeout 5000 -timeout $((STEP_S * 2 + 15))s -nostdin \
		-trace_stat -stf "$stf" -fd 1 \
		-trace_err -error_file "$work/err.$tag.$rate.log" \
		>/dev/null 2>"$work/uac.$tag.$rate.stderr"
	t1=$(date +%s%N)
	ok=0
	[ -s "$stf" ] && ok=$(stat_col "$stf" "SuccessfulCall(C)")
	ok=${ok:-0}
	# achieved rate: calls sent / time to send them (the wall time of the
	# run minus the tail of the last calls is close enough at these rates)
	el=$(( (t1 - t0) / 1000000 ))
	secs=$(awk -v ms="$el" 'BEGIN { printf "%.3f", ms / 1000 }')
	awk -v n="$n" -v ok="$ok" -v s="$secs" \
		'BEGIN { printf "%d %d %d %.0f\n", n, ok, n - ok, ok / (s > 0 ? s : 1) }'
}

# the step search against port $1; sets S_BEST (highest clean rate) and S_ACH
# (its achieved rate), 0 0 if none.  After a failed step the function $3 is
# called to restart the target and the UAS, so that what an overloaded step
# left behind (calls in retransmission, Kamailio's finished transactions,
# media sessions, timers) does not fail the next, lower step.
S_BEST=0
S_ACH=0
search() {
	local port=$1 tag=$2 restart=$3 r=$START bad=0 res total ok failed ach clean why
	S_BEST=0
	S_ACH=0
	try() {
		res=$(step "$port" "$1" "$tag")
		read -r total ok failed ach <<<"$res"
		clean=1 why=clean
		# the calls took much longer than STEP_S: the UAC, the UAS or the
		# target could not keep up with the rate (queues grow)
		if [ $((ach * 10)) -lt $(($1 * 9)) ]; then
			clean=0 why="FAIL (rate not sustained)"
		fi
		# failures: >= 0.1 % of the calls (any failure below 1000 calls)
		if [ "$failed" -gt 0 ] && [ $((failed * 1000)) -ge "$total" ]; then
			clean=0 why="FAIL ($failed failed)"
		fi
		log "  $tag: rate $1/s x ${STEP_S}s: $ok/$total ok, $failed failed, achieved ~$ach/s -> $why"
		if [ $clean = 1 ]; then
			sleep 1
		else
			$restart || { log "  $tag: restart failed"; return 2; }
		fi
		[ $clean = 1 ]
	}
	while :; do
		try "$r"
		case $? in
		0)
			S_BEST=$r
			S_ACH=$(awk -v a="$ach" -v r="$r" 'BEGIN { print (a < r ? a : r) }')
			[ "$r" -ge "$CAP" ] && break
			r=$((r * 2))
			[ "$r" -gt "$CAP" ] && r=$CAP
			;;
		1)
			bad=$r
			break
			;;
		*)
			return 1
			;;
		esac
	done
	local i=0 mid
	while [ "$bad" -gt 0 ] && [ "$i" -lt "$REFINE" ]; do
		mid=$(( (S_BEST + bad) / 2 ))
		[ $((bad - S_BEST)) -lt $((S_BEST / 10 + 10)) ] && break
		[ "$mid" -le 0 ] && break
		try "$mid"
		case $? in
		0)
			S_BEST=$mid
			S_ACH=$(awk -v a="$ach" -v r="$mid" 'BEGIN { print (a < r ? a : r) }')
			;;
		1)	bad=$mid ;;
		*)	return 1 ;;
		esac
		i=$((i + 1))
	done
	return 0
}

# CPU accounting across restarts: cpu_begin GROUP PIDS..., cpu_end GROUP
declare -A cpu_acc cpu_c0 cpu_pids
cpu_begin() {
	local g=$1
	shift
	cpu_pids[$g]="$*"
	cpu_c0[$g]=$(cpu_ms "$@")
}
cpu_end() {
	local g=$1 now
	# shellcheck disable=SC2086
	now=$(cpu_ms ${cpu_pids[$g]})
	cpu_acc[$g]=$(( ${cpu_acc[$g]:-0} + now - ${cpu_c0[$g]:-0} ))
	cpu_c0[$g]=$now
}
per_call() {	# ms calls
	awk -v c="$1" -v n="$2" 'BEGIN { printf "%.3f", n ? c / n : 0 }'
}

restart_uas() {
	stop_uas
	start_uas
}

# ---------------------------------------------------------------- Kamailio

kam_pid=""
start_kamailio() {
	need kamailio "apt-get install kamailio"
	local mpath
	mpath=$(dirname "$(ls /usr/lib/*/kamailio/modules/tm.so /usr/lib/kamailio/modules/tm.so 2>/dev/null | head -n 1)")
	[ -d "$mpath" ] || { log "sip_cps: kamailio modules not found"; return 1; }
	# the package may have started its own service on 5060; it does not
	# matter to us (private port), but stop it so it does not eat CPU
	if command -v systemctl >/dev/null 2>&1 &&
		systemctl is-active --quiet kamailio 2>/dev/null; then
		systemctl stop kamailio 2>/dev/null || true
	fi
	sed -e "s|@PORT@|$KAM_PORT|g" -e "s|@UAS_A@|$UAS_A|g" \
		-e "s|@UAS_B@|$UAS_B|g" -e "s|@MPATH@|$mpath|g" \
		-e "s|@CHILDREN@|$KAM_CHILDREN|g" -e "s|@CTLSOCK@|$work/kamailio.ctl|g" \
		"$here/kamailio.cfg.in" >"$work/kamailio.cfg"
	kamailio -f "$work/kamailio.cfg" -c >"$work/kamailio.check" 2>&1 || {
		log "sip_cps: kamailio config check failed:"; cat "$work/kamailio.check" >&2; return 1; }
	kamailio -f "$work/kamailio.cfg" -DD -E -m 1024 -M 64 -x "$KAM_MEM" -X "$KAM_MEM" \
		-P "$work/kamailio.pid" -Y "$work" -w "$work" \
		>"$work/kamailio.log" 2>&1 &
	kam_pid=$!
	pids+=($kam_pid)
	wait_listen udp "$KAM_PORT" "$kam_pid" kamailio || {
		tail -n 20 "$work/kamailio.log" >&2; return 1; }
	sleep 0.5
}

kam_stats() {
	command -v kamcmd >/dev/null 2>&1 || return 0
	kamcmd -s "unix:$work/kamailio.ctl" stats.get_statistics dialog: 2>/dev/null |
		sed 's/^dialog://; s/ = /=/' | paste -sd' ' |
		sed 's/^/  kamailio dialog counters (since its last start): /' >&2
}

restart_kamailio() {
	cpu_end kam
	stop_pid "$kam_pid"
	restart_uas || return 1
	start_kamailio || return 1
	cpu_begin kam "$kam_pid"
}

# ---------------------------------------------------------------- Tandem

sg_pid=""
bd_pid=""
mp_pid=""
sg_why=""

write_conf() {	# file, then "key value" lines
	local f=$1
	shift
	printf '# generated by bench/sip_cps/run.sh\n' >"$f"
	printf '%s\n' "$@" >>"$f"
}

# the binary NAME: $SIP_CPS_<NAME> (e.g. SIP_CPS_BILLINGD), else $BIN/NAME,
# else $BIN/bin/NAME; empty when none is an executable file
bin_of() {
	local var p
	var=SIP_CPS_$(echo "$1" | tr '[:lower:]' '[:upper:]')
	for p in "${!var:-}" "$BIN/$1" "$BIN/bin/$1"; do
		[ -n "$p" ] && [ -f "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}

tandem_ready() {
	local b
	for b in signalingd billingd tandemctl mediaproxyd; do
		bin_of $b >/dev/null || { sg_why="$b not built in $BIN"; return 1; }
	done
	command -v psql >/dev/null 2>&1 || { sg_why="psql not found"; return 1; }
	return 0
}

# provision the bench document with SS_MEDIAPROXYMODE $1
provision() {
	cat >"$work/bench.json" <<EOF
{
 "system_parameters": {"SS_MEDIAPROXYMODE": "$1", "SS_BILLING_FAIL_OPEN": "0",
   "SS_SIP_REPLY_UNKNOWN_SOURCE": "0", "SS_RTP_TIMEOUT": "120"},
 "rate_tables": [
  {"name": "bench_sell", "entries": [
   {"prefix": "1", "area_name": "bench", "connect_fee": "0", "first_interval": 6,
    "first_rate": "0.0100", "next_interval": 6, "next_rate": "0.0100"}$(cat "$work/extra_sell.json")]},
  {"name": "bench_buy", "entries": [
   {"prefix": "1", "area_name": "bench", "connect_fee": "0", "first_interval": 6,
    "first_rate": "0.0050", "next_interval": 6, "next_rate": "0.0050"}$(cat "$work/extra_buy.json")]}],
 "accounts": [
  {"name": "bench_cust", "type": "customer", "balance": "1000000000",
   "credit_limit": "0", "billing_type": "prepaid", "rate_table": "bench_sell",
   "max_concurrent_calls": 0},
  {"name": "bench_vend", "type": "vendor", "buy_rate_table": "bench_buy"}],
 "mapping_gateways": [
  {"name": "bench_mg", "account": "bench_cust", "auth_mode": "ip",
   "ips": ["127.0.0.1"], "ports": [], "cps_limit": 0, "max_concurrent_calls": 0}],
 "routing_gateways": [
  {"name": "bench_gwA", "account": "bench_vend", "address": "127.0.0.1",
   "port": $UAS_A, "transport": "udp", "prefixes": ["1"], "priority": 1,
   "line_limit": 0, "gateway_prefix": "", "switch_until_connect": true,
   "protect_route": false, "locked": false},
  {"name": "bench_gwB", "account": "bench_vend", "address": "127.0.0.1",
   "port": $UAS_B, "transport": "udp", "prefixes": ["12"], "priority": 1,
   "line_limit": 0, "gateway_prefix": "", "switch_until_connect": true,
   "protect_route": false, "locked": false}$(cat "$work/extra_gws.json")]
}
EOF
	"$(bin_of tandemctl)" -d "$conninfo" provision "$work/bench.json" \
		>>"$work/provision.log" 2>&1
}

conninfo=""
start_db() {
	pg_dir="$work/pg"
	"$root/deploy/pg.sh" start "$pg_dir" "$PG_PORT" >"$work/pg.log" 2>&1 || {
		sg_why="PostgreSQL did not start (see pg.log)"; cat "$work/pg.log" >&2
		pg_dir=""; return 1; }
	conninfo=$("$root/deploy/pg.sh" conninfo "$PG_PORT")
	"$(bin_of tandemctl)" -d "$conninfo" db migrate >"$work/migrate.log" 2>&1 || {
		sg_why="tandemctl db migrate failed"; cat "$work/migrate.log" >&2; return 1; }
}

start_daemon() {	# name conf -> pid in $started
	"$(bin_of "$1")" -F -f "$2" >"$work/$1.log" 2>&1 &
	started=$!
	pids+=($started)
}

start_tandem() {	# $1 = SS_MEDIAPROXYMODE
	local mode=$1 tcp
	provision "$mode" || { sg_why="tandemctl provision failed"; tail -n 20 "$work/provision.log" >&2; return 1; }
	mkdir -p "$work/spool"
	write_conf "$work/billingd.conf" "node_id bd-bench" "bus_listen $BD_BUS" \
		"signaling_url $SG_CONTROL" "db $conninfo" "http_listen $BD_HTTP" \
		"log_level warn"
	write_conf "$work/signalingd.conf" "node_id sg-bench" \
		"sip_listen 127.0.0.1:$SG_PORT" "bus_events $SG_EVENTS" \
		"bus_control $SG_CONTROL" "billing_url $BD_BUS" "media_nodes $MP_BUS" \
		"db $conninfo" "spool_dir $work/spool" "log_level warn"
	write_conf "$work/mediaproxyd.conf" "node_id mp-bench" "bus_listen $MP_BUS" \
		"signaling_url $SG_EVENTS" "rtp_ip 127.0.0.1" "port_min $RTP_MIN" \
		"port_max $RTP_MAX" "log_level warn" \
		"account_port_share_pct 100"	# one account places every call
	for d in billingd signalingd mediaproxyd; do
		"$(bin_of $d)" -t -f "$work/$d.conf" >"$work/$d.check" 2>&1 || {
			sg_why="$d -t rejects its config: $(head -n 1 "$work/$d.check")"; return 1; }
	done
	start_daemon billingd "$work/billingd.conf"; bd_pid=$started
	tcp=${BD_BUS##*:}
	wait_listen tcp "$tcp" "$bd_pid" billingd || { sg_why="billingd did not start"; tail -n 20 "$work/billingd.log" >&2; return 1; }
	sg_mode=$mode
	start_sg || return 1
	# smoke: a few calls must complete, else the rows are "not available"
	local res total ok failed ach
	res=$(step "$SG_PORT" 10 "smoke$mode")
	read -r total ok failed ach <<<"$res"
	if [ "$failed" -gt 0 ]; then
		sg_why="smoke calls failed ($failed of $total; see $work/err.smoke$mode.10.log)"
		return 1
	fi
}

# signalingd (and mediaproxyd when media is on) for mode $sg_mode
sg_mode=0
start_sg() {
	local tcp
	start_daemon signalingd "$work/signalingd.conf"; sg_pid=$started
	wait_listen udp "$SG_PORT" "$sg_pid" signalingd || { sg_why="signalingd did not start"; tail -n 20 "$work/signalingd.log" >&2; return 1; }
	if [ "$sg_mode" != 0 ]; then
		start_daemon mediaproxyd "$work/mediaproxyd.conf"; mp_pid=$started
		tcp=${MP_BUS##*:}
		wait_listen tcp "$tcp" "$mp_pid" mediaproxyd || { sg_why="mediaproxyd did not start"; tail -n 20 "$work/mediaproxyd.log" >&2; return 1; }
		sleep 1.5	# a heartbeat or two: the node registers itself
	fi
	sleep 0.5
}

# after a failed step: fresh signalingd, mediaproxyd and UAS (billingd and
# PostgreSQL keep running and finish storing the CDRs of the failed step)
restart_sg() {
	cpu_end sg
	cpu_end mp
	[ -n "$mp_pid" ] && stop_pid "$mp_pid"
	stop_pid "$sg_pid"
	mp_pid=""; sg_pid=""
	restart_uas || return 1
	start_sg || return 1
	cpu_begin sg "$sg_pid"
	cpu_begin mp "$mp_pid"
	sleep 1
}

sql() {
	psql -h 127.0.0.1 -p "$PG_PORT" -U tandem -d tandem -tAq -F ' ' -c "$1" 2>/dev/null
}

# after a signalingd target: the CDRs stored for its calls (they arrive
# asynchronously through the spool; wait until the count stops growing).
# Calls whose INVITE never reached signalingd (dropped in an overloaded
# step) have no CDR.
cdr_report() {	# tag since
	local tag=$1 since=$2 placed n last=-1 row
	placed=$(placed_calls "$work"/stat."$tag".*.csv "$work"/stat.smoke"$3".*.csv)
	for _ in $(seq 30); do
		n=$(sql "SELECT count(*) FROM cdr WHERE stored_at >= '$since'")
		[ "${n:-0}" = "$last" ] && [ "$n" -ge "$placed" ] && break
		last=${n:-0}
		sleep 0.5
	done
	row=$(sql "SELECT count(*), count(*) FILTER (WHERE answer_ms > 0),
		count(*) FILTER (WHERE media_node <> ''), coalesce(sum(fee), 0),
		count(*) - count(DISTINCT call_id_a)
		FROM cdr WHERE stored_at >= '$since'")
	read -r n ans med fee dup <<<"$row"
	log "  $tag: calls placed $placed, CDRs stored ${n:-?} (answered ${ans:-?}, media anchored ${med:-?}, ${dup:-?} of a Call-ID already stored)"
	if [ "${dup:-0}" != 0 ]; then
		sql "SELECT call_id_a, count(*), string_agg(end_code::text || ' ' || end_reason || ' ' || (answer_ms > 0)::text, ', ')
			FROM cdr WHERE stored_at >= '$since'
			GROUP BY call_id_a HAVING count(*) > 1 LIMIT 5" |
			while read -r line; do log "    twice: $line"; done
	fi
}

# optional profile of signalingd and billingd during a search (SIP_CPS_PERF=1)
perf_pids=()
perf_start() {
	local p name
	perf_pids=()
	[ "${SIP_CPS_PERF:-0}" = 1 ] && command -v perf >/dev/null 2>&1 || return 0
	for name in signalingd billingd; do
		p=$sg_pid
		[ $name = billingd ] && p=$bd_pid
		perf record -q -F 499 -g -o "$work/perf.$1.$name.data" -p "$p" \
			>/dev/null 2>&1 &
		perf_pids+=($!)
		pids+=($!)
	done
}
perf_stop() {
	local p name
	[ ${#perf_pids[@]} -gt 0 ] || return 0
	for p in "${perf_pids[@]}"; do
		kill -INT "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		stop_pid "$p"
	done
	perf_pids=()
	for name in signalingd billingd; do
		perf report -q -i "$work/perf.$1.$name.data" --stdio --no-children \
			--sort dso,symbol -g none --percent-limit 1.5 2>/dev/null |
			grep -v '^$' | head -n 15 >"$work/perf.$1.$name.txt"
		log "  $1: $name hottest (perf, self %):"
		sed 's/^/      /' "$work/perf.$1.$name.txt" >&2
	done
}

# PostgreSQL for the signalingd targets, started once; 1 when it runs
db_up=0		# 0 not tried, 1 up, 2 failed (db_why)
db_why=""
ensure_db() {
	tandem_ready || return 1
	[ $db_up = 1 ] && return 0
	[ $db_up = 2 ] && { sg_why=$db_why; return 1; }
	if start_db; then
		db_up=1
		return 0
	fi
	db_up=2
	db_why=$sg_why
	return 1
}

stop_tandem() {
	local p
	for p in "$mp_pid" "$sg_pid" "$bd_pid"; do
		[ -n "$p" ] && stop_pid "$p"
	done
	mp_pid=""; sg_pid=""; bd_pid=""
}

# ---------------------------------------------------------------- post-dial delay, memory

label() {
	case $1 in
	kamailio) echo "Kamailio (tm+dialog)" ;;
	direct) echo "(harness: sipp uac -> uas, no proxy)" ;;
	sg_off) echo "signalingd, media off (SS_MEDIAPROXYMODE 0)" ;;
	sg_on) echo "signalingd, media on (SS_MEDIAPROXYMODE 3)" ;;
	*) echo "$1" ;;
	esac
}

# start target $1 for the post-dial delay and memory runs; sets X_PORT, or
# returns 1 with the reason in x_why
X_PORT=""
x_why=""
x_start() {
	local mode=0
	case $1 in
	direct)
		X_PORT=$UAS_A
		;;
	kamailio)
		command -v kamailio >/dev/null 2>&1 || { x_why="kamailio not found"; return 1; }
		start_kamailio || { x_why="kamailio did not start"; return 1; }
		X_PORT=$KAM_PORT
		;;
	sg_off|sg_on)
		[ "$1" = sg_on ] && mode=3
		ensure_db || { x_why=$sg_why; return 1; }
		start_tandem "$mode" || { x_why=$sg_why; stop_tandem; return 1; }
		X_PORT=$SG_PORT
		;;
	*)
		x_why="unknown target"
		return 1
		;;
	esac
}
x_stop() {
	case $1 in
	kamailio) [ -n "$kam_pid" ] && stop_pid "$kam_pid"; kam_pid="" ;;
	sg_off|sg_on) stop_tandem ;;
	esac
}
# a new process of target $1 and new UAS: nothing left from earlier calls
# (finished transactions, grown heaps)
x_fresh() {
	case $1 in
	kamailio)
		stop_pid "$kam_pid"
		kam_pid=""
		restart_uas || return 1
		start_kamailio
		;;
	sg_off|sg_on)
		[ -n "$mp_pid" ] && stop_pid "$mp_pid"
		stop_pid "$sg_pid"
		mp_pid=""; sg_pid=""
		restart_uas || return 1
		start_sg
		;;
	*)
		return 1
		;;
	esac
}

# nearest-rank percentile $2 (0..1) of the sorted numbers in file $1
pctl() {
	awk -v q="$2" '{ a[NR] = $1 }
		END { if (!NR) exit; i = int(q * NR); if (i < q * NR) i++
			if (i < 1) i = 1; print a[i] }' "$1"
}

# post-dial delay through target $1 at port $2: PDD_RATE calls/s for PDD_S s
declare -A pdd_n pdd_fail pdd_p50 pdd_p99 pdd_max pdd_cpu x_note
pdd_run() {
	local t=$1 port=$2 n stf lf us ok tp="" c0
	n=$((PDD_RATE * PDD_S))
	# the target's own CPU during the run (signalingd alone for Tandem)
	case $t in
	kamailio) tp=$kam_pid ;;
	sg_off|sg_on) tp=$sg_pid ;;
	esac
	c0=$(cpu_ms $tp)
	stf="$work/stat.pdd.$t.csv"
	lf="$work/pdd.$t.log"
	us="$work/pdd.$t.us"
	rm -f "$stf" "$lf"
	timeout $((PDD_S * 2 + 25)) sipp "127.0.0.1:$port" -sf "$here/uac_pdd.xml" \
		-inf "$work/callees.csv" -i 127.0.0.1 -p "$UAC_PORT" -mp $((BASE + 400)) \
		-r "$PDD_RATE" -rp 1000 -m "$n" -l $((PDD_RATE * 10 + 1000)) -d 0 \
		-recv_timeout 5000 -timeout $((PDD_S * 2 + 15))s -nostdin \
		-trace_stat -stf "$stf" -fd 1 -trace_logs -log_file "$lf" \
		-trace_err -error_file "$work/err.pdd.$t.log" \
		>/dev/null 2>"$work/uac.pdd.$t.stderr"
	ok=0
	[ -s "$stf" ] && ok=$(stat_col "$stf" "SuccessfulCall(C)")
	# per call (field 2) the earlier of its 180 and 200, in microseconds
	awk '$1 == "pdd" { d = ($6 - $4) * 1000000 + ($7 - $5)
			if (!($2 in m) || d < m[$2]) m[$2] = d }
		END { for (c in m) printf "%d\n", m[c] }' "$lf" 2>/dev/null |
		sort -n >"$us"
	pdd_n[$t]=$(wc -l <"$us")
	pdd_fail[$t]=$((n - ${ok:-0}))
	pdd_p50[$t]=$(pctl "$us" 0.5)
	pdd_p99[$t]=$(pctl "$us" 0.99)
	pdd_max[$t]=$(tail -n 1 "$us")
	pdd_cpu[$t]=-
	[ -n "$tp" ] && pdd_cpu[$t]=$(per_call $(($(cpu_ms $tp) - c0)) "${ok:-0}")
	log "  $t: $n calls at $PDD_RATE/s, ${pdd_fail[$t]} failed, ${pdd_n[$t]} timed; post-dial delay p50 ${pdd_p50[$t]:-?} us, p99 ${pdd_p99[$t]:-?} us, max ${pdd_max[$t]:-?} us; target CPU ${pdd_cpu[$t]} ms per call"
}

# VmRSS (or another /proc/PID/status field $2) of pid $1, kB
proc_kb() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}
# Pss of pid $1 and its children, kB (Kamailio's processes share pages)
pss_kb() {
	local p
	for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
		awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null
	done | awk '{ t += $1 } END { print t + 0 }'
}
# Kamailio's shared memory in use (its allocator's real_used), kB
kam_shm_kb() {
	kamcmd -s "unix:$work/kamailio.ctl" core.shmmem 2>/dev/null |
		awk '$1 == "real_used:" { printf "%d\n", $2 / 1024 }'
}
# heap in use of process $1 whose stderr is file $2, kB: gdb makes it call
# glibc's malloc_stats() (it prints its arenas to stderr; the "Total" block
# is malloc's uordblks + hblkhd); the process stops for a moment, which is
# why no daemon exports this.  "-" without gdb.
heap_kb() {
	command -v gdb >/dev/null || { echo -; return; }
	gdb -p "$1" -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1 ||
		{ echo -; return; }
	awk '/^Total \(incl. mmap\):/ { t = 1; next }
		t && /^in use bytes/ { v = $NF; t = 0 }
		END { if (v == "") print "-"; else printf "%d\n", v / 1024 }' "$2"
}
# the memory figures of target $1 now, four fields ("-" where none):
# Kamailio "shm pss - -"; signalingd and mediaproxyd
# "sg-VmRSS sg-heap mp-VmRSS mp-heap"
mem_now() {
	case $1 in
	kamailio) echo "$(kam_shm_kb) $(pss_kb "$kam_pid") - -" ;;
	sg_off) echo "$(proc_kb "$sg_pid" VmRSS)" \
		"$(heap_kb "$sg_pid" "$work/signalingd.log") - -" ;;
	sg_on) echo "$(proc_kb "$sg_pid" VmRSS)" \
		"$(heap_kb "$sg_pid" "$work/signalingd.log")" \
		"$(proc_kb "$mp_pid" VmRSS)" \
		"$(heap_kb "$mp_pid" "$work/mediaproxyd.log")" ;;
	esac
}

# wait (at most 20 s) until target $1's first figure holds still for a
# second: signalingd peaks while it loads 100 000 prefixes and gives the
# pages back a second or two later, and a "before" read on the peak made
# the calls look smaller (or larger) than they are
mem_first() {	# the first figure of target $1 only (no gdb)
	case $1 in
	kamailio) kam_shm_kb ;;
	*) proc_kb "$sg_pid" VmRSS ;;
	esac
}
mem_settle() {
	local i prev cur
	sleep 1
	prev=$(mem_first "$1")
	for i in $(seq 20); do
		sleep 1
		cur=$(mem_first "$1")
		awk -v p="$prev" -v c="$cur" 'BEGIN {
			d = c - p; if (d < 0) d = -d
			exit !(p > 0 && d * 200 <= p) }' && return 0
		prev=$cur
	done
	log "  $1: memory still moving after 20 s: $prev -> $cur kB"
}

# memory per held call on a fresh target $1 at port $2: MEM_CALLS calls at
# MEM_RATE/s, each held MEM_HOLD_S s; the figures are read before the calls,
# in the middle of the plateau (every call up) and 2 s after the last ended
declare -A mem_held mem_held2 mem_fail mem
# MEM_HOLD_S allows the "held" point (34 s after the ramp, 2 s before the
# first call ends)
mem_at() {	# $1 = target, $2 = point name: its four figures into mem[$1:$2]
	mem[$1:$2]=$(mem_now "$1")
}
mem_run() {
	local t=$1 port=$2 stf ramp_ms hold_ms at_ms held_ms up ok cur
	hold_ms=$((MEM_HOLD_S * 1000))
	ramp_ms=$((MEM_CALLS * 1000 / MEM_RATE))
	if [ $((ramp_ms + 3000)) -gt "$hold_ms" ]; then
		log "  $t: SIP_CPS_MEM_HOLD_S must exceed the ramp (${ramp_ms} ms) by 3 s"
		return 1
	fi
	held_ms=$((ramp_ms + 34000))
	[ $((held_ms + 2000)) -le "$hold_ms" ] || held_ms=0
	UAS_RECV_MS=$((hold_ms + 20000))
	x_fresh "$t" || { log "  $t: restart failed"; return 1; }
	mem_settle "$t"
	mem_at "$t" before
	stf="$work/stat.mem.$t.csv"
	rm -f "$stf"
	timeout $(( (ramp_ms + hold_ms) / 1000 + 60)) sipp "127.0.0.1:$port" -sf "$here/uac.xml" \
		-inf "$work/callees.csv" -i 127.0.0.1 -p "$UAC_PORT" -mp $((BASE + 400)) \
		-r "$MEM_RATE" -rp 1000 -m "$MEM_CALLS" -l $((MEM_CALLS + 100)) -d "$hold_ms" \
		-recv_timeout 5000 -timeout $(( (ramp_ms + hold_ms) / 1000 + 40))s -nostdin \
		-trace_stat -stf "$stf" -fd 1 \
		-trace_err -error_file "$work/err.mem.$t.log" \
		>/dev/null 2>"$work/uac.mem.$t.stderr" &
	up=$!
	pids+=("$up")
	# "setup": all placed, none ended, the newest seconds old
	at_ms=$(( (hold_ms - ramp_ms) / 2 ))
	[ "$at_ms" -le 3500 ] || at_ms=3500
	at_ms=$((ramp_ms + at_ms))
	sleep "$(awk -v m="$at_ms" 'BEGIN { printf "%.1f", m / 1000 }')"
	mem_at "$t" setup
	cur=$(stat_col "$stf" CurrentCall)
	if [ "$held_ms" -gt 0 ]; then
		sleep "$(awk -v m="$((held_ms - at_ms))" 'BEGIN { printf "%.1f", m / 1000 }')"
		mem_at "$t" held
		mem_held2[$t]=$(stat_col "$stf" CurrentCall)
	fi
	wait "$up" 2>/dev/null
	stop_pid "$up"
	sleep 2
	mem_at "$t" after
	ok=0
	[ -s "$stf" ] && ok=$(stat_col "$stf" "SuccessfulCall(C)")
	mem_held[$t]=${cur:-0}
	mem_fail[$t]=$((MEM_CALLS - ${ok:-0}))
	UAS_RECV_MS=10000
	log "  $t: $MEM_CALLS calls at $MEM_RATE/s held ${MEM_HOLD_S}s, ${mem_held[$t]} up at ${at_ms} ms, ${mem_held2[$t]:-?} at ${held_ms} ms, ${mem_fail[$t]} failed; kB before / setup / held / after: ${mem[$t:before]} / ${mem[$t:setup]} / ${mem[$t:held]:-} / ${mem[$t:after]}"
}

# ---------------------------------------------------------------- main

declare -A rate note capped
log "sip_cps: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); steps of ${STEP_S}s from $START/s to at most $CAP/s"
start_uas || exit 1

for t in $TARGETS; do
	case $t in
	kamailio)
		log "sip_cps: kamailio $(kamailio -v 2>/dev/null | head -n 1 | awk '{print $3}') (tm+sl+rr+dialog, $KAM_CHILDREN UDP workers, -m 1024 -M 64 -x $KAM_MEM -X $KAM_MEM), load $(cut -d' ' -f1 /proc/loadavg)"
		if start_kamailio; then
			cpu_begin kam "$kam_pid"
			if search "$KAM_PORT" kamailio restart_kamailio; then
				rate[$t]=$S_ACH
				[ "$S_BEST" -ge "$CAP" ] && capped[$t]=1
			else
				note[$t]="restart failed"
			fi
			cpu_end kam
			n=$(placed_calls "$work"/stat.kamailio.*.csv)
			log "  kamailio: $n calls, CPU $(per_call "${cpu_acc[kam]}" "$n") ms/call"
			kam_stats
			stop_pid "$kam_pid"
		else
			note[$t]="did not start"
		fi
		;;
	direct)
		# the harness alone: UAC straight to UAS A (no proxy), the ceiling
		# the load generator sets on this machine
		log "sip_cps: direct (sipp uac -> sipp uas, no proxy)"
		if search "$UAS_A" direct restart_uas; then
			rate[$t]=$S_ACH
			[ "$S_BEST" -ge "$CAP" ] && capped[$t]=1
		fi
		;;
	sg_off|sg_on)
		mode=0
		[ $t = sg_on ] && mode=3
		log "sip_cps: signalingd, SS_MEDIAPROXYMODE $mode, load $(cut -d' ' -f1 /proc/loadavg)"
		if ! ensure_db; then
			note[$t]="not available ($sg_why)"
		else
			since=$(sql "SELECT now()")
			if start_tandem "$mode"; then
				pgm=$(head -n 1 "$pg_dir/postmaster.pid" 2>/dev/null)
				cpu_acc=()
				cpu_begin sg "$sg_pid"
				cpu_begin bd "$bd_pid" "$pgm"
				cpu_begin mp "$mp_pid"
				perf_start "$t"
				if search "$SG_PORT" "$t" restart_sg; then
					rate[$t]=$S_ACH
					[ "$S_BEST" -ge "$CAP" ] && capped[$t]=1
				else
					note[$t]="restart failed ($sg_why)"
				fi
				perf_stop "$t"
				cpu_end sg; cpu_end bd; cpu_end mp
				n=$(placed_calls "$work"/stat."$t".*.csv)
				log "  $t: $n calls, CPU ms/call: signalingd $(per_call "${cpu_acc[sg]}" "$n"), billingd+postgres $(per_call "${cpu_acc[bd]}" "$n"), mediaproxyd $(per_call "${cpu_acc[mp]}" "$n")"
				# count after signalingd's exit: it flushes its
				# spool to billingd before it stops
				stop_tandem
				cdr_report "$t" "$since" "$mode"
			else
				note[$t]="not available ($sg_why)"
			fi
			stop_tandem
		fi
		[ -n "${note[$t]:-}" ] && log "  signalingd: ${note[$t]}"
		;;
	*)
		log "sip_cps: unknown target $t"
		;;
	esac
done

# post-dial delay and memory: one start of each target for both
x_targets=""
for t in direct kamailio sg_off sg_on; do
	case " $PDD_TARGETS $MEM_TARGETS " in
	*" $t "*) x_targets="$x_targets $t" ;;
	esac
done
if [ -n "$PDD_TARGETS" ] && [ -z "$PDD_RATE" ]; then
	# half of the lower signalingd rate found above (DESIGN: "at half of
	# max calls/s"), else 250/s
	PDD_RATE=$(for t in sg_off sg_on; do echo "${rate[$t]:-0}"; done |
		awk '$1 > 0 && (!m || $1 < m) { m = $1 } END { print m ? int(m / 2) : 250 }')
	[ "$PDD_RATE" -ge 10 ] || PDD_RATE=10
fi
for t in $x_targets; do
	log "sip_cps: $(label "$t"): post-dial delay / memory, load $(cut -d' ' -f1 /proc/loadavg)"
	if ! x_start "$t"; then
		x_note[$t]="not available ($x_why)"
		log "  $t: ${x_note[$t]}"
		continue
	fi
	case " $PDD_TARGETS " in
	*" $t "*) pdd_run "$t" "$X_PORT" ;;
	esac
	case " $MEM_TARGETS " in
	*" $t "*) [ "$t" != direct ] && mem_run "$t" "$X_PORT" ;;
	esac
	x_stop "$t"
done
stop_uas

# ---------------------------------------------------------------- tables

# microseconds -> "m.mm" ms; $2 (optional) subtracted first
ms() {
	[ -n "$1" ] || { echo "-"; return; }
	awk -v a="$1" -v b="${2:-0}" 'BEGIN { printf "%.2f", (a - b) / 1000 }'
}
pdd_table=$(
	[ -n "$PDD_TARGETS" ] || exit 0
	base50=${pdd_p50[direct]:-}
	base99=${pdd_p99[direct]:-}
	echo "| target | calls (failed) | p50 ms | p99 ms | max ms | added p50 ms | added p99 ms | added p99 < 5 ms | target CPU ms per call |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|---:|"
	for t in direct kamailio sg_off sg_on; do
		case " $PDD_TARGETS " in *" $t "*) ;; *) continue ;; esac
		if [ -z "${pdd_p99[$t]:-}" ]; then
			echo "| $(label "$t") | ${x_note[$t]:-n/a} | - | - | - | - | - | - | - |"
			continue
		fi
		a50=- a99=- met=-
		if [ "$t" != direct ] && [ -n "$base99" ]; then
			a50=$(ms "${pdd_p50[$t]}" "$base50")
			a99=$(ms "${pdd_p99[$t]}" "$base99")
			case $t in
			sg_*) met=$(awk -v a="$a99" 'BEGIN { print (a < 5 ? "met" : "NOT met") }') ;;
			esac
		fi
		echo "| $(label "$t") | ${pdd_n[$t]} (${pdd_fail[$t]}) | $(ms "${pdd_p50[$t]}") | $(ms "${pdd_p99[$t]}") | $(ms "${pdd_max[$t]}") | $a50 | $a99 | $met | ${pdd_cpu[$t]:--} |"
	done
)
# kB per held call: (up - before) / held
per_kb() {
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || n <= 0) print "-"
		else printf "%.1f", (b - a) / n }'
}
# field $2 (0-3) of target $1's figures at point $3, "-" when none
mem_f() {
	local fig
	read -r -a fig <<<"${mem[$1:$3]:-}"
	echo "${fig[$2]:--}"
}
# one row: target $1, field $2, label $3, target text $4
mem_row() {
	local t=$1 k=$2 b s h a
	b=$(mem_f "$t" "$k" before)
	s=$(mem_f "$t" "$k" setup)
	h=$(mem_f "$t" "$k" held)
	a=$(mem_f "$t" "$k" after)
	echo "| $3 | ${mem_held[$t]} / ${mem_held2[$t]:--} (${mem_fail[$t]}) | $b | $s | $h | $a | $(per_kb "$b" "$s" "${mem_held[$t]}") | $(per_kb "$b" "$h" "${mem_held2[$t]:-0}") | $4 |"
}
mem_table=$(
	[ -n "$MEM_TARGETS" ] || exit 0
	echo "| what (target) | calls up at setup / held (failed) | kB before | kB at setup | kB held | kB 2 s after | kB per call at setup | kB per held call | target |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for t in kamailio sg_off sg_on; do
		case " $MEM_TARGETS " in *" $t "*) ;; *) continue ;; esac
		if [ -z "${mem[$t:setup]:-}" ]; then
			echo "| $(label "$t") | ${x_note[$t]:-n/a} | - | - | - | - | - | - | - |"
			continue
		fi
		case $t in
		kamailio)
			mem_row "$t" 0 "Kamailio shared memory in use (shmmem real_used)" "-"
			mem_row "$t" 1 "Kamailio Pss of all its processes" "-"
			;;
		sg_off|sg_on)
			m=off
			[ "$t" = sg_on ] && m=on
			mem_row "$t" 0 "signalingd VmRSS, media $m" "-"
			mem_row "$t" 1 "signalingd heap in use, media $m" "< 16"
			if [ "$t" = sg_on ]; then
				mem_row "$t" 2 "mediaproxyd VmRSS, per session" "-"
				mem_row "$t" 3 "mediaproxyd heap in use, per session" "< 8"
			fi
			;;
		esac
	done
)

kam=${rate[kamailio]:-}
table=$(
	[ -n "$TARGETS" ] || exit 0
	echo "| target | calls/s at <0.1% fail | ratio vs Kamailio |"
	echo "|---|---:|---:|"
	for t in $TARGETS; do
		v=${rate[$t]:-}
		if [ -z "$v" ]; then
			echo "| $(label $t) | ${note[$t]:-n/a} | - |"
			continue
		fi
		[ "$v" = 0 ] && v="< $START"
		# clean at the cap: the real limit is higher (or the harness's)
		[ "${capped[$t]:-0}" = 1 ] && v=">= $v (cap)"
		ratio=-
		if [ -n "$kam" ] && [ "$kam" != 0 ] && [ "${rate[$t]}" != 0 ]; then
			ratio=$(awk -v a="${rate[$t]}" -v b="$kam" 'BEGIN { printf "%.2fx", a / b }')
			if [ "$t" != kamailio ] && [ "${capped[kamailio]:-0}" = 1 ] &&
				[ "${capped[$t]:-0}" = 0 ]; then
				ratio="<= $ratio"
			fi
		fi
		echo "| $(label $t) | $v | $ratio |"
	done
)
pdd_title="Post-dial delay (INVITE sent -> first 180/200 received at the UAC; ${PDD_RATE:-?} calls/s for ${PDD_S}s; added = target - harness; $(nproc) cores, loopback)"
mem_title="Memory per held call ($MEM_CALLS calls at $MEM_RATE/s held ${MEM_HOLD_S}s on a fresh process; kB per call = (with calls up - before) / calls up)"
report() {	# $1 = 1: with the date line for SIP_CPS_OUT
	if [ -n "$table" ]; then
		[ "$1" = 1 ] && echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, ${STEP_S}s steps, cap $CAP/s:" ||
			echo "SIP calls per second (sipp uac -> target -> 2 sipp uas; ${STEP_S}s steps, cap $CAP/s; $(nproc) cores, loopback)"
		[ "$1" = 1 ] && echo
		echo "$table"
		echo
	fi
	if [ -n "$pdd_table" ]; then
		echo "$pdd_title"
		[ "$1" = 1 ] && echo
		echo "$pdd_table"
		echo
	fi
	if [ -n "$mem_table" ]; then
		echo "$mem_title"
		[ "$1" = 1 ] && echo
		echo "$mem_table"
		echo
	fi
}
echo
report 0
[ -n "$OUT" ] && report 1 >>"$OUT"
exit 0
