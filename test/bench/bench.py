#!/usr/bin/env python3
"""pg_qstash benchmark: the extension against the alternatives a user has,
measured in one run against the same mock API and the same payloads.

Baselines:
  c       a bare C client (libcurl + json-c, keep-alive, reads every field)
  diy     plpython3u + urllib fetching, jsonb_to_recordset / jsonb_array_elements
  local   PostgreSQL's own JSON path on the same payload stored locally
          (parse cost only, no HTTP)

Run by test/bench/run (full) or test/check (--smoke: tiny N, checks that
every method returns the same rows, so the benchmark cannot rot).
Environment: PSQL (command prefix to run psql against the test cluster),
BENCH_CLIENT (the built C client), MOCK_URL, STRESS_URL, MOCK_EMAIL, MOCK_KEY,
MOCK_CTL (ctl.py command prefix).
"""

import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

SMOKE = "--smoke" in sys.argv
N = 20 if SMOKE else int(os.environ.get("BENCH_N", 1000))
BIG_N = 3 if SMOKE else int(os.environ.get("BENCH_BIG_N", 50))
RSS_N = 50 if SMOKE else int(os.environ.get("BENCH_RSS_N", 10000))

PSQL = shlex.split(os.environ["PSQL"])
CLIENT = os.environ["BENCH_CLIENT"]
URL, STRESS = os.environ["MOCK_URL"], os.environ["STRESS_URL"]
EMAIL, KEY = os.environ["MOCK_EMAIL"], os.environ["MOCK_KEY"]
CTL = shlex.split(os.environ["MOCK_CTL"])
STRESS_CTL = shlex.split(os.environ["STRESS_CTL"])
INSTANCE = "99a4c327-31f0-490f-a594-043ade84085a"


