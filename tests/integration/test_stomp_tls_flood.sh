#!/usr/bin/env bash
# A flood of failed TLS handshakes cannot fill the disk (issue 10, log flooding): rs
# with stomp.tls takes 400 connections that send plaintext or garbage instead of a
# ClientHello (python sockets, as fast as they go); rs logs the failure at most once
# a second (common/ratelog.h), the line that is let through says how many were held
# back, and a real TLS client is still served afterwards.
. "$(dirname "$0")/lib/rs.sh"
command -v openssl >/dev/null || die "openssl CLI not installed"
CLIENT=(/usr/bin/python3 "$HELPERS/stomp_tls_client.py")
RS_BIN="${RS_BIN:-$BIN/rs}"

C="$T/certs"; mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout "$C/ca.key" -out "$C/ca.crt" -subj "/CN=ca" 2>/dev/null || die "openssl: ca"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$C/server.key" -out "$C/server.csr" -subj "/CN=rs" 2>/dev/null || die "openssl: csr"
printf 'subjectAltName=IP:127.0.0.1\n' >"$C/server.ext"
openssl x509 -req -in "$C/server.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
	-days 2 -extfile "$C/server.ext" -out "$C/server.crt" 2>/dev/null || die "openssl: server cert"

RSP=$(free_port); RHP=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $RSP,
             "tls": { "enabled": true, "cert_file": "$C/server.crt", "key_file": "$C/server.key" } },
  "http": { "listen": "127.0.0.1", "port": $RHP },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/rs.db.journal" } }
JSON
rs_start "$T/rs.json" "$RSP"

# 400 bad handshakes: half plaintext STOMP, half a TLS record header with garbage
/usr/bin/python3 - "$RSP" <<'PY' >"$T/flood.out"
import socket, sys, time
port = int(sys.argv[1])
done = 0
t0 = time.time()
for i in range(400):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    if i % 2:
        s.sendall(b"CONNECT\naccept-version:1.2\n\n\0")
    else:
        s.sendall(b"\x16\x03\x01\x00\x40" + b"\xee" * 64)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    done += 1
print(done, round(time.time() - t0, 2))
PY
read -r done secs <"$T/flood.out"
[ "$done" = 400 ] || die "the flood made $done of 400 connections"
wait_for 3 "${CLIENT[@]}" "$RSP" after-flood --ca "$C/ca.crt" || die "a real TLS client was not served after the flood"
lines=$(log_count "$T/rs.log" "TLS:")
max=$(awk "BEGIN{print int($secs) + 3}")
[ "$lines" -ge 1 ] || die "no failed handshake was logged at all"
[ "$lines" -le "$max" ] || die "$lines log lines for 400 failed handshakes in ${secs}s (at most one a second wanted)"
ok "400 bad handshakes in ${secs}s: $lines log line(s); a real TLS client is served after the flood"

# one more bad handshake a second later: its line says how many were held back
sleep 1.1 # scenario: the rate limit's interval passes
printf 'CONNECT\n\n\0' | /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(sys.stdin.buffer.read())
try:
    s.recv(4096)
except OSError:
    pass' "$RSP"
wait_log "$T/rs.log" "TLS:.*[1-9][0-9]* more held back" 1 3 ||
	die "no line says how many failures were held back: $(grep 'TLS:' "$T/rs.log" | tail -n 2)"
ok "$(grep -E 'TLS:.*[1-9][0-9]* more held back' "$T/rs.log" | tail -n 1 | cut -c1-170)"
