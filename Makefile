# ja - job-attachments toolkit.   make | make check | make install | make bench
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(PREFIX)/share/zsh/vendor-completions

CC      ?= cc
PKGS     = libxxhash sqlite3 libcurl libcrypto expat
CSTD     = -std=c11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
OPT     ?= -O2 -g
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS) -Isrc -MMD -MP
LDLIBS  += $(PKG_LIBS) -lpthread -lm

ifeq ($(SANITIZE),1)
VARIANT  = san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
VARIANT  = rel
endif
B = build/$(VARIANT)

CORE_SRC   = $(wildcard src/core/*.c) $(wildcard src/s3/*.c)
APPLET_SRC = $(wildcard src/applets/*.c)
MAIN_SRC   = src/ja.c src/complete.c
LIB_OBJS   = $(CORE_SRC:%.c=$(B)/%.o)
OBJS       = $(MAIN_SRC:%.c=$(B)/%.o) $(APPLET_SRC:%.c=$(B)/%.o) $(LIB_OBJS)
UNIT_SRC   = $(wildcard tests/unit/*_test.c)
UNIT_BINS  = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC   = $(wildcard tests/fuzz/*_fuzz.c)
MANPAGES   = $(wildcard man/*.1 man/*.5)

all: ja links completions

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# ./ja is the binary of the last variant built; relink when the variant changes.
build/.variant-$(VARIANT):
	@mkdir -p build; rm -f build/.variant-*; touch $@

ja: $(OBJS) build/.variant-$(VARIANT)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

links: ja
	@for a in $$(./ja --list); do ln -sf ja ja-$$a; done

completions: completions/ja.bash completions/_ja
completions/ja.bash: ja
	./ja __completion bash > $@.tmp && mv $@.tmp $@
completions/_ja: ja
	./ja __completion zsh > $@.tmp && mv $@.tmp $@

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

unit: $(UNIT_BINS)

check: all unit
	tests/run.sh $(UNIT_BINS)

check-style:
	@clang-format --dry-run --Werror $(shell git ls-files '*.c' '*.h' 2>/dev/null || find src tests -name '*.[ch]')
	@echo "clang-format: clean"

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')

man-lint:
	mandoc -Tlint -Wwarning $(MANPAGES)

# libFuzzer targets (clang).  make fuzz FUZZ_SECONDS=60
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS    = $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined -Isrc $(PKG_CFLAGS)
FUZZ_TARGETS ?= $(FUZZ_SRC:tests/fuzz/%.c=%)
fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/%)
build/fuzz/%: tests/fuzz/%.c $(CORE_SRC)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(CORE_SRC) $(PKG_LIBS) -lpthread -lm
fuzz: fuzz-build
	@for f in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$f; \
	  seeds=tests/fuzz/seeds-$${f%_fuzz}; [ -d $$seeds ] || seeds=; \
	  echo "fuzz: $$f for $(FUZZ_SECONDS)s"; \
	  build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	    -print_final_stats=1 build/fuzz/corpus-$$f $$seeds 2>build/fuzz/$$f.log \
	    || { tail -50 build/fuzz/$$f.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' build/fuzz/$$f.log | tail -2; \
	done

bench: all
	bench/run-all.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 ja $(DESTDIR)$(BINDIR)/ja
	for a in $$(./ja --list); do ln -sf ja $(DESTDIR)$(BINDIR)/ja-$$a; done
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 completions/ja.bash $(DESTDIR)$(BASHCOMPDIR)/ja
	for a in $$(./ja --list); do ln -sf ja $(DESTDIR)$(BASHCOMPDIR)/ja-$$a; done
	install -m 0644 completions/_ja $(DESTDIR)$(ZSHCOMPDIR)/_ja

clean:
	rm -rf build ja ja-*

.PHONY: all links completions unit check check-style format man-lint fuzz fuzz-build bench install clean
-include $(OBJS:.o=.d) $(UNIT_BINS:=.d)
