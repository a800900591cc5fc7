# Tandem - top-level build.  `make help` lists the targets.
include config.mk

V ?= 0
ifeq ($(V),0)
Q := @
endif

COMMON_SRC := $(sort $(wildcard common/*.c proto/*.c))
SG_SRC     := $(sort $(wildcard signaling/*.c signaling/*/*.c))
MP_SRC     := $(sort $(wildcard mediaproxy/*.c mediaproxy/*/*.c))
BD_SRC     := $(sort $(wildcard billingd/*.c billingd/*/*.c))
MODEL_SRC  := $(sort $(wildcard model/*.c))
CTL_SRC    := $(sort $(wildcard tools/*.c))
TT_SRC     := $(sort $(wildcard tests/tools/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
# every object of a daemon but its main.c: what unit tests link against
lib = $(filter-out %/main.o,$(call obj,$(1)))

LIBTANDEM := $(BUILD)/libtandem.a
LIBMODEL  := $(BUILD)/libmodel.a
SG_BIN    := $(BUILD)/signalingd
MP_BIN    := $(BUILD)/mediaproxyd
BD_BIN    := $(BUILD)/billingd
CTL_BIN   := $(BUILD)/tandemctl
TT_BIN    := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TT_SRC))
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

BINS := $(if $(SG_SRC),$(SG_BIN)) $(if $(MP_SRC),$(MP_BIN)) \
        $(if $(BD_SRC),$(BD_BIN)) $(if $(CTL_SRC),$(CTL_BIN)) $(TT_BIN)

SG_FLAGS := $(SOFIA_CFLAGS) $(PQ_CFLAGS)
MP_FLAGS := $(RE_CFLAGS) $(CODEC_CFLAGS)
BD_FLAGS := $(RE_CFLAGS) $(PQ_CFLAGS)
SG_LIBS  := $(SOFIA_LIBS) $(PQ_LIBS) $(BASE_LIBS)
# spandsp before librem: both export goertzel_*, the first one linked wins
MP_LIBS  := $(CODEC_LIBS) $(RE_LIBS) $(BASE_LIBS)
BD_LIBS  := $(RE_LIBS) $(PQ_LIBS) -largon2 $(BASE_LIBS)
CTL_LIBS := $(PQ_LIBS) $(RE_LIBS) -largon2 -lcurl -lmbedx509 -lmbedcrypto $(BASE_LIBS)
# tandemctl firewall reads the daemons' config files with their own tables
CTL_CONF := $(call obj,signaling/config.c billingd/config.c mediaproxy/config.c)

.SECONDARY:
.PHONY: test-multihost
test-multihost: ## Ansible deploys the Debian packages onto 7 systemd-nspawn hosts; restarts under load
	@BUILD=$(abspath $(BUILD)) PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -v \
		-p no:cacheprovider tests/multihost

.PHONY: all help run test unit integration web bench bench-build fuzz fuzz-build fuzz-long lint format clean deps install

all: $(BINS) ## build every daemon and tool (build/rel)

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install the Debian packages the build, tests and demo need
	@deploy/install-deps.sh

run: deps ## fresh machine -> database, demo provisioning, all daemons, a sample call
	@$(MAKE) --no-print-directory all web
	@deploy/run-demo.sh

test: deps ## everything CI runs: strict build, unit tests (ASan/UBSan), integration, lint
	@$(MAKE) --no-print-directory all web
	@$(MAKE) --no-print-directory SAN=1 all unit
	@$(MAKE) --no-print-directory SAN=1 integration
	@$(MAKE) --no-print-directory SAN=1 test-multihost
	@$(MAKE) --no-print-directory fuzz-build
	@$(MAKE) --no-print-directory bench-build
	@$(MAKE) --no-print-directory lint

# make install [DESTDIR=/tmp/root] [BUILD=build/san]: the FHS layout of a
# host (docs/deploy.md); config files already in /etc/tandem are kept
PREFIX      ?= /usr
SBINDIR     ?= $(PREFIX)/sbin
SHAREDIR    ?= $(PREFIX)/share/tandem
DOCDIR      ?= $(PREFIX)/share/doc/tandem
CONFDIR     ?= /etc/tandem
UNITDIR     ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
SPOOLDIR    ?= /var/spool/tandem
install: $(SG_BIN) $(MP_BIN) $(BD_BIN) $(CTL_BIN) ## install daemons, tandemctl, schema, units, config examples (DESTDIR)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SHAREDIR)/schema \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -d -m 0750 $(DESTDIR)$(SPOOLDIR)
	install -m 0755 $(SG_BIN) $(MP_BIN) $(BD_BIN) $(CTL_BIN) $(DESTDIR)$(SBINDIR)/
	install -m 0644 schema/*.sql $(DESTDIR)$(SHAREDIR)/schema/
	install -m 0644 deploy/systemd/*.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 deploy/systemd/tandem.sysusers $(DESTDIR)$(SYSUSERSDIR)/tandem.conf
	install -m 0644 deploy/systemd/tandem.tmpfiles $(DESTDIR)$(TMPFILESDIR)/tandem.conf
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 deploy/signalingd.conf deploy/mediaproxyd.conf \
		deploy/billingd.conf $(DESTDIR)$(DOCDIR)/examples/
	for d in signalingd mediaproxyd billingd; do \
		[ -e $(DESTDIR)$(CONFDIR)/$$d.conf ] || \
		install -m 0640 deploy/$$d.conf $(DESTDIR)$(CONFDIR)/; \
	done
	if [ -f $(WEB_DIR)/public/app.js ]; then \
		install -d $(DESTDIR)$(SHAREDIR)/web && \
		cp -R $(WEB_DIR)/public/. $(DESTDIR)$(SHAREDIR)/web/; \
	fi

# the web manager (billingd/web): npm packages pinned by package-lock.json,
# bundled by esbuild into public/ (docs/web.md)
WEB_DIR := billingd/web
WEB_SRC := $(wildcard $(WEB_DIR)/src/*.js)
web: $(WEB_DIR)/public/app.js ## the web manager's files (npm ci + esbuild)

$(WEB_DIR)/node_modules/.installed: $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	cd $(WEB_DIR) && npm ci --no-audit --no-fund
	@touch $@

$(WEB_DIR)/public/app.js: $(WEB_SRC) $(WEB_DIR)/node_modules/.installed
	cd $(WEB_DIR) && npm run --silent build

unit: $(UNIT_BIN) ## unit tests (cmocka)
	@tests/run-unit.sh $(UNIT_BIN)

integration: $(BINS) ## integration tests: real PostgreSQL, daemons, sipp
	@BUILD=$(BUILD) tests/run-integration.sh

bench: ## benchmark tables (never part of make test)
	@$(MAKE) --no-print-directory all
	@bench/run.sh

fuzz: ## run the libFuzzer harnesses for a bounded time
	@tests/fuzz/run.sh

fuzz-build: ## build every fuzz harness and replay its corpus once (part of make test)
	@tests/fuzz/run.sh 0 > build/fuzz-build.log 2>&1 || { tail -n 40 build/fuzz-build.log; exit 1; }
	@tail -n 16 build/fuzz-build.log

bench-build: ## the benchmarks' own programs still build (they are outside `all`; part of make test)
	@for b in bench/*/build.sh; do sh $$b > /dev/null || { echo "bench-build: $$b failed"; exit 1; }; done
	@echo "bench-build: ok ($(words $(wildcard bench/*/build.sh)) build scripts)"

FUZZ_TIME ?= 3600
fuzz-long: ## every fuzz harness FUZZ_TIME s (default 3600), corpus kept, summary in build/fuzz/summary.md
	@tests/fuzz/run.sh $(FUZZ_TIME)

lint: ## clang-tidy + cppcheck over the sources
	@tests/lint.sh

format: ## clang-format the sources in place
	@clang-format -i $(COMMON_SRC) $(SG_SRC) $(MP_SRC) $(BD_SRC) $(CTL_SRC) $(MODEL_SRC) \
		$(wildcard */*.h */*/*.h)

clean: ## remove build outputs
	rm -rf build

$(LIBTANDEM): $(call obj,$(COMMON_SRC))
	@mkdir -p $(@D)
	@echo '  AR      $@'
	$(Q)$(AR) rcs $@ $^

# the configuration model (model/): tandemctl and billingd
$(LIBMODEL): $(call obj,$(MODEL_SRC))
	@mkdir -p $(@D)
	@echo '  AR      $@'
	$(Q)$(AR) rcs $@ $^

$(SG_BIN): $(call obj,$(SG_SRC)) $(LIBTANDEM)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SG_LIBS)
$(MP_BIN): $(call obj,$(MP_SRC)) $(LIBTANDEM)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MP_LIBS)
$(BD_BIN): $(call obj,$(BD_SRC)) $(LIBMODEL) $(LIBTANDEM)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(BD_LIBS)
$(CTL_BIN): $(call obj,$(CTL_SRC)) $(CTL_CONF) $(LIBMODEL) $(LIBTANDEM)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LIBS)
# g723tool: the media engine's own G.723.1 codec, for test recordings
$(BUILD)/tests/g723tool: $(BUILD)/obj/tests/tools/g723tool.o \
		$(BUILD)/obj/mediaproxy/xcode/g723.o $(LIBTANDEM)
	@mkdir -p $(@D)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MP_LIBS)
$(BUILD)/tests/%: $(BUILD)/obj/tests/tools/%.o $(LIBTANDEM)
	@mkdir -p $(@D)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(BD_LIBS)

# unit test runners: test_common_* test_sg_* test_mp_* test_bd_*
$(BUILD)/tests/test_common_%: $(BUILD)/obj/tests/unit/test_common_%.o $(LIBTANDEM)
	@mkdir -p $(@D)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(BASE_LIBS)
$(BUILD)/tests/test_sg_%: $(BUILD)/obj/tests/unit/test_sg_%.o $(call lib,$(SG_SRC)) $(LIBTANDEM)
	@mkdir -p $(@D)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(SG_LIBS)
# the slot freed to refuse connections taken by "another thread"
$(BUILD)/tests/test_sg_tcpguard: LDFLAGS += -Wl,--wrap=accept4
$(BUILD)/tests/test_mp_%: $(BUILD)/obj/tests/unit/test_mp_%.o $(call lib,$(MP_SRC)) $(LIBTANDEM)
	@mkdir -p $(@D)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(MP_LIBS)
$(BUILD)/tests/test_bd_%: $(BUILD)/obj/tests/unit/test_bd_%.o $(call lib,$(BD_SRC)) $(LIBMODEL) $(LIBTANDEM)
	@mkdir -p $(@D)
	@echo '  LD      $@'
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(BD_LIBS)

$(BUILD)/obj/signaling/%.o: signaling/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(SG_FLAGS) -c -o $@ $<
$(BUILD)/obj/mediaproxy/%.o: mediaproxy/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(MP_FLAGS) -c -o $@ $<
$(BUILD)/obj/billingd/%.o: billingd/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(BD_FLAGS) -c -o $@ $<
$(BUILD)/obj/tests/tools/g723tool.o: tests/tools/g723tool.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(MP_FLAGS) -c -o $@ $<
$(BUILD)/obj/tools/%.o: tools/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(PQ_CFLAGS) -c -o $@ $<
$(BUILD)/obj/model/openapi.o: model/openapi_base.json
$(BUILD)/obj/model/%.o: model/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(PQ_CFLAGS) -c -o $@ $<
$(BUILD)/obj/tests/unit/test_sg_%.o: tests/unit/test_sg_%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(SG_FLAGS) -c -o $@ $<
$(BUILD)/obj/tests/unit/test_mp_%.o: tests/unit/test_mp_%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(MP_FLAGS) -c -o $@ $<
$(BUILD)/obj/tests/unit/test_bd_%.o: tests/unit/test_bd_%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) $(BD_FLAGS) -c -o $@ $<
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
