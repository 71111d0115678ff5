"""Control client of the mock API, for tests (psql: \\! $QSTASH_MOCK_CTL ...).

  ctl.py reset
  ctl.py clearlog  forget the requests seen and the queue, keep the data
  ctl.py queue [--path P] [--status N] [--header 'K: V']... [--body TEXT]
               [--body-repeat N] [--body-b64 B64] [--delay-ms N]
               [--body-delay-ms N] [--close-mid-body] [--reset-in-ms N]
               [--times N] [--after N] [--reset-header NAME] [--pad-to N]
               [--chunked]
  ctl.py fixture PATH FILE
  ctl.py generate PATH KIND ROWS BYTES   (prints the body size)
  ctl.py tls       TLS handshakes attempted so far
  ctl.py log       one line per request: METHOD PATH[?QUERY] conn=N auth=K agent=A
                   (the extension's version in A reads <version>, so that
                   expected outputs do not change with it)
  ctl.py agent     the user agent of the last request, as sent
  ctl.py count     requests=N connections=M

Connection numbers are renumbered from 1 in order of first use, so the
output is stable across runs.
"""

import argparse
import json
import os
import re
import signal
import sys
import urllib.request


def call(base, path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(base + path, data=data,
                                 method="GET" if data is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def main():
    # a reader that stops early (| head) is not an error
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=os.environ.get("QSTASH_MOCK_URL"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("reset")
    sub.add_parser("clearlog")
    q = sub.add_parser("queue")
    q.add_argument("--path", default="")
    q.add_argument("--status", type=int, default=200)
    q.add_argument("--header", action="append", default=[])
    q.add_argument("--body", default="")
    q.add_argument("--body-repeat", type=int)
    q.add_argument("--body-b64", help="the body as base64 (for bytes that are not text)")
    q.add_argument("--reset-in-ms", type=int,
                   help="Burst-RateLimit-Reset this many ms from now (epoch ms)")
    q.add_argument("--reset-header",
                   help="the header --reset-in-ms sets (default "
                        "Burst-RateLimit-Reset)")
    q.add_argument("--pad-to", type=int,
                   help="pad the body with spaces to this many bytes")
    q.add_argument("--delay-ms", type=int, default=0)
    q.add_argument("--body-delay-ms", type=int, default=0)
    q.add_argument("--close-mid-body", action="store_true")
    q.add_argument("--chunked", action="store_true",
                   help="send the body chunked, without Content-Length")
    q.add_argument("--times", type=int, default=1)
    q.add_argument("--after", type=int, default=0,
                   help="let N matching requests through before this one")
    f = sub.add_parser("fixture")
    f.add_argument("path")
    f.add_argument("file")
    g = sub.add_parser("generate")
    g.add_argument("path")
    g.add_argument("kind")
    g.add_argument("rows", type=int)
    g.add_argument("bytes", type=int)
    for name in ("events", "dlq"):
        e = sub.add_parser(name)
        e.add_argument("how", choices=["set", "add", "remove", "gen"])
        e.add_argument("file", help="a JSON array of entries (remove: of ids; "
                       "gen: an object {n, newest, step_ms, prefix}), or - for stdin")
    st = sub.add_parser("stream")
    st.add_argument("rate", type=float)
    st.add_argument("seconds", type=float)
    st.add_argument("--prefix", default="s")
    li = sub.add_parser("list")
    li.add_argument("kind", choices=["events", "dlq"])
    b = sub.add_parser("burst")
    b.add_argument("limit", type=int)
    ps = sub.add_parser("persecond")
    ps.add_argument("--path", default="", help="only requests under this path")
    sub.add_parser("tls")
    sub.add_parser("log")
    sub.add_parser("count")
    sub.add_parser("agent")
    a = ap.parse_args()
    if not a.url:
        sys.exit("ctl.py: no --url and QSTASH_MOCK_URL is not set")

    if a.cmd in ("reset", "clearlog"):
        call(a.url, "/_mock/" + a.cmd, {})
    elif a.cmd == "queue":
        item = {"path": a.path, "status": a.status, "body": a.body,
                "headers": dict(h.split(": ", 1) for h in a.header),
                "delay_ms": a.delay_ms, "body_delay_ms": a.body_delay_ms,
                "close_mid_body": a.close_mid_body}
        if a.body_repeat:
            item["body_repeat"] = a.body_repeat
        if a.body_b64:
            item["body_b64"] = a.body_b64
        if a.reset_in_ms is not None:
            item["reset_in_ms"] = a.reset_in_ms
        if a.reset_header:
            item["reset_header"] = a.reset_header
        if a.pad_to:
            item["pad_to"] = a.pad_to
        if a.chunked:
            item["chunked"] = True
        if a.after:
            item["after"] = a.after
        call(a.url, "/_mock/queue", [item] * a.times)
    elif a.cmd == "generate":
        r = call(a.url, "/_mock/generate", {"path": a.path, "kind": a.kind,
                                            "rows": a.rows, "bytes": a.bytes})
        print("generated %d bytes" % r["bytes"])
    elif a.cmd == "burst":
        call(a.url, "/_mock/burst", {"limit": a.limit})
    elif a.cmd == "persecond":
        # the most requests in one second (fixed windows), and the 429s
        log = [e for e in call(a.url, "/_mock/log")
               if e["path"].startswith(a.path)]
        per = {}
        for e in log:
            per[int(e["t"])] = per.get(int(e["t"]), 0) + 1
        print("max_per_second=%d requests=%d" % (max(per.values() or [0]), len(log)))
    elif a.cmd in ("events", "dlq"):
        f = sys.stdin if a.file == "-" else open(a.file)
        r = call(a.url, "/_mock/" + a.cmd, {a.how: json.load(f)})
        print("%s: %d" % (a.cmd, r["rows"]))
    elif a.cmd == "stream":
        call(a.url, "/_mock/stream", {"rate": a.rate, "seconds": a.seconds,
                                      "prefix": a.prefix})
    elif a.cmd == "list":
        for row in call(a.url, "/_mock/list?kind=" + a.kind):
            print("%s|%s|%d" % (row[0], row[1] or "", row[2]))
    elif a.cmd == "tls":
        print("tls handshakes=%d" % call(a.url, "/_mock/tls"))
    elif a.cmd == "fixture":
        call(a.url, "/_mock/fixture", {"path": a.path, "file": a.file})
    elif a.cmd == "agent":
        log = call(a.url, "/_mock/log")
        print(log[-1]["agent"] if log else "")
    elif a.cmd in ("log", "count"):
        log = call(a.url, "/_mock/log")
        ids = {}
        for e in log:
            ids.setdefault(e["conn"], len(ids) + 1)
        if a.cmd == "count":
            print("requests=%d connections=%d" % (len(log), len(ids)))
        else:
            for e in log:
                q = "?" + e["query"] if e["query"] else ""
                print("%s %s%s conn=%d auth=%s agent=%s" % (
                    e["method"], e["path"], q, ids[e["conn"]], e["auth"],
                    re.sub(r"^pg_qstash/[0-9][0-9.]*", "pg_qstash/<version>",
                           e["agent"] or "")))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
