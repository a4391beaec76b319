#!/usr/bin/python3
"""Send stdin's bytes to 127.0.0.1:PORT over udp|tcp from source address SRC and
print the status line of every response that comes back within TIMEOUT seconds (the
last final one ends the wait), one per line; nothing for silence.

  sip_raw.py SRC PORT udp|tcp [TIMEOUT]

The text @SRCPORT@ in the message is replaced by the sending socket's own port.
"""
import re
import socket
import sys
import time

src, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 1.5
data = sys.stdin.buffer.read()
if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    data = data.replace(b"@SRCPORT@", str(s.getsockname()[1]).encode())
    s.sendto(data, ("127.0.0.1", port))
else:
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(timeout)
    data = data.replace(b"@SRCPORT@", str(s.getsockname()[1]).encode())
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(data)
    except OSError:
        sys.exit(0)
end = time.time() + timeout
buf = b""
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        chunk = s.recv(65535)
    except (socket.timeout, OSError):
        break
    if not chunk:
        break
    buf += chunk if proto == "tcp" else chunk + b"\r\n\r\n"
    finals = [l for l in re.findall(rb"(?m)^SIP/2\.0 (\d{3})", buf) if int(l) >= 200]
    if finals:
        break
for line in re.findall(rb"(?m)^SIP/2\.0 [^\r\n]*", buf):
    sys.stdout.write(line.decode("latin-1") + "\n")
for line in re.findall(rb"(?mi)^Unsupported:[^\r\n]*", buf):
    sys.stdout.write(line.decode("latin-1") + "\n")
