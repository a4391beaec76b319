#!/usr/bin/env bash
# rs in consume mode against a hostile "broker" (a Python socket server here): after
# CONNECTED it sends MESSAGEs without ack headers, to unknown destinations, with bad
# UTF-8 and invalid records, a frame over the size limit, then garbage; each session
# it drops the connection. rs must not crash: it NACKs what it cannot store, stores
# the one good record once, reconnects each time (the first endpoint is refused:
# nothing listens there, so the second is used), and still answers /healthz.
. "$(dirname "$0")/lib/common.sh"
dead=$(free_port); fb=$(free_port); sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "port": $sp, "max_frame_size": 65536 }, "http": { "port": $hp },
  "storage": { "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" },
  "broker": { "mode": "consume", "endpoints": ["127.0.0.1:$dead", "127.0.0.1:$fb"],
              "heartbeat_ms": 0, "reconnect_min_ms": 50, "reconnect_max_ms": 200 } }
JSON
/usr/bin/python3 - "$fb" "$T/broker.out" >"$T/broker.log" 2>&1 <<'PY' &
import json, socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
good = json.dumps({"id": "G-1", "schema": 1, "call_id": "G-1@h", "node": "rm-1",
    "tenant": "t", "start_ms": 1, "answer_ms": 2, "end_ms": 3, "duration_ms": 1,
    "disposition": "answered", "sip_status": 200, "ended_by": "caller", "attempts": 1})
def msg(headers, body=b""):
    h = b"".join(b"%s:%s\n" % (k, v) for k, v in headers)
    return b"MESSAGE\n" + h + b"content-length:%d\n\n" % len(body) + body + b"\0"
frames = [
    msg([(b"destination", b"/queue/gvp.cdr"), (b"message-id", b"m0")], b"{}"),  # no ack
    msg([(b"destination", b"/queue/gvp.cdr")], b"{}"),                          # no ids
    msg([(b"destination", b"/queue/other"), (b"ack", b"a1")], b"{}"),
    msg([(b"destination", b"/queue/gvp.cdr"), (b"ack", b"a2")], b"\xff\xfe{}"),
    msg([(b"destination", b"/queue/gvp.cdr"), (b"ack", b"a3")], b'{"id":"x"}'),
    msg([(b"destination", b"/queue/gvp.events"), (b"ack", b"a4")], b"[1,2"),
    msg([(b"destination", b"/queue/gvp.cdr"), (b"ack", b"a5")], good.encode()),
    b"RECEIPT\nreceipt-id:nobody-asked\n\n\0",
    b"BOGUS\n\n\0",
    b"\n\n\n",
]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(5); srv.settimeout(20)
seen = b""
for session in range(3):
    c, _ = srv.accept(); c.settimeout(2)
    buf = b""
    while b"\0" not in buf:
        d = c.recv(4096)
        if not d: break
        buf += d
    tail = [msg([(b"destination", b"/queue/gvp.cdr"), (b"ack", b"big")], b"x" * 200000),
            b"MESSAGE\nbad header line without colon\n\n\0",
            bytes(range(256)) * 4][session]
    try:  # rs hangs up on the malformed tail: that is expected
        c.sendall(b"CONNECTED\nversion:1.2\nserver:hostile\n\n\0")
        for f in frames:
            c.sendall(f)
        time.sleep(0.3)  # let the good record become durable and be ACKed
        c.sendall(tail)
    except OSError:
        pass
    t = time.time() + 1.5
    while time.time() < t:
        try:
            d = c.recv(65536)
            if not d: break
            seen += d
        except (socket.timeout, OSError):
            break
    c.close()
open(out, "wb").write(seen)
print("sessions: 3")
PY
fake=$!; bg_pid $fake
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait $fake || die "the fake broker failed: $(cat "$T/broker.log")"
kill -0 $rs || die "rs died"
http_get "$hp" /healthz >/dev/null || die "/healthz does not answer"
tr '\0' '\n' <"$T/broker.out" >"$T/frames.txt"   # one line per frame line
grep -q "^SUBSCRIBE$" "$T/frames.txt" || die "rs never subscribed"
grep -aq "^NACK$" "$T/frames.txt" || die "rs sent no NACK"
grep -aq "^id:a2$" "$T/frames.txt" || die "bad UTF-8 message a2 not NACKed"
grep -aq "^id:a5$" "$T/frames.txt" || die "good message a5 not ACKed"
acks=$(grep -ac "^ACK$" "$T/frames.txt" || true)
[ "$acks" -ge 1 ] || die "no ACK for the good record"
[ "$(sqlite3 "$T/rs.db" "select count(*) from cdr")" = 1 ] || die "the good record is not stored once"
[ "$(metric "$hp" rs_broker_connects_total)" = 3 ] ||
	die "connects $(metric "$hp" rs_broker_connects_total), want 3"
grep -q "cannot connect" "$T/rs.log" || die "the dead first endpoint was not tried"
ok "hostile broker: 3 sessions, rs NACKed the bad, ACKed and stored the good one once, still up"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
