#!/bin/sh
# build.sh - build bench/billing/bdload (the billing load client and the
# INSERT/COPY references; libraries only), release flags, outside the top
# Makefile.  Prints the path of the binary.
set -e
cd "$(dirname "$0")/../.."
out=build/rel/bench
mkdir -p "$out"
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	-isystem /usr/include/postgresql \
	-o "$out/bdload" bench/billing/bdload.c \
	-lnng -ljansson -lpq
echo "$out/bdload"
