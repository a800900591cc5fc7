#!/bin/sh
# build.sh - build bench/transcode/transcode_bench (the media engine sources,
# mediaproxy/rtp.c, mediaproxy/stats.c, proto/media.c and common/log.c) and
# bench/transcode/rawrelay (the raw codec+socket loop, libraries only),
# release flags, outside the top Makefile.  Prints the path of
# transcode_bench; rawrelay is next to it.
set -e
cd "$(dirname "$0")/../.."
out=build/rel/bench
mkdir -p "$out"
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. \
	-isystem /usr/include/re -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DLINUX \
	-isystem /usr/include/opus \
	-o "$out/transcode_bench" bench/transcode/transcode_bench.c \
	mediaproxy/xcode/*.c mediaproxy/dsp/*.c mediaproxy/dtmf/*.c \
	mediaproxy/rtp.c mediaproxy/stats.c proto/media.c \
	common/log.c \
	-lbcg729 -lopus -lspandsp -lspeexdsp -lavcodec -lavutil -lre -lm
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-isystem /usr/include/opus \
	-o "$out/rawrelay" bench/transcode/rawrelay.c \
	-lbcg729 -lopus -lspandsp -lspeexdsp -lavcodec -lavutil -lm
echo "$out/transcode_bench"
