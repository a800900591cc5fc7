#!/bin/sh
# build.sh - build bench/transcode/transcode_bench (release flags, outside
# the top Makefile): the media engine sources plus common/log.c.
set -e
cd "$(dirname "$0")/../.."
out=build/rel/bench
mkdir -p "$out"
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. \
	-isystem /usr/include/re -DHAVE_INTTYPES_H -DLINUX \
	-isystem /usr/include/opus \
	-o "$out/transcode_bench" bench/transcode/transcode_bench.c \
	mediaproxy/xcode/*.c mediaproxy/dsp/*.c mediaproxy/dtmf/*.c \
	common/log.c \
	-lbcg729 -lopus -lspandsp -lspeexdsp -lre -lm
echo "$out/transcode_bench"
