#!/bin/sh
# build.sh - build bench/relay/fwd (the bare recvmmsg/sendto(mmsg)
# forwarder, libc only) with release flags, outside the top Makefile, into
# build/rel/bench/.  Prints its path.
set -e
cd "$(dirname "$0")/../.."
out=build/rel/bench
mkdir -p "$out"
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-o "$out/fwd" bench/relay/fwd.c
echo "$out/fwd"
