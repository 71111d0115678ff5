#!/usr/bin/env python3
"""Write the benchmark's generated payloads into a fixtures directory:

  users.json       5 000 instances, each a copy of a real-shaped one
  stats_2640.json  stats of 11 series of 240 points, Go times with 9
                   fraction digits: 2 640 rows

usage: make_payloads.py USERS_FIXTURE OUT_DIR
"""

import json
import os
import sys
import time
import uuid


def main():
    base = json.load(open(sys.argv[1]))[1]
    out = sys.argv[2]
    users = [dict(base, id=str(uuid.UUID(int=i + 1)), budget=i) for i in range(5000)]
    with open(os.path.join(out, "users.json"), "w") as f:
        json.dump(users, f)
    pts = ["%s.%09d +0000 UTC" % (time.strftime("%Y-%m-%d %H:%M:%S",
                                                 time.gmtime(1793491200 + i * 10800)),
                                   123456789 + i) for i in range(240)]
    doc = {"daily_%02d" % k: [{"x": x, "y": (i * 7 + k) % 1000} for i, x in enumerate(pts)]
           for k in range(11)}
    with open(os.path.join(out, "stats_2640.json"), "w") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    main()
