#!/usr/bin/python3
"""Peers for rs's real-time usage tests (test_rs_rt*.sh, test_rs_dashboard.sh):
call events and CDRs sent over raw-socket STOMP with receipts, and checks of
/ems-rs/RT/... against the numbers the scenario implies. Loopback only; every wait is
bounded.

  rt_usage_peer.py feed STOMP_PORT [TAG [NOW_MS]]
        the scenario below (TAG prefixes call ids, default "s"; times relative to
        NOW_MS, default now: the same TAG and NOW_MS send the very same records):
        every record receipted
  rt_usage_peer.py check HTTP_PORT [TOKEN]
        GET /ems-rs/RT/tenants/usage and /components/usage; exit 0 when every number
        equals the scenario's (as admin)
  rt_usage_peer.py numbers HTTP_PORT
        print "name in_progress arrivals_today peak_today," for every tenant and
        rm node (/ems-rs/RT/tenants/usage and /components/usage), on one line
  rt_usage_peer.py calls STOMP_PORT TENANT N
        N more call.start events for TENANT (new calls), receipted
  rt_usage_peer.py stream HTTP_PORT TOKEN WANT_TENANT WANT_IN_PROGRESS SECONDS
        subscribe to /ems-rs/RT/stream; exit 0 once a "tenants" event shows
        WANT_TENANT with in_progress WANT_IN_PROGRESS, printing the event names seen
  rt_usage_peer.py cdrs STOMP_PORT TENANT N [NODE]
        N CDRs of ended calls for TENANT (no events) from rm node NODE (rm-1),
        receipted
  rt_usage_peer.py tenants STOMP_PORT N
        one call.start for each of N new tenants (tenant-00000...), receipted
  rt_usage_peer.py slow HTTP_PORT SECONDS [GO_FILE]
        subscribe and read nothing for SECONDS, or until GO_FILE exists (small
        receive buffer), then drain: exit 0 if rs had closed the connection
  rt_usage_peer.py heartbeat HTTP_PORT SECONDS
        subscribe, read everything; exit 0 once a ": heartbeat" comment arrives
  rt_usage_peer.py hostile STOMP_PORT
        a call.start and a CDR for each tenant name of HOSTILE (markup that would
        run script or break out of the table if a page inserted it as HTML), the
        CDR's caller, dnis and mcp hostile too, receipted
  rt_usage_peer.py tzfeed STOMP_PORT EDGE_MS NOW_MS
        tenant "zulu": calls around EDGE_MS (a day's edge in some zone; see
        tz_calls), their events in time order, receipted
  rt_usage_peer.py tzcheck HTTP_PORT ZONE EDGE_MS NOW_MS [exact]
        GET /ems-rs/RT/tenants/usage?tz=ZONE (ZONE "-": no tz=, UTC) and compare zulu's
        numbers with a brute-force count over tz_calls in ZONE's day and hour as of
        now (zoneinfo); the peak too with "exact" (after a rebuild: fed late, live
        records raise the peak of every slot since their start)

Scenario (node rm-1, times a few seconds before now):
  acme: a1 start, answer (sip:mcp1), end; a2 start, answer (sip:mcp2); a3 start, its
        end only as a CDR; a1's start sent twice (same event id)
  beta: b1, b2 start
  -> acme in_progress 1, arrivals 3, peak 3; beta in_progress 2, arrivals 2, peak 2;
     MCP sip:mcp1 0 in progress / 1 arrival, sip:mcp2 1 / 1; RM rm-1 3 / 5, peak 5.
"""
import urllib.parse
import json
import os
import select
import socket
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from stomp_raw import Reader, connect_frame, frame  # noqa: E402


def event(eid, typ, call, tenant, start, ts, mcp=None):
    e = {"id": eid, "schema": 1, "type": typ, "node": "rm-1", "call_id": call,
         "tenant": tenant, "start_ms": start, "ts_ms": ts}
    if mcp:
        e["mcp"] = mcp
    if typ == "call.end":
        e.update(end_ms=ts, duration_ms=0, disposition="answered", sip_status=200,
                 ended_by="caller")
    return e


def cdr(call, tenant, start, end, mcp="", node="rm-1"):
    return {"id": "cdr-" + call, "schema": 1, "call_id": call, "node": node,
            "tenant": tenant, "mcp": mcp, "start_ms": start, "answer_ms": None,
            "end_ms": end, "duration_ms": 0, "disposition": "cancelled",
            "sip_status": 487, "ended_by": "caller", "attempts": 1}


