#!/usr/bin/python3
"""Property test of rs's reports: random calls in, every rollup row and every API
answer checked against a brute force over the raw cdr rows.

  report_prop.py send PORT SEED COUNT [T0_MS [SPAN_MS]]
                                        send COUNT random CDRs starting in
                                        [T0, T0 + SPAN) (default 3 days) (overlapping, crossing
                                        5-minute, hour and day edges, around a DST
                                        change in America/New_York, zero-length and
                                        hours-long calls), then re-send a tenth of them
                                        (same id, other times: a duplicate must change
                                        nothing) over a second connection; all receipted
  report_prop.py rollups DB             rollup_* tables == brute force over cdr
  report_prop.py api DB HTTP_PORT       peaks (every granularity, filter, tz in UTC,
                                        America/New_York, Asia/Kolkata), details pages,
                                        CSV export and summary == brute force
DB is sqlite:PATH or pg:PORT. Exit 0 when all agree; the first differences otherwise.
"""
import csv
import datetime as dt
import io
import json
import random
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
import zoneinfo

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import stomp_client  # noqa: E402

G5, G30, GH, GD = 300000, 1800000, 3600000, 86400000
# 2026-03-07 00:00 UTC: the DST change in New York is 2026-03-08 07:00 UTC.
T0 = 1772841600000
SPAN = 3 * GD
TENANTS = ["acme", "beta", ""]
PROFILES = ["ivr1", "ivr2", "conf", ""]
DNS = ["800100", "800101", "800200", "8100", "0800", "", "900"]


def rand_call(rng, t0, span=SPAN):
    st = t0 + rng.randrange(span)
    if rng.random() < 0.1:
        st = st // G5 * G5  # exactly on an edge
    kind = rng.random()
    if kind < 0.06:
        dur = 0
    elif kind < 0.7:
        dur = rng.randrange(1, 600000)
    elif kind < 0.95:
        dur = rng.randrange(600000, 3 * 3600000)
    else:
        dur = rng.randrange(1, 2) * G5 * rng.randrange(1, 40)  # ends on an edge
    return st, st + dur


def send(port, seed, count, t0=T0, span=SPAN):
    rng = random.Random(int(seed))
    recs = []
    for i in range(int(count)):
        st, en = rand_call(rng, int(t0), int(span))
        if recs and rng.random() < 0.15:  # a burst: the same start_ms as the last call
            st, en = recs[-1]["start_ms"], recs[-1]["start_ms"] + (en - st)
        disp = rng.choice(["answered", "answered", "cancelled", "rejected", "failed"])
        ans = st + min(100, en - st) if disp == "answered" else None
        r = stomp_client.cdr("R%s-%d" % (seed, i), tenant=rng.choice(TENANTS),
                             profile=rng.choice(PROFILES), dnis=rng.choice(DNS),
                             start_ms=st, end_ms=en, answer_ms=ans,
                             duration_ms=(en - ans) if ans is not None else 0,
                             disposition=disp, sip_status=200 if disp == "answered" else 486)
        for k in ("tenant", "profile", "dnis"):
            if r[k] == "":
                del r[k]
        if r["answer_ms"] is None:
            del r["answer_ms"]
        recs.append(r)
    dups = []
    for r in rng.sample(recs, len(recs) // 10):
        d = dict(r)
        d["start_ms"] -= 3600000
        d["end_ms"] += 7200000
        d.pop("answer_ms", None)
        d["duration_ms"] = 0
        d["disposition"] = "failed"
        d["sip_status"] = 500
        dups.append(d)
    for batch in (recs, dups):
        c, lis = stomp_client.connect(port)
        for r in batch:
            c.send("/queue/gvp.cdr", json.dumps(r), content_type="application/json",
                   headers={"receipt": r["id"]})
        ok = lis.wait(lambda: len(lis.receipts) >= len(batch) or lis.errors, 60)
        good = ok and not lis.errors and len(lis.receipts) == len(batch)
        c.disconnect()
        if not good:
            print("send: %d of %d receipted, errors %s" % (len(lis.receipts), len(batch),
                                                            lis.errors))
            return 1
    print("sent %d records and %d duplicates" % (len(recs), len(dups)))
    return 0


def query(db, sql):
    kind, _, where = db.partition(":")
    if kind == "sqlite":
        c = sqlite3.connect(where, timeout=30)
        return [tuple(r) for r in c.execute(sql).fetchall()]
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          "-h", "127.0.0.1", "-p", where, "-U", "postgres", "rs", "-c", sql],
                         capture_output=True, text=True, check=True)
    rows = []
    for line in out.stdout.splitlines():
        rows.append(tuple(line.split("\t")))
    return rows


