# easd: an Exchange ActiveSync server.
#
#   make          build build/easd, build/easctl, build/easclient and tests
#   make run      install what is missing, build, start a demo server
#   make test     install what is missing, run every test under ASan+UBSan
#   make bench    run the benchmarks and print one table
#   make fuzz     run each fuzzer (WBXML, vCard, iCalendar, MIME) for
#                 FUZZ_SECONDS; make fuzz-ci: 30 s each on the seeds
#   make install  binaries, config, systemd unit, man pages (PREFIX, DESTDIR)
#   make deb      build/deb/easd_VERSION_ARCH.deb (debhelper)
#   make package-test  build the .deb, install it, smoke-test it, purge it
#   make deploy-test   the README's deployment on loopback (nginx, Postfix)

MODE ?= release
ifeq ($(MODE),asan)
OUT := build/asan
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
else
OUT := build
OPT := -O2 -g
endif

CC ?= cc
PKGS := libmicrohttpd libxml-2.0 libical sqlite3 cunit gmime-3.0 libcurl \
	libsystemd gnutls libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition -Wpointer-arith \
	-Wwrite-strings -Wvla -Wimplicit-fallthrough -Wundef
INCLUDES := -Icommon -Iwbxml -Istore -Iconv -Iserver -Iserver/web -Itools \
	-Itests \
	-Itests/e2e \
	-I$(OUT)/gen
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(INCLUDES) \
	$(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(OPT) $(LDFLAGS)
LDLIBS := $(PKG_LIBS) -lcrypt -lpthread -lm

# Debian packages the build, the tests and `make run` need.
DEB_PKGS := gcc make pkg-config libmicrohttpd-dev libxml2-dev \
	libsqlite3-dev libical-dev libcunit1-dev libgmime-3.0-dev \
	libcurl4-openssl-dev libcrypt-dev libwbxml2-utils swaks clang \
	libclang-rt-14-dev sqlite3 curl wrk openssl clang-format \
	python3-aiosmtpd libsystemd-dev libgnutls28-dev debhelper man-db \
	chromium chromium-driver python3-selenium libpq-dev postgresql
# only for make deploy-test: they start services (a web server, an MTA)
# that make run and make test have no business installing
DEPLOY_PKGS := nginx postfix fail2ban

GEN_H := $(OUT)/gen/wbxml-tags.h
GEN_C := $(OUT)/gen/wbxml-table.c

COMMON_SRC := $(wildcard common/*.c)
WBXML_SRC := $(wildcard wbxml/*.c)
STORE_SRC := $(wildcard store/*.c)
CONV_SRC := $(wildcard conv/*.c)
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c)) \
	$(wildcard server/web/*.c)
CLIENT_SRC := $(wildcard tools/client-*.c)
EASCTL_SRC := $(wildcard tools/easctl*.c)
EASCLIENT_SRC := $(wildcard tools/easclient*.c)
UNIT_SRC := $(wildcard tests/test-*.c)
E2E_SRC := $(wildcard tests/e2e/test-*.c)
E2E_LIB_SRC := $(filter-out tests/e2e/test-%,$(wildcard tests/e2e/*.c))
BENCH_SRC := $(wildcard bench/bench-*.c)

obj = $(patsubst %.c,$(OUT)/obj/%.o,$(1))

LIB_COMMON := $(OUT)/libcommon.a
LIB_WBXML := $(OUT)/libwbxml.a
LIB_STORE := $(OUT)/libstore.a
LIB_CONV := $(OUT)/libconv.a
LIB_SERVER := $(OUT)/libserver.a
LIB_CLIENT := $(OUT)/libclient.a
# Dependency order for the linker: users before what they use. The tools
# link conv and the store but never server: the linker enforces it.
BASE_LIBS := $(LIB_CONV) $(LIB_STORE) $(LIB_WBXML) $(LIB_COMMON)
SERVER_LIBS := $(LIB_SERVER) $(BASE_LIBS)
TOOL_LIBS := $(LIB_CLIENT) $(BASE_LIBS)
ALL_LIBS := $(LIB_SERVER) $(LIB_CLIENT) $(BASE_LIBS)

BINS := $(OUT)/easd $(OUT)/easctl $(OUT)/easclient
UNIT_BINS := $(patsubst tests/%.c,$(OUT)/%,$(UNIT_SRC))
E2E_BINS := $(patsubst tests/e2e/%.c,$(OUT)/e2e-%,$(E2E_SRC))
BENCH_BINS := $(patsubst bench/%.c,$(OUT)/%,$(BENCH_SRC))

.PHONY: all deps deploy-deps run test test-build test-run bench fuzz fuzz-build fuzz-ci format \
	format-check clean install deb package-test deploy-test
.DEFAULT_GOAL := all

all: $(BINS) $(UNIT_BINS) $(E2E_BINS) $(BENCH_BINS)

deps:
	@sh tools/deps.sh $(DEB_PKGS)

$(GEN_H): wbxml/eas-codepages.tsv wbxml/gen-tags.awk
	@mkdir -p $(dir $@)
	awk -v out=h -f wbxml/gen-tags.awk $< > $@.tmp && mv $@.tmp $@
$(GEN_C): wbxml/eas-codepages.tsv wbxml/gen-tags.awk
	@mkdir -p $(dir $@)
	awk -v out=c -f wbxml/gen-tags.awk $< > $@.tmp && mv $@.tmp $@

$(OUT)/obj/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/obj/gen/wbxml-table.o: $(GEN_C)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_COMMON): $(call obj,$(COMMON_SRC))
$(LIB_WBXML): $(call obj,$(WBXML_SRC)) $(OUT)/obj/gen/wbxml-table.o
$(LIB_STORE): $(call obj,$(STORE_SRC))
$(LIB_CONV): $(call obj,$(CONV_SRC))
$(LIB_SERVER): $(call obj,$(SERVER_SRC))
$(LIB_CLIENT): $(call obj,$(CLIENT_SRC))
$(OUT)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(OUT)/easd: $(call obj,server/main.c) $(SERVER_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(OUT)/easctl: $(call obj,$(EASCTL_SRC)) $(TOOL_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(OUT)/easclient: $(call obj,$(EASCLIENT_SRC)) $(TOOL_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests of the base modules link against that module and common only,
# so the linker enforces that they depend on nothing else.
WBXML_TESTS := $(filter $(OUT)/test-wbxml%,$(UNIT_BINS))
STORE_TESTS := $(filter $(OUT)/test-store%,$(UNIT_BINS))
COMMON_TESTS := $(filter $(OUT)/test-common%,$(UNIT_BINS))
CONV_TESTS := $(filter $(OUT)/test-conv% $(OUT)/test-mail%,$(UNIT_BINS))
$(COMMON_TESTS): $(OUT)/test-%: $(OUT)/obj/tests/test-%.o $(LIB_COMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(WBXML_TESTS): $(OUT)/test-%: $(OUT)/obj/tests/test-%.o $(LIB_WBXML) \
		$(LIB_COMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
# The store's runners share the backend-neutral suite (tests/store-suite.c),
# which speaks store.h only: it links against the store and common alike.
STORE_SUITE := $(OUT)/obj/tests/store-suite.o
$(STORE_TESTS): $(OUT)/test-%: $(OUT)/obj/tests/test-%.o $(STORE_SUITE) \
		$(LIB_STORE) $(LIB_COMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
# ... and on PostgreSQL, with a server of its own (tests/pgtest.c).
$(OUT)/test-store-pg: $(OUT)/obj/tests/pgtest.o
$(OUT)/test-store-search: $(OUT)/obj/tests/pgtest.o
# conv's tests: conv, wbxml and common (the store's types are headers).
$(CONV_TESTS): $(OUT)/test-%: $(OUT)/obj/tests/test-%.o $(LIB_CONV) \
		$(LIB_WBXML) $(LIB_COMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(OUT)/test-%: $(OUT)/obj/tests/test-%.o $(ALL_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(OUT)/e2e-test-%: $(OUT)/obj/tests/e2e/test-%.o \
		$(call obj,$(E2E_LIB_SRC)) $(ALL_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(OUT)/e2e-test-pg: $(OUT)/obj/tests/pgtest.o
$(OUT)/e2e-test-search: $(OUT)/obj/tests/pgtest.o
$(OUT)/e2e-test-backup: $(OUT)/obj/tests/pgtest.o
$(OUT)/bench-sync: $(OUT)/obj/tests/pgtest.o
$(OUT)/bench-nodes: $(OUT)/obj/tests/pgtest.o
$(OUT)/bench-%: $(OUT)/obj/bench/bench-%.o $(call obj,$(E2E_LIB_SRC)) \
		$(ALL_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

run: deps
	@$(MAKE) --no-print-directory $(BINS)
	@sh tools/run.sh

test: deps
	@$(MAKE) --no-print-directory MODE=asan test-build
	@sh tests/run-tests.sh build/asan

test-build: $(BINS) $(UNIT_BINS) $(E2E_BINS)

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh build

# libFuzzer targets (tests/fuzz/fuzz-*.c), each built with clang from the
# sources it needs; seeds come from tests/data. `make fuzz` runs each for
# FUZZ_SECONDS on a corpus that grows in build/fuzz/corpus-T; `make
# fuzz-ci` runs each for 30 s on its seeds alone. A crash leaves its input
# as build/fuzz/crash-* (replay: build/fuzz/fuzz-T FILE).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := wbxml vcard ical mime itip
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Icommon -Iwbxml -Istore -Iconv \
	-Ibuild/fuzz/gen -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZ_BASE_SRC := $(filter-out wbxml/wbxml-xml.c,$(WBXML_SRC)) \
	build/fuzz/gen/wbxml-table.c $(COMMON_SRC)
# (not the parts of conv/ that read or write the store)
FUZZ_CONV_SRC := $(filter-out conv/mail-deliver.c conv/autoreply.c \
	conv/meeting.c conv/mail-search.c conv/freebusy-account.c,$(CONV_SRC))
FUZZ_CONV_PKGS := libical gmime-3.0
FUZZ_BINS := $(addprefix build/fuzz/fuzz-,$(FUZZ_TARGETS))

build/fuzz/gen/wbxml-table.c: wbxml/eas-codepages.tsv wbxml/gen-tags.awk
	@mkdir -p build/fuzz/gen
	awk -v out=h -f wbxml/gen-tags.awk $< > build/fuzz/gen/wbxml-tags.h
	awk -v out=c -f wbxml/gen-tags.awk $< > $@
build/fuzz/fuzz-wbxml: tests/fuzz/fuzz-wbxml.c build/fuzz/gen/wbxml-table.c \
		$(COMMON_SRC) $(WBXML_SRC)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_BASE_SRC)
build/fuzz/fuzz-%: tests/fuzz/fuzz-%.c build/fuzz/gen/wbxml-table.c \
		$(COMMON_SRC) $(WBXML_SRC) $(CONV_SRC) $(wildcard conv/*.h)
	clang $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(FUZZ_CONV_PKGS)) \
		-o $@ $< $(FUZZ_CONV_SRC) $(FUZZ_BASE_SRC) \
		$(shell pkg-config --libs $(FUZZ_CONV_PKGS)) -lm

fuzz-build: deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		sh tests/fuzz/run.sh $$t $(FUZZ_SECONDS) build/fuzz/corpus-$$t \
			|| exit 1; \
	done
fuzz-ci: fuzz-build
	@rm -rf build/fuzz/ci
	@for t in $(FUZZ_TARGETS); do \
		sh tests/fuzz/run.sh $$t 30 build/fuzz/ci/$$t || exit 1; \
	done

FORMAT_SRC = $(wildcard */*.c */*.h tests/*/*.c tests/*/*.h server/web/*.c \
	server/web/*.h)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRC) && \
		echo "format-check: $(words $(FORMAT_SRC)) files formatted"


# Installation. The configuration, the unit and the data directory are
# where Debian keeps them whatever PREFIX is; with DESTDIR (packaging) the
# easd user and the ownership of /var/lib/easd are left to the package.
VERSION := $(shell sed -n 's/^\#define EASD_VERSION "\(.*\)"/\1/p' common/version.h)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
STATEDIR ?= /var/lib/easd
EXAMPLEDIR ?= $(PREFIX)/share/doc/easd/examples

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/easd $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/fail2ban/filter.d $(DESTDIR)$(EXAMPLEDIR)
	install -m 755 $(OUT)/easd $(OUT)/easctl $(DESTDIR)$(SBINDIR)/
	install -m 755 $(OUT)/easclient $(DESTDIR)$(BINDIR)/
	install -m 644 man/easd.8 man/easctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 man/easclient.1 $(DESTDIR)$(MANDIR)/man1/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/easd.service.in > $(DESTDIR)$(UNITDIR)/easd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/easd.service
	test -e $(DESTDIR)$(SYSCONFDIR)/easd/easd.conf || \
		install -m 640 dist/easd.conf $(DESTDIR)$(SYSCONFDIR)/easd/easd.conf
	install -m 644 dist/fail2ban-filter.conf \
		$(DESTDIR)$(SYSCONFDIR)/fail2ban/filter.d/easd.conf
	install -m 644 dist/nginx-site.conf dist/fail2ban-jail.local \
		$(DESTDIR)$(EXAMPLEDIR)/
	install -m 755 dist/certbot-deploy-hook $(DESTDIR)$(EXAMPLEDIR)/
	@sh tools/install-user.sh "$(DESTDIR)" "$(STATEDIR)" \
		"$(SYSCONFDIR)/easd/easd.conf"

deb:
	@sh tools/make-deb.sh

package-test:
	@sh tests/package-test.sh

# the deployment's own services (nginx, Postfix, fail2ban), for
# deploy-test and for the PostgreSQL test's balancer; not part of deps
deploy-deps:
	@sh tools/deps.sh $(DEPLOY_PKGS)

deploy-test: deps deploy-deps
	@$(MAKE) --no-print-directory $(BINS)
	@sh tests/deploy-test.sh $(OUT)

clean:
	rm -rf build

-include $(shell find build -path build/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
