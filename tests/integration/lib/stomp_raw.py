#!/usr/bin/python3
"""Raw-socket STOMP and HTTP peers for rs's edge tests (connection caps, deadlines,
heart-beats, HTTP limits). Plain sockets rather than stomp.py, so a test controls every
byte and every connection. Loopback only; every wait is bounded.

  stomp_raw.py send PORT ID [HB] [IDLE_S]
        CONNECT (heart-beat HB, default 0,0; "-" for none), stay idle IDLE_S seconds (default 0),
        SEND one CDR with a receipt; exit 0 when the RECEIPT came back. Prints the
        heart-beat lines the server sent while idle.
  stomp_raw.py silent PORT [HB] [IDLE_S]
        CONNECT with HB, then send nothing: exit 0 if rs closed the connection within
        IDLE_S seconds (default 10), printing after how long.
  stomp_raw.py noconnect PORT MAX_S [TRICKLE_S]
        open a connection and never CONNECT (with TRICKLE_S, send a newline that
        often); print after how many seconds rs closed it; exit 0 if within MAX_S.
  stomp_raw.py flood PORT N HOLD_S [SRC...]
        open N connections (round-robin over the source addresses SRC, default
        127.0.0.1), CONNECT on each with heart-beat 0,0, hold them HOLD_S seconds,
        print "connected C refused R errors E pending P" (E: the ERROR messages seen,
        counted by message), close all.
  stomp_raw.py httpflood PORT N HOLD_S
        open N idle HTTP connections (no request), hold HOLD_S seconds, close.
  stomp_raw.py http PORT METHOD PATH [BODY_BYTES] [HEADER_BYTES]
        one request with a body of BODY_BYTES (Content-Length announced, body sent
        as long as the server reads) and an X-Pad header of HEADER_BYTES; print
        the status code (0 if the connection closed with none).
"""
import json
import os
import select
import socket
import sys
import time


def cdr(rid):
    return {"id": rid, "schema": 1, "call_id": rid + "@10.0.0.1", "node": "rm-1",
            "tenant": "acme", "start_ms": 1700000000000, "answer_ms": 1700000000100,
            "end_ms": 1700000030100, "duration_ms": 30000, "disposition": "answered",
            "sip_status": 200, "ended_by": "caller", "attempts": 1}


def frame(cmd, headers, body=b""):
    h = "".join(f"{k}:{v}\n" for k, v in headers.items())
    return cmd.encode() + b"\n" + h.encode() + b"\n" + body + b"\0"


def connect_frame(hb="0,0"):
    """hb "-": no heart-beat header at all (STOMP 1.2: the same as 0,0)."""
    h = {"accept-version": "1.2", "host": "rs"}
    if hb != "-":
        h["heart-beat"] = hb
    return frame("CONNECT", h)


class Reader:
    """Frames from a socket; heart-beat newlines between frames are counted."""

    def __init__(self, s):
        self.s, self.buf, self.beats = s, b"", 0

    def next(self, timeout):
        """(command, headers) of the next frame, or None on EOF/timeout."""
        end = time.monotonic() + timeout
        while True:
            while self.buf[:1] in (b"\n", b"\r"):
                if self.buf[:1] == b"\n":
                    self.beats += 1
                self.buf = self.buf[1:]
            z = self.buf.find(b"\0")
            if z >= 0:
                raw, self.buf = self.buf[:z], self.buf[z + 1:]
                head = raw.split(b"\n\n", 1)[0].decode(errors="replace").split("\n")
                hdrs = dict(l.split(":", 1) for l in head[1:] if ":" in l)
                return head[0], hdrs
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return None
            try:
                d = self.s.recv(65536)
            except OSError:
                return None
            if not d:
                return None
            self.buf += d


