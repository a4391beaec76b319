#!/usr/bin/env bash
# rs over the IPv6 loopback (::1), both ways records come in:
#  1. the STOMP listener on stomp.listen "::1": a client on ::1 SENDs a CDR with a
#     receipt -> RECEIPT, the row is stored once;
#  2. the per-source cap keys ::1 by its 16 bytes: with max_connections_per_source 2
#     (and the client above gone) a third connection from ::1 gets ERROR, and rs's
#     log names the refused peer "[::1]:PORT" (not a bare connection number);
#  3. consume mode with broker.endpoints ["[::1]:PORT"]: a broker (a Python socket
#     server on ::1) delivers one MESSAGE; rs connects over IPv6, SUBSCRIBEs, stores the
#     record and ACKs it.
. "$(dirname "$0")/lib/common.sh"
/usr/bin/python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' ||
	die "no IPv6 loopback on this host (ip -6 addr show lo)"
sp=$(free_port); hp=$(free_port); bp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "::1", "port": $sp, "max_connections_per_source": 2 },
  "http": { "port": $hp },
  "storage": { "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" },
  "broker": { "mode": "consume", "endpoints": ["[::1]:$bp"],
              "heartbeat_ms": 0, "reconnect_min_ms": 50, "reconnect_max_ms": 200 } }
JSON
# The broker: accept rs on ::1, answer CONNECTED, wait for SUBSCRIBE, deliver one
# record, and wait (10 s at most) for its ACK. Prints what rs sent.
/usr/bin/python3 - "$bp" >"$T/broker.out" 2>"$T/broker.err" <<'PY' &
import json, socket, sys, time
port = int(sys.argv[1])
rec = json.dumps({"id": "V6-B", "schema": 1, "call_id": "V6-B@h", "node": "rm-1",
    "start_ms": 1, "end_ms": 2, "duration_ms": 0, "disposition": "failed",
    "sip_status": 503, "ended_by": "rm"}).encode()
srv = socket.socket(socket.AF_INET6); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("::1", port)); srv.listen(1); srv.settimeout(10)
c, peer = srv.accept(); c.settimeout(1)
print("peer", peer[0])
buf, end, state = b"", time.time() + 10, "connect"
while time.time() < end and not (state == "sent" and b"\nid:b1\n" in buf.split(b"SUBSCRIBE", 1)[-1]):
    try:
        d = c.recv(4096)
        if not d: break
        buf += d
    except socket.timeout:
        continue
    if state == "connect" and b"\0" in buf:
        c.sendall(b"CONNECTED\nversion:1.2\nserver:v6\n\n\0")
        state = "connected"
    if state == "connected" and b"SUBSCRIBE\n" in buf:
        c.sendall(b"MESSAGE\ndestination:/queue/gvp.cdr\nmessage-id:m1\nsubscription:0\n"
                  b"ack:b1\ncontent-length:%d\n\n" % len(rec) + rec + b"\0")
        state = "sent"
sys.stdout.buffer.write(buf.replace(b"\0", b"\n"))
PY
broker=$!; bg_pid $broker
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$hp" 10 || die "rs did not start: $(tail -5 "$T/rs.log")"

# 1. a client on ::1
/usr/bin/python3 - "$sp" >"$T/client.out" 2>&1 <<'PY' || die "STOMP over ::1: $(cat "$T/client.out")"
import json, socket, sys
port = int(sys.argv[1])
rec = json.dumps({"id": "V6-L", "schema": 1, "call_id": "V6-L@h", "node": "rm-1",
    "start_ms": 1, "end_ms": 2, "duration_ms": 0, "disposition": "failed",
    "sip_status": 503, "ended_by": "rm"}).encode()
s = socket.create_connection(("::1", port), timeout=5)
s.sendall(b"CONNECT\naccept-version:1.2\nhost:rs\n\n\0")
s.sendall(b"SEND\ndestination:/queue/gvp.cdr\ncontent-type:application/json\nreceipt:r1\n"
          b"content-length:%d\n\n" % len(rec) + rec + b"\0")
buf = b""
while b"receipt-id:r1" not in buf:
    d = s.recv(4096)
    if not d:
        sys.exit("closed before the RECEIPT: %r" % buf)
    buf += d
print("receipt")
PY
[ "$(sqlite3 "$T/rs.db" "select count(*) from cdr where id = 'V6-L'")" = 1 ] ||
	die "the record sent over ::1 is not stored once"
ok "listener on ::1: RECEIPT, stored once"

# 2. the per-source cap counts ::1 as one source
out=$(/usr/bin/python3 - "$sp" 2>&1 <<'PY'
import socket, sys, time
port, socks, got = int(sys.argv[1]), [], []
for i in range(3):
    s = socket.create_connection(("::1", port), timeout=5)
    s.sendall(b"CONNECT\naccept-version:1.2\nhost:rs\nheart-beat:0,0\n\n\0")
    buf = b""
    while b"\0" not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    got.append(buf.split(b"\n", 1)[0].decode())
    socks.append(s)
print("connected %d refused %d" % (got.count("CONNECTED"), got.count("ERROR")))
PY
) || die "per-source flood over ::1: $out"
echo "$out" | grep -q "connected 2 refused 1" || die "per-source cap over ::1: $out"
wait_for 5 grep -q "stomp \[::1\]:[0-9]*: refused" "$T/rs.log" ||
	die "rs's log does not name the refused ::1 peer: $(grep stomp "$T/rs.log" | tail -3)"
ok "per-source cap over ::1: $out; the refusal logged with the peer [::1]:port"

# 3. the consumer over ::1
wait $broker || die "the ::1 broker failed: $(cat "$T/broker.err")"
grep -q "^peer ::1$" "$T/broker.out" || die "rs did not connect to the broker over ::1"
grep -q "^SUBSCRIBE$" "$T/broker.out" || die "rs did not subscribe: $(cat "$T/broker.out")"
grep -q "^ACK$" "$T/broker.out" || die "rs did not ACK: $(cat "$T/broker.out")"
[ "$(sqlite3 "$T/rs.db" "select count(*) from cdr where id = 'V6-B'")" = 1 ] ||
	die "the broker's record is not stored once"
ok "consumer to [::1]:port: connected over IPv6, subscribed, stored, ACKed"
kill -0 $rs || die "rs died"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
