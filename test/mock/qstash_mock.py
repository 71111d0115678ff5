"""A scripted mock of the Upstash APIs for pg_qstash's tests.

Standard library only.  Listens on 127.0.0.1 (ephemeral port), checks HTTP
Basic auth (developer API, /v2/qstash/...) and Bearer tokens (QStash REST
API, the other /v2/... paths), serves fixtures from fixtures/ and generated
data (stats; 250 log entries and 230 DLQ messages, paged by cursor with the
API's filters), and has a control interface under /_mock/ (never logged) to:

  POST /_mock/reset                 forget the log, the queue and overrides
  POST /_mock/clearlog              forget the log and the queue only
  POST /_mock/queue    {json}       queue scripted responses (see Script)
  POST /_mock/fixture  {path,file}  serve fixtures/<file> for GET <path>
  POST /_mock/generate {path,kind,rows,bytes}
                                    serve generated data for GET <path>:
                                    kind "logs" (one page of log entries)
                                    or "users" (a list of instances), each
                                    row carrying about <bytes> bytes; or
                                    kind "log_pages": GET /v2/events then
                                    pages through <rows> such entries
  POST /_mock/events   {set|add|remove|gen}
  POST /_mock/dlq      {set|add|remove|gen}
                                    replace or extend the message log or the
                                    DLQ, remove entries by id (messageId or
                                    dlqId), or generate n entries newest
                                    first (gen: {n, newest, step_ms, prefix})
  POST /_mock/stream   {rate, seconds, prefix}
                                    add log entries stamped with the present,
                                    rate a second, for a bounded time
  GET  /_mock/list?kind=events|dlq  [id, state, time] of every entry
  POST /_mock/burst    {limit}      a burst limit per second (fixed windows)
                                    on the developer API: Burst-RateLimit-*
                                    headers, and 429 beyond it
  GET  /_mock/log                   the requests seen since the last reset
  GET  /_mock/tls                   TLS handshakes attempted (all time)

Each logged request records method, path, query, the connection it came on
and whether its credentials were right, so tests can assert how many
requests and TCP connections a statement used.

Listings page newest first (time, then the order entries were added), and
a cursor "<ms>-<n>" names the entry the next page starts with, not an
offset: entries added or removed between two pages move no page boundary,
as a position cursor behaves (the API's look like "1686652644442-12").
"""

import base64
import bisect
import functools
import itertools
import json
import os
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
MAX_DELAY_MS = 30000  # bounded: no scripted sleep lasts longer


class State:
    def __init__(self, email, api_key, token, account="eu"):
        self.email = email
        self.api_key = api_key
        self.token = token
        self.account = ACCOUNTS[account]
        self.lock = threading.Lock()
        self.conn_ids = itertools.count(1)
        self.reset()

        self.tls_attempts = 0

    def reset(self):
        with self.lock:
            self.log = []
            self.queue = []
            self.overrides = {}
            self.generated = {}
            self.logs = self.account["logs"]
            self.dlq = self.account["dlq"]
            self.burst = 0          # requests a second; 0: no burst limit
            self.burst_second = 0
            self.burst_count = 0


# period -> (data points, seconds between points), as the API documents it
PERIODS = {"1h": (60, 60), "3h": (60, 180), "12h": (60, 720),
           "1d": (60, 1440), "3d": (60, 4320), "7d": (60, 10080),
           "30d": (240, 10800)}
STATS_NOW = 1795003200          # 2026-11-18 12:00:00 UTC: the last point
MONTH_START = 1793491200        # 2026-11-01 00:00:00 UTC: November, 30 days
# fraction digits cycle 0, 3, 6, 9 as Go prints them (trailing zeros trimmed)
NANOS = [0, 426000000, 585757000, 585757103]


def gotime(epoch, nanos):
    """time.Time.String() of a UTC time, as the developer API sends it."""
    t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))
    if nanos:
        t += "." + ("%09d" % nanos).rstrip("0")
    return t + " +0000 UTC"