def scenario(tag, now):
    t = now - 3000
    a1, a2, a3, b1, b2 = (f"{tag}-{n}" for n in ("a1", "a2", "a3", "b1", "b2"))
    ev = "/queue/gvp.events"
    return [
        (ev, event(a1 + "-s", "call.start", a1, "acme", t, t)),
        (ev, event(a2 + "-s", "call.start", a2, "acme", t + 10, t + 10)),
        (ev, event(a3 + "-s", "call.start", a3, "acme", t + 20, t + 20)),
        (ev, event(b1 + "-s", "call.start", b1, "beta", t + 30, t + 30)),
        (ev, event(b2 + "-s", "call.start", b2, "beta", t + 40, t + 40)),
        (ev, event(a1 + "-a", "call.answer", a1, "acme", t, t + 100, "sip:mcp1")),
        (ev, event(a2 + "-a", "call.answer", a2, "acme", t + 10, t + 110, "sip:mcp2")),
        (ev, event(a1 + "-s", "call.start", a1, "acme", t, t)),  # duplicate
        (ev, event(a1 + "-e", "call.end", a1, "acme", t, t + 1000, "sip:mcp1")),
        ("/queue/gvp.cdr", cdr(a3, "acme", t + 20, t + 1500)),
    ]


EXPECT_TENANTS = {"acme": (1, 3, 3), "beta": (2, 2, 2)}  # in_progress, arrivals, peak
EXPECT_COMPONENTS = {("MCP", "sip:mcp1"): (0, 1, 1), ("MCP", "sip:mcp2"): (1, 1, 1),
                     ("RM", "rm-1"): (3, 5, 5)}


def send_all(port, records):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(connect_frame())
    rd = Reader(s)
    f = rd.next(5)
    if not f or f[0] != "CONNECTED":
        print(f"no CONNECTED: {f}")
        return 1
    for i, (dest, rec) in enumerate(records):
        body = json.dumps(rec).encode()
        s.sendall(frame("SEND", {"destination": dest, "receipt": f"r{i}",
                                 "content-type": "application/json",
                                 "content-length": str(len(body))}, body))
    want = {f"r{i}" for i in range(len(records))}
    while want:
        f = rd.next(10)
        if not f or f[0] != "RECEIPT":
            print(f"expected RECEIPT, got {f}")
            return 1
        want.discard(f[1].get("receipt-id"))
    s.close()
    return 0


