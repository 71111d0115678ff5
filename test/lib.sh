# Shared set-up for test/check and test/demo (sourced, not run).
#
# Installs missing Debian packages, builds and installs the extension, and
# starts a throw-away PostgreSQL cluster in a temporary directory, owned by
# an unprivileged OS user when we run as root (initdb refuses root).
# Everything started here is stopped by qs_cleanup (an EXIT trap).
#
# The PostgreSQL is Debian's (QS_PG_MAJOR, default 15), or any build that
# PG_CONFIG names, such as test/build-postgres's: then no PostgreSQL package
# is installed, and the extension is installed into that build.

set -euo pipefail

QS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QS_PG_MAJOR=${QS_PG_MAJOR:-15}
QS_SYSTEM_PG=1
if [ -n "${PG_CONFIG:-}" ]; then
    case "$(readlink -f "$PG_CONFIG")" in
        /usr/lib/postgresql/*/bin/pg_config)
            QS_PG_MAJOR=$(echo "$PG_CONFIG" | sed 's#.*/postgresql/\([0-9]*\)/bin/pg_config#\1#') ;;
        /usr/bin/pg_config | /usr/share/postgresql-common/*) ;;
        *)
            QS_SYSTEM_PG=0
            [ -x "$PG_CONFIG" ] || { echo "PG_CONFIG=$PG_CONFIG is not executable" >&2; exit 1; }
            QS_PG_MAJOR=$("$PG_CONFIG" --version | sed 's/[^0-9]*\([0-9]*\).*/\1/') ;;
    esac
fi
QS_PACKAGES="libcurl4-openssl-dev libjson-c-dev pkg-config make gcc python3
  libipc-run-perl openssl"
if [ "$QS_SYSTEM_PG" = 1 ]; then
    QS_PACKAGES="$QS_PACKAGES postgresql-$QS_PG_MAJOR postgresql-server-dev-$QS_PG_MAJOR
  postgresql-$QS_PG_MAJOR-cron postgresql-plpython3-$QS_PG_MAJOR"
fi
QS_WORK=${QS_WORK:-}
QS_PGPORT=${QS_PGPORT:-55432}
QS_PIDS=()

qs_log() { printf '== %s\n' "$*"; }

qs_sudo() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

qs_ensure_packages() {
    local missing=()
    for p in $QS_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    if [ "${QS_VALGRIND:-0}" = 1 ]; then
        dpkg-query -W -f='${Status}' valgrind 2>/dev/null | grep -q 'install ok installed' ||
            missing+=(valgrind)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        qs_log "installing Debian packages: ${missing[*]}"
        qs_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        qs_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null
    fi
    PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$QS_PG_MAJOR/bin/pg_config}
    [ -x "$PG_CONFIG" ] || PG_CONFIG=$(command -v pg_config)
    export PG_CONFIG
    QS_BINDIR=$("$PG_CONFIG" --bindir)
    QS_PG_MAJOR=$("$PG_CONFIG" --version | sed 's/[^0-9]*\([0-9]*\).*/\1/')
}

# The project's warning flags; PG_CFLAGS adds to them, CI=true adds -Werror.
QS_WARNINGS="-Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers"