def raw(db):
    rows = query(db, "select id, coalesce(tenant,''), coalesce(profile,''),"
                     " coalesce(dnis,''), start_ms, end_ms, disposition, duration_ms from cdr")
    return [(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), r[6], int(r[7])) for r in rows]


def keys_of(c):
    return [("a", ""), ("t", c[1]), ("p", c[2]), ("d", c[3])]


def level_peak(calls, b, e):
    """Most of calls [(s, e)] in progress at an instant of [b, e)."""
    pts = [b] + [s for s, x in calls if b < s < e]
    return max(sum(1 for s, x in calls if s <= t < x) for t in pts) if calls else 0


def brute_rollups(calls):
    by_key = {}
    for c in calls:
        for k in keys_of(c):
            by_key.setdefault(k, []).append((c[4], c[5]))
    tables = {}
    for g, name in ((G5, "rollup_5m"), (G30, "rollup_30m"), (GH, "rollup_hour"),
                    (GD, "rollup_day")):
        t = {}
        for k, cs in by_key.items():
            buckets = set()
            for s, e in cs:
                buckets.add(s // g * g)
                b = s // g * g
                while b < e:
                    buckets.add(b)
                    b += g
            for b in buckets:
                inb = [(s, e) for s, e in cs if s < b + g and e > b]
                arr = sum(1 for s, e in cs if b <= s < b + g)
                row = [arr, level_peak(inb, b, b + g)]
                if g == G5:
                    row.insert(1, sum(1 for s, e in cs if s <= b < e))
                t[(k[0], k[1], b)] = tuple(row)
        tables[name] = t
    cp = {}
    for k, cs in by_key.items():
        if k[0] != "d":  # rollup_cp keeps the dns' change points only (schema 3)
            continue
        for s, e in cs:
            if e > s:
                cp[(k[0], k[1], s)] = cp.get((k[0], k[1], s), 0) + 1
                cp[(k[0], k[1], e)] = cp.get((k[0], k[1], e), 0) - 1
    tables["rollup_cp"] = {k: (v,) for k, v in cp.items() if v}
    return tables


def rollups(db):
    calls = raw(db)
    want = brute_rollups(calls)
    bad = 0
    for name, rows in want.items():
        cols = "arrivals, open_at_start, peak" if name == "rollup_5m" else \
            "delta" if name == "rollup_cp" else "arrivals, peak"
        kc = "ms" if name == "rollup_cp" else "bucket_ms"
        got = {(r[0], r[1], int(r[2])): tuple(int(x) for x in r[3:])
               for r in query(db, "select scope, skey, %s, %s from %s" % (kc, cols, name))
               if name != "rollup_cp" or int(r[3])}  # a net-zero point moves no level
        if got != rows:
            missing = [k for k in rows if k not in got][:3]
            extra = [k for k in got if k not in rows][:3]
            diff = [(k, rows[k], got[k]) for k in rows if k in got and rows[k] != got[k]][:5]
            print("%s: %d rows wanted, %d stored; missing %s extra %s differ %s" %
                  (name, len(rows), len(got), missing, extra, diff))
            bad += 1
        else:
            print("%s: %d rows agree" % (name, len(rows)))
    return 1 if bad else 0


def iso(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def edges(gran, tzname, frm, to):
    fixed = {"FIVE_MINUTES": G5, "THIRTY_MINUTES": G30, "HOUR": GH}
    last = to - 1 if to > frm else frm
    if gran in fixed:
        g = fixed[gran]
        e = [frm // g * g]
        while e[-1] <= last:
            e.append(e[-1] + g)
        return e
    z = zoneinfo.ZoneInfo(tzname or "UTC")
    d = dt.datetime.fromtimestamp(frm / 1000, z).date()
    if gran == "WEEK":
        d -= dt.timedelta(days=d.weekday())
    if gran == "MONTH":
        d = d.replace(day=1)

    def ms(day):
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=z).timestamp() * 1000)
    e = [ms(d)]
    while e[-1] <= last:
        if gran == "DAY":
            d += dt.timedelta(days=1)
        elif gran == "WEEK":
            d += dt.timedelta(days=7)
        else:
            d = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        e.append(ms(d))
    return e


def match(c, flt):
    if not flt:
        return True
    k, v = flt
    if k == "tenant-id":
        return c[1] == v
    if k == "app-id":
        return c[2] == v
    if v.endswith("*"):
        return c[3].startswith(v[:-1])
    return c[3] == v


def get(port, path, params, accept=None):
    url = "http://127.0.0.1:%s%s?%s" % (port, path, urllib.parse.urlencode(params))
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def api(db, port):
    calls = raw(db)
    bad = 0
    frm, to = T0 - GH - 1234, T0 + SPAN + 5 * GH
    filters = [None, ("tenant-id", "acme"), ("app-id", "ivr2"), ("dn", "800100"),
               ("dn", "8001*"), ("dn", "8*"), ("dn", "*")]
    n = 0
    for gran in ("FIVE_MINUTES", "THIRTY_MINUTES", "HOUR", "DAY", "WEEK", "MONTH"):
        for tzname in ([None] if gran in ("FIVE_MINUTES", "THIRTY_MINUTES", "HOUR")
                       else [None, "America/New_York", "Asia/Kolkata"]):
            for flt in filters:
                p = {"granularity": gran, "from": iso(frm), "to": iso(to)}
                if tzname:
                    p["tz"] = tzname
                if flt:
                    p[flt[0]] = flt[1]
                code, body = get(port, "/ems-rs/operations/peaks/RM", p)
                if code != 200:
                    print("peaks %s: HTTP %d %s" % (p, code, body[:200]))
                    bad += 1
                    continue
                got = json.loads(body)
                e = edges(gran, tzname, frm, to)
                cs = [(c[4], c[5]) for c in calls if match(c, flt)]
                want = []
                for i in range(len(e) - 1):
                    b, x = e[i], e[i + 1]
                    inb = [(s, f) for s, f in cs if s < x and f > b]
                    want.append({"start": iso(b), "peak": level_peak(inb, b, x),
                                 "arrivals": sum(1 for s, f in cs if b <= s < x)})
                n += 1
                if got.get("granularity") != gran or got.get("buckets") != want:
                    gb = got.get("buckets", [])
                    diff = [(w, g) for w, g in zip(want, gb) if w != g][:3]
                    print("peaks %s: %d buckets wanted, %d got; first differences %s" %
                          (p, len(want), len(gb), diff))
                    bad += 1
    print("peaks: %d answers checked" % n)
    # details: pages of 37 with the cursor, and the streamed CSV, and the summary
    dfrm, dto = T0 + GD // 2, T0 + 2 * GD + 777
    for flt in (None, ("tenant-id", "beta"), ("dn", "80*")):
        sel = sorted([c for c in calls if dfrm <= c[4] < dto and match(c, flt)],
                     key=lambda c: (c[4], c[0].encode()))
        ids, cursor, pages = [], None, 0
        while True:
            p = {"from": iso(dfrm), "to": str(dto), "limit": 37}
            if flt:
                p[flt[0]] = flt[1]
            if cursor:
                p["cursor"] = cursor
            code, body = get(port, "/ems-rs/HIST/CDRs/RM/details", p)
            if code != 200:
                print("details %s: HTTP %d %s" % (p, code, body[:200]))
                bad += 1
                break
            d = json.loads(body)
            pages += 1
            if d["total"] != len(sel):
                print("details %s: total %d, want %d" % (p, d["total"], len(sel)))
                bad += 1
            ids += [r["id"] for r in d["records"]]
            cursor = d["next"]
            if not cursor or pages > 1000:
                break
        if ids != [c[0] for c in sel]:
            print("details %s: %d ids paged, want %d" % (flt, len(ids), len(sel)))
            bad += 1
        p = {"from": iso(dfrm), "to": str(dto)}
        if flt:
            p[flt[0]] = flt[1]
        code, body = get(port, "/ems-rs/HIST/CDRs/RM/details", p, accept="text/csv")
        rows = list(csv.DictReader(io.StringIO(body)))
        if code != 200 or [r["id"] for r in rows] != [c[0] for c in sel]:
            print("details CSV %s: HTTP %d, %d rows, want %d" % (flt, code, len(rows), len(sel)))
            bad += 1
        code, body = get(port, "/ems-rs/HIST/CDRs/RM/summary", p)
        s = json.loads(body) if code == 200 else {}
        disp = {}
        for c in sel:
            disp[c[6]] = disp.get(c[6], 0) + 1
        ans = [c for c in sel if c[6] == "answered"]
        want_avg = round(sum(c[7] for c in ans) / 1000 / len(ans), 3) if ans else 0
        if (s.get("total") != len(sel) or
                any(s["dispositions"].get(k, 0) != v for k, v in disp.items()) or
                abs(s["minutes"] - sum(c[7] for c in sel) / 60000) > 0.001 or
                abs(s["average_duration_s"] - want_avg) > 0.001):
            print("summary %s: got %s; want total %d %s" % (flt, s, len(sel), disp))
            bad += 1
        print("details %s: %d records in %d pages, CSV and summary checked" %
              (flt, len(sel), pages))
    return 1 if bad else 0


def main(argv):
    if argv[1] == "send":
        return send(*argv[2:7])
    if argv[1] == "rollups":
        return rollups(argv[2])
    if argv[1] == "api":
        return api(argv[2], argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
