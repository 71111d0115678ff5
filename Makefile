# pg_qstash: PGXS build.  Warning flags come from PG_CFLAGS (test/lib.sh sets
# the project's: -Wall -Wextra ..., and -Werror in CI), never from here.

EXTENSION = qstash
MODULE_big = qstash
OBJS = \
	src/init.o \
	src/qstash.o \
	src/http.o \
	src/prescan.o \
	src/json.o \
	src/ratelimit.o \
	src/printable.o \
	src/errors.o \
	src/options.o \
	src/conn.o \
	src/catalog.o \
	src/plan.o \
	src/request.o \
	src/pushdown.o \
	src/fetch.o \
	src/response.o \
	src/cache.o \
	src/shared.o \
	src/sharedcache.o \
	src/runner.o \
	src/convert.o \
	src/mapper.o \
	src/functions.o \
	src/fdw.o

# The version is written once, in qstash.control; the C code gets it from here.
EXTVERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(dir $(lastword $(MAKEFILE_LIST)))qstash.control)
# The SQL (see README, Layout).  Released scripts are installed as they
# were released, never changed.  The version under development has its
# scripts built from the parts in src/sql/: the install script is every
# part, in this order; the upgrade from the last released version is
# src/sql/upgrade.sql (what only an upgrade does) around the parts an
# upgrade runs again, so both get their routines, views and comments from
# the same text.
UPGRADE_FROM = 0.2.0
SQL_INSTALL_ONLY = src/sql/schema.sql
SQL_REPLAYED = src/sql/functions.sql src/sql/snapshots.sql src/sql/archive_steps.sql src/sql/archive.sql \
	src/sql/access.sql src/sql/comments.sql
DATA = src/sql/released/qstash--0.1.0.sql src/sql/released/qstash--0.2.0.sql \
	src/sql/released/qstash--0.1.0--0.2.0.sql
DATA_built = qstash--$(EXTVERSION).sql qstash--$(UPGRADE_FROM)--$(EXTVERSION).sql
PGFILEDESC = "pg_qstash - Upstash QStash data as SQL"

# Regression tests run against the bundled mock API: the launcher starts a
# fresh mock on 127.0.0.1 for each test file and hands its address to psql.
REGRESS = options users stats fdw snapshot errors rest rest_icu archive archive_run servers bounds keys plan response hostile hardening dba upgrade
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

# The install script: every part, in order.
qstash--$(EXTVERSION).sql: $(SQL_INSTALL_ONLY) $(SQL_REPLAYED)
	{ printf '/* pg_qstash %s, built by the Makefile from src/sql/ */\n\n' '$(EXTVERSION)'; \
	  echo '-- complain if script is sourced in psql, rather than via CREATE EXTENSION'; \
	  printf '\\echo Use "CREATE EXTENSION qstash" to load this file. \\quit\n'; \
	  for f in $^; do printf '\n-- %s\n\n' "$$f"; cat "$$f"; done; } >$@

# The upgrade script: upgrade.sql up to its line "-- @parts", the parts an
# upgrade runs again with CREATE OR REPLACE for functions, procedures and
# views (an install creates them, never replaces), the rest of upgrade.sql.
qstash--$(UPGRADE_FROM)--$(EXTVERSION).sql: src/sql/upgrade.sql $(SQL_REPLAYED)
	@grep -q '^-- @parts' $< || { echo "$<: no line '-- @parts'" >&2; exit 1; }
	{ printf '/* pg_qstash %s -> %s, built by the Makefile from src/sql/ */\n\n' \
	    '$(UPGRADE_FROM)' '$(EXTVERSION)'; \
	  echo '-- complain if script is sourced in psql, rather than via ALTER EXTENSION'; \
	  printf '\\echo Use "ALTER EXTENSION qstash UPDATE TO %s" to load this file. \\quit\n\n' \
	    "'$(EXTVERSION)'"; \
	  sed '/^-- @parts/,$$d' $<; \
	  for f in $(filter-out $<,$^); do printf '\n-- %s\n\n' "$$f"; \
	    sed -E 's/^CREATE (FUNCTION|PROCEDURE|VIEW) /CREATE OR REPLACE \1 /' "$$f"; done; \
	  printf '\n-- %s, continued\n\n' $<; \
	  sed '1,/^-- @parts/d' $<; } >$@

.PHONY: format
format:
	clang-format -i src/*.c src/*.h
.PHONY: print-regress
print-regress:
	@echo $(REGRESS)