qs_build_install() {
    local cflags="$QS_WARNINGS ${PG_CFLAGS:-}"
    if [ "${CI:-}" = "true" ]; then cflags="$cflags -Werror"; fi
    qs_log "building with $PG_CONFIG${cflags:+ (PG_CFLAGS=$cflags)}"
    make -C "$QS_ROOT" -s clean >/dev/null
    make -C "$QS_ROOT" -s PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$cflags" 2>&1 |
        { grep -v '^$' || true; }
    test "${PIPESTATUS[0]}" -eq 0
    qs_sudo make -C "$QS_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# The settings of test/check's second pass over the regression suite (and
# test/mutate's): whatever users run with must give the same rows.  Tiny
# work_mem (scans spill to disk), generic plans, parallel query forced
# everywhere it is allowed, JIT for every expression (force_parallel_mode
# is debug_parallel_query from PostgreSQL 16 on).  Sets QS_HOSTILE_OPTIONS
# (a PGOPTIONS value) unless it is set already; after qs_ensure_packages,
# which knows the major version.
qs_hostile_options() {
    local parallel_guc=force_parallel_mode
    [ "$QS_PG_MAJOR" -lt 16 ] || parallel_guc=debug_parallel_query
    QS_HOSTILE_OPTIONS=${QS_HOSTILE_OPTIONS:-"-c work_mem=64kB \
-c plan_cache_mode=force_generic_plan -c $parallel_guc=regress \
-c jit=on -c jit_above_cost=0 -c jit_inline_above_cost=0 \
-c jit_optimize_above_cost=0"}
}

# The OS user that owns the cluster: ourselves, or postgres (created if
# missing) when we are root.
qs_pick_user() {
    if [ "$(id -u)" -ne 0 ]; then
        QS_USER=$(id -un)
        return
    fi
    QS_USER=postgres
    id -u "$QS_USER" >/dev/null 2>&1 ||
        useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$QS_USER"
}

qs_as_user() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$QS_USER" -- "$@"
    else
        "$@"
    fi
}

# A work directory the cluster user can write: the data dir, the socket,
# pg_regress's output, and a copy of the test inputs (the checkout itself
# may be unreadable to that user, e.g. a root-owned mktemp -d clone): the
# TAP tests read README.md and the sources too (test/t/006_readme.pl).
qs_make_workdir() {
    QS_WORK=$(mktemp -d /tmp/qstash-test.XXXXXX)
    chmod 755 "$QS_WORK"
    mkdir -p "$QS_WORK/src" "$QS_WORK/out"
    cp -r "$QS_ROOT/sql" "$QS_ROOT/expected" "$QS_ROOT/test" "$QS_ROOT/src" \
        "$QS_ROOT/README.md" "$QS_WORK/src/"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$QS_USER" "$QS_WORK"; fi
}

qs_start_cluster() {
    qs_log "starting a throw-away cluster as OS user $QS_USER in $QS_WORK/data"
    qs_as_user "$QS_BINDIR/initdb" -D "$QS_WORK/data" -A trust -U postgres \
        --no-sync -E UTF8 --locale=C >"$QS_WORK/initdb.log" 2>&1 ||
        { cat "$QS_WORK/initdb.log"; return 1; }
    cat >>"$QS_WORK/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$QS_WORK'
port = $QS_PGPORT
fsync = off
log_min_messages = ${QS_LOG_MIN_MESSAGES:-warning}
${QS_EXTRA_CONF:-}
CONF
    local server=()
    if [ "${QS_VALGRIND:-0}" = 1 ]; then
        # every backend under memcheck; one log per process
        cat >"$QS_WORK/postgres-valgrind" <<VG
#!/bin/sh
exec valgrind --quiet --leak-check=full --show-leak-kinds=definite \\
  --errors-for-leak-kinds=definite --track-origins=no --num-callers=30 \\
  --log-file=$QS_WORK/valgrind/%p.log "$QS_BINDIR/postgres" "\$@"
VG
        chmod 755 "$QS_WORK/postgres-valgrind"
        mkdir -p "$QS_WORK/valgrind"
        [ "$(id -u)" -ne 0 ] || chown "$QS_USER" "$QS_WORK/valgrind"
        server=(-p "$QS_WORK/postgres-valgrind")
        qs_log "the server runs under valgrind (slow)"
    fi
    qs_as_user "$QS_BINDIR/pg_ctl" -D "$QS_WORK/data" -l "$QS_WORK/postgres.log" \
        "${server[@]}" -w -t 300 start >/dev/null
    export PGHOST="$QS_WORK" PGPORT="$QS_PGPORT" PGUSER=postgres
}

