#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages Tandem's build, tests and
# demo need.  Idempotent and fast when everything is present: it asks dpkg
# first and touches apt only for what is missing.
#
#   deploy/install-deps.sh          required + optional packages
#   TANDEM_SKIP_OPTIONAL=1 ...      required packages only
#
# Required packages must install or the script fails.  Optional ones (SIP
# softphones, the benchmark references) are tried one by one; a
# failure only prints a warning.  Package scripts are not allowed to start
# services while we install (policy-rc.d), and the reference daemons that
# ship units (kamailio, rtpengine) are disabled: tests start their own.
set -euo pipefail

REQUIRED=(
	build-essential pkg-config make git debhelper
	clang libclang-rt-14-dev clang-tidy cppcheck clang-format
	libsofia-sip-ua-dev libre-dev librem-dev
	libbcg729-dev libopus-dev libspandsp-dev libspeexdsp-dev libavcodec-dev
	libpq-dev libnng-dev libjansson-dev libcmocka-dev libargon2-dev libcurl4-openssl-dev libmbedtls-dev
	libsystemd-dev
	libssl-dev
	postgresql postgresql-client
	sip-tester tshark
	python3 python3-pytest python3-psycopg2 python3-jsonschema
	procps iproute2 gdb nftables iptables systemd
	chromium fonts-wqy-microhei
	prometheus
	systemd-container ansible-core openssh-server
)
# chromium drives the web manager's tests; the font draws its Chinese pages;
# prometheus (server and promtool) scrapes the daemons in the metrics test;
# systemd-nspawn hosts, Ansible and sshd run the multi-host test
OPTIONAL=(kamailio kamailio-tls-modules rtpengine-daemon baresip linphone-cli)
# kamailio-tls-modules: Kamailio as the phones' TLS proxy in
# tests/integration/test_kamailio_tls_phone.py
# units shipped by optional packages that must not run on their own
SERVICES=(kamailio rtpengine-daemon ngcp-rtpengine-daemon rtpengine prometheus)

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = \
		"install ok installed" ]
}

SUDO=
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	fi
fi

missing_req=()
for p in "${REQUIRED[@]}"; do
	installed "$p" || missing_req+=("$p")
done
missing_opt=()
if [ "${TANDEM_SKIP_OPTIONAL:-0}" != 1 ]; then
	for p in "${OPTIONAL[@]}"; do
		installed "$p" || missing_opt+=("$p")
	done
fi
# nodejs may come from another source (e.g. a NodeSource repack that bundles
# npm): only install Debian's packages when the commands are missing.
command -v node >/dev/null 2>&1 || missing_req+=(nodejs)
command -v npm >/dev/null 2>&1 || missing_req+=(npm) # make web

if [ ${#missing_req[@]} -eq 0 ] && [ ${#missing_opt[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi

# Optional packages already known to fail on this machine are not retried
# on every run (apt would refetch indexes each time).
stamp=/var/tmp/tandem-install-deps.optional-failed
if [ ${#missing_req[@]} -eq 0 ] && [ -f "$stamp" ]; then
	still=()
	for p in "${missing_opt[@]}"; do
		grep -qx "$p" "$stamp" || still+=("$p")
	done
	if [ ${#still[@]} -eq 0 ]; then
		echo "install-deps: required packages present;" \
			"optional not installable here: ${missing_opt[*]}"
		exit 0
	fi
	missing_opt=("${still[@]}")
fi

if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ]; then
	echo "install-deps: missing packages: ${missing_req[*]} ${missing_opt[*]}" >&2
	echo "install-deps: run as root (or install sudo)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -q
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
	install --no-install-recommends)

# Keep package maintainer scripts from starting services during install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	own_policy=1
fi
cleanup() {
	if [ "$own_policy" = 1 ]; then
		$SUDO rm -f "$policy"
	fi
}
trap cleanup EXIT

# tshark: do not ask whether non-root users may capture
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	$SUDO debconf-set-selections 2>/dev/null || true

echo "install-deps: apt-get update"
$SUDO apt-get -q update >/dev/null

if [ ${#missing_req[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing_req[*]}"
	"${APT[@]}" "${missing_req[@]}"
fi

failed=()
for p in "${missing_opt[@]}"; do
	if ! apt-cache show "$p" >/dev/null 2>&1; then
		echo "install-deps: warning: optional package $p is not in this" \
			"distribution; later tests/benchmarks that use it will skip" >&2
		failed+=("$p")
		continue
	fi
	echo "install-deps: installing optional $p"
	if ! "${APT[@]}" "$p"; then
		echo "install-deps: warning: optional package $p failed to" \
			"install; later tests/benchmarks that use it will skip" >&2
		failed+=("$p")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	printf '%s\n' "${failed[@]}" | $SUDO tee "$stamp" >/dev/null || true
fi

# The reference daemons must not run as system services: benchmarks and
# tests start their own instances on private ports.
for s in "${SERVICES[@]}"; do
	if command -v systemctl >/dev/null 2>&1 &&
		systemctl list-unit-files "$s.service" 2>/dev/null |
			grep -q "^$s.service"; then
		$SUDO systemctl disable --now "$s" >/dev/null 2>&1 || true
	fi
	if [ -x "/etc/init.d/$s" ]; then
		$SUDO update-rc.d "$s" disable >/dev/null 2>&1 || true
	fi
done

echo "install-deps: done"
