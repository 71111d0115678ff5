# pg_qstash: PGXS build.  Warning flags come from PG_CFLAGS (test/lib.sh sets
# the project's: -Wall -Wextra ..., and -Werror in CI), never from here.

EXTENSION = qstash
MODULE_big = qstash
OBJS = \
	src/qstash.o \
	src/http.o \
	src/json.o \
	src/ratelimit.o \
	src/errors.o \
	src/options.o \
	src/catalog.o \
	src/plan.o \
	src/pushdown.o \
	src/fetch.o \
	src/cache.o \
	src/shared.o \
	src/runner.o \
	src/rows.o \
	src/functions.o \
	src/fdw.o

# The version is written once, in qstash.control; the C code gets it from here.
EXTVERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(dir $(lastword $(MAKEFILE_LIST)))qstash.control)
# Released scripts never change.  The current version's install script is
# built: the last released one followed by the upgrade script from it, so
# a fresh install and an upgrade run the same statements.
DATA = src/sql/released/qstash--0.1.0.sql src/sql/released/qstash--0.2.0.sql \
	src/sql/released/qstash--0.1.0--0.2.0.sql src/sql/qstash--0.2.0--0.3.0.sql
DATA_built = qstash--$(EXTVERSION).sql
PGFILEDESC = "pg_qstash - Upstash QStash data as SQL"

# Regression tests run against the bundled mock API: the launcher starts a
# fresh mock on 127.0.0.1 for each test file and hands its address to psql.
REGRESS = options users stats fdw snapshot errors rest rest_icu archive plan cache hostile hardening dba upgrade
REGRESS_OPTS = --launcher=$(CURDIR)/test/mock/launch
# TAP tests (make installcheck runs them too; they start their own clusters)
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl
PROVE_FLAGS = -I $(srcdir)/test/t

PKG_CONFIG ?= pkg-config
PG_CPPFLAGS = -I$(srcdir)/src $(shell $(PKG_CONFIG) --cflags libcurl json-c) \
	-DQSTASH_VERSION='"$(EXTVERSION)"'
SHLIB_LINK = $(shell $(PKG_CONFIG) --libs libcurl json-c)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

qstash--0.3.0.sql: src/sql/released/qstash--0.2.0.sql src/sql/qstash--0.2.0--0.3.0.sql
	{ echo '/* pg_qstash 0.3.0: built from the two scripts below, by the Makefile */'; \
	  cat $^; } >$@

.PHONY: format
format:
	clang-format -i src/*.c src/*.h
.PHONY: print-regress
print-regress:
	@echo $(REGRESS)