# Stop the cluster (so every backend exits and valgrind writes its leak
# report), then count the memcheck findings that involve the extension or
# its libraries.  Prints them; returns the number of findings.
qs_valgrind_report() {
    qs_as_user "$QS_BINDIR/pg_ctl" -D "$QS_WORK/data" -m fast -w -t 300 stop >/dev/null
    python3 - "$QS_WORK/valgrind" <<'PY'
import glob, re, sys
ours = re.compile(r"qstash\.so|libcurl|libjson-c|libnghttp|libssl|libcrypto")
findings = 0
files = glob.glob(sys.argv[1] + "/*.log")
for path in files:
    text = open(path, errors="replace").read()
    # valgrind separates reports by blank lines: one block per error/leak
    for block in re.split(r"\n==\d+== \n", text):
        if not re.search(r"definitely lost|Invalid (read|write)|uninitialised|Mismatched free|Invalid free", block):
            continue
        if "definitely lost: 0 bytes" in block:
            continue
        if ours.search(block):
            findings += 1
            print(block.strip()[:3000])
print("valgrind: %d process logs, %d findings involving the extension or its libraries" % (len(files), findings))
sys.exit(min(findings, 100))
PY
}

# Run test/bench/bench.py against the running cluster ("$@": --smoke).
qs_bench() {
    local b="$QS_WORK/bench"
    mkdir -p "$b/fixtures"
    gcc -O2 -o "$b/bench_client" "$QS_ROOT/test/bench/bench_client.c" \
        $(pkg-config --cflags --libs libcurl json-c)
    # the stress fixtures: 5 000 instances, the 2 640-point stats
    python3 "$QS_ROOT/test/bench/make_payloads.py" \
        "$QS_ROOT/test/mock/fixtures/users.json" "$b/fixtures"
    chmod -R a+rX "$b"
    local key="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
    python3 "$QS_WORK/src/test/mock/qstash_mock.py" --port-file "$b/mock.port" \
        --email bench@example.com --api-key "$key" --lifetime 3600 &
    QS_PIDS+=($!)
    QSTASH_MOCK_FIXTURES="$b/fixtures" python3 "$QS_WORK/src/test/mock/qstash_mock.py" \
        --port-file "$b/stress.port" --email bench@example.com --api-key "$key" --lifetime 3600 &
    QS_PIDS+=($!)
    for _ in $(seq 1 100); do
        [ -s "$b/mock.port" ] && [ -s "$b/stress.port" ] && break
        sleep 0.1
    done
    local url="http://127.0.0.1:$(cat "$b/mock.port")"
    local psql_cmd="$QS_BINDIR/psql -h $QS_WORK -p $QS_PGPORT -U postgres -d postgres"
    [ "$(id -u)" -ne 0 ] || psql_cmd="runuser -u $QS_USER -- $psql_cmd"
    PSQL="$psql_cmd" BENCH_CLIENT="$b/bench_client" MOCK_URL="$url" \
        STRESS_URL="http://127.0.0.1:$(cat "$b/stress.port")" \
        MOCK_EMAIL=bench@example.com MOCK_KEY="$key" \
        MOCK_CTL="python3 $QS_ROOT/test/mock/ctl.py --url $url" \
        STRESS_CTL="python3 $QS_ROOT/test/mock/ctl.py --url http://127.0.0.1:$(cat "$b/stress.port")" \
        python3 "$QS_ROOT/test/bench/bench.py" "$@"
    # 8 concurrent sessions, with and without shared_preload_libraries
    local secs=10
    [ "${1:-}" != "--smoke" ] || secs=1
    local pgxs_dir
    pgxs_dir=$(dirname "$("$PG_CONFIG" --pgxs)")/../..
    mkdir -p "$b/tap"
    [ "$(id -u)" -ne 0 ] || chown "$QS_USER" "$b/tap"
    (cd "$QS_WORK/src" && qs_as_user env PATH="$QS_BINDIR:$PATH" TESTDIR="$b/tap" \
        PG_REGRESS="$pgxs_dir/src/test/regress/pg_regress" BENCH_SHARED_SECONDS="$secs" \
        perl -I "$pgxs_dir/src/test/perl" -I test/t test/bench/shared.pl)
}

