#!/usr/bin/env bash
# STOMP over TLS (issue 9 item 7), with certificates this test makes (openssl CLI):
#  - --check-config names the file and the reason for a missing certificate, a key
#    that does not match it, and a require_client_cert without a CA;
#  - rs with stomp.tls: a TLS client (Python's ssl, checking rs's certificate against
#    the test CA) sends a record and gets its RECEIPT; a plaintext client is refused;
#  - rs with stomp.tls.require_client_cert: a client without a certificate, or with
#    one from another CA, is refused; one with a certificate from ca_file is served;
#  - rm with billing.tls publishes calls to the TLS rs (sipp SIP Server -> rm -> two
#    sipp MCPs): every call's row arrives; an rm trusting another CA never gets a
#    session ("certificate verify failed").
# rs's consumer toward a broker (broker.tls) is not covered here: see the README.
. "$(dirname "$0")/lib/billing.sh"
command -v openssl >/dev/null || die "openssl CLI not installed"
CLIENT=(/usr/bin/python3 "$HELPERS/stomp_tls_client.py")
RS_BIN="${RS_BIN:-$BIN/rs}"

# ---- certificates: a CA, rs's server certificate (IP 127.0.0.1), a client
# certificate from the CA, and another CA with its own client certificate.
C="$T/certs"; mkdir -p "$C"
mkcert() { # NAME CA SUBJECT [SAN]
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$3" 2>/dev/null
	if [ -n "${4:-}" ]; then printf 'subjectAltName=%s\n' "$4" >"$C/$1.ext"; else :>"$C/$1.ext"; fi
	openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.crt" -CAkey "$C/$2.key" -CAcreateserial \
		-days 2 -extfile "$C/$1.ext" -out "$C/$1.crt" 2>/dev/null
}
for ca in ca other-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$C/$ca.key" -out "$C/$ca.crt" -subj "/CN=$ca" 2>/dev/null || die "openssl: $ca"
done
mkcert server ca rs "IP:127.0.0.1,DNS:localhost" || die "openssl: server cert"
mkcert client ca rm || die "openssl: client cert"
mkcert rogue other-ca rm || die "openssl: rogue client cert"
ok "certificates made with openssl $(openssl version | awk '{print $2}')"

# rs_tls_config FILE STOMP_PORT HTTP_PORT DB TLS_JSON
rs_tls_config() {
	cat >"$1" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $2, "tls": $5 },
  "http": { "listen": "127.0.0.1", "port": $3 },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$4" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$4.journal" } }
JSON
}
# refuses_config TLS_JSON WANT...: rs --check-config fails and its message has each WANT.
refuses_config() {
	local tls=$1 w
	shift
	rs_tls_config "$T/bad.json" 1 2 "$T/bad.db" "$tls"
	if "$RS_BIN" --check-config "$T/bad.json" >"$T/check.out" 2>&1; then
		die "rs --check-config accepted stomp.tls $tls"
	fi
	for w in "$@"; do
		grep -qF -- "$w" "$T/check.out" || die "check-config error lacks \"$w\": $(cat "$T/check.out")"
	done
}
SRV="\"cert_file\": \"$C/server.crt\", \"key_file\": \"$C/server.key\""
refuses_config "{ \"enabled\": true, \"cert_file\": \"$C/nope.crt\", \"key_file\": \"$C/server.key\" }" \
	"stomp.tls.cert_file" "$C/nope.crt" "No such file or directory"
refuses_config "{ \"enabled\": true, \"cert_file\": \"$C/server.crt\", \"key_file\": \"$C/client.key\" }" \
	"stomp.tls.key_file" "$C/client.key" "does not match" "$C/server.crt"
refuses_config "{ \"enabled\": true, \"cert_file\": \"$C/server.csr\", \"key_file\": \"$C/server.key\" }" \
	"stomp.tls.cert_file" "$C/server.csr" "not a usable PEM certificate"
refuses_config "{ \"enabled\": true, $SRV, \"require_client_cert\": true }" \
	"stomp.tls.ca_file" "require_client_cert"
ok "--check-config: missing cert, mismatched key, not a certificate, no CA: each named with its reason"

