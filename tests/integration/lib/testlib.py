#!/usr/bin/python3
"""Database checks for rs integration tests.

  testlib.py missing DB FILE   print how many ids listed in FILE (one a line) are not
                               in table cdr
  testlib.py count DB TABLE    print the row count of TABLE
  testlib.py dupes DB          print how many ids appear more than once in cdr
  testlib.py lock DB FILE      hold SQLite's write lock (BEGIN IMMEDIATE) until FILE
                               is removed (at most 60 s); prints "locked" once held
DB is sqlite:PATH or pg:PORT (database rs, user postgres on 127.0.0.1, via psql).
"""
import os
import sqlite3
import subprocess
import sys
import time


def query(db, sql, rows=None):
    """Run sql; if rows is given, load them first into temp table r(id)."""
    kind, _, where = db.partition(":")
    if kind == "sqlite":
        c = sqlite3.connect(where, timeout=30)
        if rows is not None:
            c.execute("create temp table r(id text)")
            c.executemany("insert into r values (?)", ((x,) for x in rows))
        return str(c.execute(sql).fetchone()[0])
    script = ""
    if rows is not None:
        script = "create temp table r(id text);\ncopy r from stdin;\n" + \
            "".join(x + "\n" for x in rows) + "\\.\n"
    script += sql + ";\n"
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                          "-h", "127.0.0.1", "-p", where, "-U", "postgres", "rs"],
                         input=script, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def main(argv):
    cmd, db = argv[1], argv[2]
    if cmd == "missing":
        ids = [l.strip() for l in open(argv[3]) if l.strip()]
        print(query(db, "select count(*) from r where id not in (select id from cdr)", ids))
    elif cmd == "count":
        print(query(db, "select count(*) from %s" % argv[3]))
    elif cmd == "lock":
        c = sqlite3.connect(db.partition(":")[2], timeout=30, isolation_level=None)
        c.execute("begin immediate")
        print("locked", flush=True)
        end = time.monotonic() + 60
        while os.path.exists(argv[3]) and time.monotonic() < end:
            time.sleep(0.05)
        c.execute("rollback")
    elif cmd == "dupes":
        print(query(db, "select count(*) from (select id from cdr group by id having count(*) > 1) d"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