def get(port, path, token=None, accept=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if accept:
        req.add_header("Accept", accept)
    try:
        r = urllib.request.urlopen(req, timeout=5)
        return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def check(port, token=None):
    hour = int(time.time() * 1000) // 3600000
    code, ctype, body = get(port, "/ems-rs/RT/tenants/usage", token)
    if code != 200 or not ctype.startswith("application/json"):
        print(f"tenants: {code} {ctype} {body}")
        return 1
    got = {t["tenant"]: t for t in json.loads(body)["tenants"]}
    bad = 0
    for name, (ip, arr, peak) in EXPECT_TENANTS.items():
        t = got.get(name)
        same_hour = hour == int(time.time() * 1000) // 3600000
        if (not t or t["in_progress"] != ip or t["arrivals_today"] != arr
                or t["peak_today"] != peak
                or (same_hour and t["arrivals_this_hour"] != arr)
                or not t["peak_today_at"].endswith("Z")):
            print(f"tenant {name}: got {t}, want in_progress {ip} arrivals {arr} peak {peak}")
            bad = 1
    code, ctype, body = get(port, "/ems-rs/RT/components/usage", token)
    if code != 200:
        print(f"components: {code} {body}")
        return 1
    got = {(c["type"], c["id"]): c for c in json.loads(body)["components"]}
    for key, (ip, arr, peak) in EXPECT_COMPONENTS.items():
        c = got.get(key)
        if not c or (c["in_progress"], c["arrivals_today"], c["peak_today"]) != (ip, arr, peak):
            print(f"component {key}: got {c}, want {ip} {arr} {peak}")
            bad = 1
    return bad


_pending = {}


def open_stream(port, token, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    path = "/ems-rs/RT/stream" + (f"?token={token}" if token and token != "-" else "")
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: rs\r\nAccept: text/event-stream\r\n\r\n".encode())
    # rs's first bytes ("retry: 2000") say it took us as a subscriber: print
    # "subscribed" for a test to wait on; what was read past them is kept
    buf, end = b"", time.monotonic() + 5
    while b"retry:" not in buf and time.monotonic() < end:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    if b"retry:" in buf:
        print("subscribed", flush=True)
        head, _, rest = buf.partition(b"\r\n\r\n")
        _pending[s] = rest if rest else b""
    return s




def read_events(s, seconds, until):
    """Feed SSE blocks to until(name, data, comment) until it returns True. Bytes read
    past the block that satisfied it are kept for the next call on s."""
    buf, end = _pending.pop(s, b""), time.monotonic() + seconds
    first = True
    while time.monotonic() < end:
        if first and buf:
            d = b""
        else:
            r, _, _ = select.select([s], [], [], 0.2)
            if not r:
                continue
            d = s.recv(65536)
            if not d:
                return False
        first = False
        buf += d
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            name, data, comment = None, None, None
            for line in block.decode(errors="replace").split("\n"):
                line = line.rstrip("\r")
                # chunk-size lines of the chunked encoding are not SSE fields
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line.startswith(":"):
                    comment = line
            if until(name, data, comment):
                _pending[s] = buf
                return True
    return False


def cmd_stream(port, token, tenant, want, seconds):
    s = open_stream(port, token)
    seen = []

    def until(name, data, comment):
        if name:
            seen.append(name)
        if name == "tenants" and data:
            for t in json.loads(data)["tenants"]:
                if t["tenant"] == tenant and t["in_progress"] == int(want):
                    return True
        return False
    ok = read_events(s, float(seconds), until)
    read_events(s, 0.5, lambda n, d, c: seen.append(n) if n else False)  # what follows
    print("events seen:", " ".join(seen))
    return 0 if ok else 1


def cmd_slow(port, seconds, go=None):
    s = open_stream(port, "-", rcvbuf=4096)
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end and not (go and os.path.exists(go)):
        time.sleep(0.1)  # never read meanwhile: rs must drop us, not buffer
    s.settimeout(3)
    n = 0
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            n += len(d)
    except (socket.timeout, TimeoutError):
        print(f"rs kept the slow subscriber (read {n} bytes)")
        return 1
    except OSError as e:
        print(f"reset by rs: {e}")
        return 0
    print(f"closed by rs after {n} bytes")
    return 0


def cmd_heartbeat(port, seconds):
    s = open_stream(port, "-")
    t0 = time.monotonic()
    ok = read_events(s, float(seconds), lambda n, d, c: c == ": heartbeat")
    print(f"heartbeat {'after %.1f s' % (time.monotonic() - t0) if ok else 'never came'}")
    return 0 if ok else 1


MIN = 60000

# Names a page must show as text (dashboard_check.py hostile): each would add an
# element, run script (setting window.__pwned) or break the table if inserted as HTML.
HOSTILE = ['<img src=x onerror="window.__pwned=1">',
           '"><script>window.__pwned=2</script>',
           "</td></tr><tr><td class=x>&amp;'",
           '<svg onload="window.__pwned=3">']


def cmd_hostile(port):
    now = int(time.time() * 1000)
    recs = []
    for i, name in enumerate(HOSTILE):
        call = f"h-{now}-{i}"
        recs.append(("/queue/gvp.events",
                     event(call + "-s", "call.start", call, name, now - 5000, now - 5000,
                           mcp="sip:" + name)))
        c = cdr(call + "-cdr", name, now - 4000, now - 3000, mcp="sip:" + name)
        c.update(caller=name, dnis=name[:100])
        recs.append(("/queue/gvp.cdr", c))
    return send_all(port, recs)


def tz_calls(edge, now):
    """(call, start, end or None, end as a CDR only) around edge, all before now."""
    mid = edge + (now - edge) // 2
    return [("c1", edge - 20 * MIN, edge - 5 * MIN, False),
            ("c2", edge - 19 * MIN, edge - 5 * MIN, False),
            ("c3", edge - 18 * MIN, edge - 5 * MIN, False),
            ("c4", edge - 15 * MIN, None, False),
            ("c5", mid, None, False),
            ("c6", edge - 30 * MIN, edge + (now - edge) // 3, True)]


def cmd_tzfeed(port, edge, now):
    recs = []
    for call, start, end, cdr_only in tz_calls(edge, now):
        call = f"tz-{edge}-{call}"
        recs.append((start, ("/queue/gvp.events",
                             event(call + "-s", "call.start", call, "zulu", start, start))))
        if end is not None:
            if cdr_only:
                recs.append((end, ("/queue/gvp.cdr", cdr(call, "zulu", start, end))))
            else:
                recs.append((end, ("/queue/gvp.events",
                                   event(call + "-e", "call.end", call, "zulu", start, end))))
    recs.sort(key=lambda r: r[0])
    return send_all(port, [r[1] for r in recs])


def cmd_tzcheck(port, zone, edge, now, exact):
    import datetime
    import zoneinfo
    t = int(time.time() * 1000)
    z = zoneinfo.ZoneInfo("UTC" if zone == "-" else zone)
    loc = datetime.datetime.fromtimestamp(t / 1000, z)
    ds = int(loc.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    hs = int(loc.replace(minute=0, second=0, microsecond=0).timestamp() * 1000)
    calls = tz_calls(edge, now)
    arr = sum(ds <= c[1] <= t for c in calls)
    arr_h = sum(hs <= c[1] <= t for c in calls)
    ip = sum(c[2] is None or c[2] > t for c in calls)
    peak = max(sum(c[1] <= x and (c[2] is None or c[2] > x) for c in calls)
               for x in [ds] + [c[1] for c in calls if ds <= c[1] <= t])
    q = "" if zone == "-" else "&tz=" + urllib.parse.quote(zone, safe="")
    code, _, body = get(port, "/ems-rs/RT/tenants/usage?tenant-id=zulu" + q)
    got = json.loads(body)["tenants"][0] if code == 200 else body
    want = {"in_progress": ip, "arrivals_today": arr, "arrivals_this_hour": arr_h}
    if exact:
        want["peak_today"] = peak
    bad = code != 200 or any(got[k] != v for k, v in want.items())
    print(f"{zone}: day from {datetime.datetime.fromtimestamp(ds / 1000, z)}: "
          f"{'got ' + str(got) + ', want ' if bad else ''}{want}")
    return 1 if bad else 0


def cmd_numbers(port):
    out = ""
    for path, key in (("/ems-rs/RT/tenants/usage", "tenants"),
                      ("/ems-rs/RT/components/usage", "components")):
        code, _, body = get(port, path)
        if code != 200:
            print(f"{path}: {code} {body}")
            return 1
        for t in json.loads(body)[key]:
            if key == "tenants" or t["type"] == "RM":
                out += (f"{t.get('tenant', t.get('id'))} {t['in_progress']} "
                        f"{t['arrivals_today']} {t['peak_today']},")
    print(out)
    return 0


def main(a):
    now = int(time.time() * 1000)
    if a[0] == "feed":
        t0 = int(a[3]) if len(a) > 3 else now
        return send_all(int(a[1]), scenario(a[2] if len(a) > 2 else "s", t0))
    if a[0] == "check":
        return check(int(a[1]), a[2] if len(a) > 2 else None)
    if a[0] == "calls":
        recs = [("/queue/gvp.events",
                 event(f"x-{a[2]}-{now}-{i}", "call.start", f"x-{a[2]}-{now}-{i}", a[2],
                       now - 100, now - 100)) for i in range(int(a[3]))]
        return send_all(int(a[1]), recs)
    if a[0] == "cdrs":
        node = a[4] if len(a) > 4 else "rm-1"
        recs = [("/queue/gvp.cdr", cdr(f"g-{now}-{i}", a[2], now - 60000 + i * 1000,
                                       now - 30000 + i * 1000, node=node))
                for i in range(int(a[3]))]
        return send_all(int(a[1]), recs)
    if a[0] == "tenants":
        recs = [("/queue/gvp.events",
                 event(f"t-{now}-{i}", "call.start", f"t-{now}-{i}", f"tenant-{i:05d}",
                       now - 100, now - 100)) for i in range(int(a[2]))]
        return send_all(int(a[1]), recs)
    if a[0] == "stream":
        return cmd_stream(int(a[1]), a[2], a[3], a[4], a[5])
    if a[0] == "slow":
        return cmd_slow(int(a[1]), a[2], a[3] if len(a) > 3 else None)
    if a[0] == "numbers":
        return cmd_numbers(int(a[1]))
    if a[0] == "hostile":
        return cmd_hostile(int(a[1]))
    if a[0] == "tzfeed":
        return cmd_tzfeed(int(a[1]), int(a[2]), int(a[3]))
    if a[0] == "tzcheck":
        return cmd_tzcheck(int(a[1]), a[2], int(a[3]), int(a[4]), len(a) > 5)
    if a[0] == "heartbeat":
        return cmd_heartbeat(int(a[1]), a[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