# ---- rs with a TLS listener (client certificates optional)
RSP=$(free_port); RHP=$(free_port)
rs_tls_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db" "{ \"enabled\": true, $SRV, \"ca_file\": \"$C/ca.crt\" }"
"$RS_BIN" --check-config "$T/rs.json" >"$T/check.out" 2>&1 || die "check-config: $(cat "$T/check.out")"
rs_start "$T/rs.json" "$RSP"
out=$("${CLIENT[@]}" "$RSP" tls-1 --ca "$C/ca.crt") || die "TLS client: $out"
[ "$out" = receipt ] || die "TLS client: $out"
[ "$(wait_rows "$T/rs.db" 1 5)" = 1 ] || die "record tls-1 not stored"
ok "TLS client (server certificate checked against the test CA): RECEIPT, row stored"
rc=0; out=$("${CLIENT[@]}" "$RSP" plain-1 --plain) || rc=$?
[ "$rc" = 2 ] || die "plaintext client on the TLS port: exit $rc ($out), want refused"
plain=$out
out=$("${CLIENT[@]}" "$RSP" tls-2 --ca "$C/ca.crt" --cert "$C/client.crt" --key "$C/client.key") ||
	die "TLS client with a certificate (optional here): $out"
[ "$(sql "$T/rs.db" "select count(*) from cdr where id = 'plain-1'")" = 0 ] || die "plaintext record stored"
ok "plaintext client refused ($plain); nothing of it stored; a client certificate is optional"

# ---- rs requiring client certificates
RSP2=$(free_port); RHP2=$(free_port)
rs_tls_config "$T/rs2.json" "$RSP2" "$RHP2" "$T/rs2.db" \
	"{ \"enabled\": true, $SRV, \"ca_file\": \"$C/ca.crt\", \"require_client_cert\": true }"
rs_start "$T/rs2.json" "$RSP2" rs2
rc=0; out=$("${CLIENT[@]}" "$RSP2" nocert-1 --ca "$C/ca.crt") || rc=$?
[ "$rc" = 2 ] || die "client without a certificate: exit $rc ($out), want refused"
rc=0; out=$("${CLIENT[@]}" "$RSP2" rogue-1 --ca "$C/ca.crt" --cert "$C/rogue.crt" --key "$C/rogue.key") || rc=$?
[ "$rc" = 2 ] || die "client with another CA's certificate: exit $rc ($out), want refused"
out=$("${CLIENT[@]}" "$RSP2" cert-1 --ca "$C/ca.crt" --cert "$C/client.crt" --key "$C/client.key") ||
	die "client with a certificate from ca_file: $out"
[ "$(wait_rows "$T/rs2.db" 1 5)" = 1 ] || die "record cert-1 not stored"
[ "$(sql "$T/rs2.db" "select group_concat(id) from cdr")" = cert-1 ] || die "refused clients' records stored"
ok "require_client_cert: no certificate and another CA's certificate refused, ca_file's served"

# ---- rm publishing over TLS (to the require_client_cert rs: rm shows its certificate)
SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
N=5
billing_rm_config "$T/rm.json" "$SP" "$HP" "$M1" "$M2" \
	"{ \"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:$RSP2\"], \"spool_dir\": \"$T/spool\",
	   \"tls\": { \"enabled\": true, \"ca_file\": \"$C/ca.crt\", \"cert_file\": \"$C/client.crt\",
	              \"key_file\": \"$C/client.key\" } }"
"$RM_BIN" --check-config "$T/rm.json" >"$T/check.out" 2>&1 || die "rm check-config: $(cat "$T/check.out")"
uas_start mcp1 "$M1" uas_rr.xml u1
uas_start mcp2 "$M2" uas_rr.xml u1
rm_start_billing "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 2 10 || die "MCPs not up"
wait_metric "$HP" rm_billing_publisher_connected -eq 1 10 || die "rm did not connect over TLS"
uac_run calls "$SP" uac_rr.xml "$N" 10 20 -d 100 || true
[ "$OK" = "$N" ] || die "$OK of $N calls succeeded"
n=$(wait_rows "$T/rs2.db" $((N + 1)) 10)
[ "$n" = $((N + 1)) ] || die "rows in the TLS rs: $n, want $((N + 1))"
[ "$(mval "$HP" rm_billing_lost_total)" = 0 ] || die "records lost"
ok "rm billing.tls (client certificate, CA checked): $N calls, $N rows in rs"

# ---- an rm that trusts another CA refuses rs's certificate
SP3=$(free_port); HP3=$(free_port)
billing_rm_config "$T/rm3.json" "$SP3" "$HP3" "$M1" "$M2" \
	"{ \"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:$RSP\"], \"spool_dir\": \"$T/spool3\",
	   \"tls\": { \"enabled\": true, \"ca_file\": \"$C/other-ca.crt\" } }"
"$RM_BIN" -c "$T/rm3.json" >"$T/rm3.log" 2>&1 &
bg_pid $!
for i in $(seq 50); do grep -q "certificate verify failed" "$T/rm3.log" && break; sleep 0.2; done
grep -q "certificate verify failed" "$T/rm3.log" || die "rm3 did not report the failed verification"
[ "$(mval "$HP3" rm_billing_publisher_connected)" = 0 ] || die "rm3 connected to an untrusted rs"
ok "rm trusting another CA: no session ($(grep -o 'TLS: certificate verify failed[^;)]*' "$T/rm3.log" | head -1))"
