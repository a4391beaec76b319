#!/usr/bin/python3
"""A foreign STOMP client for rs tests: Debian's python3-stomp (stomp.py 8.x).

  stomp_client.py send PORT PREFIX COUNT      send COUNT CDRs with receipts; exit 0
                                              when every receipt came back
  stomp_client.py bad PORT PREFIX             the bad-record scenario (see bad())
  stomp_client.py produce PORT PREFIX COUNT [RATE] [DEST]
                                              publish COUNT CDRs to a broker (ActiveMQ)
                                              with persistent:true and receipts, at
                                              RATE records/s (0 = as fast as possible);
                                              exit 0 when the broker receipted all
Run with /usr/bin/python3.
"""
import json
import os
import sys
import threading
import time

import stomp


def cdr(rid, **kw):
    r = {"id": rid, "schema": 1, "call_id": rid + "@10.0.0.1", "node": "rm-1",
         "tenant": "acme", "start_ms": 1700000000000, "answer_ms": 1700000000100,
         "end_ms": 1700000030100, "duration_ms": 30000, "disposition": "answered",
         "sip_status": 200, "ended_by": "caller", "attempts": 1}
    r.update(kw)
    return r


class Listener(stomp.ConnectionListener):
    def __init__(self):
        self.receipts = set()
        self.errors = []
        self.cv = threading.Condition()
        self.disconnected = False

    def on_receipt(self, frame):
        with self.cv:
            self.receipts.add(frame.headers.get("receipt-id"))
            self.cv.notify_all()

    def on_error(self, frame):
        with self.cv:
            self.errors.append((dict(frame.headers), frame.body))
            self.cv.notify_all()

    def on_disconnected(self):
        with self.cv:
            self.disconnected = True
            self.cv.notify_all()

    def wait(self, pred, timeout):
        end = time.time() + timeout
        with self.cv:
            while not pred():
                left = end - time.time()
                if left <= 0:
                    return False
                self.cv.wait(left)
        return True


def connect(port):
    """Env STOMP_LOGIN / STOMP_PASSCODE, when set, are sent in CONNECT."""
    c = stomp.Connection12([("127.0.0.1", int(port))], heartbeats=(0, 0))
    lis = Listener()
    c.set_listener("t", lis)
    c.connect(os.environ.get("STOMP_LOGIN"), os.environ.get("STOMP_PASSCODE"), wait=True)
    return c, lis


def send(port, prefix, count):
    c, lis = connect(port)
    count = int(count)
    t0 = time.time()
    for i in range(count):
        rid = "%s-%d" % (prefix, i)
        c.send("/queue/gvp.cdr", json.dumps(cdr(rid)), content_type="application/json",
               headers={"receipt": rid})
    ok = lis.wait(lambda: len(lis.receipts) >= count or lis.errors, 60)
    dt = time.time() - t0
    print("python-stomp: sent %d, receipted %d in %.2fs, errors %s" %
          (count, len(lis.receipts), dt, lis.errors))
    # Judge before DISCONNECT: its own receipt also reaches on_receipt, racing with
    # the check (a run with every record receipted used to fail now and then).
    good = ok and not lis.errors and len(lis.receipts) == count
    c.disconnect()
    return 0 if good else 1


def bad(port, prefix):
    """Three good records, then one whose `node` is missing: ERROR naming node, with
    the receipt-id, and the three earlier receipts first. A second connection sends
    an ill-typed sip_status. A third sends an event and a metrics record."""
    fails = 0
    c, lis = connect(port)
    for i in range(3):
        c.send("/queue/gvp.cdr", json.dumps(cdr("%s-good-%d" % (prefix, i))),
               headers={"receipt": "g%d" % i})
    r = cdr("%s-missing" % prefix)
    del r["node"]
    c.send("/queue/gvp.cdr", json.dumps(r), headers={"receipt": "bad-missing"})
    lis.wait(lambda: lis.errors, 10)
    lis.wait(lambda: lis.disconnected, 5)
    print("connection 1: receipts %s errors %s" % (sorted(lis.receipts), lis.errors))
    if lis.receipts != {"g0", "g1", "g2"}:
        print("FAIL: expected receipts g0..g2 before the ERROR"); fails += 1
    if not lis.errors or "node" not in lis.errors[0][0].get("message", "") \
            or lis.errors[0][0].get("receipt-id") != "bad-missing":
        print("FAIL: expected one ERROR naming node with receipt-id bad-missing"); fails += 1
    if not lis.disconnected:
        print("FAIL: rs did not close the connection after the ERROR"); fails += 1

    c, lis = connect(port)
    c.send("/queue/gvp.cdr", json.dumps(cdr("%s-good-3" % prefix)), headers={"receipt": "g3"})
    c.send("/queue/gvp.cdr", json.dumps(cdr("%s-typed" % prefix, sip_status="abc")),
           headers={"receipt": "bad-typed"})
    lis.wait(lambda: lis.errors, 10)
    print("connection 2: receipts %s errors %s" % (sorted(lis.receipts), lis.errors))
    if not lis.errors or "sip_status" not in lis.errors[0][0].get("message", ""):
        print("FAIL: expected an ERROR naming sip_status"); fails += 1
    if lis.receipts != {"g3"}:
        print("FAIL: expected receipt g3"); fails += 1
    try:
        c.disconnect()
    except Exception:
        pass

    c, lis = connect(port)
    c.send("/queue/gvp.events", json.dumps({"id": prefix + "-ev1", "schema": 1, "type": "ring"}),
           headers={"receipt": "e1"})
    c.send("/queue/gvp.metrics", json.dumps({"id": prefix + "-m1", "schema": 1, "calls": 3}),
           headers={"receipt": "m1"})
    lis.wait(lambda: len(lis.receipts) >= 2 or lis.errors, 10)
    print("connection 3: receipts %s errors %s" % (sorted(lis.receipts), lis.errors))
    if lis.receipts != {"e1", "m1"}:
        print("FAIL: expected receipts for the event and the metrics record"); fails += 1
    c.disconnect()
    return 1 if fails else 0


def produce(port, prefix, count, rate="0", dest="/queue/gvp.cdr"):
    """Publish to a broker as rm would: persistent:true, a receipt for each SEND."""
    c, lis = connect(port)
    count, rate = int(count), float(rate)
    t0 = time.time()
    for i in range(count):
        rid = "%s-%d" % (prefix, i)
        c.send(dest, json.dumps(cdr(rid)), content_type="application/json",
               headers={"receipt": rid, "persistent": "true"})
        if rate > 0:
            ahead = t0 + (i + 1) / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
    ok = lis.wait(lambda: len(lis.receipts) >= count or lis.errors, 120)
    print("producer: sent %d to %s, broker receipted %d in %.2fs, errors %s" %
          (count, dest, len(lis.receipts), time.time() - t0, lis.errors))
    good = ok and not lis.errors and len(lis.receipts) == count  # before DISCONNECT
    c.disconnect()
    return 0 if good else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    sys.exit({"send": send, "bad": bad, "produce": produce}[cmd](*sys.argv[2:]))