def psql(script, check=True):
    """Run a psql script in one session; returns stdout."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    os.chmod(f.name, 0o644)
    try:
        r = subprocess.run(PSQL + ["-X", "-q", "-v", "ON_ERROR_STOP=%d" % check,
                                   "-f", f.name],
                           capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if check and r.returncode != 0:
        sys.exit("psql failed:\n" + r.stderr[-3000:])
    return r.stdout


def ctl(*args, cmd=None):
    return subprocess.run((cmd or CTL) + list(args), capture_output=True,
                          text=True, check=True).stdout


def timed(stmt, n, check=True, pre=""):
    """Median and p95 (ms) of n executions of stmt in one session."""
    out = psql(pre + "\\timing on\n\\o /dev/null\n" + (stmt + "\n") * n, check)
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", out, re.M)]
    if len(times) != n:
        sys.exit("expected %d timings, got %d for %s" % (n, len(times), stmt))
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)], sum(times)


def scalar(sql):
    return psql("\\pset tuples_only on\n\\pset format unaligned\n" + sql).strip()


def c_client(url, n):
    out = subprocess.run([CLIENT, url, EMAIL, KEY, str(n)], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


# -- the SQL of each method ---------------------------------------------------
USERS_COLS = None
USERS_COLS_SQL = ("""
SELECT string_agg(format('%I %s', n,
         CASE WHEN n = 'prometheus_enabled' THEN 'text'
              WHEN format_type(t, NULL) = 'timestamp with time zone' THEN 'bigint'
              ELSE format_type(t, NULL) END), ', ' ORDER BY o)
  FROM pg_proc p, unnest(p.proargnames, p.proallargtypes, p.proargmodes)
       WITH ORDINALITY a(n, t, m, o)
 WHERE p.oid = 'qstash_users(name)'::regprocedure AND m = 't' AND n <> 'extra'""")


def users_sql(src):
    # what a careful user writes by hand: the same typed columns
    return ("SELECT count(t.*) FROM (SELECT x.*, x.prometheus_enabled::boolean AS pe, "
            "to_timestamp(x.creation_time) AS ct, to_timestamp(x.last_plan_upgrade_time) AS lput, "
            "to_timestamp(nullif(x.deletion_time, 0)) AS dt "
            "FROM jsonb_to_recordset((%s)::jsonb) AS x(%s)) t;" % (src, USERS_COLS))


def stats_sql(src):
    ts = "regexp_replace(%s->>'x', ' [^ ]+( m=.*)?$', '')::timestamptz"
    return ("WITH doc AS (SELECT (%s)::jsonb AS d), series AS ("
            " SELECT k.key AS metric, e FROM doc, jsonb_each(d) k,"
            " jsonb_array_elements(CASE jsonb_typeof(k.value) WHEN 'array' THEN k.value ELSE '[]' END) e"
            " WHERE jsonb_typeof(e) = 'object') "
            "SELECT count(t.*) FROM ("
            " SELECT metric, NULL::text AS series, %s AS ts, (e->>'y')::numeric AS value FROM series WHERE e ? 'x'"
            " UNION ALL"
            " SELECT metric, f.key, %s, f.value::text::numeric FROM series, jsonb_each(e) f"
            "  WHERE e ? 'x' AND f.key NOT IN ('x', 'y')"
            " UNION ALL"
            " SELECT metric, e->>'id', %s, (p->>'y')::numeric FROM series, jsonb_array_elements(e->'data_points') p"
            "  WHERE e ? 'data_points') t;" % (src, ts % "e", ts % "e", ts % "p"))


def diy(url):
    return "diy_fetch(%s, %s, %s)" % tuple("'%s'" % v for v in (url, EMAIL, KEY))


STATS_2640 = "00000000-0000-0000-0000-000000000001"  # an instance of the stress mock
# (its stats are test/bench/make_payloads.py's stats_2640.json)


CASES = {
    # name: (extension statement, source URL for baselines, SQL builder, calls)
    "users (2 instances)": ("SELECT count(u.*) FROM qstash_users() u;",
                            URL + "/v2/qstash/users", users_sql, N),
    "stats('30d'), one instance": (
        "SELECT count(s.*) FROM qstash_stats('30d', '%s') s;" % INSTANCE,
        URL + "/v2/qstash/stats/%s?period=30d" % INSTANCE, stats_sql, N),
    "stats('30d'), 2 640 points": (
        "SELECT count(s.*) FROM qstash_stats('30d', '%s', 'stress') s;" % STATS_2640,
        STRESS + "/v2/qstash/stats/%s?period=30d" % STATS_2640, stats_sql, N),
    "users (5 000 instances)": ("SELECT count(u.*) FROM qstash_users('stress') u;",
                                STRESS + "/v2/qstash/users", users_sql, BIG_N),
}
# responses the stress mock serves from a file (set again after each reset)
FIXTURES = {"/v2/qstash/stats/%s" % STATS_2640: "stats_2640.json"}


def serve_fixtures():
    for path, name in FIXTURES.items():
        ctl("fixture", path, name, cmd=STRESS_CTL)


def setup():
    psql("""
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS qstash;
CREATE EXTENSION IF NOT EXISTS plpython3u;
DROP SERVER IF EXISTS upstash CASCADE;
DROP SERVER IF EXISTS stress CASCADE;
DROP SERVER IF EXISTS wrongkey CASCADE;
CREATE SERVER upstash FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url '%(u)s');
CREATE SERVER stress FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url '%(s)s');
CREATE SERVER wrongkey FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url '%(u)s');
CREATE USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (email '%(e)s', api_key '%(k)s');
CREATE USER MAPPING FOR CURRENT_USER SERVER stress OPTIONS (email '%(e)s', api_key '%(k)s');
CREATE USER MAPPING FOR CURRENT_USER SERVER wrongkey OPTIONS (email '%(e)s', api_key 'wrong');
-- the do-it-yourself path: urllib in plpython3u, as a user would write it
CREATE OR REPLACE FUNCTION diy_fetch(url text, email text, key text) RETURNS text
LANGUAGE plpython3u AS $$
import base64, urllib.request
auth = base64.b64encode(("%%s:%%s" %% (email, key)).encode()).decode()
req = urllib.request.Request(url, headers={"Authorization": "Basic " + auth})
with urllib.request.urlopen(req, timeout=30) as r:
    return r.read().decode()
