# rm (Resource Manager) and rs (Reporting Server).
#
#   make            build build/bin/rm and build/bin/rs
#   make test       install deps, build, run unit + integration tests
#   make asan       the same suite under ASan+UBSan (in build-asan/)
#   make fuzz       build libFuzzer targets with clang and run each briefly
#   make bench      benchmarks (never part of make test)
#   make run        the main job: rs + rm + two sipp MCPs, real calls, a billing summary
#
# BUILD selects the output directory, so several builds can live side by side.

BUILD   ?= build
CC      ?= cc
SAN     ?=
PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
# systemd reads units from /usr/local/lib/systemd/system too; packagers set /lib/...
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
FUZZ_SECONDS ?= 20

PKGS_COMMON := libcjson
# common/ev/snmpsub.c needs these; only programs that call it pull it from libcommon.a.
PKGS_COMMON_TEST := libevent libevent_pthreads netsnmp-agent openssl libevent_openssl
PKGS_RS     := libcjson libevent libevent_pthreads sqlite3 libpq netsnmp-agent openssl libevent_openssl
PKGS_RM     := libcjson libevent libevent_pthreads sofia-sip-ua netsnmp-agent openssl libevent_openssl

pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -pthread -Icommon -Icommon/ev -MMD -MP
ifeq ($(SAN),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
LDFLAGS += -pthread
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
CFLAGS  += -DPROJECT_VERSION='"$(VERSION)"'

# Sources live in one folder per concern (README "Layout"); every folder is searched,
# so headers are included by their bare names, as nginx does with its src/ folders.
srcs_under = $(sort $(shell find $(1) -name '*.c' 2>/dev/null))
dirs_under = $(sort $(shell find $(1) -type d 2>/dev/null))
COMMON_SRC := $(call srcs_under,common)
COMMON_PURE_SRC := $(wildcard common/*.c)
RS_SRC     := $(filter-out rs/main.c,$(call srcs_under,rs))
RM_SRC     := $(filter-out rm/main.c,$(call srcs_under,rm))
RS_INC     := $(addprefix -I,$(call dirs_under,rs))
RM_INC     := $(addprefix -I,$(call dirs_under,rm))

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
RS_OBJ     := $(RS_SRC:%.c=$(BUILD)/%.o)
RM_OBJ     := $(RM_SRC:%.c=$(BUILD)/%.o)

LIBCOMMON := $(BUILD)/libcommon.a
LIBRS     := $(BUILD)/librs.a
LIBRM     := $(BUILD)/librm.a

BINS := $(if $(wildcard rs/main.c),$(BUILD)/bin/rs) $(if $(wildcard rm/main.c),$(BUILD)/bin/rm)

# Unit tests mirror the source folders: tests/unit/rm/core/test_route.c tests rm/core/route.c.
units_under = $(patsubst %.c,$(BUILD)/%,$(sort $(shell find $(1) -name 'test_*.c' 2>/dev/null)))
UNIT_COMMON := $(call units_under,tests/unit/common)
UNIT_RS     := $(call units_under,tests/unit/rs)
UNIT_RM     := $(call units_under,tests/unit/rm)
UNITS       := $(UNIT_COMMON) $(UNIT_RS) $(UNIT_RM)
TOOLS       := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))

.PHONY: all deps test unit integration asan fuzz bench run clean install
all: $(BINS) $(UNITS) $(TOOLS)

deps:
	@bash scripts/install-deps

$(BUILD)/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pc_cflags,$(PKGS_COMMON)) -c $< -o $@
$(BUILD)/rs/%.o: rs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RS_INC) $(call pc_cflags,$(PKGS_RS)) -c $< -o $@
$(BUILD)/rm/%.o: rm/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RM_INC) $(call pc_cflags,$(PKGS_RM)) -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
# rs's dashboard (rs/rt/rt_web.h): rs/web/ and uPlot (from npm, installed by
# scripts/install-deps into UPLOT_DIR) are built into rs as C arrays.
UPLOT_DIR ?= /usr/local/share/gvp-rs-web/node_modules/uplot
WEB_FILES := rs/web/index.html rs/web/app.js rs/web/app.css \
	     $(UPLOT_DIR)/dist/uPlot.iife.min.js $(UPLOT_DIR)/dist/uPlot.min.css
$(BUILD)/gen/rt_web_assets.c: $(filter rs/web/%,$(WEB_FILES)) rs/web/embed.sh
	@test -f $(UPLOT_DIR)/dist/uPlot.iife.min.js || { echo "rs dashboard: uPlot is" \
	  "missing ($(UPLOT_DIR)/dist/uPlot.iife.min.js): run scripts/install-deps, which" \
	  "installs it with npm (the npm registry must be reachable), or set UPLOT_DIR" >&2; exit 1; }
	@mkdir -p $(dir $@)
	sh rs/web/embed.sh $(WEB_FILES) >$@.tmp && mv $@.tmp $@
$(BUILD)/gen/rt_web_assets.o: $(BUILD)/gen/rt_web_assets.c
	$(CC) $(CFLAGS) $(RS_INC) -c $< -o $@

$(LIBRS): $(RS_OBJ) $(BUILD)/gen/rt_web_assets.o
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBRM): $(RM_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/rs: $(BUILD)/rs/main.o $(LIBRS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(PKGS_RS)) -lm
$(BUILD)/bin/rm: $(BUILD)/rm/main.o $(LIBRM) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(PKGS_RM)) -lm

$(BUILD)/tests/unit/common/%: tests/unit/common/%.c $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pc_cflags,$(PKGS_COMMON) cmocka) -o $@ $< $(LIBCOMMON) $(LDFLAGS) $(call pc_libs,$(PKGS_COMMON) $(PKGS_COMMON_TEST) cmocka) -lm
$(BUILD)/tests/unit/rs/%: tests/unit/rs/%.c $(LIBRS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RS_INC) $(call pc_cflags,$(PKGS_RS) cmocka) -o $@ $< $(LIBRS) $(LIBCOMMON) $(LDFLAGS) $(call pc_libs,$(PKGS_RS) cmocka) -lm
$(BUILD)/tests/unit/rm/%: tests/unit/rm/%.c $(LIBRM) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RM_INC) $(call pc_cflags,$(PKGS_RM) cmocka) -o $@ $< $(LIBRM) $(LIBCOMMON) $(LDFLAGS) $(call pc_libs,$(PKGS_RM) cmocka) -lm
# Test and bench tools (load generators, etc.): link common only.
$(BUILD)/tools/%: tests/tools/%.c $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pc_cflags,$(PKGS_COMMON)) -o $@ $< $(LIBCOMMON) $(LDFLAGS) $(call pc_libs,$(PKGS_COMMON) sqlite3) -lm

# The suite: unit tests, then integration tests with real peers. One summary line.
test: deps
	$(MAKE) all
	BUILD=$(BUILD) bash tests/run $(UNITS) $(sort $(wildcard tests/integration/test_*))

unit: all
	BUILD=$(BUILD) bash tests/run $(UNITS)

integration: all
	BUILD=$(BUILD) bash tests/run $(sort $(wildcard tests/integration/test_*))

asan: deps
	$(MAKE) BUILD=build-asan SAN=1 CC=gcc all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	BUILD=build-asan SANITIZED=1 bash tests/run $(patsubst $(BUILD)/%,build-asan/%,$(UNITS)) $(sort $(wildcard tests/integration/test_*))

FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -D_GNU_SOURCE -Icommon -Icommon/ev $(call pc_cflags,libcjson) \
		-fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(COMMON_PURE_SRC) $(call pc_libs,libcjson) -lm -pthread
# fuzz_sip runs rm's proxy on a real su_root: every rm module but main.c, all of common.
$(BUILD)/fuzz/fuzz_sip: tests/fuzz/fuzz_sip.c $(RM_SRC) $(COMMON_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(RM_INC) $(call pc_cflags,$(PKGS_RM)) -o $@ $< $(RM_SRC) $(COMMON_SRC) $(call pc_libs,$(PKGS_RM)) -lm -pthread
# fuzz_cluster: rm's cluster frames and session lines (two rm files, OpenSSL).
$(BUILD)/fuzz/fuzz_cluster: tests/fuzz/fuzz_cluster.c rm/cluster/cluster_frame.c rm/cluster/cluster_sess.c $(COMMON_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(RM_INC) -o $@ $< rm/cluster/cluster_frame.c rm/cluster/cluster_sess.c $(COMMON_PURE_SRC) $(call pc_libs,libcjson) -lcrypto -lm -pthread

fuzz: deps $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	  n=$$(basename $$t); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$$n \
	    2>$(BUILD)/fuzz/$$n.log || { tail -40 $(BUILD)/fuzz/$$n.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' $(BUILD)/fuzz/$$n.log | tail -2; \
	done

bench:
	INSTALL_EXTRA=kamailio bash scripts/install-deps
	$(MAKE) all
	BUILD=$(BUILD) bash tests/bench/run

run: deps all
	BUILD=$(BUILD) bash scripts/run-demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/gvp
	for u in rm rs; do \
	  sed 's#/usr/local/bin/#$(PREFIX)/bin/#g; s#/etc/gvp/#$(SYSCONFDIR)/gvp/#g' \
	    etc/systemd/$$u.service >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u.service && \
	  chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.service; \
	  [ -e $(DESTDIR)$(SYSCONFDIR)/gvp/$$u.json ] || \
	    install -m 644 etc/$$u.json $(DESTDIR)$(SYSCONFDIR)/gvp/$$u.json; \
	done

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
