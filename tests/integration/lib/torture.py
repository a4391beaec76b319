#!/usr/bin/python3
"""Send every message of the RFC 4475 torture corpus to rm over udp and tcp and
compare what happens with the corpus's EXPECT file (tests/integration/data/torture/
README). A message expected to be forwarded must show up, by its Call-ID, in the
MCP's log (sip_peer.py's JSON lines). Prints one line per message and transport;
exits 1 if any differs.

  torture.py CORPUS_DIR RM_PORT MCP_LOG [udp tcp]
"""
import json
import os
import re
import socket
import sys
import time

corpus, port, mcp_log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
protos = sys.argv[4:] or ["udp", "tcp"]
WAIT = 1.5


def load(name, proto, sport):
    path = os.path.join(corpus, name)
    raw = path.endswith(".raw")
    data = open(path, "rb").read()
    if not raw:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    data = data.replace(b"@RM@", b"127.0.0.1:%d" % port)
    data = data.replace(b"@VIA@", b"SIP/2.0/%s 127.0.0.1:%d" % (proto.upper().encode(), sport))
    # one Call-ID per transport, so that a forward is found by its own id
    data = re.sub(rb"(?im)^((?:call-id|i)[ \t]*:[ \t]*)(\S+)", rb"\1\2-" + proto.encode(), data)
    head, sep, body = data.partition(b"\r\n\r\n")
    data = data.replace(b"@CL@", str(len(body)).encode())
    ids = [m.decode("latin-1") for m in
           re.findall(rb"(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)", data)]
    return data, ids


def finals(buf):
    return [int(c) for c in re.findall(rb"(?m)^SIP/2\.0 (\d{3})", buf) if int(c) >= 200]


def exchange(name, proto):
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        data, ids = load(name, proto, s.getsockname()[1])
        s.sendto(data, ("127.0.0.1", port))
    else:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        data, ids = load(name, proto, s.getsockname()[1])
        s.connect(("127.0.0.1", port))
        s.sendall(data)
    buf, end = b"", time.time() + WAIT
    while time.time() < end and not finals(buf):
        s.settimeout(max(0.01, end - time.time()))
        try:
            chunk = s.recv(65535)
        except (socket.timeout, OSError):
            break
        if not chunk:
            break
        buf += chunk + (b"\r\n" if proto == "udp" else b"")
    s.close()
    f = finals(buf)
    return (str(f[0]) if f else "silence"), ids


def forwarded(ids):
    end = time.time() + WAIT
    while time.time() < end:
        try:
            seen = [json.loads(l)["raw"] for l in open(mcp_log)]
        except (OSError, ValueError):
            seen = []
        if any(i in r for i in ids for r in seen):
            return True
        time.sleep(0.05)
    return False


bad = 0
for line in open(os.path.join(corpus, "EXPECT")):
    line = line.split("#", 1)[0].split()
    if not line:
        continue
    name, want = line[0], dict(zip(["udp", "tcp"], line[1:3]))
    fname = name + ".raw" if os.path.exists(os.path.join(corpus, name + ".raw")) else name + ".sip"
    for proto in protos:
        got, ids = exchange(fname, proto)
        alts = want[proto].split("|")
        if "fwd" in alts and forwarded(ids):
            got = "fwd"
        okay = got in alts or "any" in alts
        bad += not okay
        print("%-4s %-11s %-4s got %-8s want %-16s %s" % ("ok" if okay else "BAD", name, proto,
                                                          got, want[proto], ids[:1]))
        sys.stdout.flush()
sys.exit(1 if bad else 0)