$$;
DROP TABLE IF EXISTS payloads;
CREATE TABLE payloads (url text PRIMARY KEY, body text);
""" % {"u": URL, "s": STRESS, "e": EMAIL, "k": KEY})
    serve_fixtures()
    for i, (_, (stmt, url, _, _)) in enumerate(CASES.items()):
        psql("INSERT INTO payloads SELECT '%s', %s;" % (url, diy(url)))
        # the same rows in a local table: what a query over them costs
        # without any fetching or parsing
        psql("DROP TABLE IF EXISTS rows_%d; CREATE TABLE rows_%d AS %s" % (
            i, i, stmt.replace("count(u.*)", "u.*").replace("count(s.*)", "s.*")))


def rss(stmt, n):
    """Backend VmRSS after a warm-up, after n more calls, and VmHWM (kB)."""
    probe = ("SELECT (regexp_match(s, 'VmRSS:\\s+(\\d+)'))[1] || ' ' || "
             "(regexp_match(s, 'VmHWM:\\s+(\\d+)'))[1] FROM pg_read_file('/proc/self/status') s;")
    out = psql("\\pset tuples_only on\n\\pset format unaligned\n\\o /dev/null\n"
               + (stmt + "\n") * 100 + "\\o\n" + probe + "\n\\o /dev/null\n"
               + (stmt + "\n") * n + "\\o\n" + probe + "\n", check=False)
    nums = [line.split() for line in out.splitlines() if re.match(r"^\d+ \d+$", line)]
    (r0, _), (r1, h1) = nums
    return int(r0), int(r1), int(h1)


def main():
    global USERS_COLS
    setup()
    USERS_COLS = scalar(USERS_COLS_SQL)
    rows = []
    for name, (stmt, url, builder, n) in CASES.items():
        src_remote = diy(url)
        src_local = "(SELECT body FROM payloads WHERE url = '%s')" % url
        counts = {scalar(stmt), scalar(builder(src_remote)), scalar(builder(src_local))}
        if len(counts) != 1:
            sys.exit("%s: methods disagree on the row count: %s" % (name, counts))
        mock = STRESS_CTL if url.startswith(STRESS) else CTL
        ctl("reset", cmd=mock)
        serve_fixtures()
        ext = timed(stmt, n)
        conns = re.search(r"connections=(\d+)", ctl("count", cmd=mock)).group(1)
        c = c_client(url, n)
        py = timed(builder(src_remote), max(n // 5, 3))
        local = timed(builder(src_local), n)
        table = timed("SELECT count(t.*) FROM rows_%d t;" % len(rows), n)
        cached = timed(stmt, n, pre="SET qstash.cache_ttl = 3600;\n")
        rows.append((name, counts.pop(), n, ext, c, py, local, conns, table, cached))

    print("\n| payload | rows | calls | pg_qstash median ms | C client median ms | "
          "plpython DIY median ms | local jsonb median ms | pg_qstash / C | DIY / pg_qstash | "
          "pg_qstash / local | TCP connections (pg_qstash) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, count, n, ext, c, py, local, conns, _, _ in rows:
        print("| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %.2f | %.1f | %.2f | %s |" % (
            name, count, n, ext[0], c[0], py[0], local[0], ext[0] / c[0],
            py[0] / ext[0], ext[0] / local[0], conns))
    # the floor of a call: the bare C client's fetch + parse, plus the same
    # query over a local table holding the same rows; and the cache
    print("\n| payload | local table median ms | limit (C + local table) ms | "
          "pg_qstash / limit | cached call median ms | cached / local table | "
          "HTTP share (call - cached) / C |")
    print("|---|---|---|---|---|---|---|")
    for name, count, n, ext, c, py, local, conns, table, cached in rows:
        limit = c[0] + table[0]
        print("| %s | %.3f | %.3f | %.2f | %.3f | %.2f | %.2f |" % (
            name, table[0], limit, ext[0] / limit, cached[0], cached[0] / table[0],
            (ext[0] - cached[0]) / c[0]))
    floor = timed("SELECT 1;", N)
    print("\nfloor of any SQL statement from psql (SELECT 1): median %.3f ms" % floor[0])
    cached = timed(CASES["users (2 instances)"][0], N, pre="SET qstash.cache_ttl = 3600;\n")
    print("qstash_users() served from the cache (no HTTP; statement, parse, 45 typed columns): "
          "median %.3f ms" % cached[0])
    users_total = rows[0][3][2]
    print("qstash_users(): %d sequential calls in one backend: %.0f calls/s (%.0f ms of statements)"
          % (rows[0][2], rows[0][2] / (users_total / 1000.0), users_total))

    ctl("reset")
    r0, r1, h1 = rss("SELECT count(u.*) FROM qstash_users() u;", RSS_N)
    ok_conns = re.search(r"connections=(\d+)", ctl("count")).group(1)
    e0, e1, eh = rss("SELECT count(u.*) FROM qstash_users('wrongkey') u;", RSS_N)
    print("backend RSS over %d calls, success path: %d kB -> %d kB (growth %+d kB, peak %d kB), "
          "%s TCP connection(s)" % (RSS_N, r0, r1, r1 - r0, h1, ok_conns))
    print("backend RSS over %d calls, error path (401): %d kB -> %d kB (growth %+d kB, peak %d kB)"
          % (RSS_N, e0, e1, e1 - e0, eh))
    # peak backend memory of one 5 000-instance call, against the payload
    probe = ("SELECT (regexp_match(s, 'VmHWM:\\s+(\\d+)'))[1] FROM "
             "pg_read_file('/proc/self/status') s;")
    out = psql("\\pset tuples_only on\n\\pset format unaligned\n" + probe
               + "\n\\o /dev/null\n" + CASES["users (5 000 instances)"][0]
               + "\n\\o\n" + probe + "\n")
    h0, h1 = [int(x) for x in out.split()]
    size = int(scalar("SELECT length(body) FROM payloads WHERE url = '%s';"
                      % CASES["users (5 000 instances)"][1]))
    print("one 5 000-instance call: backend peak memory %d kB -> %d kB (+%d kB) for a %d kB "
          "payload (%.1f x the payload)" % (h0, h1, h1 - h0, size // 1024,
                                           (h1 - h0) * 1024.0 / size))
    if SMOKE:
        print("bench smoke run: ok")


if __name__ == "__main__":
    main()