def stats_body(idx, period):
    """Deterministic stats of instance number idx for a period."""
    n, step = PERIODS[period]
    pts = [gotime(STATS_NOW - (n - 1 - i) * step, NANOS[i % 4])
           for i in range(n)]
    days = [gotime(MONTH_START + d * 86400, 0) for d in range(30)]
    names = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
             "Friday", "Saturday"]

    def series(f):
        return [{"x": x, "y": f(i)} for i, x in enumerate(pts)]

    return {
        "days": [names[d % 7] for d in range(30)],
        "daily_requests": [{"x": x, "y": 100 * (d + 1) + idx,
                            "workflow_message": d, "workflow_run": 2 * d}
                           for d, x in enumerate(days)],
        "daily_billings": [{"x": x, "y": (d + 1) * 0.125 + idx}
                           for d, x in enumerate(days)],
        "daily_bandwidths": [{"x": x, "y": 1048576 * d}
                             for d, x in enumerate(days)],
        "daily_used": series(lambda i: (i * 3 + idx) % 17),
        "daily_used_workflow": series(lambda i: i % 5),
        "daily_qstash_messages": [
            {"id": "delivered", "data_points": series(lambda i: i + idx)},
            {"id": "failed", "data_points": series(lambda i: i % 3)}],
        "daily_workflow_messages": [
            {"id": "canceled", "data_points": series(lambda i: i % 2)},
            {"id": "finished", "data_points": series(lambda i: 10 + i)}],
        "dlq_message_count": 3 + idx,
        "daily_bandwidth_used": series(lambda i: i * 1024),
        "total_monthly_billing": 5.806 + idx,
    }


# -- QStash REST API: generated logs and DLQ ------------------------------
NOW_MS = STATS_NOW * 1000
URLS = ["https://api.example.com/a", "https://api.example.com/b",
        "https://hooks.example.org/c"]
