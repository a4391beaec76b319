#!/usr/bin/python3
"""Raw-socket STOMP 1.2 producer for rs tests: sends bodies byte for byte (raw TAB,
NUL bytes, invalid UTF-8), which a STOMP library may not.

  stomp_bytes.py PORT FILE:RECEIPT [FILE:RECEIPT ...]
      one connection; each FILE's bytes are sent as a SEND to /queue/gvp.cdr with
      content-length and receipt RECEIPT, all pipelined. Prints one line per frame
      rs answers: "RECEIPT id SECONDS" (seconds since the sends) or
      "ERROR receipt-id message", until every receipt came or an ERROR did, or
      TIMEOUT (env, default 10) seconds passed ("TIMEOUT"). Exit 0.
Run with /usr/bin/python3.
"""
import os
import socket
import sys
import time


def frame(cmd, headers, body=b""):
    h = "".join("%s:%s\n" % kv for kv in headers)
    return cmd.encode() + b"\n" + h.encode() + b"\n" + body + b"\0"


def main(argv):
    port, items = int(argv[1]), [a.rsplit(":", 1) for a in argv[2:]]
    limit = float(os.environ.get("TIMEOUT", "10"))
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
    s.sendall(frame("CONNECT", [("accept-version", "1.2"), ("host", "rs"),
                                ("heart-beat", "0,0")]))
    buf = b""
    while b"\0" not in buf:
        d = s.recv(65536)
        if not d:
            print("CLOSED"); return 0
        buf += d
    if not buf.startswith(b"CONNECTED"):
        print("NOT CONNECTED " + buf.decode(errors="replace")); return 0
    buf = buf[buf.index(b"\0") + 1:]
    t0 = time.time()
    for path, rid in items:
        body = open(path, "rb").read()
        s.sendall(frame("SEND", [("destination", "/queue/gvp.cdr"),
                                 ("content-type", "application/json"),
                                 ("content-length", str(len(body))),
                                 ("receipt", rid)], body))
    want = {rid for _, rid in items}
    end = t0 + limit
    while want:
        while b"\0" not in buf:
            left = end - time.time()
            if left <= 0:
                print("TIMEOUT"); return 0
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                print("TIMEOUT"); return 0
            if not d:
                print("CLOSED"); return 0
            buf += d
        f, buf = buf[:buf.index(b"\0")], buf[buf.index(b"\0") + 1:]
        f = f.lstrip(b"\r\n")
        if not f:
            continue
        lines = f.split(b"\n\n", 1)[0].decode(errors="replace").split("\n")
        hdr = dict(l.split(":", 1) for l in lines[1:] if ":" in l)
        if lines[0] == "RECEIPT":
            rid = hdr.get("receipt-id", "")
            want.discard(rid)
            print("RECEIPT %s %.3f" % (rid, time.time() - t0))
        elif lines[0] == "ERROR":
            print("ERROR %s %s" % (hdr.get("receipt-id", "-"), hdr.get("message", "")))
            return 0
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