# qs_regress OUTDIR PGOPTIONS TEST...: pg_regress over the given test files
# against the running cluster, each file under a fresh mock API.
qs_regress() {
    local outdir=$1 options=$2 expected_dir=()
    shift 2
    # from 16 on, pg_regress looks for expected files in the current
    # directory unless told (which the cluster's user may not read)
    [ "$QS_PG_MAJOR" -lt 16 ] || expected_dir=(--expecteddir="$QS_WORK/src")
    mkdir -p "$outdir"
    [ "$(id -u)" -ne 0 ] || chown "$QS_USER" "$outdir"
    qs_as_user env PGOPTIONS="$options" \
        "$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress" \
        --inputdir="$QS_WORK/src" "${expected_dir[@]}" --outputdir="$outdir" \
        --bindir="$QS_BINDIR" --host="$QS_WORK" --port="$QS_PGPORT" \
        --user=postgres --dbname=contrib_regression \
        --launcher="$QS_WORK/src/test/mock/launch" "$@"
}

# qs_tap TESTDIR FILE...: TAP tests (test/t/NNN_*.pl) with prove; each
# starts its own clusters from $QS_BINDIR.
qs_tap() {
    local testdir=$1 pgxs_dir
    shift
    pgxs_dir=$(dirname "$("$PG_CONFIG" --pgxs)")/../..
    rm -rf "$testdir"
    mkdir -p "$testdir"
    [ "$(id -u)" -ne 0 ] || chown "$QS_USER" "$testdir"
    (cd "$QS_WORK/src" && qs_as_user env PATH="$QS_BINDIR:$PATH" TESTDIR="$testdir" \
        PG_REGRESS="$pgxs_dir/src/test/regress/pg_regress" \
        prove -v -I "$pgxs_dir/src/test/perl" -I test/t "$@")
}

# qs_private_pg DIR: a private copy of the PostgreSQL installation
# $PG_CONFIG describes (binaries, modules, share, server headers), at the
# same paths under DIR; PostgreSQL finds its directories relative to its
# binaries, so the copy is a working installation that the extension can be
# installed into without touching the original.  Sets PG_CONFIG to it.
qs_private_pg() {
    local dir=$1 d
    mkdir -p "$dir"
    for d in "$("$PG_CONFIG" --bindir)" "$("$PG_CONFIG" --pkglibdir)" \
        "$("$PG_CONFIG" --sharedir)" "$("$PG_CONFIG" --pkgincludedir)"; do
        [ -d "$dir$d" ] || { mkdir -p "$dir$(dirname "$d")" && cp -a "$d" "$dir$(dirname "$d")/"; }
    done
    # a private build's notes (test/build-postgres: why it has no pg_cron)
    d=$(dirname "$("$PG_CONFIG" --bindir)")
    for f in "$d"/.qs-*; do
        [ ! -f "$f" ] || cp "$f" "$dir$d/"
    done
    PG_CONFIG="$dir$("$PG_CONFIG" --bindir)/pg_config"
    export PG_CONFIG
    QS_BINDIR=$("$PG_CONFIG" --bindir)
    [ "$QS_BINDIR" = "$dir${QS_BINDIR#"$dir"}" ] ||
        { echo "the copy of PostgreSQL in $dir is not relocatable" >&2; return 1; }
}

qs_cleanup() {
    local rc=$?
    set +e
    for pid in "${QS_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    if [ -n "$QS_WORK" ] && [ -f "$QS_WORK/data/postmaster.pid" ]; then
        qs_as_user "$QS_BINDIR/pg_ctl" -D "$QS_WORK/data" -m immediate -w stop >/dev/null 2>&1
    fi
    if [ -n "$QS_WORK" ]; then
        if [ "${QS_KEEP:-0}" = 1 ]; then
            qs_log "kept $QS_WORK"
        else
            rm -rf "$QS_WORK"
        fi
    fi
    exit $rc
}

# The extension is built and installed into a private copy of the
# PostgreSQL installation (qs_private_pg, in the work directory): the
# system server's modules are never touched, and runs side by side do not
# overwrite each other's build.
qs_setup() {
    qs_ensure_packages
    qs_hostile_options
    qs_pick_user
    qs_make_workdir
    trap qs_cleanup EXIT
    trap 'exit 130' INT TERM
    qs_private_pg "$QS_WORK/pg"
    qs_build_install
    qs_start_cluster
}