LOG_STATES = ["CREATED", "ACTIVE", "DELIVERED", "ERROR", "FAILED"]
BINARY = b"\xff\xfe\x00bin"


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def make_logs(n=250, prefix="msg_"):
    """Newest first, one minute apart; times carry milliseconds."""
    out = []
    for i in range(n):
        e = {"time": NOW_MS - i * 60000 - i, "messageId": "%s%04d" % (prefix, i // 5),
             "state": LOG_STATES[i % 5], "url": URLS[i % 3], "method": "POST",
             "header": {"Content-Type": ["application/json"]},
             "body": b64(BINARY if i == 7 else '{"n":%d}' % i),
             "maxRetries": 3, "timeout": 30000,
             "labels": ["billing"] + (["eu"] if i % 4 == 1 else [])}
        if i % 4 == 0:
            e["topicName"] = "orders"
            e["endpointName"] = "ep%d" % (i % 3)
        if i % 6 == 1:
            e["queueName"] = "emails"
        if i % 10 == 2:
            e["scheduleId"] = "scd_daily"
        if e["state"] in ("ERROR", "FAILED"):
            e["responseStatus"] = 500 if i % 2 else 503
            e["responseBody"] = b64("upstream failed %d" % i)
            e["responseHeaders"] = {"Retry-After": ["30"]}
            e["error"] = "status %d" % e["responseStatus"]
        if e["state"] == "ERROR":
            e["nextDeliveryTime"] = e["time"] + 30000
        out.append(e)
    return out


def make_dlq(n=230, prefix="dlq_", msg_prefix="msg_d"):
    """Newest first, one hour apart."""
    statuses = [500, 502, 404, 429, 500]
    out = []
    for i in range(n):
        m = {"dlqId": "%s%04d" % (prefix, i), "messageId": "%s%04d" % (msg_prefix, i),
             "createdAt": NOW_MS - i * 3600000 - i, "url": URLS[i % 3],
             "method": "POST", "header": {"Upstash-Retries": ["3"]},
             "maxRetries": 3, "notBefore": 0,
             "responseStatus": statuses[i % 5],
             "responseHeader": {"Content-Type": ["text/plain"]},
             "responseBody": "error %d" % i,
             "callerIP": "203.0.113.%d" % (i % 4),
             "labels": ["billing"] if i % 2 == 0 else []}
        if i % 11 == 3:
            m["body"] = ""
            m["bodyBase64"] = b64(BINARY)
        else:
            m["body"] = '{"order":%d}' % i
        if i % 4 == 0:
            m["topicName"] = "orders"
        if i % 6 == 1:
            m["queueName"] = "emails"
        out.append(m)
    return out


# every entry carries "_seq", the order it was added in (never sent)
SEQ = itertools.count(1000000)


def sequenced(rows):
    for r in rows:
        if "_seq" not in r:
            r["_seq"] = next(SEQ)
    return rows


def newest_first(rows, time_key):
    rows.sort(key=lambda r: (-r[time_key], r["_seq"]))
    return rows


def row_order(time_key, r):
    return (-r[time_key], r["_seq"])


def public(r):
    return {k: v for k, v in r.items() if k != "_seq"}


# Two accounts, as a user with an EU and a US region has two servers: the
# default ("eu") and a second one ("us", test/mock/launch's QSTASH_MOCK_US_*)
# with its own instance, message log and DLQ, none of whose ids the first
# has.  Every test of an operation on one server checks the other's rows.
ACCOUNTS = {
    "eu": {"users": "users.json", "logs": make_logs(), "dlq": make_dlq()},
    "us": {"users": "users_us.json", "stats_offset": 7, "logs": make_logs(60, "us_msg_"),
           "dlq": make_dlq(40, "us_dlq_", "us_msg_d")},
}
for _a in ACCOUNTS.values():
    for _rows in (_a["logs"], _a["dlq"]):
        for _i, _r in enumerate(_rows):
            _r["_seq"] = _i


def gen_rows(kind, n, newest, step_ms, prefix):
    """n log entries or DLQ messages, newest first, step_ms apart (0: all
    in one millisecond; a fraction: several in one millisecond)."""
    out = []
    for i in range(n):
        t = newest - int(i * step_ms)
        if kind == "events":
            out.append({"time": t, "messageId": "%s%06d" % (prefix, i),
                        "state": LOG_STATES[i % 5], "url": URLS[i % 3],
                        "method": "POST", "body": "eyJuIjoxfQ=="})
        else:
            out.append({"dlqId": "%s%06d" % (prefix, i),
                        "messageId": "msg_%s%06d" % (prefix, i),
                        "createdAt": t, "url": URLS[i % 3], "method": "POST",
                        "body": "{}", "responseStatus": 500})
    return sequenced(out)


def stream(state, rate, seconds, prefix):
    """Add log entries stamped with the present, rate a second, for at
    most seconds (bounded: 600), in steps of 50 ms."""
    t0 = time.time()
    made = 0
    while True:
        elapsed = time.time() - t0
        if elapsed >= min(seconds, 600):
            break
        due = int(elapsed * rate)
        now = int(time.time() * 1000)
        rows = sequenced([{"time": now, "messageId": "%s%07d" % (prefix, made + i),
                           "state": LOG_STATES[(made + i) % 5],
                           "url": URLS[(made + i) % 3], "method": "POST",
                           "body": "eyJuIjoxfQ=="} for i in range(due - made)])
        made = due
        if rows:
            with state.lock:
                state.logs = newest_first(state.logs + rows, "time")
        time.sleep(0.05)


def big_logs(rows, size):
    """Log entries of about size bytes each, newest first, a second apart."""
    out = []
    for i in range(rows):
        body = ("%06d" % i) * (size // 6)
        out.append({"time": NOW_MS - i * 1000, "messageId": "msg_big%04d" % i,
                    "state": "DELIVERED", "url": URLS[i % 3],
                    "body": b64(body), "labels": ["big"], "_seq": i})
    return out


def generate(kind, rows, size):
    """Rows of about size bytes each, for tests of large responses."""
    if kind == "logs":
        return json.dumps({"events": [public(r) for r in big_logs(rows, size)]}).encode()
    if kind == "users":
        base = json.loads(load_fixture("users.json"))[0]
        out = [dict(base, id="00000000-0000-4000-8000-%012d" % i,
                    budget=i, notes=("n%05d" % i) * (size // 6))
               for i in range(rows)]
        return json.dumps(out).encode()
    raise ValueError("unknown kind %r" % kind)


def multi(q, name):
    """A multi-value filter: repeated and/or comma-separated."""
    vals = []
    for v in q.get(name, []):
        vals.extend(x for x in v.split(",") if x)
    return vals


def page(rows, q, key, filters, time_key):
    """Filter, then one page from the cursor "<ms>-<seq>": the entry the
    page starts with (rows are newest first, then by _seq)."""
    def keep(r):
        for name, field, is_multi in filters:
            vals = multi(q, name) if is_multi else q.get(name, [])[:1]
            if not vals:
                continue
            if name == "state" and vals == ["IN_PROGRESS"]:
                vals = ["ACTIVE", "RETRY", "ERROR"]
            v = r.get(field)
            if field == "labels":
                if not set(vals) & set(v or []):
                    return False
            elif str(v) not in vals:
                return False
        t = r[time_key]
        if "fromDate" in q and t < int(q["fromDate"][0]):
            return False
        if "toDate" in q and t > int(q["toDate"][0]):
            return False
        return True

    if "dlqIds" in q:   # as the SDK documents: the other filters are ignored
        ids = multi(q, "dlqIds")
        sel = [r for r in rows if r.get("dlqId") in ids]
    else:
        # rows are newest first: the time range is a slice (bisect), then
        # the other filters, when there are any
        order = functools.partial(row_order, time_key)
        lo, hi = 0, len(rows)
        if "toDate" in q:
            lo = bisect.bisect_left(rows, (-int(q["toDate"][0]), -1), key=order)
        if "fromDate" in q:
            hi = bisect.bisect_left(rows, (-int(q["fromDate"][0]) + 1, -1), key=order)
        sel = rows[lo:hi]
        if any(name in q for name, _, _ in filters):
            sel = [r for r in sel if keep(r)]
    count = int(q.get("count", ["100"])[0])
    if count < 1 or count > 100:
        return 400, json.dumps({"error": "count must be between 1 and 100"})
    start = 0
    if "cursor" in q:
        try:
            ms, seq = (int(x) for x in q["cursor"][0].rsplit("-", 1))
        except ValueError:
            return 400, json.dumps({"error": "invalid cursor"})
        start = bisect.bisect_left(sel, (-ms, seq), key=functools.partial(row_order, time_key))
    body = {key: [public(r) for r in sel[start:start + count]]}
    if start + count < len(sel):
        nxt = sel[start + count]
        body["cursor"] = "%d-%d" % (nxt[time_key], nxt["_seq"])
    return 200, json.dumps(body)


LOG_FILTERS = [("messageId", "messageId", False), ("state", "state", False),
               ("url", "url", False), ("topicName", "topicName", False),
               ("scheduleId", "scheduleId", False),
               ("queueName", "queueName", False), ("label", "labels", True)]
DLQ_FILTERS = [("messageId", "messageId", False), ("url", "url", True),
               ("topicName", "topicName", True),
               ("scheduleId", "scheduleId", True),
               ("queueName", "queueName", True),
               ("responseStatus", "responseStatus", True),
               ("callerIp", "callerIP", True), ("label", "labels", True)]

# GET /v2/<list>: fixture file, key of the object for GET /v2/<list>/<key>
REST_LISTS = {"schedules": ("rest_schedules.json", "scheduleId"),
              "queues": ("rest_queues.json", "name"),
              "topics": ("rest_topics.json", "name"),
              "flowControl": ("rest_flow_control.json", "flowControlKey")}


_fixture_cache = {}


@functools.lru_cache(maxsize=64)
def stats_bytes(idx, period):
    return json.dumps(stats_body(idx, period)).encode()


@functools.lru_cache(maxsize=8)
def user_ids(users_json):
    return [u.get("id") for u in json.loads(users_json)]


def load_fixture(name):
    """fixtures/<name>, or $QSTASH_MOCK_FIXTURES/<name> when that exists."""
    extra = os.environ.get("QSTASH_MOCK_FIXTURES")
    path = os.path.join(FIXTURES, name)
    if extra and os.path.exists(os.path.join(extra, name)):
        path = os.path.join(extra, name)
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _fixture_cache:
        with open(path, "rb") as f:
            _fixture_cache[key] = f.read()
    return _fixture_cache[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qstash-mock/1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn_id = next(self.server.state.conn_ids)

    def log_message(self, fmt, *args):  # keep stdout/stderr clean
        pass

    # -- helpers ---------------------------------------------------------
    def send(self, status, body=b"", headers=None, delay_ms=0,
             body_delay_ms=0, close_mid_body=False, chunked=False):
        if isinstance(body, str):
            body = body.encode()
        if delay_ms:
            time.sleep(min(delay_ms, MAX_DELAY_MS) / 1000.0)
        self.send_response_only(status)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            self.send_header(k, v)
        if chunked:
            # no Content-Length: the client learns the size as it reads
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 256):
                part = body[i:i + 256]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body_delay_ms or close_mid_body:
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            if close_mid_body:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            time.sleep(min(body_delay_ms, MAX_DELAY_MS) / 1000.0)
            self.wfile.write(body[half:])
        else:
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def auth_kind(self):
        st = self.server.state
        h = self.headers.get("Authorization") or ""
        if h.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
            except Exception:
                return "bad"
            return "basic" if (user, pw) == (st.email, st.api_key) else "bad"
        if h.startswith("Bearer "):
            return "bearer" if h[7:] == st.token else "bad"
        return "none"

    # -- control interface -------------------------------------------------
    def control(self, path):
        st = self.server.state
        if path == "/_mock/reset":
            st.reset()
            return self.send(200, "{}")
        if path == "/_mock/clearlog":
            with st.lock:
                st.log = []
                st.queue = []
            return self.send(200, "{}")
        if path == "/_mock/queue":
            items = json.loads(self.read_body() or b"[]")
            with st.lock:
                st.queue.extend(items if isinstance(items, list) else [items])
            return self.send(200, "{}")
        if path == "/_mock/fixture":
            req = json.loads(self.read_body())
            with st.lock:
                st.overrides[req["path"]] = req["file"]
            return self.send(200, "{}")
        if path == "/_mock/generate":
            req = json.loads(self.read_body())
            if req["kind"] == "log_pages":
                rows = big_logs(int(req["rows"]), int(req["bytes"]))
                with st.lock:
                    st.logs = rows
                return self.send(200, json.dumps(
                    {"bytes": len(json.dumps([public(r) for r in rows]))}))
            data = generate(req["kind"], int(req["rows"]), int(req["bytes"]))
            with st.lock:
                st.generated[req["path"]] = data
            return self.send(200, json.dumps({"bytes": len(data)}))
        if path == "/_mock/burst":
            with st.lock:
                st.burst = int(json.loads(self.read_body())["limit"])
            return self.send(200, "{}")
        if path in ("/_mock/events", "/_mock/dlq"):
            # {"set": [...]} replaces, {"add": [...]} adds, {"remove": [ids]}
            # removes, {"gen": {...}} adds generated rows; newest first
            req = json.loads(self.read_body())
            kind = path.rsplit("/", 1)[1]
            key = "time" if kind == "events" else "createdAt"
            attr = "logs" if kind == "events" else "dlq"
            idkey = "messageId" if kind == "events" else "dlqId"
            if "gen" in req:
                g = req["gen"]
                req["add"] = gen_rows(kind, int(g["n"]), int(g["newest"]),
                                      float(g.get("step_ms", 1000)),
                                      g.get("prefix", "g"))
            with st.lock:
                rows = sequenced(list(req.get("set", getattr(st, attr))))
                rows += sequenced(req.get("add", []))
                gone = set(req.get("remove", []))
                if gone:
                    rows = [r for r in rows if r.get(idkey) not in gone]
                setattr(st, attr, newest_first(rows, key))
            return self.send(200, json.dumps({"rows": len(rows)}))
        if path == "/_mock/stream":
            req = json.loads(self.read_body())
            threading.Thread(target=stream, daemon=True,
                             args=(st, float(req["rate"]), float(req["seconds"]),
                                   req.get("prefix", "s"))).start()
            return self.send(200, "{}")
        if path == "/_mock/list":
            kind = urllib.parse.parse_qs(self.query).get("kind", ["events"])[0]
            with st.lock:
                if kind == "events":
                    out = [[r.get("messageId"), r.get("state"), r["time"]] for r in st.logs]
                else:
                    out = [[r.get("dlqId"), None, r["createdAt"]] for r in st.dlq]
            return self.send(200, json.dumps(out))
        if path == "/_mock/tls":
            with st.lock:
                return self.send(200, json.dumps(st.tls_attempts))
        if path == "/_mock/log":
            with st.lock:
                return self.send(200, json.dumps(st.log))
        return self.send(404, '{"error":"unknown control path"}')

    # -- the API -----------------------------------------------------------
    def burst_headers(self, st):
        """With /_mock/burst set: this request's share of the per-second
        budget (fixed windows of one second), as Burst-RateLimit-*
        headers; Remaining -1 means over the limit (caller holds st.lock)."""
        if not st.burst:
            return {}
        now = time.time()
        second = int(now)
        if second != st.burst_second:
            st.burst_second, st.burst_count = second, 0
        st.burst_count += 1
        return {"Burst-RateLimit-Limit": str(st.burst),
                "Burst-RateLimit-Remaining": str(max(st.burst - st.burst_count, -1)),
                "Burst-RateLimit-Reset": str((second + 1) * 1000)}

    def scripted(self, path):
        st = self.server.state
        with st.lock:
            for i, item in enumerate(st.queue):
                if path.startswith(item.get("path", "")):
                    if item.get("after", 0) > 0:
                        # let this many matching requests through first
                        item["after"] -= 1
                        return None
                    return st.queue.pop(i)
        return None

    def override(self, path):
        """The data set for this path by /_mock/fixture or /_mock/generate."""
        st = self.server.state
        with st.lock:
            name = st.overrides.get(path)
            data = st.generated.get(path)
        if data is not None:
            return data
        return load_fixture(name) if name else None

    def route(self, path, query):
        body = self.override(path)
        if body is not None:
            return 200, body
        users = self.server.state.account["users"]
        if path == "/v2/qstash/users":
            return 200, load_fixture(users)
        if path.startswith("/v2/qstash/user/"):
            uid = path.rsplit("/", 1)[1]
            for u in json.loads(load_fixture(users)):
                if u.get("id") == uid:
                    return 200, json.dumps(u)
            return 404, '{"error":"qstash user not found"}'
        if path.startswith("/v2/qstash/stats/"):
            uid = path.rsplit("/", 1)[1]
            period = urllib.parse.parse_qs(query).get("period", ["1h"])[0]
            ids = user_ids(load_fixture(users))
            if uid not in ids:
                return 404, '{"error":"qstash user not found"}'
            if period not in PERIODS:
                return 400, '{"error":"invalid period"}'
            idx = ids.index(uid) + self.server.state.account.get("stats_offset", 0)
            return 200, stats_bytes(idx, period)
        if path == "/v2/qstash/ipv4":
            return 200, load_fixture("ipv4.json")
        return 404, '{"error":"not found"}'

    def route_rest(self, path, query):
        body = self.override(path)
        if body is not None:
            return 200, body
        q = urllib.parse.parse_qs(query)
        if path in ("/v2/events", "/v2/logs"):
            with self.server.state.lock:
                logs = self.server.state.logs
            return page(logs, q, path.rsplit("/", 1)[1], LOG_FILTERS, "time")
        if path == "/v2/dlq":
            with self.server.state.lock:
                dlq = self.server.state.dlq
            return page(dlq, q, "messages", DLQ_FILTERS, "createdAt")
        if path == "/v2/globalParallelism":
            return 200, '{"parallelismMax":10,"parallelismCount":3}'
        parts = path.split("/")
        if len(parts) in (3, 4) and parts[2] in REST_LISTS:
            fixture, key = REST_LISTS[parts[2]]
            items = json.loads(load_fixture(fixture))
            if len(parts) == 3:
                return 200, json.dumps(items)
            name = urllib.parse.unquote(parts[3])
            for it in items:
                if it.get(key) == name:
                    return 200, json.dumps(it)
            return 404, json.dumps({"error": "%s not found" % parts[2]})
        return 404, '{"error":"not found"}'

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        self.query = url.query
        if url.path.startswith("/_mock/"):
            return self.control(url.path)
        auth = self.auth_kind()
        st = self.server.state
        with st.lock:
            st.log.append({"method": "GET", "path": url.path,
                           "query": url.query, "conn": self.conn_id,
                           "auth": auth, "t": time.time(),
                           "agent": self.headers.get("User-Agent", "")})
            burst = self.burst_headers(st)
        item = self.scripted(url.path)
        if item is not None:
            body = item.get("body", "")
            if "body_b64" in item:
                body = base64.b64decode(item["body_b64"])
            headers = dict(item.get("headers") or {})
            if "reset_in_ms" in item:
                # a limit that resets this long from now, in epoch ms
                name = item.get("reset_header") or "Burst-RateLimit-Reset"
                headers[name] = str(
                    int(time.time() * 1000) + int(item["reset_in_ms"]))
            if "body_repeat" in item:
                body = body * int(item["body_repeat"])
            if "pad_to" in item:
                # white space after the document: a body of an exact size
                if isinstance(body, str):
                    body = body.encode()
                body = body + b" " * (int(item["pad_to"]) - len(body))
            return self.send(item.get("status", 200), body,
                             headers, item.get("delay_ms", 0),
                             item.get("body_delay_ms", 0),
                             item.get("close_mid_body", False),
                             item.get("chunked", False))
        if url.path.startswith("/v2/qstash/"):
            if auth != "basic":
                return self.send(401, '{"error":"Unauthorized"}')
            if burst and burst["Burst-RateLimit-Remaining"] == "-1":
                burst["Burst-RateLimit-Remaining"] = "0"
                return self.send(429, '{"error":"Burst rate limit exceeded"}',
                                 burst)
            status, body = self.route(url.path, url.query)
            return self.send(status, body, burst)
        if auth != "bearer":
            return self.send(401, '{"error":"Unauthorized"}')
        status, body = self.route_rest(url.path, url.query)
        return self.send(status, body, {"Burst-RateLimit-Limit": "100",
                                        "Burst-RateLimit-Remaining": "99",
                                        "Burst-RateLimit-Reset": str(
                                            int(time.time()) + 1)})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        self.query = url.query
        if url.path.startswith("/_mock/"):
            return self.control(url.path)
        self.read_body()
        return self.send(405, '{"error":"method not allowed"}')


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = False

    def get_request(self):
        if self.tls:
            with self.state.lock:
                self.state.tls_attempts += 1
        return super().get_request()

    def handle_error(self, request, client_address):
        # A client that hung up (cancel, timeout, size cap) is expected;
        # nothing may reach stdout/stderr, which are the test's output.
        pass


def make_server(email, api_key, token, port=0, tls=None, account="eu"):
    """tls: (certfile, keyfile) to serve HTTPS instead of HTTP; account:
    whose data it serves (ACCOUNTS)."""
    srv = Server(("127.0.0.1", port), Handler)
    srv.state = State(email, api_key, token, account)
    if tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        srv.tls = True
    return srv


def make_self_signed(directory):
    """A self-signed certificate for 127.0.0.1 (needs the openssl tool)."""
    import subprocess
    cert = os.path.join(directory, "mock-cert.pem")
    key = os.path.join(directory, "mock-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return cert, key


if __name__ == "__main__":
    import argparse
    import sys

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--email", default=os.environ.get("QSTASH_MOCK_EMAIL", "me@example.com"))
    ap.add_argument("--api-key", default=os.environ.get("QSTASH_MOCK_API_KEY", "mock-api-key"))
    ap.add_argument("--token", default=os.environ.get("QSTASH_MOCK_TOKEN", "mock-token"))
    ap.add_argument("--lifetime", type=float, default=3600.0,
                    help="seconds after which the mock exits by itself")
    a = ap.parse_args()
    srv = make_server(a.email, a.api_key, a.token, a.port)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(tmp, a.port_file)
    else:
        print(srv.server_address[1], flush=True)
    threading.Timer(a.lifetime, srv.shutdown).start()
    try:
        srv.serve_forever()
    finally:
        srv.server_close()
    sys.exit(0)
