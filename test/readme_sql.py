#!/usr/bin/env python3
"""Every ```sql block of README.md, in order, as one psql script.

test/t/006_readme.pl runs the script with ON_ERROR_STOP on a fresh cluster
(shared_preload_libraries = 'pg_cron,qstash'), so that a block the README
shows as SQL runs as written.  Output (query results, EXPLAIN plans, error
messages) is fenced as something other than ```sql and is not run.

What a user replaces, the test replaces with the mock's values:

- the named placeholders, always quoted: '<email>', '<api_key>', '<token>',
  '<us_token>', '<message_id>' (an unknown one is an error, so a new
  placeholder must be added here);
- the real API's addresses (https://api.upstash.com, https://qstash*.upstash.io)
  by the mock's;
- a server created without options ("defaults to the real APIs") gets the
  mock's api_url and qstash_url.

Usage: readme_sql.py README.md --url URL --email E --api-key K --token T
"""

import argparse
import re
import sys


def blocks(text):
    """(line number, info string, body) of every fenced block."""
    out = []
    fence = None
    for n, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^```(.*)$", line)
        if fence is None and m:
            fence = (n, m.group(1).strip(), [])
        elif fence is not None and line.startswith("```"):
            out.append((fence[0], fence[1], "\n".join(fence[2])))
            # a closing fence directly followed by an opening one
            rest = line[3:].strip()
            fence = (n, rest, []) if rest else None
        elif fence is not None:
            fence[2].append(line)
    if fence is not None:
        sys.exit("README.md line %d: unterminated code block" % fence[0])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("readme")
    ap.add_argument("--url", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--message-id", default="msg_0001")
    args = ap.parse_args()

    values = {"email": args.email, "api_key": args.api_key,
              "token": args.token, "us_token": args.token,
              "message_id": args.message_id}
    text = open(args.readme, encoding="utf-8").read()
    out = []
    count = 0
    for line, info, body in blocks(text):
        if info.split()[:1] != ["sql"]:
            continue
        if info != "sql":
            sys.exit("README.md line %d: unknown code block kind %r "
                     "(a block that is not SQL to run is fenced as "
                     "something else)" % (line, info))

        def placeholder(m):
            name = m.group(1)
            if name not in values:
                sys.exit("README.md line %d: unknown placeholder '<%s>'"
                         % (line, name))
            return "'%s'" % values[name].replace("'", "''")

        body = re.sub(r"'<([a-z_]+)>'", placeholder, body)
        body = re.sub(r"https://(?:api\.upstash\.com|qstash[a-z0-9-]*\.upstash\.io)",
                      args.url, body)
        body = re.sub(r"(CREATE SERVER\s+\w+\s+FOREIGN DATA WRAPPER\s+qstash_fdw)(\s*;)",
                      r"\1 OPTIONS (api_url '%s', qstash_url '%s')\2"
                      % (args.url, args.url), body)
        if re.search(r"<[a-z_]+>", re.sub(r"--[^\n]*", "", body)):
            sys.exit("README.md line %d: a placeholder that is not a quoted "
                     "'<name>'" % line)
        count += 1
        out.append("\\echo '== README.md line %d'" % line)
        out.append(body.rstrip() + "\n")
    out.append("\\echo '== %d blocks'" % count)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
