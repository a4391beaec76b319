#!/usr/bin/python3
"""A minimal SIP peer for rm's trust, validation and torture tests: it listens on
HOST:PORT over UDP and TCP, writes every request it receives as one JSON line to LOG
(first line, headers in order, raw bytes in latin-1), flushes each line, and answers:
OPTIONS 200, ACK nothing, anything else CODE (default 486, so a call ends at once).
A request without a complete header block (no empty line) or with a Content-Length
that is not a number is logged with "garbled": true and not answered, like a strict
UA would do.

  sip_peer.py HOST PORT LOG [CODE]
"""
import json
import re
import selectors
import socket
import sys

host, port, logf = sys.argv[1], int(sys.argv[2]), sys.argv[3]
code = int(sys.argv[4]) if len(sys.argv) > 4 else 486
out = open(logf, "a", buffering=1)


def parse(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = []
    for l in lines[1:]:
        if ":" in l:
            n, v = l.split(":", 1)
            hdrs.append((n.strip(), v.strip()))
        else:
            hdrs.append((l, None))
    return lines[0], hdrs, bool(sep), body


def hget(hdrs, *names):
    names = [n.lower() for n in names]
    return [v for n, v in hdrs if n.lower() in names and v is not None]


def answer(first, hdrs):
    method = first.split(" ", 1)[0]
    if method == "ACK" or first.startswith("SIP/"):
        return None
    status = 200 if method == "OPTIONS" else code
    to = hget(hdrs, "To", "t")[0]
    if ";tag=" not in to:
        to += ";tag=peer"
    resp = ["SIP/2.0 %d %s" % (status, "OK" if status == 200 else "Busy Here")]
    resp += ["Via: " + v for v in hget(hdrs, "Via", "v")]
    resp += ["From: " + hget(hdrs, "From", "f")[0], "To: " + to,
             "Call-ID: " + hget(hdrs, "Call-ID", "i")[0],
             "CSeq: " + hget(hdrs, "CSeq")[0], "Content-Length: 0", "", ""]
    return "\r\n".join(resp).encode("latin-1")


def handle(data, proto):
    first, hdrs, complete, body = parse(data)
    cl = hget(hdrs, "Content-Length", "l")
    garbled = not complete or any(not re.fullmatch(r"\d+", c) for c in cl)
    out.write(json.dumps({"proto": proto, "first": first, "headers": hdrs,
                          "garbled": garbled, "raw": data.decode("latin-1")}) + "\n")
    if garbled:
        return None
    try:
        return answer(first, hdrs)
    except (IndexError, ValueError):
        return None


sel = selectors.DefaultSelector()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((host, port))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((host, port))
t.listen(16)
sel.register(u, selectors.EVENT_READ, "udp")
sel.register(t, selectors.EVENT_READ, "accept")
bufs = {}
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == "udp":
            data, src = s.recvfrom(65535)
            r = handle(data, "udp")
            if r:
                s.sendto(r, src)
        elif key.data == "accept":
            c, _ = s.accept()
            sel.register(c, selectors.EVENT_READ, "tcp")
            bufs[c] = b""
        else:
            try:
                chunk = s.recv(65535)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(s)
                s.close()
                bufs.pop(s, None)
                continue
            bufs[s] += chunk
            while b"\r\n\r\n" in bufs[s]:
                head, _, rest = bufs[s].partition(b"\r\n\r\n")
                m = re.search(rb"\r\n(?:content-length|l)\s*:\s*(\d+)", head, re.I)
                n = int(m.group(1)) if m else 0
                if len(rest) < n:
                    break
                msg, bufs[s] = head + b"\r\n\r\n" + rest[:n], rest[n:]
                r = handle(msg, "tcp")
                if r:
                    s.sendall(r)
