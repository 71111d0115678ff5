#!/usr/bin/env python3
"""The mutant list of test/mutate (test/mutants): parse it, and plant one.

  mutants.py list FILE             one line per mutant: ID<TAB>FILE<TAB>TESTS<TAB>EQUIVALENT
  mutants.py plant FILE ID ROOT    replace the mutant's original text in ROOT/FILE
                                   (it must occur exactly once)

The list's format:

  @ ID FILE TEST[,TEST...]
  - original text (\\n and \\t stand for a newline and a tab)
  + the text that replaces it
  = why it cannot change behaviour (an equivalent mutant: not counted)

TEST is a regression file (NAME: sql/NAME.sql) or a TAP file (t/NNN_x.pl),
run in the order given; the first that fails kills the mutant.
"""

import sys


def unescape(s):
    return s.replace("\\n", "\n").replace("\\t", "\t")


def parse(path):
    mutants = []
    cur = None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            tag, _, rest = line.partition(" ")
            if tag == "@":
                parts = rest.split()
                if len(parts) != 3:
                    sys.exit("%s:%d: '@ ID FILE TESTS' expected" % (path, n))
                cur = {"id": parts[0], "file": parts[1],
                       "tests": parts[2].split(","), "find": None,
                       "replace": None, "equivalent": ""}
                mutants.append(cur)
            elif cur is None:
                sys.exit("%s:%d: a mutant starts with '@'" % (path, n))
            elif tag == "-":
                cur["find"] = unescape(rest)
            elif tag == "+":
                cur["replace"] = unescape(rest)
            elif tag == "=":
                cur["equivalent"] = rest
            else:
                sys.exit("%s:%d: unknown line" % (path, n))
    ids = set()
    for m in mutants:
        if m["find"] is None or m["replace"] is None:
            sys.exit("%s: mutant %s needs '-' and '+' lines" % (path, m["id"]))
        if m["id"] in ids:
            sys.exit("%s: mutant %s is listed twice" % (path, m["id"]))
        ids.add(m["id"])
    return mutants


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "list":
        for m in parse(sys.argv[2]):
            print("\t".join([m["id"], m["file"], ",".join(m["tests"]),
                             m["equivalent"]]))
        return
    if len(sys.argv) == 5 and sys.argv[1] == "plant":
        _, _, listfile, mid, root = sys.argv
        m = [m for m in parse(listfile) if m["id"] == mid]
        if not m:
            sys.exit("no mutant %s" % mid)
        m = m[0]
        path = root + "/" + m["file"]
        text = open(path).read()
        count = text.count(m["find"])
        if count != 1:
            sys.exit("mutant %s: its original text occurs %d times in %s"
                     % (mid, count, m["file"]))
        with open(path, "w") as f:
            f.write(text.replace(m["find"], m["replace"]))
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
