# config.mk - compiler flags shared by every target (included by Makefile)
CC      ?= cc
VERSION := 0.1.0

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wold-style-definition -Wpointer-arith \
           -Wcast-qual -Wwrite-strings -Wundef -Wvla -Wno-missing-field-initializers
CSTD    := -std=gnu11
DEFS    := -D_GNU_SOURCE -DTANDEM_VERSION=\"$(VERSION)\"

# Dependencies whose headers are not warning-clean are included with -isystem.
# HAVE_STDBOOL_H: libre otherwise defines _Bool as signed char, and a bool
# passed between a file that includes it and one that does not changes type.
SOFIA_CFLAGS := -isystem /usr/include/sofia-sip-1.12
SOFIA_LIBS   := -lsofia-sip-ua
RE_CFLAGS    := -isystem /usr/include/re -isystem /usr/include/rem \
                -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DLINUX
RE_LIBS      := -lrem -lre
CODEC_CFLAGS := -isystem /usr/include/opus
CODEC_LIBS   := -lbcg729 -lopus -lspandsp -lspeexdsp -lavcodec -lavutil -lm
PQ_CFLAGS    := -isystem /usr/include/postgresql
PQ_LIBS      := -lpq
BASE_LIBS    := -lnng -ljansson -lcrypto -lsystemd -lpthread -lm

ifeq ($(SAN),1)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
BUILD   ?= build/san
else
OPT     := -O2 -g
LDSAN   :=
BUILD   ?= build/rel
endif

CFLAGS  := $(CSTD) $(OPT) $(WARN) $(DEFS) -I. -MMD -MP
LDFLAGS := $(LDSAN)
