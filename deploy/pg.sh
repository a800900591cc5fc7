#!/usr/bin/env bash
# pg.sh - a private PostgreSQL cluster for the demo and the tests
#
#   deploy/pg.sh start DIR PORT   initdb if needed, start, create db "tandem"
#   deploy/pg.sh stop DIR
#   deploy/pg.sh conninfo PORT     print the libpq conninfo
#
# The cluster listens on 127.0.0.1:PORT only, trust auth, superuser "tandem".
# As root, the server runs as the "postgres" system user.
set -euo pipefail

cmd=${1:-}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "pg.sh: PostgreSQL server binaries not found" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	dir=$(realpath -m "$2"); port=$3
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
	if [ ! -f "$dir/PG_VERSION" ]; then
		as_pg "$bindir/initdb" -D "$dir" -U tandem --auth=trust \
			--encoding=UTF8 --locale=C >"$dir.initdb.log" 2>&1 || {
			cat "$dir.initdb.log" >&2; exit 1; }
	fi
	if ! as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		as_pg "$bindir/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
			start >/dev/null
	fi
	psql -h 127.0.0.1 -p "$port" -U tandem -d postgres -tAq \
		-c "SELECT 1 FROM pg_database WHERE datname='tandem'" | grep -q 1 ||
		psql -h 127.0.0.1 -p "$port" -U tandem -d postgres -q \
			-c "CREATE DATABASE tandem"
	;;
stop)
	dir=$(realpath -m "$2")
	[ -f "$dir/PG_VERSION" ] || exit 0
	as_pg "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
	;;
conninfo)
	echo "host=127.0.0.1 port=$2 user=tandem dbname=tandem"
	;;
*)
	echo "usage: pg.sh start DIR PORT | stop DIR | conninfo PORT" >&2
	exit 2
	;;
esac