def closed_within(s, limit):
    """Seconds until the peer closed s (reading and dropping data), or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            try:
                if not s.recv(65536):
                    return time.monotonic() - t0
            except OSError:
                return time.monotonic() - t0
    return None


def cmd_send(port, rid, hb="0,0", idle=0.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(connect_frame(hb))
    rd = Reader(s)
    f = rd.next(5)
    if not f or f[0] != "CONNECTED":
        print(f"no CONNECTED: {f}")
        return 1
    t0 = time.monotonic()
    while time.monotonic() - t0 < idle:
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            d = s.recv(65536)
            if not d:
                print(f"closed by rs after {time.monotonic() - t0:.1f} s idle")
                return 1
            rd.buf += d
            rd.next(0)
    print(f"heart-beats received while idle: {rd.beats}")
    body = json.dumps(cdr(rid)).encode()
    s.sendall(frame("SEND", {"destination": "/queue/gvp.cdr", "receipt": "r-" + rid,
                             "content-type": "application/json",
                             "content-length": str(len(body))}, body))
    f = rd.next(5)
    if not f or f[0] != "RECEIPT" or f[1].get("receipt-id") != "r-" + rid:
        print(f"no RECEIPT: {f}")
        return 1
    s.close()
    return 0


def cmd_silent(port, hb, limit):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(connect_frame(hb))
    f = Reader(s).next(5)
    if not f or f[0] != "CONNECTED":
        print(f"no CONNECTED: {f}")
        return 1
    t = closed_within(s, limit)
    print("still open" if t is None else f"closed after {t:.1f} s")
    return 0 if t is not None else 1


def cmd_noconnect(port, limit, trickle=0.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit + 0.5:
        step = trickle if trickle else 0.1
        t = closed_within(s, step)
        if t is not None:
            print(f"closed after {time.monotonic() - t0:.1f} s")
            return 0
        if trickle:
            try:
                s.sendall(b"\n")
            except OSError:
                print(f"closed after {time.monotonic() - t0:.1f} s")
                return 0
    print(f"still open after {limit + 0.5:.1f} s")
    return 1


def open_nonblocking(port, src=None):
    s = socket.socket()
    if src:
        s.bind((src, 0))
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    return s


def wait_many(socks, state, timeout):
    """poll(2) rather than select(2): a flood has more than FD_SETSIZE sockets.
    Returns (readable, writable): sockets in state "sent" that can be read, in state
    "pending" whose connect finished."""
    p = select.poll()
    by_fd = {}
    for s in socks:
        if state[s] in ("pending", "sent"):
            p.register(s, select.POLLOUT if state[s] == "pending" else select.POLLIN)
            by_fd[s.fileno()] = s
    r, w = [], []
    for fd, ev in p.poll(timeout * 1000):
        s = by_fd[fd]
        (w if state[s] == "pending" else r).append(s)
    return r, w


def cmd_flood(port, n, hold, srcs):
    socks = [open_nonblocking(port, srcs[i % len(srcs)]) for i in range(n)]
    state = {s: "pending" for s in socks}
    readers = {}
    errors = {}
    end = time.monotonic() + hold
    while time.monotonic() < end:
        r, w = wait_many(socks, state, 0.1)
        for s in w:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                state[s] = "failed"
                continue
            try:
                s.send(connect_frame())
                state[s] = "sent"
                readers[s] = Reader(s)
            except OSError:
                state[s] = "refused"
        for s in r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                state[s] = "refused"
                continue
            rd = readers[s]
            rd.buf += d
            f = rd.next(0)
            if f and f[0] == "CONNECTED":
                state[s] = "connected"
            elif f and f[0] == "ERROR":
                m = f[1].get("message", "?")
                errors[m] = errors.get(m, 0) + 1
                state[s] = "refused"
    count = lambda k: sum(1 for s in socks if state[s] == k)
    print(f"connected {count('connected')} refused {count('refused')} "
          f"errors {json.dumps(errors, sort_keys=True)} "
          f"pending {count('pending') + count('sent') + count('failed')}")
    sys.stdout.flush()
    for s in socks:
        s.close()
    return 0


def cmd_httpflood(port, n, hold):
    socks = [open_nonblocking(port) for _ in range(n)]
    time.sleep(hold)  # holding the connections open is the point here
    for s in socks:
        s.close()
    return 0


def cmd_http(port, method, path, body_bytes=0, header_bytes=0):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if header_bytes:
        req += "X-Pad: " + "a" * header_bytes + "\r\n"
    if body_bytes:
        req += f"Content-Length: {body_bytes}\r\n"
    req += "\r\n"
    s.sendall(req.encode())
    resp = b""
    sent, chunk = 0, b"x" * 65536
    s.setblocking(False)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        w = [s] if sent < body_bytes else []
        r, w, _ = select.select([s], w, [], 0.5)
        if r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                break
            resp += d
            if b"\r\n\r\n" in resp:
                break
        if w:
            try:
                sent += s.send(chunk[:body_bytes - sent])
            except OSError:
                sent = body_bytes
    s.close()
    line = resp.split(b"\r\n", 1)[0].split()
    print(int(line[1]) if len(line) > 1 and line[1].isdigit() else 0)
    return 0


def main(a):
    cmd, port = a[1], int(a[2])
    if cmd == "send":
        return cmd_send(port, a[3], a[4] if len(a) > 4 else "0,0",
                        float(a[5]) if len(a) > 5 else 0.0)
    if cmd == "silent":
        return cmd_silent(port, a[3] if len(a) > 3 else "0,0",
                          float(a[4]) if len(a) > 4 else 10.0)
    if cmd == "noconnect":
        return cmd_noconnect(port, float(a[3]), float(a[4]) if len(a) > 4 else 0.0)
    if cmd == "flood":
        return cmd_flood(port, int(a[3]), float(a[4]), a[5:] or ["127.0.0.1"])
    if cmd == "httpflood":
        return cmd_httpflood(port, int(a[3]), float(a[4]))
    if cmd == "http":
        return cmd_http(port, a[3], a[4], int(a[5]) if len(a) > 5 else 0,
                        int(a[6]) if len(a) > 6 else 0)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
